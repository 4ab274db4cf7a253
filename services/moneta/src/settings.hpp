/// @file services/moneta/src/settings.hpp
/// @brief moneta's configuration: one JSON file (services/moneta/config/moneta.json), unknown
/// keys rejected, environment overrides, secrets from env or file (never inline).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "delivery/playback_delivery.hpp"
#include "moneta/consul/registration.hpp"
#include "handlers/deps.hpp"
#include "moneta/core/result.hpp"
#include "moneta/drm/pallycon.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "moneta/jwt/verifier.hpp"
#include "moneta/redis/cluster.hpp"
#include "moneta/redis/config.hpp"
#include "moneta/resilience/adaptive_limit.hpp"
#include "moneta/resilience/circuit_breaker.hpp"
#include "progress/flusher.hpp"
#include "store/catalog_cache.hpp"
#include "store/progress_stream.hpp"
#include "store/guarded_redis.hpp"
#include "store/session_store.hpp"
#include "upstream/internal_api_guard.hpp"

namespace moneta {

struct ServerSettings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8081;
    /// The admin port binds here, not to `address`: loopback unless the operator decides.
    std::string admin_address = "127.0.0.1";
    std::uint16_t admin_port = 9091;
    std::size_t threads = 0;  ///< 0 = one per core
    std::chrono::milliseconds default_deadline{2000};
    /// A smaller X-Request-Timeout-Ms (trusted from the edge only) is raised to this.
    std::chrono::milliseconds min_client_deadline{50};
    std::chrono::milliseconds drain{10000};
    /// Secret (env/file only): nginx's X-Edge-Auth. Empty: no request is trusted with the
    /// edge-only headers (X-Request-Timeout-Ms, X-Viewer-Country, X-Forwarded-For).
    std::string edge_token;
    /// Secret (env/file only): `Authorization: Bearer` for state-changing admin routes. Empty:
    /// those routes answer 403.
    std::string admin_token;
};

struct InternalApiSettings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8082;
    std::string token;  ///< secret: from env/file only
    std::chrono::milliseconds timeout{500};
    std::chrono::milliseconds connect_timeout{200};
    std::size_t max_connections = 32;
};

/// Inbound load shedding: an adaptive concurrency limit per worker thread (docs/resilience.md).
struct SheddingSettings {
    bool enabled = true;
    resilience::AdaptiveLimitConfig limit = default_inbound_limit();

    static resilience::AdaptiveLimitConfig default_inbound_limit() {
        resilience::AdaptiveLimitConfig c;
        c.max_concurrency_limit = 1000;
        c.min_concurrency = 16;            // a worker pipelines Redis: 3 in flight starves it
        c.min_rtt_buffer_percent = 100.0;  // shed only when latency doubles over minRTT ...
        c.latency_floor = std::chrono::milliseconds(10);  // ... and passes 10 ms (docs/resilience.md)
        return c;
    }
};

/// Everything around moneta's dependencies: docs/resilience.md states each default and why.
struct ResilienceSettings {
    upstream::InternalApiGuardSettings internal_api;
    resilience::CircuitBreakerConfig redis_breaker = store::default_redis_breaker();
    SheddingSettings shedding;
    std::size_t progress_buffer_max = 100'000;  ///< per process (split across the workers)
    /// Entries one account may hold in a worker's buffer: an account cannot fill it for others.
    std::size_t progress_buffer_per_account = 512;
    std::uint32_t progress_fallback_max = 32;   ///< concurrent progress reads sent to the API because Redis failed
    /// Deadline of a singleflight fetch shared by concurrent callers (derived, not a key:
    /// internal_api.timeout_ms × (retries + 1) + retry_max_ms × retries).
    std::chrono::milliseconds shared_fetch_timeout{1100};
};

struct LogSettings {
    std::string level = "info";
    std::string file;  ///< empty = stdout
    bool access_log = true;
};

/// Registration with the local Consul agent (docs/consul.md). The agent and its ACL token come
/// from the environment only (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN[_FILE]); unset = off.
struct ConsulSettings {
    std::optional<consul::AgentConfig> agent;
    std::string service_name = "moneta";
    /// {name}, {host} (gethostname) and {port} (the API port) are replaced.
    std::string id = "{name}-{host}-{port}";
    std::vector<std::string> tags{"prometheus", "playback"};
    /// Advertised address; empty = server.address unless a wildcard (then the agent's own).
    std::string address;
    std::chrono::milliseconds ttl{15000};
    std::chrono::milliseconds pass_interval{0};  ///< 0 = ttl / 3
    std::chrono::milliseconds deregister_critical_after{600000};
    std::chrono::milliseconds deregister_timeout{1000};  ///< SIGTERM: wait for the deregister at most this
    std::chrono::milliseconds request_timeout{2000};
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{30000};
};

/// The `tracing` section (docs/tracing.md). Export is on only when MONETA_OTLP_ENDPOINT is set.
struct TracingSettings {
    double sample_ratio = 0.01;                       ///< head ratio of new traces, [0, 1]
    std::chrono::milliseconds slow_threshold{500};    ///< slower requests are always kept
    std::size_t queue_spans = 4096;                   ///< per worker ring
    std::size_t batch_spans = 512;
    std::chrono::milliseconds flush_interval{1000};
    std::chrono::milliseconds export_timeout{2000};
    std::string service_name = "moneta";              ///< resource service.name
    std::string environment;                          ///< resource deployment.environment
    std::string endpoint;  ///< env MONETA_OTLP_ENDPOINT (not a config key); empty = export off
    std::string headers;   ///< env MONETA_OTLP_HEADERS (secret: never logged)
};

struct Settings {
    ServerSettings server;
    /// `redis`: host/port/password/timeouts of each connection. In cluster mode host and port
    /// are not used: the connections go to the masters the seeds' slot map names.
    redis::ClientConfig redis;
    bool redis_cluster = false;                    ///< `redis.mode`: "single" (default) | "cluster"
    std::vector<redis::NodeAddress> redis_nodes;  ///< `redis.nodes` ("host:port"), cluster seeds
    InternalApiSettings internal_api;
    jwt::VerifierConfig auth;
    jwt::TokenCacheConfig token_cache;  ///< `auth.token_cache_entries` (per worker)
    handlers::PlaybackSettings playback;
    store::LeaseSettings lease;
    store::CacheSettings cache;
    store::ProgressSettings progress;
    progress::FlusherSettings flusher;
    std::chrono::milliseconds final_flush{10000};  ///< shutdown: time to flush buffered progress
    /// playback.session_key (secret): signs session ids so any worker or instance can tell a
    /// session moneta minted for an account from a made-up one (domain/session_id.hpp). Empty:
    /// a random key per process (a single instance only; set it when several run).
    std::string session_key;
    delivery::CdnSettings cdn;
    drm::PallyConConfig drm;
    LogSettings log;
    ResilienceSettings resilience;
    ConsulSettings consul;
    TracingSettings tracing;
};

/// Environment variables that override config keys (api.md §2 names).
/// MONETA_PORT, MONETA_ADMIN_PORT, MONETA_THREADS, MONETA_REDIS_PORT, INTERNAL_API_PORT,
/// MONETA_LEASE_SEC, MONETA_HEARTBEAT_SEC, MONETA_START_RATE_PER_MIN, MONETA_PROGRESS_FLUSH_MS,
/// MONETA_PROGRESS_CLAIM_IDLE_MS, MONETA_CDN_PROVIDER, MONETA_CDN_KEY_FILE, MONETA_LOG_LEVEL,
/// MONETA_LOG_FILE, MONETA_ACCOUNT_TTL_MS, MONETA_CONTENT_TTL_MS, MONETA_REDIS_DOWN_START,
/// MONETA_SHEDDING, MONETA_CONSUL_TTL_MS, MONETA_CONSUL_BACKOFF_MAX_MS (secrets: see
/// config/moneta.json); CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE.
/// @return the settings or a message naming the offending key/variable.
boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file);

}  // namespace moneta
