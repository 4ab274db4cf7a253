/// @file services/moneta/src/dependency_guards.hpp
/// @brief The resilience state of the dependencies: the internal API's breakers (one per
/// endpoint), bulkhead, client-side throttle and retry budget, the singleflight for catalog misses
/// (process-wide: they protect one upstream, on the cache-miss path only); the Redis breaker, one
/// per worker (every request consults it: docs/resilience.md "Per worker"). Workers wrap their
/// own clients with decorators over these.
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
    /// @param workers how many API workers (each gets its own Redis breaker).
    static boost::system::result<std::unique_ptr<DependencyGuards>, std::string> create(const ResilienceSettings& s,
                                                                                        core::Clock& clock,
                                                                                        std::size_t workers);

    upstream::InternalApiGuard& internal_api() noexcept { return *internal_api_; }
    /// Worker @p index's Redis breaker (index < workers).
    resilience::CircuitBreaker& redis(std::size_t index) noexcept { return *redis_[index]; }
    upstream::FetchCoalescer& coalescer() noexcept { return *coalescer_; }
    /// Caps progress reads sent to the internal API because Redis failed.
    resilience::FallbackGate& progress_fallbacks() noexcept { return *progress_fallbacks_; }

    /// Every breaker with its admin/metrics name ("internal_api.account", ..., "redis").
    std::vector<handlers::NamedBreaker> breakers();

private:
    DependencyGuards() = default;

    std::unique_ptr<upstream::InternalApiGuard> internal_api_;
    std::vector<std::unique_ptr<resilience::CircuitBreaker>> redis_;
    std::unique_ptr<upstream::FetchCoalescer> coalescer_;
    std::unique_ptr<resilience::FallbackGate> progress_fallbacks_;
};

}  // namespace moneta
