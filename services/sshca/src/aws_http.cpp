#include "aws_http.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace moneta::sshca {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxReply = 256 * 1024;  // an STS or IAM page is a few KiB

bool is_loopback(std::string_view host) {
    return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

using Result = boost::system::result<AwsReply, std::string>;

template <class Stream>
asio::awaitable<Result> exchange(Stream& stream, bhttp::request<bhttp::string_body>& req) {
    auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
    if (wec) {
        co_return Result(boost::system::in_place_error, "sending: " + wec.message());
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxReply);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (rec) {
        co_return Result(boost::system::in_place_error,
                         rec == beast::error::timeout ? std::string("timed out") : "reading: " + rec.message());
    }
    AwsReply out;
    out.status = static_cast<int>(parser.get().result_int());
    out.body = std::move(parser.get().body());
    co_return out;
}

}  // namespace

std::string AwsEndpoint::host_header() const {
    return (tls && port == "443") || (!tls && port == "80") ? host : host + ":" + port;
}

boost::system::result<AwsEndpoint, std::string> AwsEndpoint::parse(std::string_view url) {
    AwsEndpoint e;
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        e.tls = false;
        rest = url.substr(7);
    } else {
        return {boost::system::in_place_error, "expected https://host[:port]"};
    }
    if (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
        return {boost::system::in_place_error, "expected scheme://host[:port] with no path, query or user"};
    }
    std::size_t colon = std::string_view::npos;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || (close + 1 < rest.size() && rest[close + 1] != ':')) {
            return {boost::system::in_place_error, "bad IPv6 host"};
        }
        colon = close + 1 < rest.size() ? close + 1 : std::string_view::npos;
    } else {
        colon = rest.find(':');
    }
    const bool has_port = colon != std::string_view::npos;
    if (has_port) {
        e.host = std::string(rest.substr(0, colon));
        e.port = std::string(rest.substr(colon + 1));
        if (e.port.empty() || e.port.size() > 5 || e.port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(e.port) == 0 || std::stoi(e.port) > 65535) {
            return {boost::system::in_place_error, "bad port"};
        }
    } else {
        e.host = std::string(rest);
        e.port = e.tls ? "443" : "80";
    }
    if (e.host.empty()) {
        return {boost::system::in_place_error, "no host"};
    }
    if (!e.tls && !is_loopback(e.host)) {
        return {boost::system::in_place_error, "http:// only for a loopback address (tests); AWS is https"};
    }
    e.url = (e.tls ? "https://" : "http://") + e.host_header() + "/";
    return e;
}

asio::awaitable<boost::system::result<AwsReply, std::string>> async_aws_post(
    const AwsEndpoint& to, const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
    std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    const std::string host = to.host.starts_with('[') ? to.host.substr(1, to.host.size() - 2) : to.host;
    tcp::resolver resolver(executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, to.port, kTuple);
    if (rec) {
        co_return Result(boost::system::in_place_error, "cannot resolve " + to.host + ": " + rec.message());
    }
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/", 11};
    req.set(bhttp::field::host, to.host_header());
    req.set(bhttp::field::user_agent, "sshca-server");
    for (const auto& [k, v] : headers) {
        req.set(k, v);
    }
    req.body() = std::move(body);
    req.prepare_payload();
    beast::tcp_stream tcp_stream(executor);
    tcp_stream.expires_after(timeout);  // one budget for connect, TLS, write and read
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kTuple);
    if (cec) {
        co_return Result(boost::system::in_place_error, "cannot connect to " + to.host_header() + ": " +
                                                            (cec == beast::error::timeout ? "timed out" : cec.message()));
    }
    if (!to.tls) {
        co_return co_await exchange(tcp_stream, req);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), ctx);
    if (SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1 ||
        SSL_set1_host(tls.native_handle(), host.c_str()) != 1) {
        co_return Result(boost::system::in_place_error, "TLS setup failed");
    }
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
        co_return Result(boost::system::in_place_error, "TLS with " + to.host + ": " + hec.message());
    }
    co_return co_await exchange(tls, req);
}

}  // namespace moneta::sshca
