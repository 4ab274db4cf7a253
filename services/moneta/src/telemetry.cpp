#include "telemetry.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace moneta {

namespace {

template <class Atomic>
[[maybe_unused]] std::function<double()> read(const Atomic& a) {
    return [&a] { return static_cast<double>(a.load(std::memory_order_relaxed)); };
}

}  // namespace

Telemetry::Telemetry(metrics::Registry& registry, std::size_t workers) : registry_(registry) {
    for (std::size_t i = 0; i <= workers; ++i) {
        slots_.push_back(std::make_unique<WorkerStats>());
    }
    // Every subsystem's table, summed over the slots (each struct declares its own names).
    const auto all = [this](auto member) {
        std::vector<const std::remove_cvref_t<decltype(slots_[0].get()->*member)>*> out;
        for (const auto& s : slots_) {
            out.push_back(&(s.get()->*member));
        }
        return out;
    };
    metrics::register_stats<handlers::AuthStats>(registry_, handlers::kAuthStatsTable, all(&WorkerStats::auth));
    metrics::register_stats<handlers::PlaybackStats>(registry_, handlers::kPlaybackStatsTable, all(&WorkerStats::playback));
    metrics::register_stats<store::CacheStats>(registry_, store::kCacheStatsTable, all(&WorkerStats::cache));
    metrics::register_stats<upstream::InternalApiStats>(registry_, upstream::kInternalApiStatsTable,
                                                        all(&WorkerStats::internal_api));
    metrics::register_stats<store::ProgressStats>(registry_, store::kProgressStatsTable, all(&WorkerStats::progress));
    metrics::register_stats<store::ProgressBufferStats>(registry_, store::kProgressBufferStatsTable,
                                                        all(&WorkerStats::progress_buffer));
    metrics::register_stats<handlers::SheddingStats>(registry_, handlers::kSheddingStatsTable, all(&WorkerStats::shedding));
    metrics::register_stats<progress::FlusherStats>(registry_, progress::kFlusherStatsTable, {&flusher});

    // The HTTP request metrics: one series per (route, code) and a histogram per route, each
    // the sum over the workers' HttpStats.
    const std::vector<const HttpStats*> http = all(&WorkerStats::http);
    for (std::size_t r = 0; r < kRoutes.size(); ++r) {
        for (std::size_t c = 0; c <= kStatuses.size(); ++c) {
            const std::string code = c < kStatuses.size() ? std::to_string(kStatuses[c]) : "other";
            registry_.callback_counter("moneta_http_requests_total", "HTTP requests answered, by route and status.",
                                       {{"route", std::string(kRoutes[r])}, {"code", code}}, [http, r, c] {
                                           double total = 0;
                                           for (const HttpStats* h : http) {
                                               total += static_cast<double>(h->requests[r][c].load());
                                           }
                                           return total;
                                       });
        }
        registry_.callback_histogram(
            "moneta_http_request_duration_seconds", "Time from a complete request to its response being written.",
            metrics::latency_buckets(), {{"route", std::string(kRoutes[r])}}, [http, r](metrics::HistogramSnapshot& snap) {
                for (const HttpStats* h : http) {
                    for (std::size_t i = 0; i < snap.buckets.size(); ++i) {
                        snap.buckets[i] += h->latency[r].bucket(i);
                        // The newest sampled request of any worker in this bucket.
                        metrics::merge_exemplar(snap.exemplars[i], h->latency[r].exemplar(i).read());
                    }
                    snap.sum += h->latency[r].sum();
                }
            });
    }
    export_dependency_latency();
    export_loop_lag();
}

namespace {

/// Sums histogram @p member (a LocalHistogram) of every slot into the scrape's snapshot.
template <class Get>
std::function<void(metrics::HistogramSnapshot&)> merged(std::vector<const WorkerStats*> slots, Get get) {
    return [slots = std::move(slots), get](metrics::HistogramSnapshot& snap) {
        for (const WorkerStats* w : slots) {
            const auto& h = get(*w);
            for (std::size_t i = 0; i < snap.buckets.size(); ++i) {
                snap.buckets[i] += h.bucket(i);
            }
            snap.sum += h.sum();
        }
    };
}

}  // namespace

void Telemetry::export_dependency_latency() {
    std::vector<const WorkerStats*> all;
    for (const auto& s : slots_) {
        all.push_back(s.get());
    }
    const auto& ops = store::RedisLatencyStats::kOperations;
    for (std::size_t op = 0; op < ops.size(); ++op) {
        registry_.callback_histogram(
            "moneta_redis_request_duration_seconds",
            "Redis round trips of the request path, by kind (a pipeline or a script is one round trip).",
            metrics::latency_buckets(), {{"operation", std::string(ops[op])}},
            merged(all, [op](const WorkerStats& w) -> const auto& { return w.redis.latency[op]; }));
    }
    const auto& resources = upstream::InternalApiStats::kLatencyResources;
    for (std::size_t r = 0; r < resources.size(); ++r) {
        registry_.callback_histogram(
            "moneta_internal_api_request_duration_seconds",
            "One HTTP exchange with the internal API (no retries, no bulkhead wait), by resource.",
            metrics::latency_buckets(), {{"resource", std::string(resources[r])}},
            merged(all, [r](const WorkerStats& w) -> const auto& { return w.internal_api.latency[r]; }));
    }
}

void Telemetry::export_loop_lag() {
    // Workers only: the last slot is the flusher's, which has no monitor. `worker` is bounded by
    // server.threads.
    for (std::size_t i = 0; i + 1 < slots_.size(); ++i) {
        const WorkerStats* w = slots_[i].get();
        const metrics::Labels l{{"worker", std::to_string(i)}};
        registry_.callback_histogram("moneta_event_loop_lag_seconds",
                                     "How late a worker's 200 ms timer fired: the wait its queued work had.",
                                     metrics::latency_buckets(), l,
                                     merged({w}, [](const WorkerStats& s) -> const auto& { return s.loop.lag; }));
        registry_.callback_gauge("moneta_event_loop_lag_max_seconds",
                                 "Largest event-loop lag of the last 10 to 20 seconds.", l,
                                 [w] { return w->loop.recent_max_seconds.load(std::memory_order_relaxed); });
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
    registry_.callback_gauge("moneta_redis_connections_expected",
                             "Worker Redis connections moneta keeps open when healthy (one per worker; in cluster mode one "
                             "per worker per master).",
                             {}, [shared] { return (*shared)().expected; });
    registry_.callback_counter("moneta_redis_round_trips_total", "Redis round trips (a pipeline or script counts once).", {}, [shared] { return (*shared)().round_trips; });
    registry_.callback_counter("moneta_redis_commands_total", "Redis commands sent.", {}, [shared] { return (*shared)().commands; });
    registry_.callback_counter("moneta_redis_errors_total", "Redis calls that failed (transport).", {}, [shared] { return (*shared)().errors; });
    registry_.callback_counter("moneta_redis_timeouts_total", "Redis calls that timed out.", {}, [shared] { return (*shared)().timeouts; });
    registry_.callback_counter("moneta_redis_reconnects_total", "Redis reconnections.", {}, [shared] { return (*shared)().reconnects; });
    registry_.callback_gauge("moneta_redis_connected", "Worker Redis connections that are up.", {}, [shared] { return (*shared)().connected; });
}

std::vector<std::uint8_t> Telemetry::route_labels(const http::Router& router) {
    struct Known {
        http::Method method;
        std::string_view pattern;
        std::uint8_t label;  // index into kRoutes
    };
    using M = http::Method;
    static constexpr std::array<Known, 13> kKnown{{
        {M::kPost, "/v1/playback/sessions", 0},
        {M::kPost, "/v1/playback/sessions/{id}/heartbeat", 1},
        {M::kPost, "/v1/playback/sessions/{id}/stop", 2},
        {M::kPost, "/v1/playback/sessions/{id}/refresh", 3},
        {M::kGet, "/v1/playback/sessions", 4},
        {M::kDelete, "/v1/playback/sessions/{id}", 5},
        {M::kGet, "/v1/me/progress", 6},
        {M::kPut, "/v1/me/progress/{id}", 7},
        {M::kGet, "/v1/me/continue-watching", 8},
        {M::kGet, "/healthz", 9},
        {M::kGet, "/readyz", 9},
        {M::kGet, "/metrics", 10},
        {M::kOther, "", 11},
    }};
    static_assert(kRoutes.size() == 12);
    std::vector<std::uint8_t> out(router.route_count(), 11);
    for (std::size_t id = 0; id < out.size(); ++id) {
        const auto r = static_cast<std::uint16_t>(id);
        for (const Known& k : kKnown) {
            if (k.method == router.route_method(r) && k.pattern == router.route_pattern(r)) {
                out[id] = k.label;
                break;
            }
        }
    }
    return out;
}

void Telemetry::on_access(const http::AccessRecord& rec, std::span<const std::uint8_t> route_labels, WorkerStats& w,
                          log::AccessRing* access_log, const core::Clock& clock) noexcept {
    const std::uint16_t id = rec.request.route_id();
    const std::size_t route = id < route_labels.size() ? route_labels[id] : kRoutes.size() - 1;
    std::size_t code = kStatuses.size();
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == rec.status) {
            code = i;
            break;
        }
    }
    ++w.http.requests[route][code];
    const double seconds = std::chrono::duration<double>(rec.duration).count();
    const core::TraceContext& trace = rec.request.context().trace;
    const bool sampled = trace.sampled();
    // One clock read serves the exemplar and the access line.
    const std::int64_t wall_ms = sampled || access_log != nullptr ? clock.wall_ms() : 0;
    if (sampled) {
        // An exemplar only for a request the tracer keeps, so its trace id leads to a trace.
        w.http.latency[route].observe(seconds, trace.trace_id, static_cast<double>(wall_ms) / 1000.0);
    } else {
        w.http.latency[route].observe(seconds);
    }
    if (access_log != nullptr) {
        log::AccessEntry e;
        e.wall_ms = wall_ms;
        e.duration_ns = static_cast<std::int64_t>(std::chrono::nanoseconds(rec.duration).count());
        e.response_bytes = rec.response_bytes;
        e.status = rec.status;
        e.method = rec.request.method_string();
        e.path = rec.request.path();
        e.route = kRoutes[route];
        e.remote_ip = rec.request.remote_ip();
        e.user_agent = rec.request.header(http::KnownHeader::kUserAgent).value_or("");
        e.context = &rec.request.context();
        access_log->try_push(e);  // full: dropped and counted by the ring, never waited for
    }
}

}  // namespace moneta
