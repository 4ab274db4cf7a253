#include "moneta/core/trace_context.hpp"

#include <algorithm>

#include "moneta/core/hex.hpp"
#include "moneta/core/random.hpp"

namespace moneta::core {
namespace {

int lower_hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;  // upper case is invalid in traceparent
}

template <std::size_t N>
bool parse_hex(std::string_view s, std::array<std::uint8_t, N>& out) noexcept {
    if (s.size() != 2 * N) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = lower_hex_value(s[2 * i]);
        const int lo = lower_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) noexcept {
    return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

std::optional<TraceContext> TraceContext::parse(std::string_view v) noexcept {
    // version(2) '-' trace(32) '-' span(16) '-' flags(2) = 55 chars.
    constexpr std::size_t kLen = 55;
    if (v.size() < kLen || v[2] != '-' || v[35] != '-' || v[52] != '-') {
        return std::nullopt;
    }
    std::array<std::uint8_t, 1> version{};
    if (!parse_hex(v.substr(0, 2), version) || version[0] == 0xff) {
        return std::nullopt;
    }
    // Version 00 has exactly 55 chars; a future version may append "-..." fields.
    if (version[0] == 0 ? v.size() != kLen : (v.size() > kLen && v[kLen] != '-')) {
        return std::nullopt;
    }
    TraceContext ctx;
    std::array<std::uint8_t, 1> flags{};
    if (!parse_hex(v.substr(3, 32), ctx.trace_id) || !parse_hex(v.substr(36, 16), ctx.span_id) ||
        !parse_hex(v.substr(53, 2), flags) || all_zero(ctx.trace_id) || all_zero(ctx.span_id)) {
        return std::nullopt;
    }
    ctx.flags = static_cast<std::uint8_t>(flags[0] & 0x01U);  // only "sampled" is defined
    return ctx;
}

namespace {

bool key_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' || c == '/';
}

bool valid_key(std::string_view k) noexcept {
    const std::size_t at = k.find('@');
    if (at == std::string_view::npos) {
        if (k.empty() || k.size() > 256 || !(k[0] >= 'a' && k[0] <= 'z')) {
            return false;
        }
        return std::all_of(k.begin(), k.end(), key_char);
    }
    const std::string_view tenant = k.substr(0, at);
    const std::string_view system = k.substr(at + 1);
    if (tenant.empty() || tenant.size() > 241 || system.empty() || system.size() > 14) {
        return false;
    }
    if (!((tenant[0] >= 'a' && tenant[0] <= 'z') || (tenant[0] >= '0' && tenant[0] <= '9')) ||
        !(system[0] >= 'a' && system[0] <= 'z')) {
        return false;
    }
    return std::all_of(tenant.begin(), tenant.end(), key_char) && std::all_of(system.begin(), system.end(), key_char);
}

bool valid_value(std::string_view v) noexcept {
    if (v.empty() || v.size() > 256 || v.back() == ' ') {
        return false;
    }
    return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

}  // namespace

bool TraceContext::valid_tracestate(std::string_view v) noexcept {
    if (v.size() > kMaxTracestate) {
        return false;
    }
    std::array<std::string_view, 32> keys{};
    std::size_t members = 0;
    while (true) {
        const std::size_t comma = v.find(',');
        std::string_view m = v.substr(0, comma);
        while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) {
            m.remove_prefix(1);
        }
        while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) {
            m.remove_suffix(1);
        }
        if (!m.empty()) {
            const std::size_t eq = m.find('=');
            if (eq == std::string_view::npos || members == keys.size()) {
                return false;
            }
            const std::string_view key = m.substr(0, eq);
            if (!valid_key(key) || !valid_value(m.substr(eq + 1))) {
                return false;
            }
            if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(members), key) !=
                keys.begin() + static_cast<std::ptrdiff_t>(members)) {
                return false;
            }
            keys[members++] = key;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        v.remove_prefix(comma + 1);
    }
    return true;
}

TraceContext TraceContext::new_root(bool sampled) noexcept {
    TraceContext ctx;
    do {
        secure_random_bytes(ctx.trace_id);
    } while (all_zero(ctx.trace_id));
    do {
        secure_random_bytes(ctx.span_id);
    } while (all_zero(ctx.span_id));
    ctx.flags = sampled ? 1 : 0;
    return ctx;
}

TraceContext TraceContext::child() const noexcept {
    TraceContext ctx = *this;
    do {
        secure_random_bytes(ctx.span_id);
    } while (all_zero(ctx.span_id));
    return ctx;
}

std::string TraceContext::trace_id_hex() const { return to_hex(trace_id); }
std::string TraceContext::span_id_hex() const { return to_hex(span_id); }

std::string TraceContext::to_traceparent() const {
    std::string out = "00-";
    out += trace_id_hex();
    out += '-';
    out += span_id_hex();
    out += sampled() ? "-01" : "-00";
    return out;
}

}  // namespace moneta::core
