#include "store/session_meta.hpp"

#include <array>
#include <cmath>

#include "domain/progress.hpp"

namespace moneta::store {

std::size_t session_meta_size_bound(const SessionMeta& meta) noexcept {
    // 10 separators and the version, three 20-digit integers, two seconds values (≤ 32 each),
    // the flag, then the variable fields.
    return 11 + 3 * 20 + 2 * 32 + 1 + meta.profile_id.size() + meta.content_id.size() + meta.selection.size();
}

std::string encode_session_meta(const SessionMeta& meta, std::int64_t refresh_due_ms) {
    std::string out;
    out.reserve(session_meta_size_bound(meta));
    append_session_meta(out, meta, refresh_due_ms);
    return out;
}

void append_session_meta(std::string& out, const SessionMeta& meta, std::int64_t refresh_due_ms) {
    out += "2||";
    out += std::to_string(refresh_due_ms);
    out += '|';
    out += meta.profile_id;
    out += '|';
    out += meta.content_id;
    out += '|';
    out += domain::format_seconds(meta.duration_sec);
    out += '|';
    if (std::isfinite(meta.completion_sec)) {
        out += domain::format_seconds(meta.completion_sec);
    }
    out += '|';
    out += meta.start_over ? '1' : '0';
    out += '|';
    if (meta.window_end_ms) {
        out += std::to_string(*meta.window_end_ms);
    }
    out += '|';
    out += meta.selection;
}

std::optional<StoredSessionMeta> decode_session_meta(std::string_view stored) noexcept {
    // Nine '|'-terminated fields, then the selection (which may contain '|').
    std::array<std::string_view, 9> f{};
    if (stored.substr(0, 2) != "2|") {
        return std::nullopt;
    }
    f[0] = "2";
    std::string_view rest = stored.substr(2);
    for (std::size_t i = 1; i < f.size(); ++i) {
        const auto bar = rest.find('|');
        if (bar == std::string_view::npos) {
            return std::nullopt;
        }
        f[i] = rest.substr(0, bar);
        rest.remove_prefix(bar + 1);
    }
    if (f[3].empty() || f[4].empty()) {
        return std::nullopt;
    }
    return StoredSessionMeta{f[3], f[4], rest};
}

}  // namespace moneta::store
