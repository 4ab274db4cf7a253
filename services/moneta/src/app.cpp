#include "app.hpp"

#include <boost/asio/io_context.hpp>

#include <array>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unistd.h>

#include "consul_registration.hpp"
#include "dependency_guards.hpp"
#include "domain/session_id.hpp"
#include "handlers/admin_handlers.hpp"
#include "handlers/health_handlers.hpp"
#include "handlers/load_shedding.hpp"
#include "handlers/playback_handlers.hpp"
#include "handlers/progress_handlers.hpp"
#include "handlers/server_errors.hpp"
#include "moneta/core/random.hpp"
#include "moneta/core/thread_name.hpp"
#include "progress/flusher.hpp"
#include "moneta/http/fd_limit.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/http_client/client.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/redis/any_client.hpp"
#include "moneta/resilience/adaptive_limit.hpp"
#include "store/catalog_cache.hpp"
#include "store/guarded_redis.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "store/session_store.hpp"
#include "telemetry.hpp"
#include "tracing.hpp"
#include "moneta/trace/client_span.hpp"
#include "moneta/trace/http_transport.hpp"
#include "upstream/internal_api_client.hpp"
#include "upstream/resilient_internal_api.hpp"

namespace moneta {

namespace {

/// Everything one worker thread owns: its Redis connection, its internal-API pool, the stores
/// and handlers on top of them, and its router. Built on that thread; never shared.
http_client::ClientConfig internal_api_pool(const Settings& s, std::chrono::milliseconds timeout) {
    return http_client::ClientConfig{s.internal_api.host,       s.internal_api.port,
                                     s.internal_api.max_connections, 256,
                                     s.internal_api.connect_timeout, timeout,
                                     std::chrono::seconds(30),  4 * 1024 * 1024,
                                     {}};
}

std::unique_ptr<resilience::AdaptiveLimit> inbound_limit(const Settings& s, const core::Clock& clock) {
    if (!s.resilience.shedding.enabled) {
        return nullptr;
    }
    return std::make_unique<resilience::AdaptiveLimit>(clock, s.resilience.shedding.limit);
}

struct Worker {
    Worker(boost::asio::io_context& io, const Settings& s, core::Clock& clock, const jwt::Verifier& verifier,
           const domain::SessionIdSigner& session_ids, const delivery::DeliveryFactory& delivery_factory,
           WorkerStats& t, DependencyGuards& guards, std::size_t index, std::size_t threads)
        : redis(io.get_executor(), s.redis, s.redis_nodes, clock),
          guarded_redis(redis, guards.redis(index), clock, &t.redis),
          http(io.get_executor(), internal_api_pool(s, s.internal_api.timeout), clock),
          api(http, s.internal_api.token, s.internal_api.timeout, t.internal_api, &clock),
          resilient_api(api, guards.internal_api(), clock, io.get_executor()),
          catalog(guarded_redis, resilient_api, &guards.coalescer(), io.get_executor(), clock, s.cache, t.cache),
          sessions(guarded_redis, s.lease, s.progress),
          progress(guarded_redis, resilient_api, s.progress, t.progress, &guards.progress_fallbacks()),
          buffer(io.get_executor(), clock, progress_buffer_settings(s, threads), t.progress_buffer, &session_ids),
          delivery(delivery_factory.make_worker()),
          tokens(verifier, s.token_cache),
          deps{io.get_executor(), tokens, clock, catalog, sessions, progress, buffer, *delivery, session_ids,
               s.cdn.base_url, s.playback, t.auth, t.playback},
          playback(deps),
          progress_handlers(deps),
          router(clock),
          limit(inbound_limit(s, clock)),
          readiness(s.playback.redis_down_fail_open),
          loop_lag(io.get_executor(), clock, t.loop) {
        router.set_error_page(handlers::server_error_page);
        playback.register_routes(router);
        progress_handlers.register_routes(router);
        handlers::register_health_routes(router, redis, clock, readiness);
        redis.start();
        loop_lag.start();
        // Replays what Redis did not answer; stopped by on_drained before the client stops.
        boost::asio::co_spawn(io, buffer.async_run(sessions, progress), boost::asio::detached);
    }

    static store::ProgressBufferSettings progress_buffer_settings(const Settings& s, std::size_t threads) {
        store::ProgressBufferSettings b;
        const std::size_t total = s.resilience.progress_buffer_max;  // 0: no buffering (503 as before)
        b.max_entries = total == 0 ? 0 : std::max<std::size_t>(1, total / std::max<std::size_t>(1, threads));
        b.max_per_account = s.resilience.progress_buffer_per_account;
        return b;
    }

    redis::AnyClient redis;  ///< the single server, or the cluster's masters (redis.mode)
    store::GuardedRedis guarded_redis;  ///< what the stores use: fails fast while Redis is down
    http_client::Client http;
    upstream::InternalApiClient api;
    upstream::ResilientInternalApi resilient_api;  ///< breakers, bulkhead, throttle, retries
    store::CatalogCache catalog;
    store::SessionStore sessions;
    store::ProgressStore progress;
    store::ProgressBuffer buffer;  ///< writes Redis did not answer (docs/resilience.md "Redis down")
    std::unique_ptr<delivery::DeliveryFactory::Worker> delivery;  // checked non-null by DeliveryFactory::create
    jwt::TokenCache tokens;  ///< each distinct token verified once per worker
    handlers::HandlerDeps deps;
    handlers::PlaybackHandlers playback;
    handlers::ProgressHandlers progress_handlers;
    http::Router router;
    std::unique_ptr<resilience::AdaptiveLimit> limit;  ///< inbound shedding; null when off
    handlers::ReadinessGate readiness;                 ///< this worker's /readyz
    LoopLagMonitor loop_lag;                           ///< moneta_event_loop_lag_seconds{worker}
    std::unique_ptr<trace::Recorder> recorder;         ///< this worker's spans (tracing.hpp)
};

/// The write-behind flusher with its own thread, Redis connection and HTTP pool, so a slow
/// internal API never shares an event loop with playback requests.
class FlusherThread {
public:
    FlusherThread(const Settings& s, core::Clock& clock, Telemetry& t, DependencyGuards& guards, log::Logger& logger)
        : redis_(io_.get_executor(), flusher_redis(s), s.redis_nodes, clock),
          // A 1000-item batch upsert takes longer than a read: the flusher's own timeout.
          http_(io_.get_executor(), internal_api_pool(s, s.flusher.call_timeout), clock),
          api_(http_, s.internal_api.token, s.flusher.call_timeout, t.flusher_slot().internal_api, &clock),
          // The progress_write breaker: while the API is failing, flushes fail fast and the
          // flusher's own backoff retries them (nothing is acknowledged before an upsert).
          resilient_api_(api_, guards.internal_api(), clock, io_.get_executor()),
          flusher_(io_.get_executor(), redis_, resilient_api_, clock, s.flusher, s.progress, t.flusher, consumer_name(), &logger) {}

    ~FlusherThread() { stop(std::chrono::milliseconds(0)); }
    FlusherThread(const FlusherThread&) = delete;
    FlusherThread& operator=(const FlusherThread&) = delete;

    void start() {
        redis_.start();
        boost::asio::co_spawn(io_, run(), boost::asio::detached);
        thread_ = std::thread([this] {
            core::set_thread_name("flusher");
            io_.run();
        });
    }

    /// Flushes what is buffered (bounded by @p budget), then joins.
    void stop(std::chrono::milliseconds budget) {
        flusher_.request_stop(budget);
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    /// Batch scripts over hundreds of accounts take longer than a request's command: allow for it.
    static redis::ClientConfig flusher_redis(const Settings& s) {
        redis::ClientConfig c = s.redis;
        c.command_timeout = std::max<core::Duration>(c.command_timeout, std::chrono::seconds(2));
        c.stuck_timeout = std::max<core::Duration>(c.stuck_timeout, std::chrono::seconds(5));
        return c;
    }

    static std::string consumer_name() {
        char host[64] = {};
        ::gethostname(host, sizeof host - 1);
        return std::string(host) + "-" + std::to_string(::getpid()) + "-" + core::random_id("", 6);
    }

    boost::asio::awaitable<void> run() {
        co_await flusher_.async_run();
        http_.close();
        co_await redis_.async_stop();
        io_.stop();
    }

    boost::asio::io_context io_;
    redis::AnyClient redis_;
    http_client::Client http_;
    upstream::InternalApiClient api_;
    upstream::ResilientInternalApi resilient_api_;
    progress::ProgressFlusher flusher_;
    std::thread thread_;
};

/// Set only by nginx (deploy/nginx/proxy_headers.conf): believed only with its X-Edge-Auth.
const std::vector<std::string> kEdgeOnlyHeaders{"x-request-timeout-ms", "x-viewer-country", "x-forwarded-for"};

/// Admin connections per process: Prometheus, probes and an operator, never thousands.
constexpr std::size_t kAdminMaxConnections = 64;

/// Descriptors that are not API client connections: per worker its Redis connection, its
/// internal-API pool and its io_context's epoll/eventfd/timerfd; the flusher's own set; the admin
/// port; stdio, log files, signalfd and slack.
std::size_t fd_reserve(const Settings& s, std::size_t workers) {
    const std::size_t per_loop = 1 + s.internal_api.max_connections + 8;
    return workers * per_loop + per_loop + (kAdminMaxConnections + 8) + 64;
}

/// The common part of both servers: deadline, floor and edge trust. The admin port gets the same
/// edge-only list but never the token: nginx does not proxy it, so nothing there is edge-made.
http::ServerConfig server_config(const Settings& s, std::string address, std::uint16_t port, std::size_t threads) {
    http::ServerConfig c;
    c.address = std::move(address);
    c.port = port;
    c.threads = threads;
    c.timeouts.default_deadline = s.server.default_deadline;
    c.timeouts.min_client_deadline = s.server.min_client_deadline;
    c.edge.headers = kEdgeOnlyHeaders;
    c.error_page = handlers::server_error_page;
    return c;
}

http::ServerConfig api_config(const Settings& s, std::size_t threads) {
    http::ServerConfig c = server_config(s, s.server.address, s.server.port, threads);
    c.edge.token = s.server.edge_token;
    c.limits.fd_reserve = fd_reserve(s, threads);
    return c;
}

http::ServerConfig admin_config(const Settings& s, std::size_t threads) {
    http::ServerConfig c = server_config(s, s.server.admin_address, s.server.admin_port, 1);
    c.thread_name = "admin";
    c.limits.max_connections_per_worker = kAdminMaxConnections;
    c.limits.fd_reserve = fd_reserve(s, threads);
    return c;
}

/// API worker threads: server.threads, or one per core when 0.
std::size_t worker_threads(const Settings& s) {
    return s.server.threads == 0 ? std::max(1U, std::thread::hardware_concurrency()) : s.server.threads;
}

}  // namespace

class App::Impl {
public:
    Impl(Settings settings, core::Clock& clock, jwt::Verifier verifier,
         std::shared_ptr<const delivery::DeliveryFactory> delivery, std::unique_ptr<log::Logger> logger,
         std::unique_ptr<DependencyGuards> guards)
        : settings_(std::move(settings)),
          clock_(clock),
          verifier_(std::move(verifier)),
          session_ids_(settings_.session_key),
          delivery_(std::move(delivery)),
          logger_(std::move(logger)),
          guards_(std::move(guards)),
          telemetry_(registry_, worker_threads(settings_)),
          tracing_(settings_.tracing, clock_),
          flusher_(settings_, clock_, telemetry_, *guards_, *logger_) {
        metrics::register_process_metrics(registry_);
        const std::size_t threads = worker_threads(settings_);
        workers_.resize(threads);
        api_ = std::make_unique<http::Server>(
            api_config(settings_, threads), clock_,
            [this](boost::asio::io_context& io, std::size_t index) { return make_worker(io, index); });
        admin_ = std::make_unique<http::Server>(
            admin_config(settings_, threads), clock_,
            [this](boost::asio::io_context&, std::size_t) { return make_admin(); });
        telemetry_.export_server(*api_, "api");
        telemetry_.export_server(*admin_, "admin");
        telemetry_.export_redis([this] { return redis_stats(); });
        for (const auto& b : guards_->breakers()) {
            telemetry_.export_breaker(b.name, {b.members.begin(), b.members.end()});
        }
        telemetry_.export_internal_api_guard(guards_->internal_api(), guards_->coalescer());
        telemetry_.export_shedding(threads, [this](std::size_t i) { return limit_state(i); });
        tracing_.export_metrics(registry_);
        registry_.callback_counter("moneta_log_dropped_total",
                                   "Log lines dropped because the async log queue or a worker's access-log ring was full.", {},
                                   [this] { return static_cast<double>(logger_->dropped()); });
        // The interval players are told to heartbeat at: a live session is renewed about once
        // per interval, so rate(renewed heartbeats) x interval estimates the sessions playing
        // (recording rule job:moneta_playback_active_sessions:estimate; the leases live in Redis).
        registry_.callback_gauge("moneta_playback_heartbeat_interval_seconds",
                                 "Heartbeat interval given to players (playback.heartbeat_sec).", {},
                                 [s = settings_.playback.heartbeat_interval_sec] { return static_cast<double>(s); });
        // Read at scrape time from the admin thread; the client is published by start().
        registry_.callback_gauge("moneta_consul_registered",
                                 "1 while the Consul registration is in place and its TTL check passed last (0: off or failing).",
                                 {}, [this] {
                                     const auto* c = consul_stats_.load(std::memory_order_acquire);
                                     return c != nullptr && c->registered.load() ? 1.0 : 0.0;
                                 });
        registry_.callback_counter("moneta_consul_agent_failures_total",
                                   "Consul agent calls that failed (refused, timed out, not 200) and were backed off.", {},
                                   [this] {
                                       const auto* c = consul_stats_.load(std::memory_order_acquire);
                                       return c != nullptr ? static_cast<double>(c->failures.load()) : 0.0;
                                   });
    }

    boost::system::result<void, std::string> start() {
        // Before listen(): the servers derive their connection caps from the soft limit.
        const http::FdLimit fds = http::raise_fd_limit();
        if (fds.error != 0) {
            logger_->warn("cannot raise RLIMIT_NOFILE", {{"error.code", std::int64_t{fds.error}},
                                                         {"fd.soft", static_cast<std::int64_t>(fds.soft)}});
        } else {
            logger_->info("file descriptor limit", {{"fd.soft_before", static_cast<std::int64_t>(fds.previous_soft)},
                                                    {"fd.soft", static_cast<std::int64_t>(fds.soft)},
                                                    {"fd.hard", static_cast<std::int64_t>(fds.hard)}});
        }
        auto port = api_->listen();
        if (!port) {
            return {boost::system::in_place_error,
                    "cannot listen on " + settings_.server.address + ":" +
                        std::to_string(settings_.server.port) + ": " + port.error().message()};
        }
        auto admin_port = admin_->listen();
        if (!admin_port) {
            return {boost::system::in_place_error,
                    "cannot listen on admin " + settings_.server.admin_address + ":" +
                        std::to_string(settings_.server.admin_port) + ": " + admin_port.error().message()};
        }
        tracing_.start();
        api_->start();
        admin_->start();
        flusher_.start();
        if (tracing_.exporting()) {
            // The endpoint only: MONETA_OTLP_HEADERS holds credentials and is never logged.
            logger_->info("trace export on", {{"otlp.endpoint", settings_.tracing.endpoint},
                                              {"trace.sample_ratio", settings_.tracing.sample_ratio}});
        }
        // Whether the secrets are set, never their values.
        logger_->info("moneta started", {{"server.port", std::int64_t{*port}},
                                         {"admin.address", settings_.server.admin_address},
                                         {"admin.port", std::int64_t{*admin_port}},
                                         {"workers", static_cast<std::int64_t>(workers_.size())},
                                         {"connections.max_per_worker",
                                          static_cast<std::int64_t>(api_->max_connections_per_worker())},
                                         {"edge.trusted", !settings_.server.edge_token.empty()},
                                         {"admin.auth_enabled", !settings_.server.admin_token.empty()},
                                         {"consul.enabled", settings_.consul.agent.has_value()}});
        if (settings_.consul.agent) {  // once listening: the agent may send traffic at once
            char host[256] = {};
            ::gethostname(host, sizeof host - 1);
            consul_ = std::make_unique<consul::Client>(consul_client_config(settings_, *port, *admin_port, host),
                                                       clock_, logger_.get());
            consul_stats_.store(&consul_->stats(), std::memory_order_release);
            consul_->start();
        }
        if (settings_.server.edge_token.empty()) {
            logger_->warn("server.edge_token is not set: X-Viewer-Country, X-Request-Timeout-Ms and "
                          "X-Forwarded-For are ignored on every request");
        }
        return {};
    }

    void reopen_logs() {
        logger_->reopen();
        logger_->info("log file reopened", {{"log.reopen_failures", static_cast<std::int64_t>(logger_->reopen_failures())}});
    }

    void request_stop() {
        if (consul_) {
            // Out of discovery before draining, so no new traffic is routed here; bounded, so a
            // dead agent delays shutdown by at most consul.deregister_timeout_ms.
            consul_->stop(settings_.consul.deregister_timeout);
        }
        logger_->info("moneta stopping: draining in-flight requests");
        api_->request_stop(settings_.server.drain);
        admin_->request_stop(std::chrono::seconds(1));
    }

    void wait() {
        api_->wait();
        admin_->wait();
        // Requests are drained: everything they wrote is in Redis. Flush it before exiting.
        flusher_.stop(settings_.final_flush);
        tracing_.stop(std::chrono::seconds(2));  // the last spans, bounded: a dead collector costs 2 s at most
        logger_->info("moneta stopped",
                      {{"progress.markers_unflushed", telemetry_.flusher.markers_in_flight.load()}});
        logger_->flush();
    }

    std::uint16_t port() const { return api_->port(); }
    std::uint16_t admin_port() const { return admin_->port(); }

    ~Impl() {
        // Workers hold Redis clients and pools bound to the servers' io_contexts: they go first.
        workers_.clear();
        admin_router_.reset();
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

private:
    http::WorkerHooks make_worker(boost::asio::io_context& io, std::size_t index) {
        WorkerStats& stats = telemetry_.worker(index);  // this worker's own counters
        auto worker = std::make_unique<Worker>(io, settings_, clock_, verifier_, session_ids_, *delivery_, stats,
                                               *guards_, index, workers_.size());
        Worker* w = worker.get();
        {
            std::lock_guard lock(mu_);
            workers_[index] = std::move(worker);
        }
        http::WorkerHooks hooks;
        w->recorder = tracing_.make_recorder();
        if (w->recorder->enabled()) {
            w->api.set_tracing(w->recorder.get(), settings_.internal_api.host, settings_.internal_api.port);
            w->recorder->set_redis_peer(settings_.redis.host, settings_.redis.port);
            trace::set_this_thread_recorder(w->recorder.get());  // make_worker runs on the worker's thread
        }
        hooks.handler = Tracing::with_head_sampling(
            handlers::shed_overload(w->router.as_handler(), w->limit.get(), clock_, stats.shedding, &w->router),
            tracing_.sampler());
        log::AccessRing* ring = settings_.log.access_log && logger_->enabled(log::Level::kInfo)
                                    ? &logger_->add_access_ring()
                                    : nullptr;
        hooks.on_access = [&stats, ring, labels = Telemetry::route_labels(w->router), w, this](const http::AccessRecord& rec) {
            Telemetry::on_access(rec, labels, stats, ring, clock_);
            Tracing::on_access(*w->recorder, rec, w->router, clock_);
        };
        hooks.on_drained = [w, budget = settings_.final_flush / 2, this] {
            // Writes held while Redis was down were acknowledged to players: replay them before
            // the client stops (bounded; what is left is counted as abandoned). The flusher's
            // final flush runs after every worker returned, so it sees the replayed writes.
            boost::asio::co_spawn(w->deps.executor, drain_then_stop(w, budget), boost::asio::detached);
        };
        return hooks;
    }

    /// Shutdown of one worker after its connections drained: the progress buffer first (polled
    /// every 20 ms, shutdown only), then the buffer's loop, the HTTP pool and the Redis client.
    boost::asio::awaitable<void> drain_then_stop(Worker* w, std::chrono::milliseconds budget) {
        const auto deadline = clock_.steady_now() + budget;
        boost::asio::steady_timer timer(w->deps.executor);
        while (!w->buffer.empty() && clock_.steady_now() < deadline) {
            timer.expires_after(std::chrono::milliseconds(20));
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        }
        w->loop_lag.stop();  // its timer would keep the loop running
        w->buffer.stop();  // before the client: its in-flight replay then ends with kCancelled
        w->http.close();
        w->redis.stop();
    }

    http::WorkerHooks make_admin() {
        admin_router_ = std::make_unique<http::Router>(clock_);
        admin_router_->set_error_page(handlers::server_error_page);
        handlers::register_admin_routes(*admin_router_, registry_, clock_, [this] { return redis_ready(); });
        handlers::register_breaker_routes(*admin_router_, guards_->breakers(), clock_, settings_.server.admin_token);
        http::WorkerHooks hooks;
        hooks.handler = admin_router_->as_handler();
        return hooks;
    }

    /// Redis client stats summed over the workers (read at scrape time from the admin thread;
    /// the stats are atomics, the vector only changes at startup under mu_).
    Telemetry::RedisTotals redis_stats() {
        Telemetry::RedisTotals t;
        std::lock_guard lock(mu_);
        for (const auto& w : workers_) {
            if (!w) {
                continue;
            }
            const redis::ClientTotals s = w->redis.totals();
            t.round_trips += static_cast<double>(s.round_trips);
            t.commands += static_cast<double>(s.commands);
            t.errors += static_cast<double>(s.errors);
            t.timeouts += static_cast<double>(s.timeouts);
            t.reconnects += static_cast<double>(s.reconnects);
            t.connected += static_cast<double>(s.connected);
            t.expected += static_cast<double>(s.expected);
        }
        return t;
    }

    /// Worker @p i's inbound limit as it last published it (read by the admin thread's scrape).
    std::optional<resilience::AdaptiveLimitState> limit_state(std::size_t i) {
        std::lock_guard lock(mu_);
        if (i >= workers_.size() || !workers_[i] || !workers_[i]->limit) {
            return std::nullopt;
        }
        return workers_[i]->limit->state();
    }

    /// Every worker ready (each through its own gate: see handlers::ReadinessGate).
    bool redis_ready() {
        std::lock_guard lock(mu_);
        for (const auto& w : workers_) {
            if (!w || !w->readiness.ready(w->redis.connected())) {
                return false;
            }
        }
        return !workers_.empty();
    }

    Settings settings_;
    core::Clock& clock_;
    jwt::Verifier verifier_;
    domain::SessionIdSigner session_ids_;  ///< process-wide, immutable
    std::shared_ptr<const delivery::DeliveryFactory> delivery_;
    std::unique_ptr<log::Logger> logger_;
    std::unique_ptr<DependencyGuards> guards_;  // before the workers and the flusher that use it
    metrics::Registry registry_;
    Telemetry telemetry_;
    Tracing tracing_;  // before the workers: their recorders write into its rings
    FlusherThread flusher_;
    std::mutex mu_;  // guards workers_ (filled by the worker threads at startup)
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<http::Router> admin_router_;
    std::unique_ptr<http::Server> api_;
    std::unique_ptr<http::Server> admin_;
    std::unique_ptr<consul::Client> consul_;  ///< null when CONSUL_HTTP_ADDR is unset
    std::atomic<const consul::ClientStats*> consul_stats_{nullptr};  ///< consul_'s, for /metrics
};

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
App::~App() = default;

boost::system::result<std::unique_ptr<App>, std::string> App::create(Settings settings,
                                                                     core::Clock& clock) {
    auto verifier = jwt::Verifier::create(settings.auth);
    if (!verifier) {
        return {boost::system::in_place_error, verifier.error()};
    }
    auto delivery = delivery::DeliveryFactory::create(settings.cdn, settings.drm);
    if (!delivery) {
        return {boost::system::in_place_error, delivery.error()};
    }
    auto sink = log::make_file_sink(settings.log.file);
    if (!sink) {
        return {boost::system::in_place_error, "log.file: cannot open " + settings.log.file};
    }
    log::LoggerConfig lc;
    lc.service_name = "moneta";
    lc.level = log::parse_level(settings.log.level).value_or(log::Level::kInfo);
    auto guards = DependencyGuards::create(settings.resilience, clock, worker_threads(settings));
    if (!guards) {
        return {boost::system::in_place_error, guards.error()};
    }
    if (!settings.tracing.endpoint.empty() && !trace::parse_endpoint(settings.tracing.endpoint)) {
        return {boost::system::in_place_error, "MONETA_OTLP_ENDPOINT: expected http://host[:port][/path]"};
    }
    if (!trace::parse_headers(settings.tracing.headers)) {  // the value is a secret: not echoed
        return {boost::system::in_place_error, "MONETA_OTLP_HEADERS: expected name=value[,name=value...]"};
    }
    auto logger = std::make_unique<log::Logger>(lc, std::move(sink), clock);
    return std::unique_ptr<App>(new App(std::make_unique<Impl>(std::move(settings), clock, std::move(*verifier),
                                                               std::move(*delivery), std::move(logger),
                                                               std::move(*guards))));
}

boost::system::result<void, std::string> App::start() { return impl_->start(); }
void App::request_stop() { impl_->request_stop(); }
void App::reopen_logs() { impl_->reopen_logs(); }
void App::wait() { impl_->wait(); }
std::uint16_t App::port() const { return impl_->port(); }
std::uint16_t App::admin_port() const { return impl_->admin_port(); }

}  // namespace moneta
