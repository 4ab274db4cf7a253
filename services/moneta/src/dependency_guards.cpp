#include "dependency_guards.hpp"

namespace moneta {

boost::system::result<std::unique_ptr<DependencyGuards>, std::string> DependencyGuards::create(
    const ResilienceSettings& s, core::Clock& clock) {
    std::unique_ptr<DependencyGuards> g(new DependencyGuards());
    auto api = upstream::InternalApiGuard::create(s.internal_api, clock);
    if (!api) {
        return {boost::system::in_place_error, "resilience.internal_api: " + api.error().message()};
    }
    g->internal_api_ = std::move(*api);
    auto redis = resilience::CircuitBreaker::create(s.redis_breaker, clock);
    if (!redis) {
        return {boost::system::in_place_error, "resilience.redis.breaker: " + redis.error().message()};
    }
    g->redis_ = std::move(*redis);
    g->coalescer_ = std::make_unique<upstream::FetchCoalescer>(clock, s.shared_fetch_timeout);
    g->progress_fallbacks_ = std::make_unique<resilience::FallbackGate>(s.progress_fallback_max);
    return g;
}

std::vector<handlers::NamedBreaker> DependencyGuards::breakers() {
    std::vector<handlers::NamedBreaker> out;
    for (const upstream::Endpoint e : upstream::InternalApiGuard::kEndpoints) {
        out.push_back({"internal_api." + std::string(upstream::endpoint_name(e)), &internal_api_->breaker(e)});
    }
    out.push_back({"redis", redis_.get()});
    return out;
}

}  // namespace moneta
