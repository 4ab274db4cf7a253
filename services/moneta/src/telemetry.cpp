#include "telemetry.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace moneta {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <class Atomic>
std::function<double()> read(const Atomic& a) {
    return [&a] { return static_cast<double>(a.load(std::memory_order_relaxed)); };
}

}  // namespace

Telemetry::Telemetry(metrics::Registry& registry) : registry_(registry) {
    for (std::size_t r = 0; r < kRoutes.size(); ++r) {
        for (std::size_t s = 0; s <= kStatuses.size(); ++s) {
            const std::string code = s < kStatuses.size() ? std::to_string(kStatuses[s]) : "other";
            requests_[r][s] = &registry_.counter("moneta_http_requests_total", "HTTP requests answered, by route and status.",
                                                 {{"route", std::string(kRoutes[r])}, {"code", code}});
        }
        latency_[r] = &registry_.histogram("moneta_http_request_duration_seconds",
                                           "Time from a complete request to its response being written.",
                                           metrics::latency_buckets(), {{"route", std::string(kRoutes[r])}});
    }
    registry_.callback_counter("moneta_internal_api_requests_total", "Calls moneta made to the internal API.",
                               {{"resource", "account"}}, read(internal_api.account_calls_total));
    registry_.callback_counter("moneta_internal_api_requests_total", "Calls moneta made to the internal API.",
                               {{"resource", "content"}}, read(internal_api.content_calls_total));
    registry_.callback_counter("moneta_internal_api_requests_total", "Calls moneta made to the internal API.",
                               {{"resource", "progress_read"}}, read(internal_api.progress_reads_total));
    registry_.callback_counter("moneta_internal_api_requests_total", "Calls moneta made to the internal API.",
                               {{"resource", "progress_upsert"}}, read(internal_api.progress_upserts_total));
    registry_.callback_counter("moneta_internal_api_errors_total", "Internal API calls that failed (transport or 5xx).",
                               {}, read(internal_api.errors_total));
    const char* cache_help = "Catalog cache lookups by kind and result.";
    registry_.callback_counter("moneta_cache_lookups_total", cache_help, {{"kind", "account"}, {"result", "hit"}}, read(cache.account_hits_total));
    registry_.callback_counter("moneta_cache_lookups_total", cache_help, {{"kind", "account"}, {"result", "miss"}}, read(cache.account_misses_total));
    registry_.callback_counter("moneta_cache_lookups_total", cache_help, {{"kind", "content"}, {"result", "hit"}}, read(cache.content_hits_total));
    registry_.callback_counter("moneta_cache_lookups_total", cache_help, {{"kind", "content"}, {"result", "miss"}}, read(cache.content_misses_total));
    registry_.callback_counter("moneta_cache_redis_errors_total", "Cache reads/writes that failed in Redis (served from the internal API).", {}, read(cache.redis_errors_total));
    const char* starts = "Playback starts by lease outcome.";
    registry_.callback_counter("moneta_playback_starts_total", starts, {{"result", "granted"}}, read(playback.starts_granted_total));
    registry_.callback_counter("moneta_playback_starts_total", starts, {{"result", "denied"}}, read(playback.starts_denied_total));
    registry_.callback_counter("moneta_playback_starts_total", starts, {{"result", "replayed"}}, read(playback.starts_replayed_total));
    registry_.callback_counter("moneta_playback_starts_total", starts, {{"result", "rate_limited"}}, read(playback.starts_rate_limited_total));
    registry_.callback_counter("moneta_playback_starts_total", starts, {{"result", "no_compatible_stream"}}, read(playback.starts_no_stream_total));
    registry_.callback_counter("moneta_progress_rate_limited_total", "Progress-route requests refused by the per-account rate limit.", {}, read(playback.progress_rate_limited_total));
    registry_.callback_counter("moneta_playback_lease_replacements_total", "Starts that took over a lease (same device or replace_session_id).", {}, read(playback.starts_replaced_total));
    const char* hb = "Heartbeats by outcome.";
    registry_.callback_counter("moneta_playback_heartbeats_total", hb, {{"result", "renewed"}}, read(playback.heartbeats_renewed_total));
    registry_.callback_counter("moneta_playback_heartbeats_total", hb, {{"result", "not_found"}}, read(playback.heartbeats_not_found_total));
    registry_.callback_counter("moneta_playback_heartbeats_total", hb, {{"result", "evicted"}}, read(playback.heartbeats_evicted_total));
    registry_.callback_counter("moneta_playback_heartbeats_total", hb, {{"result", "stop"}}, read(playback.heartbeats_stop_total));
    registry_.callback_counter("moneta_playback_stops_total", "Stops answered.", {}, read(playback.stops_total));
    registry_.callback_counter("moneta_playback_kicks_total", "Sessions ended by another device of the account.", {}, read(playback.kicks_total));
    registry_.callback_counter("moneta_playback_refreshes_total", "Stream/DRM refreshes.", {}, read(playback.refreshes_total));
    registry_.callback_counter("moneta_entitlement_refreshes_total", "Background account reloads started by heartbeats that found no cached entitlement.", {}, read(playback.entitlement_refreshes_total));
    const char* pw = "Progress writes by guard outcome.";
    registry_.callback_counter("moneta_progress_writes_total", pw, {{"result", "applied"}}, read(playback.progress_applied_total));
    registry_.callback_counter("moneta_progress_writes_total", pw, {{"result", "stale"}}, read(playback.progress_stale_total));
    registry_.callback_counter("moneta_progress_writes_total", pw, {{"result", "zero_kept"}}, read(playback.progress_zero_kept_total));
    registry_.callback_counter("moneta_progress_writes_total", pw, {{"result", "unknown_session"}}, read(playback.progress_unknown_session_total));
    registry_.callback_counter("moneta_progress_writes_total", pw, {{"result", "capped"}}, read(playback.progress_capped_total));
    registry_.callback_counter("moneta_progress_upstream_loads_total", "Progress cache misses loaded from the internal API.", {}, read(progress.upstream_loads_total));
    registry_.callback_counter("moneta_progress_redis_errors_total", "Progress reads that failed in Redis.", {}, read(progress.redis_errors_total));
    registry_.callback_counter("moneta_progress_flushes_total", "Write-behind batches confirmed by the internal API.", {}, read(flusher.flushes_total));
    registry_.callback_counter("moneta_progress_flushed_items_total", "Positions sent to the internal API.", {}, read(flusher.items_sent_total));
    registry_.callback_counter("moneta_progress_markers_acked_total", "Write-behind stream entries acknowledged.", {}, read(flusher.markers_acked_total));
    registry_.callback_counter("moneta_progress_markers_claimed_total", "Write-behind entries taken over from dead consumers.", {}, read(flusher.markers_claimed_total));
    registry_.callback_counter("moneta_progress_flush_failures_total", "Write-behind flushes that failed and will be retried.", {}, read(flusher.failures_total));
    registry_.callback_counter("moneta_progress_swept_accounts_total", "Accounts with unflushed progress re-announced by the startup sweep.", {}, read(flusher.swept_accounts_total));
    registry_.callback_counter("moneta_progress_markers_trimmed_total", "Pending write-behind markers found trimmed by the stream bound (their accounts are delivered by the sweep).", {}, read(flusher.markers_trimmed_total));
    registry_.callback_counter("moneta_progress_consumers_forgotten_total", "Idle write-behind consumers without pending markers removed from the group.", {}, read(flusher.consumers_forgotten_total));
    registry_.callback_counter("moneta_progress_quarantined_total", "Positions the internal API refused alone (4xx), recorded in progq:quarantine and cleared.", {}, read(flusher.quarantined_total));
    registry_.callback_counter("moneta_progress_split_calls_total", "Batch-upsert calls made to isolate positions the internal API refused.", {}, read(flusher.split_calls_total));
    registry_.callback_counter("moneta_progress_split_budget_exhausted_total", "Flushes that reached progress.split_calls_max with refused positions still unresolved.", {}, read(flusher.split_budget_exhausted_total));
    registry_.callback_gauge("moneta_progress_markers_in_flight", "Write-behind entries read but not yet acknowledged.", {}, read(flusher.markers_in_flight));
    registry_.callback_gauge("moneta_progress_last_flush_timestamp_seconds", "Wall time of the last confirmed flush.", {},
                             [this] { return static_cast<double>(flusher.last_success_ms.load()) / 1000.0; });
    registry_.callback_counter("moneta_playback_store_errors_total", "Session/progress operations that failed in Redis.", {}, read(playback.store_errors_total));
    const char* auth_help = "Rejected tokens by reason (the response only says TOKEN_*).";
    registry_.callback_counter("moneta_auth_failures_total", auth_help, {{"reason", "missing"}}, read(auth.missing_total));
    for (std::size_t i = 0; i <= static_cast<std::size_t>(jwt::Failure::kMissingClaim); ++i) {
        registry_.callback_counter("moneta_auth_failures_total", auth_help,
                                   {{"reason", std::string(jwt::failure_name(static_cast<jwt::Failure>(i)))}},
                                   read(auth.by_failure[i]));
    }
}

void Telemetry::export_server(const http::Server& server, std::string_view name) {
    const metrics::Labels l{{"server", std::string(name)}};
    const auto& s = server.stats();
    registry_.callback_counter("moneta_connections_accepted_total", "TCP connections accepted.", l, read(s.connections_accepted_total));
    registry_.callback_gauge("moneta_connections_active", "Open client connections.", l, read(s.connections_active));
    registry_.callback_counter("moneta_connections_rejected_total", "Connections closed at accept (limit).", l, read(s.connections_rejected_total));
    registry_.callback_gauge("moneta_requests_in_flight", "Requests being handled.", l, read(s.requests_in_flight));
    registry_.callback_counter("moneta_http_bad_requests_total", "Malformed requests answered with an error and closed.", l, read(s.bad_requests_total));
    registry_.callback_counter("moneta_http_timeouts_total", "Connections closed by a read/write/idle timeout.", l, read(s.timeouts_total));
    registry_.callback_counter("moneta_unhandled_exceptions_total", "Handler exceptions turned into 500.", l, read(s.handler_exceptions_total));
    // Issue 10: the accept loop's backoff, the connection cap and edge trust.
    registry_.callback_gauge("moneta_connections_max_per_worker", "Per-worker connection cap (from RLIMIT_NOFILE).", l,
                             [&server] { return static_cast<double>(server.max_connections_per_worker()); });
    registry_.callback_counter("moneta_accept_errors_total", "Failed accepts, each followed by a backoff.", l,
                               read(s.accept_errors_total));
    registry_.callback_counter("moneta_accept_fd_exhausted_total", "Failed accepts that were EMFILE or ENFILE.", l,
                               read(s.accept_fd_exhausted_total));
    registry_.callback_counter("moneta_edge_headers_dropped_total",
                               "Edge-only headers removed from requests without the edge token.", l,
                               read(s.edge_headers_dropped_total));
    registry_.callback_counter("moneta_edge_auth_rejected_total", "Requests whose X-Edge-Auth was wrong or doubled.", l,
                               read(s.edge_auth_rejected_total));
}

void Telemetry::export_redis(std::function<RedisTotals()> totals) {
    auto shared = std::make_shared<std::function<RedisTotals()>>(std::move(totals));
    registry_.callback_counter("moneta_redis_round_trips_total", "Redis round trips (a pipeline or script counts once).", {}, [shared] { return (*shared)().round_trips; });
    registry_.callback_counter("moneta_redis_commands_total", "Redis commands sent.", {}, [shared] { return (*shared)().commands; });
    registry_.callback_counter("moneta_redis_errors_total", "Redis calls that failed (transport).", {}, [shared] { return (*shared)().errors; });
    registry_.callback_counter("moneta_redis_timeouts_total", "Redis calls that timed out.", {}, [shared] { return (*shared)().timeouts; });
    registry_.callback_counter("moneta_redis_reconnects_total", "Redis reconnections.", {}, [shared] { return (*shared)().reconnects; });
    registry_.callback_gauge("moneta_redis_connected", "Worker Redis connections that are up.", {}, [shared] { return (*shared)().connected; });
}

std::size_t Telemetry::route_index(http::Method method, std::string_view path) noexcept {
    constexpr std::string_view kSessions = "/v1/playback/sessions";
    using M = http::Method;
    if (path == kSessions) {
        return method == M::kPost ? 0 : method == M::kGet ? 4 : 11;
    }
    if (path.substr(0, kSessions.size() + 1) == "/v1/playback/sessions/") {
        if (method == M::kPost && ends_with(path, "/heartbeat")) {
            return 1;
        }
        if (method == M::kPost && ends_with(path, "/stop")) {
            return 2;
        }
        if (method == M::kPost && ends_with(path, "/refresh")) {
            return 3;
        }
        return method == M::kDelete ? 5 : 11;
    }
    if (path == "/v1/me/progress" && method == M::kGet) {
        return 6;
    }
    if (path.substr(0, 16) == "/v1/me/progress/" && method == M::kPut) {
        return 7;
    }
    if (path == "/v1/me/continue-watching" && method == M::kGet) {
        return 8;
    }
    if (path == "/healthz" || path == "/readyz") {
        return 9;
    }
    if (path == "/metrics") {
        return 10;
    }
    return 11;
}

void Telemetry::on_access(const http::AccessRecord& rec, log::Logger& logger, bool access_log) {
    const std::size_t route = route_index(rec.request.method(), rec.request.path());
    std::size_t code = kStatuses.size();
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == rec.status) {
            code = i;
            break;
        }
    }
    requests_[route][code]->inc();
    const double seconds = std::chrono::duration<double>(rec.duration).count();
    latency_[route]->observe(seconds);
    if (access_log && logger.enabled(log::Level::kInfo)) {
        logger.info("access",
                    {{"event.kind", std::string_view("event")},
                     {"event.dataset", std::string_view("moneta.access")},
                     {"event.duration", static_cast<std::int64_t>(rec.duration.count())},
                     {"http.request.method", rec.request.method_string()},
                     {"url.path", rec.request.path()},
                     {"http.route", kRoutes[route]},
                     {"http.response.status_code", static_cast<std::int64_t>(rec.status)},
                     {"http.response.bytes", static_cast<std::int64_t>(rec.response_bytes)},
                     {"client.ip", rec.request.remote_ip()},
                     {"user_agent.original", rec.request.header("user-agent").value_or("")}},
                    &rec.request.context());
    }
}

}  // namespace moneta
