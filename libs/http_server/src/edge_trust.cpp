// Runs on every request before build_context: a few short string compares over ~10 headers, no
// allocation (docs/http_server.md "Edge trust" has the measured cost).
#include "moneta/http/edge_trust.hpp"

#include <openssl/crypto.h>

namespace moneta::http {
namespace {

/// @p lower is already lower-case.
bool iequals_lower(std::string_view name, std::string_view lower) noexcept {
    if (name.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] + 32) : name[i];
        if (c != lower[i]) {
            return false;
        }
    }
    return true;
}

bool is_edge_only(std::string_view name, const std::vector<std::string>& lower_names) noexcept {
    for (const std::string& n : lower_names) {
        if (iequals_lower(name, n)) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool secret_equals(std::string_view presented, std::string_view secret) noexcept {
    if (secret.empty() || presented.size() != secret.size()) {
        return false;
    }
    return CRYPTO_memcmp(presented.data(), secret.data(), secret.size()) == 0;
}

std::uint64_t edge_name_lengths(const std::vector<std::string>& lower_names) noexcept {
    std::uint64_t mask = name_length_bit(kEdgeAuthHeader.size());
    for (const std::string& n : lower_names) {
        mask |= name_length_bit(n.size());
    }
    return mask;
}

EdgeVerdict apply_edge_trust(std::vector<Header>& headers, std::string_view token,
                             const std::vector<std::string>& lower_names) noexcept {
    EdgeVerdict v;
    // 1. Exactly one X-Edge-Auth that matches: nginx replaces a client's copy (proxy_set_header),
    //    so two of them mean something in between added one.
    int auth_count = 0;
    bool matched = false;
    for (const Header& h : headers) {
        if (iequals_lower(h.name, kEdgeAuthHeader)) {
            ++auth_count;
            matched = secret_equals(h.value, token);
        }
    }
    v.trusted = auth_count == 1 && matched;
    v.auth_rejected = auth_count > 0 && !v.trusted;
    // 2. Compact in place: drop X-Edge-Auth always, edge-only headers unless trusted.
    std::size_t out = 0;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const Header& h = headers[i];
        if (auth_count > 0 && iequals_lower(h.name, kEdgeAuthHeader)) {
            continue;
        }
        if (!v.trusted && is_edge_only(h.name, lower_names)) {
            ++v.dropped;
            continue;
        }
        if (out != i) {
            headers[out] = h;
        }
        ++out;
    }
    headers.resize(out);
    return v;
}

}  // namespace moneta::http
