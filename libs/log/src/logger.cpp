#include "moneta/log/logger.hpp"

#include "access_format.hpp"
#include "moneta/core/json_escape.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>

#include "moneta/core/assert.hpp"
#include "moneta/core/thread_name.hpp"

namespace moneta::log {
namespace {

void append_escaped(std::string& out, std::string_view s) { core::append_json_string(out, s); }

std::string_view level_name(Level l) {
    switch (l) {
        case Level::kDebug: return "debug";
        case Level::kInfo: return "info";
        case Level::kWarn: return "warn";
        case Level::kError: return "error";
    }
    return "info";
}

class FdSink final : public Sink {
public:
    FdSink(int fd, bool owned, std::string path = {}) : fd_(fd), owned_(owned), path_(std::move(path)) {}
    ~FdSink() override {
        if (owned_) {
            ::close(fd_);
        }
    }
    void write(std::string_view lines) override {
        while (!lines.empty()) {
            const ssize_t n = ::write(fd_, lines.data(), lines.size());
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return;  // nowhere to report a failing log sink
            }
            lines.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    bool reopen() override {
        if (path_.empty()) {
            return true;  // stdout: whoever holds the other end rotates
        }
        const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            return false;
        }
        // The same descriptor number, now on the new file: nothing else holds the old number.
        const bool ok = ::dup3(fd, fd_, O_CLOEXEC) >= 0;
        ::close(fd);
        return ok;
    }

private:
    int fd_;
    bool owned_;
    std::string path_;
};

}  // namespace

std::optional<Level> parse_level(std::string_view s) noexcept {
    if (s == "debug") return Level::kDebug;
    if (s == "info") return Level::kInfo;
    if (s == "warn") return Level::kWarn;
    if (s == "error") return Level::kError;
    return std::nullopt;
}

std::unique_ptr<Sink> make_file_sink(const std::string& path) {
    if (path.empty()) {
        return std::make_unique<FdSink>(STDOUT_FILENO, false);
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        return nullptr;
    }
    return std::make_unique<FdSink>(fd, true, path);
}

bool is_sensitive_key(std::string_view key) noexcept {
    std::string lower(key);
    for (char& c : lower) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    for (std::string_view word : {"authorization", "cookie", "token", "secret", "password", "jwt", "api_key"}) {
        if (lower.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string format_timestamp(std::int64_t wall_ms) {
    const std::time_t secs = static_cast<std::time_t>(wall_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(wall_ms % 1000));
    return std::string(buf, n) + ms;
}

Logger::Logger(LoggerConfig config, std::unique_ptr<Sink> sink, const core::Clock& clock)
    : config_(std::move(config)), sink_(std::move(sink)), clock_(clock), thread_() {
    core::append_json_string(service_json_, config_.service_name);
    thread_ = std::thread([this] {
        core::set_thread_name("log-writer");
        run();
    });
}

Logger::~Logger() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

AccessRing& Logger::add_access_ring() {
    std::lock_guard lock(mu_);
    const std::size_t n = ring_count_.load(std::memory_order_relaxed);
    MONETA_RELEASE_ASSERT(n < kMaxRings, "too many access rings");
    rings_[n] = std::make_unique<AccessRing>(config_.access_ring_capacity, &wake_, &cv_);
    ring_count_.store(n + 1, std::memory_order_release);
    return *rings_[n];
}

std::uint64_t Logger::access_dropped() const noexcept {
    std::uint64_t total = 0;
    const std::size_t n = ring_count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
        total += rings_[i]->dropped();
    }
    return total;
}

bool Logger::rings_empty() const noexcept {
    const std::size_t n = ring_count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
        if (!rings_[i]->empty()) {
            return false;
        }
    }
    return true;
}

void Logger::log(Level level, std::string_view message, std::initializer_list<Field> fields,
                 const core::RequestContext* ctx) {
    if (!enabled(level)) {
        return;
    }
    std::string line;
    line.reserve(256);
    line += R"({"@timestamp":")";
    line += format_timestamp(clock_.wall_ms());
    line += R"(","log.level":")";
    line += level_name(level);
    line += R"(","message":)";
    append_escaped(line, message);
    line += R"(,"ecs.version":"8.11.0","service.name":)";
    append_escaped(line, config_.service_name);
    if (ctx != nullptr) {
        line += R"(,"trace.id":")";
        line += ctx->trace.trace_id_hex();
        line += R"(","transaction.id":")";
        line += ctx->trace.span_id_hex();
        line += R"(","http.request.id":)";
        append_escaped(line, ctx->request_id);
    }
    for (const Field& f : fields) {
        line += ',';
        append_escaped(line, f.key);
        line += ':';
        if (is_sensitive_key(f.key)) {
            line += R"("[REDACTED]")";
            continue;
        }
        std::visit(
            [&line](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    append_escaped(line, v);
                } else if constexpr (std::is_same_v<T, bool>) {
                    line += v ? "true" : "false";
                } else if constexpr (std::is_same_v<T, double>) {
                    if (!std::isfinite(v)) {
                        line += "null";
                    } else {
                        char buf[32];
                        const auto r = std::to_chars(buf, buf + sizeof buf, v);
                        line.append(buf, r.ptr);
                    }
                } else {
                    char buf[24];
                    const auto r = std::to_chars(buf, buf + sizeof buf, v);
                    line.append(buf, r.ptr);
                }
            },
            f.value);
    }
    line += "}\n";
    {
        std::lock_guard lock(mu_);
        if (queue_.size() >= config_.queue_capacity) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        queue_.push_back(std::move(line));
    }
    cv_.notify_one();
}

bool Logger::flush(std::chrono::milliseconds timeout) {
    wake_.store(true, std::memory_order_relaxed);
    cv_.notify_one();
    std::unique_lock lock(mu_);
    return drained_.wait_for(lock, timeout, [this] {
        return queue_.empty() && !writing_ && rings_empty() && !reopen_.load(std::memory_order_relaxed);
    });
}

void Logger::reopen() noexcept {
    reopen_.store(true, std::memory_order_relaxed);
    wake_.store(true, std::memory_order_relaxed);
    cv_.notify_one();
}

// One pass per wake: the queued lines, then every ring in turn (each ring in push order), all
// in one buffer and one Sink::write. The thread sleeps on cv_ for at most drain_interval: the
// rings never signal per record (see AccessRing::try_push), so the timer is what bounds how
// long a record waits, and a lost notify costs at most one interval.
void Logger::run() {
    std::deque<std::string> batch;
    std::string buffer;
    detail::TimestampFormatter timestamps;
    for (;;) {
        bool stopping = false;
        bool reopen = false;
        {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, config_.drain_interval, [this] {
                return stop_ || !queue_.empty() || wake_.load(std::memory_order_relaxed);
            });
            wake_.store(false, std::memory_order_relaxed);
            stopping = stop_;
            // Taken under the lock with writing_ set, so a flush() after reopen() waits for it.
            reopen = reopen_.exchange(false, std::memory_order_relaxed);
            batch.swap(queue_);
            writing_ = true;
        }
        if (reopen && sink_ && !sink_->reopen()) {
            reopen_failures_.fetch_add(1, std::memory_order_relaxed);
        }
        buffer.clear();
        for (const std::string& l : batch) {
            buffer += l;
        }
        std::size_t lines = batch.size();
        const std::size_t rings = ring_count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < rings; ++i) {
            lines += rings_[i]->drain([&](const AccessSlot& slot) {
                detail::append_access_line(buffer, slot, service_json_, timestamps);
            });
        }
        if (sink_ && !buffer.empty()) {
            sink_->write(buffer);
        }
        written_.fetch_add(lines, std::memory_order_relaxed);
        batch.clear();
        {
            std::lock_guard lock(mu_);
            writing_ = false;
        }
        drained_.notify_all();
        if (stopping) {
            // The producers have stopped before the logger is destroyed; one last look catches
            // lines queued while this pass was writing.
            std::lock_guard lock(mu_);
            if (queue_.empty() && rings_empty()) {
                return;
            }
        }
    }
}

}  // namespace moneta::log
