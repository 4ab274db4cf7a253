/// @file services/moneta/src/dependency_guards.hpp
/// @brief The process-wide resilience state every worker shares: the internal API's breakers
/// (one per endpoint), bulkhead, client-side throttle and retry budget; the Redis breaker; the
/// singleflight for catalog misses. Workers wrap their own clients with decorators over these.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "handlers/admin_handlers.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/resilience/circuit_breaker.hpp"
#include "moneta/resilience/fallback.hpp"
#include "settings.hpp"
#include "upstream/fetch_coalescer.hpp"
#include "upstream/internal_api_guard.hpp"

namespace moneta {

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (every member is).
class DependencyGuards {
public:
    /// @return a message naming the bad setting when a breaker config is invalid.
    static boost::system::result<std::unique_ptr<DependencyGuards>, std::string> create(const ResilienceSettings& s,
                                                                                        core::Clock& clock);

    upstream::InternalApiGuard& internal_api() noexcept { return *internal_api_; }
    resilience::CircuitBreaker& redis() noexcept { return *redis_; }
    upstream::FetchCoalescer& coalescer() noexcept { return *coalescer_; }
    /// Caps progress reads sent to the internal API because Redis failed.
    resilience::FallbackGate& progress_fallbacks() noexcept { return *progress_fallbacks_; }

    /// Every breaker with its admin/metrics name ("internal_api.account", ..., "redis").
    std::vector<handlers::NamedBreaker> breakers();

private:
    DependencyGuards() = default;

    std::unique_ptr<upstream::InternalApiGuard> internal_api_;
    std::unique_ptr<resilience::CircuitBreaker> redis_;
    std::unique_ptr<upstream::FetchCoalescer> coalescer_;
    std::unique_ptr<resilience::FallbackGate> progress_fallbacks_;
};

}  // namespace moneta
