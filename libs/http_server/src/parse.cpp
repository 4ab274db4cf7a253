#include "parse.hpp"

#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <iterator>

namespace moneta::http::detail {

namespace bhttp = boost::beast::http;

HeadScan scan_head(std::string_view data, std::size_t& searched) noexcept {
    // Tolerate CRLFs before a request line (RFC 9112 §2.2).
    std::size_t lead = 0;
    while (lead + 1 < data.size() && data[lead] == '\r' && data[lead + 1] == '\n' && lead < 8) {
        lead += 2;
    }
    if (lead > 0) {
        return {lead, 0};
    }
    const auto end = data.find("\r\n\r\n", searched > 3 ? searched - 3 : 0);
    if (end != std::string_view::npos) {
        return {0, end + 4};
    }
    searched = data.size();
    return {};
}

HeadVerdict parse_head(std::string_view head, const ServerLimits& limits, RequestParser& parser) {
    const HeadVerdict verdict = check_head(head, {limits.uri_bytes, limits.header_count});
    if (verdict.status != 0) {
        return verdict;
    }
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes + 4));
    parser.body_limit(limits.body_bytes);
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    if (ec == bhttp::error::body_limit) {
        return {413, "PAYLOAD_TOO_LARGE", "The request body is too large."};
    }
    if (ec || used != head.size() || !parser.is_header_done()) {
        return {400, "INVALID_REQUEST", "The request is malformed."};
    }
    const std::string_view target(parser.get().target().data(), parser.get().target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (!is_safe_path(path)) {
        return {400, "INVALID_REQUEST", "The request path is not allowed."};
    }
    return {};
}

std::size_t field_count(const RequestParser& parser) noexcept {
    const auto& fields = parser.get().base();
    return static_cast<std::size_t>(std::distance(fields.begin(), fields.end()));
}

std::size_t put_body(RequestParser& parser,
                     std::string_view buffered,
                     std::size_t head_fields,
                     boost::system::error_code& ec) {
    std::size_t used = 0;
    ec = {};
    while (!parser.is_done()) {
        const std::string_view rest = buffered.substr(used);
        if (rest.empty() || (parser.chunked() && rest.size() < 5)) {
            ec = bhttp::error::need_more;
            break;
        }
        const std::size_t n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
        used += n;
        if (ec) {
            break;  // need_more: Beast wants these bytes again with more after them
        }
        if (n == 0) {
            ec = bhttp::error::need_more;  // (not seen: Beast either consumes or asks for more)
            break;
        }
    }
    if (!ec && field_count(parser) != head_fields) {
        ec = bhttp::error::bad_field;
    }
    return used;
}

}  // namespace moneta::http::detail
