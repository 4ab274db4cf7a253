/// @file moneta/http/edge_trust.hpp
/// @brief Which request headers only the edge (nginx) may set, and the shared secret that proves
/// a request came through it. A request without the right `X-Edge-Auth` loses its edge-only
/// headers before anything (context, router, handler, access log) reads them; `X-Edge-Auth`
/// itself is always removed. See docs/http_server.md "Edge trust".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/http/request.hpp"

namespace moneta::http {

/// The header nginx adds to every request it proxies (deploy/nginx): `X-Edge-Auth: <token>`.
inline constexpr std::string_view kEdgeAuthHeader = "x-edge-auth";

struct EdgeTrust {
    /// Secret shared with the edge. Empty: no request is trusted, so every edge-only header is
    /// always removed.
    std::string token;
    /// Names (any case) removed from a request that does not carry the token, e.g.
    /// x-request-timeout-ms, x-viewer-country, x-forwarded-for. Empty: nothing is edge-only
    /// (the internal API, whose only caller is moneta).
    std::vector<std::string> headers;
};

/// What apply_edge_trust did to one request.
struct EdgeVerdict {
    bool trusted = false;         ///< the request carried exactly one X-Edge-Auth equal to the token
    bool auth_rejected = false;   ///< an X-Edge-Auth was present but wrong, or sent twice
    std::uint32_t dropped = 0;    ///< edge-only headers removed (X-Edge-Auth itself not counted)
};

/// Constant-time comparison of a presented secret with the configured one (CRYPTO_memcmp over
/// equal lengths). A different length is false at once: it reveals only the length, and our
/// tokens have a fixed, public length (64 hex characters). An empty @p secret never matches.
bool secret_equals(std::string_view presented, std::string_view secret) noexcept;

/// The bit of a field-name length in a name-length mask: bit n for a name of n bytes, bit 63 for
/// every name of 63 bytes or more (a coarser bucket only sends more requests down the full scan).
constexpr std::uint64_t name_length_bit(std::size_t n) noexcept {
    return std::uint64_t{1} << (n < 63 ? n : 63);
}

/// The name-length mask of X-Edge-Auth and of @p lower_names: apply_edge_trust can change nothing
/// on a request none of whose field names has one of these lengths (names of another length never
/// compare equal), so the server skips it when the mask of the request's names (check_head notes
/// it in the same pass) shares no bit with this one: a direct request with no edge header costs
/// no scan (docs/http_server.md "Edge trust").
std::uint64_t edge_name_lengths(const std::vector<std::string>& lower_names) noexcept;

/// Removes X-Edge-Auth (always) and, unless the request proved it came from the edge, every
/// header named in @p trust.headers. In place, order kept, no allocation.
/// @param lower_names @p trust.headers already lower-cased (Server does it once at startup).
EdgeVerdict apply_edge_trust(std::vector<Header>& headers, std::string_view token,
                             const std::vector<std::string>& lower_names) noexcept;

}  // namespace moneta::http
