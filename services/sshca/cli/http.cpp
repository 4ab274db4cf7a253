#include "http.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <strings.h>

namespace moneta::sshca::cli {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

boost::system::result<Endpoint, std::string> Endpoint::parse(std::string_view url) {
    constexpr std::string_view kHttp = "http://";
    if (url.starts_with("https://")) {
        return {boost::system::in_place_error,
                "SSHCA_URL: https is not built into this CLI yet; reach the CA through a local TLS proxy "
                "or on the loopback (docs/sshca.md)"};
    }
    if (!url.starts_with(kHttp)) {
        return {boost::system::in_place_error, "SSHCA_URL: expected http://host[:port]"};
    }
    std::string_view rest = url.substr(kHttp.size());
    while (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find('/') != std::string_view::npos) {
        return {boost::system::in_place_error, "SSHCA_URL: expected http://host[:port] with no path"};
    }
    Endpoint e;
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
        e.host = std::string(rest);
        e.port = "80";
    } else {
        e.host = std::string(rest.substr(0, colon));
        e.port = std::string(rest.substr(colon + 1));
        if (e.port.empty() || e.port.size() > 5 || e.port.find_first_not_of("0123456789") != std::string::npos) {
            return {boost::system::in_place_error, "SSHCA_URL: bad port"};
        }
    }
    return e;
}

std::optional<std::string> HttpReply::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) {
            return v;
        }
    }
    return std::nullopt;
}

boost::system::result<HttpReply, std::string> http_request(const Endpoint& to, std::string_view method,
                                                           std::string_view target, std::string_view body,
                                                           const std::vector<std::pair<std::string, std::string>>& headers,
                                                           std::chrono::seconds timeout) {
    boost::asio::io_context io;
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    const auto addresses = resolver.resolve(to.host, to.port, ec);
    if (ec) {
        return {boost::system::in_place_error, "cannot resolve " + to.host + ": " + ec.message()};
    }
    tcp::socket socket(io);
    boost::asio::connect(socket, addresses, ec);
    if (ec) {
        return {boost::system::in_place_error, "cannot reach the CA at " + to.host + ":" + to.port + ": " + ec.message()};
    }
    // Blocking calls with a deadline: the socket's own timeouts (a stalled CA fails the command).
    const timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    http::request<http::string_body> req{http::string_to_verb(method), std::string(target), 11};
    req.set(http::field::host, to.host + ":" + to.port);
    req.set(http::field::user_agent, "sshca-cli");
    req.set(http::field::connection, "close");
    for (const auto& [k, v] : headers) {
        req.set(k, v);
    }
    if (!body.empty() || method == "POST") {
        req.set(http::field::content_type, "application/json");
        req.body() = std::string(body);
        req.prepare_payload();
    }
    http::write(socket, req, ec);
    if (ec) {
        return {boost::system::in_place_error, "sending to the CA: " + ec.message()};
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);  // a KRL or a long audit page; never unbounded
    http::read(socket, buffer, parser, ec);
    if (ec) {
        return {boost::system::in_place_error, "reading the CA's answer: " + ec.message()};
    }
    auto res = parser.release();
    HttpReply out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) {
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    return out;
}

}  // namespace moneta::sshca::cli
