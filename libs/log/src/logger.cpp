#include "moneta/log/logger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>

namespace moneta::log {
namespace {

void append_escaped(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out.push_back(kHex[c >> 4U]);
            out.push_back(kHex[c & 0xFU]);
        } else if (c >= 0x80) {
            // Keep well-formed UTF-8 sequences, replace anything else with U+FFFD.
            const int len = (c & 0xE0U) == 0xC0U ? 2 : (c & 0xF0U) == 0xE0U ? 3 : (c & 0xF8U) == 0xF0U ? 4 : 0;
            bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
            for (int k = 1; ok && k < len; ++k) {
                ok = (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0xC0U) == 0x80U;
            }
            if (ok) {
                out.append(s.substr(i, static_cast<std::size_t>(len)));
                i += static_cast<std::size_t>(len) - 1;
            } else {
                out += "\xEF\xBF\xBD";
            }
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    out.push_back('"');
}

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
    explicit FdSink(int fd, bool owned) : fd_(fd), owned_(owned) {}
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

private:
    int fd_;
    bool owned_;
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
    return std::make_unique<FdSink>(fd, true);
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
    : config_(std::move(config)), sink_(std::move(sink)), clock_(clock), thread_([this] { run(); }) {}

Logger::~Logger() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
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
    std::unique_lock lock(mu_);
    return drained_.wait_for(lock, timeout, [this] { return queue_.empty() && !writing_; });
}

void Logger::run() {
    std::deque<std::string> batch;
    std::string buffer;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (queue_.empty() && stop_) {
                return;
            }
            batch.swap(queue_);
            writing_ = true;
        }
        buffer.clear();
        for (const std::string& l : batch) {
            buffer += l;
        }
        if (sink_) {
            sink_->write(buffer);
        }
        written_.fetch_add(batch.size(), std::memory_order_relaxed);
        batch.clear();
        {
            std::lock_guard lock(mu_);
            writing_ = false;
        }
        drained_.notify_all();
    }
}

}  // namespace moneta::log
