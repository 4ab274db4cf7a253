#include "settings.hpp"

#include <cstdlib>

#include "moneta/config/config.hpp"
#include "progress/batch_split.hpp"

namespace moneta {

namespace {

/// A cluster seed, "host:port" (redis::parse_node_address).
redis::NodeAddress parse_node(const std::string& text) {
    if (auto a = redis::parse_node_address(text)) {
        return *a;
    }
    throw config::ConfigError("redis.nodes: \"" + text + "\" is not host:port");
}

/// A worker's share of live sessions: 100,000 fit with room (~66 MiB per worker when full).
constexpr std::int64_t kDefaultTokenCacheEntries = 131072;

constexpr config::EnvOverride kEnv[] = {
    {"MONETA_ADDRESS", "server.address", config::EnvType::kString},
    {"MONETA_PORT", "server.port", config::EnvType::kInteger},
    {"MONETA_ADMIN_ADDRESS", "server.admin_address", config::EnvType::kString},
    {"MONETA_ADMIN_PORT", "server.admin_port", config::EnvType::kInteger},
    {"MONETA_THREADS", "server.threads", config::EnvType::kInteger},
    {"MONETA_REDIS_HOST", "redis.host", config::EnvType::kString},
    {"MONETA_REDIS_PORT", "redis.port", config::EnvType::kInteger},
    {"MONETA_REDIS_MODE", "redis.mode", config::EnvType::kString},
    {"MONETA_REDIS_NODES", "redis.nodes", config::EnvType::kStringList},
    {"INTERNAL_API_HOST", "internal_api.host", config::EnvType::kString},
    {"INTERNAL_API_PORT", "internal_api.port", config::EnvType::kInteger},
    {"MONETA_LEASE_SEC", "playback.lease_sec", config::EnvType::kInteger},
    {"MONETA_HEARTBEAT_SEC", "playback.heartbeat_sec", config::EnvType::kInteger},
    {"MONETA_START_RATE_PER_MIN", "playback.start_rate_per_min", config::EnvType::kInteger},
    {"MONETA_PROGRESS_RATE_PER_MIN", "playback.progress_rate_per_min", config::EnvType::kInteger},
    {"MONETA_PROGRESS_FLUSH_MS", "progress.flush_ms", config::EnvType::kInteger},
    {"MONETA_PROGRESS_CLAIM_IDLE_MS", "progress.claim_idle_ms", config::EnvType::kInteger},
    {"MONETA_PROGRESS_FLUSH_HOLD_MS", "progress.flush_hold_ms", config::EnvType::kInteger},
    {"MONETA_CDN_PROVIDER", "delivery.cdn.provider", config::EnvType::kString},
    {"MONETA_CDN_KEY_FILE", "delivery.cdn.private_key_file", config::EnvType::kString},
    {"MONETA_LOG_LEVEL", "log.level", config::EnvType::kString},
    {"MONETA_LOG_FILE", "log.file", config::EnvType::kString},
    {"MONETA_ACCOUNT_TTL_MS", "cache.account_ttl_ms", config::EnvType::kInteger},
    {"MONETA_CONTENT_TTL_MS", "cache.content_ttl_ms", config::EnvType::kInteger},
    {"MONETA_REDIS_DOWN_START", "resilience.redis_down_start", config::EnvType::kString},
    {"MONETA_SHEDDING", "resilience.shedding.enabled", config::EnvType::kBoolean},
    {"MONETA_CONSUL_TTL_MS", "consul.ttl_ms", config::EnvType::kInteger},
    {"MONETA_CONSUL_BACKOFF_MAX_MS", "consul.backoff_max_ms", config::EnvType::kInteger},
};

void read_consul(config::Reader r, ConsulSettings& c) {
    c.service_name = r.string("service_name", c.service_name);
    c.id = r.string("id", c.id);
    c.tags = r.strings("tags", c.tags);
    c.address = r.string("address", c.address);
    c.ttl = r.millis("ttl_ms", c.ttl);
    c.pass_interval = r.millis("pass_interval_ms", c.pass_interval);
    c.deregister_critical_after = r.millis("deregister_critical_after_ms", c.deregister_critical_after);
    c.deregister_timeout = r.millis("deregister_timeout_ms", c.deregister_timeout);
    c.request_timeout = r.millis("request_timeout_ms", c.request_timeout);
    c.backoff_initial = r.millis("backoff_initial_ms", c.backoff_initial);
    c.backoff_max = r.millis("backoff_max_ms", c.backoff_max);
    r.finish();
    if (c.service_name.empty() || c.id.empty()) {
        throw config::ConfigError("consul.service_name / consul.id: must not be empty");
    }
    for (const auto& t : c.tags) {
        if (t.empty()) {
            throw config::ConfigError("consul.tags: empty tag");
        }
    }
    if (c.ttl < std::chrono::seconds(1)) {
        throw config::ConfigError("consul.ttl_ms: at least 1000");
    }
    if (c.pass_interval.count() < 0 || c.pass_interval >= c.ttl) {
        throw config::ConfigError("consul.pass_interval_ms: 0 (= ttl/3) or shorter than consul.ttl_ms");
    }
    // Consul's own floor: the reaper ignores anything under a minute.
    if (c.deregister_critical_after < std::chrono::minutes(1)) {
        throw config::ConfigError("consul.deregister_critical_after_ms: at least 60000 (Consul's minimum)");
    }
    // A dead agent may delay shutdown by this much: keep it short.
    if (c.deregister_timeout.count() < 0 || c.deregister_timeout > std::chrono::seconds(5)) {
        throw config::ConfigError("consul.deregister_timeout_ms: between 0 and 5000");
    }
    if (c.request_timeout.count() <= 0 || c.backoff_initial.count() <= 0 || c.backoff_max.count() <= 0) {
        throw config::ConfigError("consul.request_timeout_ms / backoff_initial_ms / backoff_max_ms: must be positive");
    }
    c.backoff_initial = std::min(c.backoff_initial, c.backoff_max);  // a lower cap wins (tests lower it alone)
}

/// A circuit breaker's keys (all optional; defaults from @p c). Validated by the breaker itself.
resilience::CircuitBreakerConfig read_breaker(config::Reader r, resilience::CircuitBreakerConfig c) {
    using std::chrono::milliseconds;
    const auto ms = [](core::Duration d) { return std::chrono::duration_cast<milliseconds>(d); };
    const std::string window = r.string("window", c.window == resilience::WindowKind::kCount ? "count" : "time");
    if (window != "count" && window != "time") {
        throw config::ConfigError(r.path() + ".window: expected \"count\" or \"time\"");
    }
    c.window = window == "count" ? resilience::WindowKind::kCount : resilience::WindowKind::kTime;
    c.window_calls = static_cast<std::size_t>(r.integer("window_calls", static_cast<std::int64_t>(c.window_calls), 1, 100000));
    c.bucket_width = r.millis("bucket_ms", ms(c.bucket_width));
    c.bucket_count = static_cast<std::size_t>(r.integer("buckets", static_cast<std::int64_t>(c.bucket_count), 1, 3600));
    c.minimum_calls = static_cast<std::uint32_t>(r.integer("minimum_calls", c.minimum_calls, 1, 100000));
    c.failure_rate_threshold = r.number("failure_rate", c.failure_rate_threshold, 0, 1);
    c.slow_call_rate_threshold = r.number("slow_call_rate", c.slow_call_rate_threshold, 0, 1);
    c.slow_call_duration = r.millis("slow_call_ms", ms(c.slow_call_duration));
    c.consecutive_failures = static_cast<std::uint32_t>(r.integer("consecutive_failures", c.consecutive_failures, 0, 100000));
    c.half_open_probes = static_cast<std::uint32_t>(r.integer("half_open_probes", c.half_open_probes, 1, 1000));
    c.half_open_max_wait = r.millis("half_open_max_wait_ms", ms(c.half_open_max_wait));
    c.open_base = r.millis("open_base_ms", ms(c.open_base));
    c.open_multiplier = r.number("open_multiplier", c.open_multiplier, 1, 100);
    c.open_max = r.millis("open_max_ms", ms(c.open_max));
    c.open_jitter = r.number("open_jitter", c.open_jitter, 0, 1);
    c.ramp_duration = r.millis("ramp_ms", ms(c.ramp_duration));
    c.ramp_start_fraction = r.number("ramp_start", c.ramp_start_fraction, 0, 1);
    r.finish();
    if (auto ok = c.validate(); !ok) {
        throw config::ConfigError(r.path() + ": invalid circuit breaker (" + ok.error().message() + ")");
    }
    return c;
}

void read_resilience(config::Reader r, Settings& s) {
    using std::chrono::milliseconds;
    const auto ms = [](core::Duration d) { return std::chrono::duration_cast<milliseconds>(d); };
    ResilienceSettings& out = s.resilience;
    {
        auto ia = r.child("internal_api");
        auto& g = out.internal_api;
        g.breaker = read_breaker(ia.child("breaker"), g.breaker);
        g.bulkhead.max_active = static_cast<std::uint32_t>(ia.integer("max_concurrent", g.bulkhead.max_active, 1, 100000));
        g.bulkhead.max_abandoned = static_cast<std::uint32_t>(ia.integer("max_abandoned", g.bulkhead.max_abandoned, 0, 100000));
        g.throttle_enabled = ia.boolean("throttle", g.throttle_enabled);
        g.throttle.k = ia.number("throttle_k", g.throttle.k, 1, 100);
        g.throttle.window = ia.millis("throttle_window_ms", ms(g.throttle.window));
        g.retry.max_retries = static_cast<std::uint32_t>(ia.integer("retries", g.retry.max_retries, 0, 10));
        g.retry.base_delay = ia.millis("retry_base_ms", ms(g.retry.base_delay));
        g.retry.max_delay = ia.millis("retry_max_ms", ms(g.retry.max_delay));
        g.retry_budget.budget_percent = ia.number("retry_budget_percent", g.retry_budget.budget_percent, 0, 100);
        g.retry_budget.min_retry_concurrency =
            static_cast<std::uint32_t>(ia.integer("retry_min_concurrency", g.retry_budget.min_retry_concurrency, 0, 10000));
        ia.finish();
        if (g.throttle.window.count() <= 0) {
            throw config::ConfigError("resilience.internal_api.throttle_window_ms: must be positive");
        }
    }
    {
        auto rd = r.child("redis");
        out.redis_breaker = read_breaker(rd.child("breaker"), out.redis_breaker);
        rd.finish();
    }
    {
        auto sh = r.child("shedding");
        auto& l = out.shedding.limit;
        out.shedding.enabled = sh.boolean("enabled", out.shedding.enabled);
        l.max_concurrency_limit = static_cast<std::uint32_t>(sh.integer("max_limit", l.max_concurrency_limit, 1, 1'000'000));
        l.min_concurrency = static_cast<std::uint32_t>(sh.integer("min_limit", l.min_concurrency, 1, 1'000'000));
        l.sample_interval = sh.millis("sample_interval_ms", ms(l.sample_interval));
        l.min_rtt_interval = sh.millis("min_rtt_interval_ms", ms(l.min_rtt_interval));
        l.min_rtt_request_count = static_cast<std::uint32_t>(sh.integer("min_rtt_requests", l.min_rtt_request_count, 1, 100000));
        l.min_rtt_buffer_percent = sh.number("latency_buffer_percent", l.min_rtt_buffer_percent, 0, 10000);
        l.latency_floor = sh.millis("latency_floor_ms", ms(l.latency_floor));
        l.sample_percentile = sh.number("sample_percentile", l.sample_percentile, 1, 100);
        sh.finish();
        if (auto ok = l.validate(); !ok) {
            throw config::ConfigError("resilience.shedding: invalid limit (" + ok.error().message() + ")");
        }
    }
    const std::string start = r.string("redis_down_start", "open");
    if (start != "open" && start != "closed") {
        throw config::ConfigError("resilience.redis_down_start: expected \"open\" or \"closed\"");
    }
    s.playback.redis_down_fail_open = start == "open";
    out.progress_buffer_max = static_cast<std::size_t>(r.integer("progress_buffer_max", 100'000, 0, 10'000'000));
    out.progress_buffer_per_account =
        static_cast<std::size_t>(r.integer("progress_buffer_per_account", 512, 1, 1'000'000));
    out.progress_fallback_max = static_cast<std::uint32_t>(r.integer("progress_fallback_max", 32, 0, 100'000));
    r.finish();
}

Settings read(config::Reader& root) {
    using std::chrono::milliseconds;
    Settings s;
    {
        auto r = root.child("server");
        s.server.address = r.string("address", s.server.address);
        s.server.port = r.port("port", s.server.port);
        s.server.admin_address = r.string("admin_address", s.server.admin_address);
        s.server.admin_port = r.port("admin_port", s.server.admin_port);
        s.server.threads = static_cast<std::size_t>(r.integer("threads", 0, 0, 256));
        s.server.default_deadline = r.millis("default_deadline_ms", s.server.default_deadline);
        s.server.min_client_deadline = r.millis("min_client_deadline_ms", s.server.min_client_deadline);
        s.server.drain = r.millis("drain_ms", s.server.drain);
        s.server.edge_token = r.secret("edge_token", false).reveal();
        s.server.admin_token = r.secret("admin_token", false).reveal();
        r.finish();
        // A guessable token is worse than none: it looks like protection. 16 is nginx's bound for
        // the same edge token (deploy/nginx); ./dev up generates 64 hex characters.
        for (const auto& [key, token] : {std::pair<const char*, const std::string&>{"server.edge_token", s.server.edge_token},
                                         {"server.admin_token", s.server.admin_token}}) {
            if (!token.empty() && token.size() < 16) {
                throw config::ConfigError(std::string(key) + ": shorter than 16 characters");
            }
        }
    }
    {
        auto r = root.child("redis");
        s.redis.host = r.string("host", s.redis.host);
        s.redis.port = r.port("port", 6380);
        s.redis.password = r.secret("password", false).reveal();
        s.redis.connect_timeout = r.millis("connect_timeout_ms", milliseconds(500));
        s.redis.command_timeout = r.millis("command_timeout_ms", milliseconds(150));
        const std::string mode = r.string("mode", "single");
        if (mode != "single" && mode != "cluster") {
            throw config::ConfigError("redis.mode: expected \"single\" or \"cluster\"");
        }
        s.redis_cluster = mode == "cluster";
        for (const std::string& node : r.strings("nodes", {})) {
            s.redis_nodes.push_back(parse_node(node));
        }
        if (s.redis_cluster && (s.redis_nodes.empty() || s.redis_nodes.size() > 16)) {
            throw config::ConfigError("redis.nodes: cluster mode needs 1 to 16 seed nodes (\"host:port\")");
        }
        if (!s.redis_cluster && !s.redis_nodes.empty()) {
            throw config::ConfigError("redis.nodes: only for redis.mode \"cluster\" (single mode uses host/port)");
        }
        r.finish();
    }
    {
        auto r = root.child("internal_api");
        s.internal_api.host = r.string("host", s.internal_api.host);
        s.internal_api.port = r.port("port", s.internal_api.port);
        s.internal_api.token = r.secret("token", true).reveal();
        s.internal_api.timeout = r.millis("timeout_ms", s.internal_api.timeout);
        s.internal_api.connect_timeout = r.millis("connect_timeout_ms", s.internal_api.connect_timeout);
        s.internal_api.max_connections =
            static_cast<std::size_t>(r.integer("max_connections", 32, 1, 4096));
        r.finish();
    }
    {
        auto r = root.child("auth");
        s.auth.allowed_algs = r.strings("algorithms", {"HS256"});
        for (auto& k : r.children("hs256_keys")) {
            jwt::HmacKey key;
            key.kid = k.string("kid", "");
            key.secret = k.secret("secret", true).reveal();
            k.finish();
            s.auth.hmac_keys.push_back(std::move(key));
        }
        for (auto& k : r.children("public_keys")) {
            jwt::PublicKeyFile key;
            key.kid = k.required_string("kid");
            key.alg = k.required_string("alg");
            key.path = k.required_string("path");
            k.finish();
            s.auth.public_keys.push_back(std::move(key));
        }
        s.auth.jwks_files = r.strings("jwks_files", {});
        s.auth.issuer = r.optional_string("issuer");
        s.auth.audience = r.optional_string("audience");
        s.auth.leeway = std::chrono::seconds(r.integer("leeway_sec", 60, 0, 3600));
        // Per worker: ~a worker's share of live sessions (docs/jwt.md "Token cache": 520 B each).
        s.token_cache.max_entries =
            static_cast<std::size_t>(r.integer("token_cache_entries", kDefaultTokenCacheEntries, 0, 4194304));
        r.finish();
    }
    {
        auto r = root.child("playback");
        const auto lease_sec = r.integer("lease_sec", 90, 5, 3600);
        const auto heartbeat_sec = r.integer("heartbeat_sec", 30, 1, 3600);
        if (heartbeat_sec >= lease_sec) {
            throw config::ConfigError("playback.heartbeat_sec: must be shorter than playback.lease_sec");
        }
        s.lease.lease = std::chrono::seconds(lease_sec);
        s.playback.heartbeat_interval_sec = static_cast<int>(heartbeat_sec);
        s.lease.tombstone = std::chrono::seconds(r.integer("evicted_memory_sec", 600, 1, 86400));
        s.lease.meta = std::chrono::seconds(r.integer("session_memory_sec", 86400, lease_sec, 30 * 86400));
        s.playback.start_rate_per_min = static_cast<int>(r.integer("start_rate_per_min", 60, 0, 100000));
        s.playback.progress_rate_per_min = static_cast<int>(r.integer("progress_rate_per_min", 300, 0, 100000));
        s.session_key = r.secret("session_key", false).reveal();
        const auto ranks = r.integer_map("plan_ranks", {{"basic", 1}, {"standard", 2}, {"premium", 3}});
        s.playback.plan_ranks.clear();
        for (const auto& [k, v] : ranks) {
            s.playback.plan_ranks.emplace(k, static_cast<int>(v));
        }
        r.finish();
    }
    {
        auto r = root.child("cache");
        s.cache.account_ttl = r.millis("account_ttl_ms", s.cache.account_ttl);
        s.cache.account_stale_max = r.millis("account_stale_max_ms", s.cache.account_stale_max);
        s.cache.content_ttl = r.millis("content_ttl_ms", s.cache.content_ttl);
        s.cache.content_stale_max = r.millis("content_stale_max_ms", s.cache.content_stale_max);
        s.cache.content_missing_ttl = r.millis("content_missing_ttl_ms", s.cache.content_missing_ttl);
        s.cache.local_max_entries = static_cast<std::size_t>(r.integer("local_max_entries", 4096, 0, 1'000'000));
        r.finish();
    }
    {
        auto r = root.child("progress");
        s.progress.ttl = std::chrono::hours(24 * r.integer("retention_days", 90, 1, 3650));
        s.progress.continue_watching_max = static_cast<int>(r.integer("continue_watching_max", 200, 1, 10000));
        s.progress.max_titles_per_profile =
            static_cast<int>(r.integer("max_titles_per_profile", s.progress.max_titles_per_profile, 1, 1'000'000));
        s.progress.max_dirty_per_account =
            static_cast<int>(r.integer("max_dirty_per_account", s.progress.max_dirty_per_account, 1, 1'000'000));
        s.progress.missing_ttl = r.millis("missing_ttl_ms", s.progress.missing_ttl);
        s.progress.missing_max = static_cast<int>(r.integer("missing_max", s.progress.missing_max, 0, 100'000));
        s.progress.stream_max_len = r.integer("stream_max_len", s.progress.stream_max_len, 100, 100'000'000);
        s.flusher.split_calls_max =
            static_cast<std::size_t>(r.integer("split_calls_max", static_cast<std::int64_t>(s.flusher.split_calls_max),
                                                  static_cast<std::int64_t>(progress::kMinSplitCalls), 10'000));
        s.flusher.quarantine_max_len = r.integer("quarantine_max_len", s.flusher.quarantine_max_len, 100, 10'000'000);
        s.flusher.interval = r.millis("flush_ms", s.flusher.interval);
        // At most an hour: the hold is how far the system of record may lag a playing title.
        s.progress.flush_hold =
            std::chrono::milliseconds(r.integer("flush_hold_ms", s.progress.flush_hold.count(), 0, 3'600'000));
        s.playback.progress_retry_after_sec = static_cast<int>((s.flusher.interval.count() + 999) / 1000);
        s.flusher.batch = static_cast<std::size_t>(r.integer("flush_batch", 500, 1, 10000));
        s.flusher.claim_idle = r.millis("claim_idle_ms", s.flusher.claim_idle);
        s.final_flush = r.millis("shutdown_flush_ms", s.final_flush);
        r.finish();
    }
    {
        auto d = root.child("delivery");
        {
            auto r = d.child("cdn");
            s.cdn.provider = r.string("provider", s.cdn.provider);
            s.cdn.base_url = r.string("base_url", s.cdn.base_url);
            s.cdn.key_pair_id = r.string("key_pair_id", "");
            s.cdn.private_key_file = r.string("private_key_file", "");
            s.cdn.cookie_domain = r.string("cookie_domain", "");
            s.cdn.akamai_key_hex = r.secret("akamai_key", false).reveal();
            s.cdn.akamai_token_name = r.string("akamai_token_name", s.cdn.akamai_token_name);
            s.cdn.bucket_sec = r.integer("bucket_sec", s.cdn.bucket_sec, 1, 86400);
            s.cdn.ttl_sec = r.integer("ttl_sec", s.cdn.ttl_sec, 300, 7 * 86400);
            s.cdn.scope_segments = static_cast<std::size_t>(r.integer("scope_segments", 2, 0, 16));
            if (s.cdn.scope_segments == 1) {  // "/vod/*": one viewer's cookie would open every title
                throw config::ConfigError("delivery.cdn.scope_segments: 1 would cover every title; use 0 or >= 2");
            }
            r.finish();
        }
        {
            auto r = d.child("drm");
            s.drm.site_id = r.required_string("site_id");
            s.drm.site_key = r.secret("site_key", true).reveal();
            s.drm.access_key = r.secret("access_key", true).reveal();
            s.drm.license_url = r.required_string("license_url");
            s.drm.fairplay_certificate_url = r.string("fairplay_certificate_url", "");
            s.drm.license_duration_s = r.integer("license_duration_sec", 86400, 1, 365 * 86400);
            s.drm.token_ttl_s = r.integer("token_ttl_sec", 600, 1, 86400);
            r.finish();
        }
        d.finish();
    }
    {
        auto r = root.child("log");
        s.log.level = r.string("level", "info");
        if (s.log.level != "debug" && s.log.level != "info" && s.log.level != "warn" &&
            s.log.level != "error") {
            throw config::ConfigError("log.level: expected debug, info, warn or error");
        }
        s.log.file = r.string("file", "");
        s.log.access_log = r.boolean("access_log", true);
        r.finish();
    }
    read_resilience(root.child("resilience"), s);
    read_consul(root.child("consul"), s.consul);
    {
        auto r = root.child("tracing");
        auto& t = s.tracing;
        t.sample_ratio = r.number("sample_ratio", 0.01, 0.0, 1.0);
        t.slow_threshold = std::chrono::milliseconds(r.integer("slow_threshold_ms", 500, 1, 600000));
        t.queue_spans = static_cast<std::size_t>(r.integer("queue_spans", 4096, 16, 1 << 20));
        t.batch_spans = static_cast<std::size_t>(r.integer("batch_spans", 512, 1, 8192));
        t.flush_interval = std::chrono::milliseconds(r.integer("flush_interval_ms", 1000, 10, 60000));
        t.export_timeout = std::chrono::milliseconds(r.integer("export_timeout_ms", 2000, 10, 60000));
        t.service_name = r.string("service_name", "moneta");
        t.environment = r.string("environment", "");
        r.finish();
        // MONETA_TRACE_SAMPLE_RATIO overrides sample_ratio (a fraction: libs/config's env
        // overrides are integers, strings and booleans only).
        if (const char* v = std::getenv("MONETA_TRACE_SAMPLE_RATIO"); v != nullptr && *v != '\0') {
            char* end = nullptr;
            const double ratio = std::strtod(v, &end);
            if (end == v || *end != '\0' || !(ratio >= 0.0 && ratio <= 1.0)) {
                throw config::ConfigError("MONETA_TRACE_SAMPLE_RATIO: expected a number in [0, 1]");
            }
            t.sample_ratio = ratio;
        }
        if (t.service_name.empty()) {
            throw config::ConfigError("tracing.service_name: must not be empty");
        }
        // Not config keys: where to send spans is deployment, and the headers carry credentials.
        if (const char* e = std::getenv("MONETA_OTLP_ENDPOINT")) {
            t.endpoint = e;
        }
        if (const char* h = std::getenv("MONETA_OTLP_HEADERS")) {
            t.headers = h;
        }
    }
    root.finish();
    // Zero or negative durations would mean "fail every call at once": refuse them by name.
    const std::pair<const char*, std::chrono::milliseconds> positive[] = {
        {"server.default_deadline_ms", s.server.default_deadline}, {"server.drain_ms", s.server.drain},
        {"redis.connect_timeout_ms", std::chrono::duration_cast<std::chrono::milliseconds>(s.redis.connect_timeout)},
        {"redis.command_timeout_ms", std::chrono::duration_cast<std::chrono::milliseconds>(s.redis.command_timeout)},
        {"internal_api.timeout_ms", s.internal_api.timeout},     {"internal_api.connect_timeout_ms", s.internal_api.connect_timeout},
        {"progress.flush_ms", s.flusher.interval},               {"progress.claim_idle_ms", s.flusher.claim_idle},
        {"progress.shutdown_flush_ms", s.final_flush},
        {"cache.account_ttl_ms", s.cache.account_ttl},           {"cache.content_ttl_ms", s.cache.content_ttl},
        {"cache.content_missing_ttl_ms", s.cache.content_missing_ttl},
    };
    for (const auto& [key, value] : positive) {
        if (value.count() <= 0) {
            throw config::ConfigError(std::string(key) + ": must be positive");
        }
    }
    if (s.cache.account_stale_max < s.cache.account_ttl || s.cache.content_stale_max < s.cache.content_ttl) {
        throw config::ConfigError("cache.*_stale_max_ms: must be at least the matching *_ttl_ms");
    }
    if (s.redis.port == 0 || s.internal_api.port == 0) {
        throw config::ConfigError("redis.port / internal_api.port: must not be 0");
    }
    if (auto ok = redis::validate(s.redis); !ok) {
        throw config::ConfigError("redis: invalid settings (" + ok.error().message() + ")");
    }
    // A shared (singleflight) fetch runs on the server's budget for one guarded read — every
    // attempt's timeout plus the longest backoffs — never on its first caller's deadline.
    const auto& retry = s.resilience.internal_api.retry;
    s.resilience.shared_fetch_timeout =
        s.internal_api.timeout * (retry.max_retries + 1) +
        std::chrono::duration_cast<std::chrono::milliseconds>(retry.max_delay) * retry.max_retries;
    return s;
}

}  // namespace

boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file) {
    auto doc = config::load_file(file, kEnv);
    if (!doc) {
        return {boost::system::in_place_error, doc.error()};
    }
    auto agent = consul::agent_from_environment([](const char* name) { return std::getenv(name); });
    if (!agent) {
        return {boost::system::in_place_error, agent.error()};
    }
    try {
        config::Reader root(doc->get_object(), "");
        Settings s = read(root);
        s.consul.agent = std::move(*agent);
        return s;
    } catch (const config::ConfigError& e) {
        return {boost::system::in_place_error, file.filename().string() + ": " + e.what()};
    }
}

}  // namespace moneta
