#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "moneta/testing/http.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

// A scripted server on 127.0.0.1:0: for each accepted connection, reads one request head per
// scripted response and writes the response; closes after the last one of that connection.
class ScriptedServer {
public:
    explicit ScriptedServer(std::vector<std::vector<std::string>> per_connection)
        : script_(std::move(per_connection)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 8);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedServer() {
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }
    std::vector<std::string> requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }

private:
    void run() {
        for (const auto& responses : script_) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                return;
            }
            std::string buf;
            for (const auto& response : responses) {
                // Requests in these tests have no body except where Content-Length says so.
                std::size_t end;
                while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
                    char tmp[4096];
                    const auto n = ::recv(c, tmp, sizeof tmp, 0);
                    if (n <= 0) {
                        ::close(c);
                        return;
                    }
                    buf.append(tmp, static_cast<std::size_t>(n));
                }
                std::size_t body_len = 0;
                if (auto p = buf.find("Content-Length: "); p != std::string::npos && p < end) {
                    body_len = std::stoul(buf.substr(p + 16));
                }
                while (buf.size() < end + 4 + body_len) {
                    char tmp[4096];
                    const auto n = ::recv(c, tmp, sizeof tmp, 0);
                    if (n <= 0) {
                        break;
                    }
                    buf.append(tmp, static_cast<std::size_t>(n));
                }
                {
                    std::lock_guard lock(mu_);
                    requests_.push_back(buf.substr(0, end + 4 + body_len));
                }
                buf.erase(0, end + 4 + body_len);
                ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
            }
            ::close(c);
        }
    }

    std::vector<std::vector<std::string>> script_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::string> requests_;  // guarded by mu_
};

TEST(HttpCallTest, SendsHostAndContentLengthAndParsesTheReply) {
    ScriptedServer server({{"HTTP/1.1 201 Created\r\nX-A:  b \r\nContent-Length: 5\r\n\r\nhello"}});
    const auto reply = http_call(server.port(), "POST", "/v1/x?y=1", "{}", {{"X-Req", "1"}});
    ASSERT_TRUE(reply.ok()) << reply.error;
    EXPECT_EQ(reply.status, 201);
    EXPECT_EQ(reply.body, "hello");
    EXPECT_EQ(reply.header("x-a"), "b");
    EXPECT_EQ(reply.header("missing"), std::nullopt);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].rfind("POST /v1/x?y=1 HTTP/1.1\r\n", 0), 0U) << reqs[0];
    EXPECT_NE(reqs[0].find("Host: 127.0.0.1:"), std::string::npos);
    EXPECT_NE(reqs[0].find("Content-Length: 2\r\n"), std::string::npos);
    EXPECT_NE(reqs[0].find("X-Req: 1\r\n"), std::string::npos);
    EXPECT_NE(reqs[0].find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(reqs[0].substr(reqs[0].size() - 2), "{}");
}

TEST(HttpCallTest, DecodesChunkedBodiesAndSkipsInterimResponses) {
    ScriptedServer server({{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"}});
    const auto reply = http_call(server.port(), "GET", "/");
    ASSERT_TRUE(reply.ok()) << reply.error;
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "abcde");
}

TEST(HttpCallTest, ReadsABodyFramedByConnectionClose) {
    ScriptedServer server({{"HTTP/1.0 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nuntil close"}});
    const auto reply = http_call(server.port(), "GET", "/");
    ASSERT_TRUE(reply.ok()) << reply.error;
    EXPECT_EQ(reply.body, "until close");
    EXPECT_EQ(reply.headers_named("set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
}

TEST(HttpCallTest, ReportsAnErrorWhenTheServerClosesWithoutAnswering) {
    // Accepts one connection and closes it without answering.
    ScriptedServer server(std::vector<std::vector<std::string>>{std::vector<std::string>{}});
    const auto reply = http_call(server.port(), "GET", "/", {}, {}, 2s);
    EXPECT_FALSE(reply.ok());
    EXPECT_EQ(reply.status, 0);
    EXPECT_FALSE(reply.error.empty());
}

TEST(HttpConnectionTest, KeepsOneConnectionForSeveralRequests) {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb",
                            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc"}});
    HttpConnection conn(server.port());
    ASSERT_TRUE(conn.is_open());
    EXPECT_EQ(conn.call("GET", "/1").body, "a");
    const auto second = conn.call("GET", "/2");
    EXPECT_EQ(second.status, 404);
    EXPECT_EQ(second.body, "b");
    EXPECT_TRUE(conn.is_open());
    EXPECT_EQ(conn.call("GET", "/3").body, "c");
    EXPECT_FALSE(conn.is_open());  // the server said Connection: close
    EXPECT_EQ(server.requests().size(), 3U);
}

TEST(HttpConnectionTest, SendsRawBytesAndNoticesWhenTheServerCloses) {
    ScriptedServer server({{"HTTP/1.1 204 No Content\r\n\r\n"}});
    HttpConnection conn(server.port());
    ASSERT_TRUE(conn.is_open());
    EXPECT_FALSE(conn.peer_closed());  // nothing happened yet
    ASSERT_TRUE(conn.send_raw("DELETE /x HTTP/1.1\r\nHost: a\r\n"));
    ASSERT_TRUE(conn.send_raw("\r\n"));  // a request split across writes
    const auto reply = conn.read_reply();
    EXPECT_EQ(reply.status, 204);
    EXPECT_TRUE(reply.body.empty());
    EXPECT_TRUE(conn.peer_closed(2s));  // the script ends: the server closes
    EXPECT_FALSE(conn.is_open());
    EXPECT_FALSE(conn.call("GET", "/").ok());
    ASSERT_EQ(server.requests().size(), 1U);
    EXPECT_EQ(server.requests()[0], "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(RawExchangeTest, ReturnsEverythingUntilTheServerCloses) {
    ScriptedServer server({{"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"}});
    const auto raw = raw_exchange(server.port(), "GARBAGE / HTTP/1.1\r\n\r\n", 5s);
    EXPECT_EQ(raw, "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad");
    const auto parsed = parse_http_reply(raw);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->status, 400);
    EXPECT_EQ(parsed->body, "bad");
}

TEST(ParseHttpReplyTest, RejectsIncompleteOrMalformedInput) {
    EXPECT_FALSE(parse_http_reply(""));
    EXPECT_FALSE(parse_http_reply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"));
    EXPECT_FALSE(parse_http_reply("SMTP 220 hi\r\n\r\n"));
    const auto head = parse_http_reply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true);
    ASSERT_TRUE(head);
    EXPECT_TRUE(head->body.empty());
}

}  // namespace
}  // namespace moneta::testing
