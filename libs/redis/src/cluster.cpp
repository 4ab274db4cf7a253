#include "moneta/redis/cluster.hpp"

#include <array>
#include <charconv>

#include "moneta/core/error.hpp"

namespace moneta::redis {
namespace {

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0, no reflection), the one Redis Cluster
/// uses (its src/crc16.c), table-driven.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i << 8U;
        for (int b = 0; b < 8; ++b) {
            crc = (crc & 0x8000U) != 0 ? (crc << 1U) ^ 0x1021U : crc << 1U;
        }
        t[i] = static_cast<std::uint16_t>(crc & 0xFFFFU);
    }
    return t;
}
constexpr auto kCrc16 = make_crc16_table();

std::uint16_t crc16(std::string_view s) noexcept {
    std::uint16_t crc = 0;
    for (const char c : s) {
        crc = static_cast<std::uint16_t>((crc << 8U) ^ kCrc16[((crc >> 8U) ^ static_cast<std::uint8_t>(c)) & 0xFFU]);
    }
    return crc;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
        if (c != b[i]) {
            return false;
        }
    }
    return true;
}

template <class T>
bool parse_decimal(std::string_view s, T& out) noexcept {
    if (s.empty() || s.size() > 10) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<NodeAddress> parse_node_address(std::string_view s, std::string_view fallback_host) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint32_t port = 0;
    if (!parse_decimal(s.substr(colon + 1), port) || port == 0 || port > 65535) {
        return std::nullopt;
    }
    std::string_view host = s.substr(0, colon);
    if (host.empty()) {
        host = fallback_host;
    }
    if (host.empty()) {
        return std::nullopt;
    }
    return NodeAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

std::uint16_t key_slot(std::string_view key) noexcept {
    const auto open = key.find('{');
    if (open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return static_cast<std::uint16_t>(crc16(key) & (kClusterSlots - 1));
}

std::optional<std::string_view> command_key(std::span<const std::string_view> args) noexcept {
    if (args.empty()) {
        return std::nullopt;
    }
    const std::string_view name = args[0];
    if (iequals(name, "EVALSHA") || iequals(name, "EVAL") || iequals(name, "FCALL") || iequals(name, "EVALSHA_RO") ||
        iequals(name, "EVAL_RO") || iequals(name, "FCALL_RO")) {
        std::uint32_t numkeys = 0;
        if (args.size() < 4 || !parse_decimal(args[2], numkeys) || numkeys == 0) {
            return std::nullopt;
        }
        return args[3];
    }
    if (iequals(name, "XREAD") || iequals(name, "XREADGROUP")) {
        for (std::size_t i = 1; i + 1 < args.size(); ++i) {
            if (iequals(args[i], "STREAMS")) {
                return args[i + 1];
            }
        }
        return std::nullopt;
    }
    if (iequals(name, "PING") || iequals(name, "SCAN") || iequals(name, "INFO") || iequals(name, "CLUSTER") ||
        iequals(name, "SCRIPT") || iequals(name, "ASKING") || iequals(name, "AUTH") || iequals(name, "SELECT") ||
        iequals(name, "FLUSHALL") || iequals(name, "FLUSHDB") || iequals(name, "DBSIZE") || iequals(name, "CONFIG")) {
        return std::nullopt;
    }
    if (args.size() < 2) {
        return std::nullopt;
    }
    return args[1];
}

std::optional<Redirect> parse_redirect(std::string_view text, std::string_view fallback_host) {
    Redirect r;
    if (text.starts_with("MOVED ")) {
        r.kind = Redirect::Kind::kMoved;
        text.remove_prefix(6);
    } else if (text.starts_with("ASK ")) {
        r.kind = Redirect::Kind::kAsk;
        text.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = text.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint32_t slot = 0;
    if (!parse_decimal(text.substr(0, space), slot) || slot >= kClusterSlots) {
        return std::nullopt;
    }
    auto node = parse_node_address(text.substr(space + 1), fallback_host);
    if (!node || node->host.find(' ') != std::string::npos) {
        return std::nullopt;
    }
    r.slot = static_cast<std::uint16_t>(slot);
    r.node = std::move(*node);
    return r;
}

core::Result<std::vector<SlotRange>> parse_cluster_slots(ReplyView reply, std::string_view fallback_host) {
    const auto bad = core::make_error(core::Errc::kProtocolError);
    if (!reply.is_array()) {
        return bad;
    }
    std::vector<SlotRange> out;
    out.reserve(reply.size());
    for (std::size_t i = 0; i < reply.size(); ++i) {
        const ReplyView range = reply[i];
        if (!range.is_array() || range.size() < 3) {
            return bad;
        }
        const auto first = range[0].as_integer();
        const auto last = range[1].as_integer();
        if (!first || !last || *first < 0 || *last < *first || *last >= static_cast<std::int64_t>(kClusterSlots)) {
            return bad;
        }
        const ReplyView master = range[2];
        if (!master.is_array() || master.size() < 2 || !master[0].is_string()) {
            return bad;
        }
        const auto port = master[1].as_integer();
        if (!port || *port <= 0 || *port > 65535) {
            return bad;
        }
        std::string_view host = master[0].as_string_view();
        if (host.empty() || host == "?") {
            host = fallback_host;
        }
        if (host.empty()) {
            return bad;
        }
        out.push_back(SlotRange{static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last),
                                NodeAddress{std::string(host), static_cast<std::uint16_t>(*port)}});
    }
    return out;
}

namespace detail {

namespace {
/// Reads `<prefix><decimal>\r\n` at @p pos; advances @p pos. False on anything else.
bool read_header(std::string_view w, std::size_t& pos, char prefix, std::size_t& value) noexcept {
    if (pos >= w.size() || w[pos] != prefix) {
        return false;
    }
    const auto end = w.find("\r\n", pos + 1);
    if (end == std::string_view::npos || end == pos + 1 || end - pos - 1 > 10) {
        return false;
    }
    std::size_t v = 0;
    const auto [p, ec] = std::from_chars(w.data() + pos + 1, w.data() + end, v);
    if (ec != std::errc() || p != w.data() + end) {
        return false;
    }
    value = v;
    pos = end + 2;
    return true;
}
}  // namespace

std::size_t decode_command(std::string_view w, std::span<std::string_view> out, std::size_t& argc) noexcept {
    std::size_t pos = 0;
    std::size_t n = 0;
    argc = 0;
    if (!read_header(w, pos, '*', n) || n == 0) {
        return 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t len = 0;
        if (!read_header(w, pos, '$', len) || w.size() - pos < len + 2 || w.compare(pos + len, 2, "\r\n") != 0) {
            return 0;
        }
        if (argc < out.size()) {
            out[argc++] = w.substr(pos, len);
        }
        pos += len + 2;
    }
    return pos;
}

}  // namespace detail
}  // namespace moneta::redis
