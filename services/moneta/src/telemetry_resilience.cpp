// Telemetry: the resilience metrics (breakers, bulkhead, throttle, retries, singleflight,
// shedding, stale serves). The set prometheus-hystrix-go exported, plus what it could not see
// (abandoned work, ramp/forced rejections, stale serves, shed requests). docs/metrics.md.
#include <chrono>
#include <limits>
#include <memory>
#include <string>

#include "telemetry.hpp"

namespace moneta {
namespace {

template <class Atomic>
std::function<double()> read(const Atomic& a) {
    return [&a] { return static_cast<double>(a.load(std::memory_order_relaxed)); };
}

using Stats = resilience::CircuitBreakerStats;

}  // namespace

void Telemetry::export_breaker(std::string_view name, std::vector<const resilience::CircuitBreaker*> members) {
    const std::string b(name);
    // Read at scrape time (the admin thread), merged over the members.
    auto shared = std::make_shared<const std::vector<const resilience::CircuitBreaker*>>(std::move(members));
    const auto merged = [shared] { return resilience::merged_stats(*shared); };
    const auto stat = [merged](auto member) {
        return [merged, member] { return static_cast<double>(merged().*member); };
    };
    for (auto st : {resilience::State::kClosed, resilience::State::kOpen, resilience::State::kHalfOpen}) {
        registry_.callback_gauge("moneta_circuit_breaker_state", "1 for the breaker's current state (the worst of its per-worker members).",
                                 {{"breaker", b}, {"state", std::string(resilience::state_name(st))}},
                                 [merged, st] { return merged().state == st ? 1.0 : 0.0; });
    }
    registry_.callback_gauge("moneta_circuit_breaker_open", "1 while calls are refused (open or forced open).",
                             {{"breaker", b}}, [merged] { return merged().open ? 1.0 : 0.0; });
    for (auto m : {resilience::Mode::kNormal, resilience::Mode::kForcedOpen, resilience::Mode::kForcedClosed,
                   resilience::Mode::kDisabled, resilience::Mode::kMetricsOnly}) {
        registry_.callback_gauge("moneta_circuit_breaker_mode", "1 for the breaker's runtime mode (admin port).",
                                 {{"breaker", b}, {"mode", std::string(resilience::mode_name(m))}},
                                 [merged, m] { return merged().mode == m ? 1.0 : 0.0; });
    }
    const char* calls = "Calls the breaker let through, by outcome.";
    registry_.callback_counter("moneta_circuit_breaker_calls_total", calls, {{"breaker", b}, {"outcome", "success"}}, stat(&Stats::successes));
    registry_.callback_counter("moneta_circuit_breaker_calls_total", calls, {{"breaker", b}, {"outcome", "failure"}}, stat(&Stats::failures));
    registry_.callback_counter("moneta_circuit_breaker_calls_total", calls, {{"breaker", b}, {"outcome", "timeout"}}, stat(&Stats::timeouts));
    registry_.callback_counter("moneta_circuit_breaker_calls_total", calls, {{"breaker", b}, {"outcome", "ignored"}}, stat(&Stats::ignored));
    registry_.callback_counter("moneta_circuit_breaker_slow_calls_total", "Calls slower than slow_call_ms.", {{"breaker", b}}, stat(&Stats::slow_calls));
    const char* sc = "Calls refused without being sent, by reason.";
    registry_.callback_counter("moneta_circuit_breaker_short_circuits_total", sc, {{"breaker", b}, {"reason", "open"}}, stat(&Stats::rejected_open));
    registry_.callback_counter("moneta_circuit_breaker_short_circuits_total", sc, {{"breaker", b}, {"reason", "half_open_full"}}, stat(&Stats::rejected_half_open));
    registry_.callback_counter("moneta_circuit_breaker_short_circuits_total", sc, {{"breaker", b}, {"reason", "ramp"}}, stat(&Stats::rejected_ramp));
    registry_.callback_counter("moneta_circuit_breaker_short_circuits_total", sc, {{"breaker", b}, {"reason", "forced_open"}}, stat(&Stats::rejected_forced));
    const char* tr = "State transitions, by target state.";
    registry_.callback_counter("moneta_circuit_breaker_transitions_total", tr, {{"breaker", b}, {"to", "open"}}, stat(&Stats::to_open));
    registry_.callback_counter("moneta_circuit_breaker_transitions_total", tr, {{"breaker", b}, {"to", "half_open"}}, stat(&Stats::to_half_open));
    registry_.callback_counter("moneta_circuit_breaker_transitions_total", tr, {{"breaker", b}, {"to", "closed"}}, stat(&Stats::to_closed));
    const char* trips = "Why the breaker opened (metrics_only: would have opened).";
    registry_.callback_counter("moneta_circuit_breaker_trips_total", trips, {{"breaker", b}, {"reason", "failure_rate"}}, stat(&Stats::trips_failure_rate));
    registry_.callback_counter("moneta_circuit_breaker_trips_total", trips, {{"breaker", b}, {"reason", "slow_call_rate"}}, stat(&Stats::trips_slow_call_rate));
    registry_.callback_counter("moneta_circuit_breaker_trips_total", trips, {{"breaker", b}, {"reason", "consecutive_failures"}}, stat(&Stats::trips_consecutive));
    registry_.callback_counter("moneta_circuit_breaker_trips_total", trips, {{"breaker", b}, {"reason", "probe_failed"}}, stat(&Stats::trips_probe_failed));
    registry_.callback_counter("moneta_circuit_breaker_trips_total", trips, {{"breaker", b}, {"reason", "half_open_timeout"}}, stat(&Stats::trips_half_open_timeout));
    registry_.callback_counter("moneta_circuit_breaker_shadow_trips_total", "Trips counted but not acted on (metrics_only mode).", {{"breaker", b}}, stat(&Stats::shadow_trips));
}

void Telemetry::export_internal_api_guard(upstream::InternalApiGuard& g, const upstream::FetchCoalescer& coalescer) {
    const metrics::Labels dep{{"dependency", "internal_api"}};
    registry_.callback_gauge("moneta_bulkhead_active", "Calls holding a bulkhead permit (I/O in flight).", dep,
                             [&g] { return static_cast<double>(g.bulkhead().stats().active); });
    registry_.callback_gauge("moneta_bulkhead_capacity", "Bulkhead permits: calls allowed in flight at once.", dep,
                             [&g] { return static_cast<double>(g.bulkhead().config().max_active); });
    registry_.callback_gauge("moneta_bulkhead_abandoned", "Calls whose caller gave up while the I/O still runs.", dep,
                             [&g] { return static_cast<double>(g.bulkhead().stats().abandoned); });
    registry_.callback_counter("moneta_bulkhead_rejected_total", "Calls refused because the bulkhead was full.", dep,
                               read(g.stats().bulkhead_rejected_total));
    registry_.callback_counter("moneta_internal_api_throttled_total", "Calls shed locally by client-side throttling (SRE).", {},
                               read(g.stats().throttled_total));
    registry_.callback_gauge("moneta_internal_api_throttle_probability", "Current client-side reject probability.", {},
                             [&g] { return g.throttle() != nullptr ? g.throttle()->reject_probability() : 0.0; });
    registry_.callback_counter("moneta_internal_api_short_circuits_total", "Calls refused by an open breaker.", {},
                               read(g.stats().short_circuited_total));
    registry_.callback_counter("moneta_internal_api_retries_total", "Retries of idempotent reads.", {}, read(g.stats().retries_total));
    registry_.callback_counter("moneta_internal_api_retry_budget_exhausted_total", "Retries not made: budget exhausted.", {},
                               read(g.stats().retry_budget_exhausted_total));
    registry_.callback_counter("moneta_internal_api_deadline_expired_total", "Calls not sent: the request's deadline had passed.", {},
                               read(g.stats().deadline_expired_total));
    registry_.callback_counter("moneta_internal_api_coalesced_total", "Cache misses that joined another request's fetch (singleflight).", {},
                               [&coalescer] { return static_cast<double>(coalescer.coalesced_total()); });
    registry_.callback_gauge("moneta_internal_api_fetches_in_flight", "Distinct account/content fetches running.", {},
                             [&coalescer] { return static_cast<double>(coalescer.in_flight()); });
}

void Telemetry::export_shedding(std::size_t workers, LimitStateFn state) {
    auto shared = std::make_shared<LimitStateFn>(std::move(state));
    const auto sum = [shared, workers](std::uint32_t resilience::AdaptiveLimitState::*field) {
        return [shared, workers, field] {
            double total = 0;
            for (std::size_t i = 0; i < workers; ++i) {
                if (const auto st = (*shared)(i)) {
                    total += (*st).*field;
                }
            }
            return total;
        };
    };
    registry_.callback_gauge("moneta_inbound_concurrency_limit", "Adaptive concurrency limit, summed over workers.", {},
                             sum(&resilience::AdaptiveLimitState::limit));
    registry_.callback_gauge("moneta_inbound_outstanding", "Admitted /v1 requests in flight.", {},
                             sum(&resilience::AdaptiveLimitState::outstanding));
    // Per worker (bounded by server.threads): a limit moves on its own worker's latencies, and a
    // sum or mean of them would explain no worker's shedding. NaN until measured.
    using Rtt = std::optional<core::Duration> resilience::AdaptiveLimitState::*;
    for (std::size_t i = 0; i < workers; ++i) {
        const auto seconds = [shared, i](Rtt field) {
            return [shared, i, field] {
                const auto st = (*shared)(i);
                return st && (*st).*field ? std::chrono::duration<double>(*((*st).*field)).count()
                                          : std::numeric_limits<double>::quiet_NaN();
            };
        };
        const metrics::Labels l{{"worker", std::to_string(i)}};
        registry_.callback_gauge("moneta_inbound_min_rtt_seconds",
                                 "The worker's minRTT: its last measurement (p50 at min_limit in flight), or a lower window median when the latency floor made a measurement pointless.",
                                 l,
                                 seconds(&resilience::AdaptiveLimitState::min_rtt));
        registry_.callback_gauge("moneta_inbound_sample_rtt_seconds",
                                 "The worker's last sample window's latency (p50), compared with max(minRTT x (1 + buffer), floor).",
                                 l, seconds(&resilience::AdaptiveLimitState::sample_rtt));
    }
    // The fallback, cache-refresh and progress-buffer counters are declared with their stats
    // structs (kCacheStatsTable, kProgressStatsTable, kProgressBufferStatsTable,
    // kPlaybackStatsTable) and registered by the constructor.
}

}  // namespace moneta
