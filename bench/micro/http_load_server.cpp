// A trivial server on libs/http_server for the HTTP layer's load test (docs/http_server.md
// "Figures"): wrk drives it next to nginx's `return 200` baseline, so the CPU per request is the
// server's own (parse, context, route, serialize, write), not Redis's or a handler's.
//   moneta_http_load_server <port> [threads]   (runs until SIGTERM/SIGINT)
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"

using namespace moneta;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <port> [threads]\n", argv[0]);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    http::ServerConfig cfg;
    cfg.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    cfg.threads = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 1;
    const core::Clock& clock = core::SystemClock::instance();
    http::Server server(cfg, clock, [&clock](boost::asio::io_context&, std::size_t) {
        auto router = std::make_shared<http::Router>(clock);
        router->add(http::Method::kGet, "/healthz", [](http::Request&) -> boost::asio::awaitable<http::Response> {
            http::Response r;
            r.body = R"({"status":"ok"})";
            co_return r;
        });
        // The shape of a heartbeat answer (a ~90-byte JSON body, no extra headers).
        router->add(http::Method::kPost, "/v1/playback/sessions/{id}/heartbeat",
                    [](http::Request&) -> boost::asio::awaitable<http::Response> {
                        http::Response r;
                        r.body.reserve(128);
                        r.body = R"({"session_id":"ps_01hv3k","status":"active","next_heartbeat_ms":30000,"server_time_ms":1733300000000})";
                        co_return r;
                    });
        http::WorkerHooks hooks;
        hooks.handler = [router](http::Request& r) { return router->async_dispatch(r); };
        return hooks;
    });
    if (!server.listen()) {
        std::fprintf(stderr, "listen failed\n");
        return 1;
    }
    server.start();
    int sig = 0;
    sigwait(&set, &sig);
    server.request_stop(std::chrono::seconds(1));
    server.wait();
    return 0;
}
