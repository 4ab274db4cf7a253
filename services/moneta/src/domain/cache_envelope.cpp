#include "domain/cache_envelope.hpp"

#include <charconv>

namespace moneta::domain {

std::string encode_cached(std::int64_t fetched_at_ms, std::string_view json) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, fetched_at_ms);
    std::string out;
    out.reserve(static_cast<std::size_t>(r.ptr - buf) + 1 + json.size());
    out.append(buf, r.ptr);
    out.push_back('|');
    out.append(json);
    return out;
}

std::optional<CachedDocument> decode_cached(std::string_view stored) noexcept {
    const auto bar = stored.find('|');
    if (bar == std::string_view::npos || bar == 0 || bar > 20) {
        return std::nullopt;
    }
    CachedDocument doc;
    const auto r = std::from_chars(stored.data(), stored.data() + bar, doc.fetched_at_ms);
    if (r.ec != std::errc{} || r.ptr != stored.data() + bar || doc.fetched_at_ms < 0) {
        return std::nullopt;
    }
    doc.json = stored.substr(bar + 1);
    return doc;
}

}  // namespace moneta::domain
