#include "access_format.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <ctime>

#include "moneta/core/hex.hpp"
#include "moneta/core/json_escape.hpp"

namespace moneta::log::detail {
namespace {

/// The line is built with raw stores in a buffer on the logger's stack and appended to the batch
/// once: through std::string, its ~30 appends (a capacity check and a call each) and three
/// to_chars-then-append cost ~2,150 instructions per access line, a fourteenth of a heartbeat's
/// CPU (docs/performance.md, eleventh round). A string that needs escaping (rare: a
/// user agent with a quote, a path with non-ASCII bytes) goes through the one shared escaper,
/// core::append_json_string, after what is buffered so far is flushed to the batch.
class LineBuilder {
public:
    explicit LineBuilder(std::string& out) noexcept : out_(out) {}
    LineBuilder(const LineBuilder&) = delete;
    LineBuilder& operator=(const LineBuilder&) = delete;

    void text(std::string_view s) {
        if (s.size() > kBytes) {
            flush();
            out_.append(s);
            return;
        }
        room(s.size());
        if (!s.empty()) {
            std::memcpy(p_, s.data(), s.size());
            p_ += s.size();
        }
    }
    void json_string(std::string_view s) {
        if (s.size() <= kBytes - 2 && core::is_json_plain(s)) {
            room(s.size() + 2);
            *p_++ = '"';
            if (!s.empty()) {
                std::memcpy(p_, s.data(), s.size());
                p_ += s.size();
            }
            *p_++ = '"';
            return;
        }
        flush();
        core::append_json_string(out_, s);
    }
    void integer(std::int64_t v) {
        room(20);
        p_ = std::to_chars(p_, p_ + 20, v).ptr;
    }
    /// Lower-case hex of @p n bytes (n ≤ kBytes / 2: trace and span ids).
    void hex(const std::uint8_t* bytes, std::size_t n) {
        room(2 * n);
        core::write_hex(std::span(bytes, n), p_);
        p_ += 2 * n;
    }
    /// Makes room for @p n bytes (at most kBytes).
    void room(std::size_t n) {
        if (n > static_cast<std::size_t>(end_ - p_)) {
            flush();
        }
    }
    char* cursor() noexcept { return p_; }
    void advance_to(char* p) noexcept { p_ = p; }
    /// Appends what is buffered to the batch.
    void flush() {
        out_.append(buf_, static_cast<std::size_t>(p_ - buf_));
        p_ = buf_;
    }

private:
    // An access line with every field at its bound (AccessSlot::kTextBytes of text, all plain)
    // fits; only escaping or an oversized service name or route makes more than one flush.
    static constexpr std::size_t kBytes = 2048;
    std::string& out_;
    char buf_[kBytes];
    char* p_ = buf_;
    char* const end_ = buf_ + kBytes;
};

}  // namespace

char* TimestampFormatter::write(char* out, std::int64_t wall_ms) {
    std::int64_t sec = wall_ms / 1000;
    std::int64_t ms = wall_ms % 1000;
    if (ms < 0) {  // before 1970: keep the same digits format_timestamp would print
        ms += 1000;
        --sec;
    }
    if (sec != second_) {
        const auto t = static_cast<std::time_t>(sec);
        std::tm tm{};
        gmtime_r(&t, &tm);
        prefix_len_ = std::strftime(prefix_, sizeof prefix_, "%Y-%m-%dT%H:%M:%S", &tm);
        second_ = sec;
    }
    std::memcpy(out, prefix_, prefix_len_);
    out += prefix_len_;
    const char tail[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10), 'Z', '"'};
    std::memcpy(out, tail, sizeof tail);
    return out + sizeof tail;
}

// The field order and names are those Logger::log() produced for the access line before the
// ring existed (Fluent Bit parses them): keep them byte for byte.
void append_access_line(std::string& out, const AccessSlot& s, std::string_view service_json,
                        TimestampFormatter& ts) {
    const char* p = s.text;
    const std::string_view request_id(p, s.request_id_len);
    p += s.request_id_len;
    const std::string_view method(p, s.method_len);
    p += s.method_len;
    const std::string_view ip(p, s.ip_len);
    p += s.ip_len;
    const std::string_view user_agent(p, s.user_agent_len);
    p += s.user_agent_len;
    const std::string_view path(p, s.path_len);

    LineBuilder line(out);
    line.text(R"({"@timestamp":")");
    line.room(TimestampFormatter::kMaxBytes);
    line.advance_to(ts.write(line.cursor(), s.wall_ms));  // closes the quote
    line.text(R"(,"log.level":"info","message":"access","ecs.version":"8.11.0","service.name":)");
    line.text(service_json);
    if (s.has_context) {
        line.text(R"(,"trace.id":")");
        line.hex(s.trace_id.data(), s.trace_id.size());
        line.text(R"(","transaction.id":")");
        line.hex(s.span_id.data(), s.span_id.size());
        line.text(R"(","http.request.id":)");
        line.json_string(request_id);
    }
    line.text(R"(,"event.kind":"event","event.dataset":"moneta.access","event.duration":)");
    line.integer(s.duration_ns);
    line.text(R"(,"http.request.method":)");
    line.json_string(method);
    line.text(R"(,"url.path":)");
    line.json_string(path);
    line.text(R"(,"http.route":)");
    line.json_string(std::string_view(s.route, s.route_len));
    line.text(R"(,"http.response.status_code":)");
    line.integer(s.status);
    line.text(R"(,"http.response.bytes":)");
    line.integer(static_cast<std::int64_t>(s.response_bytes));
    line.text(R"(,"client.ip":)");
    line.json_string(ip);
    line.text(R"(,"user_agent.original":)");
    line.json_string(user_agent);
    line.text("}\n");
    line.flush();
}

}  // namespace moneta::log::detail
