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
