#include "scripted_upstream.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "moneta/testing/wait.hpp"

namespace moneta::http_client::testing {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string ok_response(const std::string& target) {
    const std::string body = "ok " + target;
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// Bytes written on @p fd that the peer has not acknowledged yet (SIOCOUTQ), or -1.
int unacked_bytes(int fd) {
    int n = 0;
    return ::ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

}  // namespace

struct ScriptedUpstream::State {
    // A response waiting for release_held(); the pointers live in the connection's coroutine
    // frame, which stays suspended on the gate until then. Touched only on the upstream thread.
    struct Held {
        tcp::socket* socket;
        asio::steady_timer* gate;
        std::string response;
    };

    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::vector<Held> held_list;
    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> closed{0};
    std::atomic<std::size_t> held{0};
    mutable std::mutex mu;
    std::vector<std::string> targets;  // guarded by mu
    std::thread thread;

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(kTuple);
            if (ec) {
                co_return;  // acceptor closed
            }
            ++accepted;
            asio::co_spawn(io, serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        boost::beast::flat_buffer buffer;
        for (;;) {
            bhttp::request<bhttp::string_body> req;
            auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kTuple);
            (void)n;
            if (ec) {
                ++closed;
                co_return;
            }
            const std::string target(req.target());
            {
                std::lock_guard lock(mu);
                targets.push_back(target);
            }
            if (target.starts_with("/held")) {
                asio::steady_timer gate(io, asio::steady_timer::time_point::max());
                held_list.push_back(Held{&socket, &gate, ok_response(target)});
                ++held;
                co_await gate.async_wait(kTuple);  // release_held() wrote the response
                continue;
            }
            auto [wec, wn] =
                co_await asio::async_write(socket, asio::buffer(ok_response(target)), kTuple);
            (void)wn;
            if (wec) {
                co_return;
            }
            if (target.starts_with("/close")) {
                boost::system::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
                co_return;
            }
        }
    }
};

ScriptedUpstream::ScriptedUpstream() : state_(std::make_unique<State>()) {
    asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
    state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

ScriptedUpstream::~ScriptedUpstream() {
    state_->io.stop();
    state_->thread.join();
}

std::uint16_t ScriptedUpstream::port() const { return state_->acceptor.local_endpoint().port(); }
std::size_t ScriptedUpstream::accepted() const { return state_->accepted.load(); }
std::size_t ScriptedUpstream::closed() const { return state_->closed.load(); }
std::size_t ScriptedUpstream::held() const { return state_->held.load(); }

std::vector<std::string> ScriptedUpstream::targets() const {
    std::lock_guard lock(state_->mu);
    return state_->targets;
}

::testing::AssertionResult ScriptedUpstream::release_held(std::chrono::milliseconds timeout) {
    // Shared: if the wait below gives up, the upstream thread may still fulfil it later.
    auto written = std::make_shared<std::promise<std::vector<int>>>();
    auto fds = written->get_future();
    asio::post(state_->io, [s = state_.get(), written] {
        std::vector<int> out;
        for (auto& h : s->held_list) {
            boost::system::error_code ec;
            asio::write(*h.socket, asio::buffer(h.response), ec);
            out.push_back(h.socket->native_handle());
            h.gate->cancel();
        }
        s->held_list.clear();
        s->held = 0;
        written->set_value(std::move(out));
    });
    if (fds.wait_for(timeout) != std::future_status::ready) {
        return ::testing::AssertionFailure() << "the upstream thread did not write the responses";
    }
    const std::vector<int> sockets = fds.get();
    // The connections stay open (the client is not running meanwhile), so the fds stay valid.
    return moneta::testing::wait_until(
        [&] {
            for (int fd : sockets) {
                if (unacked_bytes(fd) != 0) {
                    return false;
                }
            }
            return true;
        },
        timeout,
        "the client's kernel to acknowledge the released responses"
    );
}

}  // namespace moneta::http_client::testing
