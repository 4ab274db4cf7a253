/// @file moneta/log/logger.hpp
/// @brief Structured JSON log lines with ECS field names, written asynchronously by one
/// background thread. Two ways in: log() formats a line on the caller's thread and queues it
/// (startup, warnings: rare lines); the access log goes through per-worker AccessRings of binary
/// records that this thread formats (one per request: no lock, no allocation on the worker).
/// A full queue or ring drops the line and counts it: a slow sink never blocks a request.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <chrono>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include "moneta/core/clock.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/log/access_ring.hpp"

namespace moneta::log {

enum class Level : std::uint8_t { kDebug, kInfo, kWarn, kError };

/// "debug" | "info" | "warn" | "error"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view s) noexcept;

struct Field {
    std::string_view key;  ///< ECS dotted key, written as given ("http.response.status_code")
    std::variant<std::string_view, std::int64_t, double, bool> value;
};

/// Where lines go. The default writes to a file descriptor; tests inject a slow one.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(std::string_view lines) = 0;
    /// Opens its file again by name (after a rotation renamed it); false when that failed and
    /// the sink keeps writing where it was. A sink without a file has nothing to do.
    virtual bool reopen() { return true; }
};

/// A sink appending to a file, or stdout when @p path is empty. reopen() opens @p path again on
/// the same descriptor number, so a rename by logrotate (or Fluent Bit's own rotation handling)
/// loses no line and needs no copytruncate.
std::unique_ptr<Sink> make_file_sink(const std::string& path);

struct LoggerConfig {
    std::string service_name = "moneta";
    Level level = Level::kInfo;
    std::size_t queue_capacity = 8192;  ///< lines queued by log()
    std::size_t access_ring_capacity = 2048;  ///< records per worker ring (power of two)
    /// The writer drains the rings at least this often (sooner when one is half full).
    std::chrono::milliseconds drain_interval{20};
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe.
class Logger {
public:
    Logger(LoggerConfig config, std::unique_ptr<Sink> sink, const core::Clock& clock);
    ~Logger();  ///< writes everything queued, then stops
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    bool enabled(Level l) const noexcept { return l >= config_.level; }
    void log(Level level, std::string_view message, std::initializer_list<Field> fields = {},
             const core::RequestContext* ctx = nullptr);
    void info(std::string_view m, std::initializer_list<Field> f = {}, const core::RequestContext* c = nullptr) { log(Level::kInfo, m, f, c); }
    void warn(std::string_view m, std::initializer_list<Field> f = {}, const core::RequestContext* c = nullptr) { log(Level::kWarn, m, f, c); }
    void error(std::string_view m, std::initializer_list<Field> f = {}, const core::RequestContext* c = nullptr) { log(Level::kError, m, f, c); }

    /// A new access-log ring for one producer thread (a worker), drained by this logger's
    /// thread; valid for the logger's lifetime. Call at startup (takes the lock).
    AccessRing& add_access_ring();
    /// "access" lines go out in the ECS shape documented in docs/logging.md.
    static constexpr std::string_view kAccessMessage = "access";

    /// Asks the writer thread to reopen the sink before its next write (SIGHUP after a log
    /// rotation). Returns at once; flush() afterwards waits until it has happened.
    void reopen() noexcept;
    /// Reopens that failed (the old file is kept; see Sink::reopen).
    std::uint64_t reopen_failures() const noexcept { return reopen_failures_.load(std::memory_order_relaxed); }

    /// Waits (bounded) until the queue and every ring are written.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(2));
    /// Lines lost: the log() queue was full, or an access ring was (access_dropped()).
    std::uint64_t dropped() const noexcept {
        return dropped_.load(std::memory_order_relaxed) + access_dropped();
    }
    /// Access records dropped because their worker's ring was full.
    std::uint64_t access_dropped() const noexcept;
    std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }

private:
    void run();
    bool rings_empty() const noexcept;

    static constexpr std::size_t kMaxRings = 256;

    LoggerConfig config_;
    std::unique_ptr<Sink> sink_;
    const core::Clock& clock_;
    std::mutex mu_;  // guards queue_, stop_, writing_
    std::condition_variable cv_;
    std::condition_variable drained_;
    std::deque<std::string> queue_;
    bool stop_ = false;
    bool writing_ = false;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> written_{0};
    std::string service_json_;             ///< service_name as a JSON string (escaped once)
    std::atomic<bool> wake_{false};  ///< a ring is half full, or flush() wants a pass now
    std::atomic<bool> reopen_{false};  ///< reopen() asked; the writer thread does it
    std::atomic<std::uint64_t> reopen_failures_{0};
    std::array<std::unique_ptr<AccessRing>, kMaxRings> rings_{};
    std::atomic<std::size_t> ring_count_{0};  ///< published with release after a ring is built
    std::thread thread_;
};

/// Keys whose values are never logged: authorization, cookie, token, secret, password, jwt,
/// api_key (case-insensitive, also as a dotted suffix such as "http.request.headers.authorization").
bool is_sensitive_key(std::string_view key) noexcept;

/// RFC 3339 UTC with milliseconds: "2026-11-25T04:05:06.789Z".
std::string format_timestamp(std::int64_t wall_ms);

}  // namespace moneta::log
