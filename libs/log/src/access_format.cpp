#include "access_format.hpp"

#include <charconv>
#include <ctime>

#include "moneta/core/json_escape.hpp"

namespace moneta::log::detail {
namespace {

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace

void TimestampFormatter::append(std::string& out, std::int64_t wall_ms) {
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
    out.append(prefix_, prefix_len_);
    const char tail[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10), 'Z', '"'};
    out.append(tail, sizeof tail);
}

void append_hex(std::string& out, const std::uint8_t* p, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    // One resize, then plain stores: a push_back per digit (48 for an access line's trace and
    // span ids) checked the capacity 48 times.
    const std::size_t at = out.size();
    out.resize(at + 2 * n);
    char* d = out.data() + at;
    for (std::size_t i = 0; i < n; ++i) {
        d[2 * i] = kHex[p[i] >> 4U];
        d[2 * i + 1] = kHex[p[i] & 0xFU];
    }
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

    out += R"({"@timestamp":")";
    ts.append(out, s.wall_ms);  // closes the quote
    out += R"(,"log.level":"info","message":"access","ecs.version":"8.11.0","service.name":)";
    out += service_json;
    if (s.has_context) {
        out += R"(,"trace.id":")";
        append_hex(out, s.trace_id.data(), s.trace_id.size());
        out += R"(","transaction.id":")";
        append_hex(out, s.span_id.data(), s.span_id.size());
        out += R"(","http.request.id":)";
        core::append_json_string(out, request_id);
    }
    out += R"(,"event.kind":"event","event.dataset":"moneta.access","event.duration":)";
    append_int(out, s.duration_ns);
    out += R"(,"http.request.method":)";
    core::append_json_string(out, method);
    out += R"(,"url.path":)";
    core::append_json_string(out, path);
    out += R"(,"http.route":)";
    core::append_json_string(out, std::string_view(s.route, s.route_len));
    out += R"(,"http.response.status_code":)";
    append_int(out, s.status);
    out += R"(,"http.response.bytes":)";
    append_int(out, static_cast<std::int64_t>(s.response_bytes));
    out += R"(,"client.ip":)";
    core::append_json_string(out, ip);
    out += R"(,"user_agent.original":)";
    core::append_json_string(out, user_agent);
    out += "}\n";
}

}  // namespace moneta::log::detail
