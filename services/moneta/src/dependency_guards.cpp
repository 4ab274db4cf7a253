#include "dependency_guards.hpp"

#include <algorithm>

namespace moneta {

boost::system::result<std::unique_ptr<DependencyGuards>, std::string> DependencyGuards::create(
    const ResilienceSettings& s, core::Clock& clock, std::size_t workers) {
    std::unique_ptr<DependencyGuards> g(new DependencyGuards());
    auto api = upstream::InternalApiGuard::create(s.internal_api, clock);
    if (!api) {
        return {boost::system::in_place_error, "resilience.internal_api: " + api.error().message()};
    }
    g->internal_api_ = std::move(*api);
    for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i) {
        auto redis = resilience::CircuitBreaker::create(s.redis_breaker, clock);
        if (!redis) {
            return {boost::system::in_place_error, "resilience.redis.breaker: " + redis.error().message()};
        }
        g->redis_.push_back(std::move(*redis));
    }
    g->coalescer_ = std::make_unique<upstream::FetchCoalescer>(clock, s.shared_fetch_timeout);
    g->progress_fallbacks_ = std::make_unique<resilience::FallbackGate>(s.progress_fallback_max);
    return g;
}

std::vector<handlers::NamedBreaker> DependencyGuards::breakers() {
    std::vector<handlers::NamedBreaker> out;
    for (const upstream::Endpoint e : upstream::InternalApiGuard::kEndpoints) {
        out.push_back({"internal_api." + std::string(upstream::endpoint_name(e)), {&internal_api_->breaker(e)}});
    }
    handlers::NamedBreaker redis{"redis", {}};
    for (const auto& b : redis_) {
        redis.members.push_back(b.get());
    }
    out.push_back(std::move(redis));
    return out;
}

}  // namespace moneta
