/// @file moneta/log/logger.hpp
/// @brief Structured JSON log lines with ECS field names, written asynchronously: the caller
/// formats into a string and enqueues it; one background thread writes. A full queue drops the
/// line and counts it: a slow sink never blocks a request.
#pragma once

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
};

/// A sink appending to a file, or stdout when @p path is empty.
std::unique_ptr<Sink> make_file_sink(const std::string& path);

struct LoggerConfig {
    std::string service_name = "moneta";
    Level level = Level::kInfo;
    std::size_t queue_capacity = 8192;  ///< lines
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

    /// Waits (bounded) until the queue is written.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(2));
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }

private:
    void run();

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
    std::thread thread_;
};

/// Keys whose values are never logged: authorization, cookie, token, secret, password, jwt,
/// api_key (case-insensitive, also as a dotted suffix such as "http.request.headers.authorization").
bool is_sensitive_key(std::string_view key) noexcept;

/// RFC 3339 UTC with milliseconds: "2026-11-25T04:05:06.789Z".
std::string format_timestamp(std::int64_t wall_ms);

}  // namespace moneta::log
