// Telemetry: the resilience metrics (breakers, bulkhead, throttle, retries, singleflight,
// shedding, stale serves). The set prometheus-hystrix-go exported, plus what it could not see
// (abandoned work, ramp/forced rejections, stale serves, shed requests). docs/metrics.md.
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

void Telemetry::export_breaker(std::string_view name, const resilience::CircuitBreaker& breaker) {
    const std::string b(name);
    const auto stat = [&breaker](auto member) {
        return [&breaker, member] { return static_cast<double>(breaker.stats().*member); };
    };
    for (auto st : {resilience::State::kClosed, resilience::State::kOpen, resilience::State::kHalfOpen}) {
        registry_.callback_gauge("moneta_circuit_breaker_state", "1 for the breaker's current state.",
                                 {{"breaker", b}, {"state", std::string(resilience::state_name(st))}},
                                 [&breaker, st] { return breaker.state() == st ? 1.0 : 0.0; });
    }
    registry_.callback_gauge("moneta_circuit_breaker_open", "1 while calls are refused (open or forced open).",
                             {{"breaker", b}}, [&breaker] { return breaker.stats().open ? 1.0 : 0.0; });
    for (auto m : {resilience::Mode::kNormal, resilience::Mode::kForcedOpen, resilience::Mode::kForcedClosed,
                   resilience::Mode::kDisabled, resilience::Mode::kMetricsOnly}) {
        registry_.callback_gauge("moneta_circuit_breaker_mode", "1 for the breaker's runtime mode (admin port).",
                                 {{"breaker", b}, {"mode", std::string(resilience::mode_name(m))}},
                                 [&breaker, m] { return breaker.mode() == m ? 1.0 : 0.0; });
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

void Telemetry::export_shedding(std::function<SheddingTotals()> totals) {
    auto shared = std::make_shared<std::function<SheddingTotals()>>(std::move(totals));
    registry_.callback_counter("moneta_shed_requests_total", "Inbound /v1 requests answered 503 OVERLOADED by the adaptive limit.", {},
                               read(shedding.shed_total));
    registry_.callback_gauge("moneta_inbound_concurrency_limit", "Adaptive concurrency limit, summed over workers.", {},
                             [shared] { return (*shared)().limit; });
    registry_.callback_gauge("moneta_inbound_outstanding", "Admitted /v1 requests in flight.", {},
                             [shared] { return (*shared)().outstanding; });
    const char* fb = "Fallbacks taken instead of failing, by kind.";
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "stale_account"}}, read(cache.account_stale_served_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "stale_content"}}, read(cache.content_stale_served_total));
    const char* rf = "Background refreshes of stale cache entries, by result.";
    registry_.callback_counter("moneta_cache_refreshes_total", rf, {{"result", "started"}}, read(cache.refreshes_started_total));
    registry_.callback_counter("moneta_cache_refreshes_total", rf, {{"result", "failed"}}, read(cache.refreshes_failed_total));
    registry_.callback_counter("moneta_cache_refreshes_total", rf, {{"result", "skipped_open"}}, read(cache.refreshes_skipped_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "progress_read"}}, read(progress.fallbacks_served_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "local_catalog"}}, read(cache.local_served_total));
    const char* ff = "Fallbacks that could not answer: refused (too many at once) or failed too (composite error).";
    registry_.callback_counter("moneta_fallback_failures_total", ff, {{"kind", "progress_read"}, {"result", "rejected"}}, read(progress.fallbacks_rejected_total));
    registry_.callback_counter("moneta_fallback_failures_total", ff, {{"kind", "progress_read"}, {"result", "failed"}}, read(progress.fallbacks_failed_total));
    const auto& pb = progress_buffer;
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "fail_open_start"}}, read(pb.fail_open_starts_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "heartbeat_buffered"}}, read(playback.heartbeats_buffered_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "stop_buffered"}}, read(playback.stops_buffered_total));
    registry_.callback_counter("moneta_fallbacks_total", fb, {{"kind", "progress_put_buffered"}}, read(playback.progress_puts_buffered_total));
    registry_.callback_gauge("moneta_progress_buffered", "Writes held locally until Redis answers again (all workers).", {}, read(pb.buffered));
    registry_.callback_counter("moneta_progress_buffer_accepted_total", "Writes put in the local buffer (coalesced ones not counted).", {}, read(pb.buffered_total));
    registry_.callback_counter("moneta_progress_buffer_coalesced_total", "Heartbeats folded into a held newer-or-equal one.", {}, read(pb.coalesced_total));
    registry_.callback_counter("moneta_progress_buffer_dropped_total", "Writes refused because the buffer was full (answered 503).", {}, read(pb.dropped_total));
    registry_.callback_counter("moneta_progress_buffer_account_full_total", "Writes refused because the account's share of the buffer (or its max_streams grants) was used (answered 503).", {}, read(pb.account_full_total));
    registry_.callback_counter("moneta_progress_buffer_unknown_session_total", "Heartbeats/stops refused because the session id was not minted for the account (answered 503).", {}, read(pb.unknown_session_total));
    registry_.callback_counter("moneta_progress_buffer_replayed_total", "Buffered writes Redis answered on replay.", {}, read(pb.replayed_total));
    registry_.callback_counter("moneta_progress_buffer_replay_failures_total", "Replay attempts Redis did not answer (retried with backoff).", {}, read(pb.replay_failed_total));
    registry_.callback_counter("moneta_progress_buffer_replay_rejected_total", "Replayed writes answered with an error reply (removed).", {}, read(pb.replay_rejected_total));
    registry_.callback_counter("moneta_progress_buffer_grants_denied_total", "Fail-open starts whose replayed lease the stream limit refused.", {}, read(pb.grants_denied_total));
    registry_.callback_counter("moneta_progress_buffer_grants_superseded_total", "Fail-open starts whose device started a newer session before the replay (no lease taken).", {}, read(pb.grants_superseded_total));
    registry_.callback_counter("moneta_progress_buffer_abandoned_total", "Writes still buffered at shutdown (lost).", {}, read(pb.abandoned_total));
    const char* rp = "Replayed progress writes by guard outcome.";
    registry_.callback_counter("moneta_progress_buffer_replay_writes_total", rp, {{"result", "applied"}}, read(pb.replay_applied_total));
    registry_.callback_counter("moneta_progress_buffer_replay_writes_total", rp, {{"result", "stale"}}, read(pb.replay_stale_total));
    registry_.callback_counter("moneta_progress_buffer_replay_writes_total", rp, {{"result", "zero_kept"}}, read(pb.replay_zero_kept_total));
    registry_.callback_counter("moneta_progress_buffer_replay_writes_total", rp, {{"result", "unknown_session"}}, read(pb.replay_unknown_session_total));
    registry_.callback_counter("moneta_progress_buffer_replay_writes_total", rp, {{"result", "capped"}}, read(pb.replay_capped_total));
}

}  // namespace moneta
