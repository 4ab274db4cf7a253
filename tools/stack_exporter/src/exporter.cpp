#include "exporter.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "moneta/core/deadline.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http_client/client.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/redis/pipeline.hpp"
#include "redis_info.hpp"
#include "stub_status.hpp"

namespace moneta::stack_exporter {
namespace {

namespace bj = boost::json;

http::Response metrics_response(const metrics::Registry& registry) {
    http::Response r;
    r.content_type = metrics::Registry::kContentType;
    r.body = registry.render_text();
    return r;
}

http::Response plain(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body) + "\n";
    return r;
}

std::string read_whole_file(const std::filesystem::path& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    ok = static_cast<bool>(in) || in.eof();
    return text.str();
}

}  // namespace

Exporter::Exporter(ExporterConfig config, core::Clock& clock)
    : config_(std::move(config)), clock_(clock), agent_(clock) {}

Exporter::~Exporter() = default;

boost::system::result<std::unique_ptr<Exporter>, std::string> Exporter::create(ExporterConfig config,
                                                                              core::Clock& clock) {
    if (auto valid = redis::validate(config.redis); !valid) {
        return {boost::system::in_place_error, "redis settings: " + valid.error().message()};
    }
    std::unique_ptr<Exporter> e(new Exporter(std::move(config), clock));
    http::ServerConfig cfg;
    cfg.address = e->config_.address;
    cfg.port = e->config_.port;
    cfg.threads = 1;
    Exporter* raw = e.get();
    e->server_ = std::make_unique<http::Server>(cfg, clock, [raw](boost::asio::io_context& io, std::size_t) {
        return raw->make_worker(io);
    });
    return e;
}

http::WorkerHooks Exporter::make_worker(boost::asio::io_context& io) {
    struct Worker {
        Worker(boost::asio::io_context& io, const ExporterConfig& c, core::Clock& clock)
            : router(clock),
              redis(io.get_executor(), c.redis, clock),
              nginx(io.get_executor(),
                    http_client::ClientConfig{.host = c.nginx_host,
                                              .port = c.nginx_status_port,
                                              .max_connections = 1,
                                              .max_pending = 8,
                                              .connect_timeout = c.backend_timeout,
                                              .default_timeout = c.backend_timeout},
                    clock) {}
        http::Router router;
        redis::Client redis;
        http_client::Client nginx;
    };
    auto w = std::make_shared<Worker>(io, config_, clock_);
    Worker* wp = w.get();
    const ExporterConfig& c = config_;
    core::Clock& clock = clock_;
    ExporterStats& stats = stats_;

    wp->router.add(http::Method::kGet, "/metrics", [&stats](http::Request&) -> boost::asio::awaitable<http::Response> {
        metrics::Registry registry;
        metrics::register_process_metrics(registry);
        const auto scrapes = [&registry](std::string_view backend, const std::atomic<std::uint64_t>& total,
                                         const std::atomic<std::uint64_t>& failed) {
            registry.counter("stack_exporter_backend_reads_total", "Reads of a backend, by outcome.",
                             {{"backend", std::string(backend)}, {"result", "ok"}})
                .inc(total.load() - failed.load());
            registry.counter("stack_exporter_backend_reads_total", "Reads of a backend, by outcome.",
                             {{"backend", std::string(backend)}, {"result", "failed"}})
                .inc(failed.load());
        };
        scrapes("redis", stats.redis_scrapes, stats.redis_failures);
        scrapes("nginx", stats.nginx_scrapes, stats.nginx_failures);
        scrapes("sd", stats.sd_requests, stats.sd_failures);
        co_return metrics_response(registry);
    });

    wp->router.add(http::Method::kGet, "/metrics/redis",
                   [wp, &c, &clock, &stats](http::Request&) -> boost::asio::awaitable<http::Response> {
                       ++stats.redis_scrapes;
                       metrics::Registry registry;
                       // INFO's default sections, then commandstats: two bulk replies, one round trip.
                       redis::Pipeline p;
                       p.add({"INFO"}).add({"INFO", "commandstats"});
                       const auto replies =
                           co_await wp->redis.async_pipeline(p, core::Deadline::after(clock, c.backend_timeout));
                       core::Result<RedisInfo> info = core::make_error(core::Errc::kUnavailable);
                       if (replies && replies->size() == 2 && (*replies)[0].is_string() && (*replies)[1].is_string()) {
                           std::string text((*replies)[0].as_string_view());
                           text.append("\n").append((*replies)[1].as_string_view());
                           info = parse_redis_info(text);
                       }
                       if (info) {
                           add_redis_info(registry, *info);
                       } else {
                           ++stats.redis_failures;
                       }
                       registry.gauge("redis_up", "1 when the exporter could read INFO from Redis.").set(info ? 1 : 0);
                       co_return metrics_response(registry);
                   });

    wp->router.add(http::Method::kGet, "/metrics/nginx",
                   [wp, &c, &clock, &stats](http::Request&) -> boost::asio::awaitable<http::Response> {
                       if (c.nginx_status_port == 0) {
                           co_return plain(404, "no nginx status port configured");
                       }
                       ++stats.nginx_scrapes;
                       metrics::Registry registry;
                       const auto reply = co_await wp->nginx.async_request(
                           "GET", c.nginx_status_path, {}, {}, core::Deadline::after(clock, c.backend_timeout));
                       core::Result<StubStatus> status = core::make_error(core::Errc::kUnavailable);
                       if (reply && reply->status == 200) {
                           status = parse_stub_status(reply->body);
                       }
                       if (status) {
                           add_stub_status(registry, *status);
                       } else {
                           ++stats.nginx_failures;
                       }
                       registry.gauge("nginx_up", "1 when the exporter could read nginx's stub_status.").set(status ? 1 : 0);
                       co_return metrics_response(registry);
                   });

    LocalAgent& agent = agent_;
    wp->router.add(http::Method::kGet, "/sd", [&c, &stats, &agent](http::Request&) -> boost::asio::awaitable<http::Response> {
        if (c.registrations.empty() && !c.consul_agent) {
            co_return plain(404, "no registrations file configured");
        }
        ++stats.sd_requests;
        bj::array all;
        if (!c.registrations.empty()) {
            bool ok = false;
            const std::string text = read_whole_file(c.registrations, ok);
            if (!ok) {
                ++stats.sd_failures;
                co_return plain(503, "cannot read " + c.registrations.string());
            }
            boost::system::error_code ec;
            bj::value file = bj::parse(text, ec);
            if (ec || !file.is_array()) {
                ++stats.sd_failures;
                auto why = registrations_to_http_sd(text, c.node);  // its message names the problem
                co_return plain(500, why ? std::string("registrations: expected a JSON array") : why.error());
            }
            all = std::move(file.as_array());
        }
        std::map<std::string, std::string, std::less<>> health;
        if (c.consul_agent) {
            agent.collect(all, health);  // what registered itself (validated at register)
        }
        auto groups = registrations_to_http_sd(bj::serialize(all), c.node, &health);
        if (!groups) {
            // Prometheus keeps the targets of its last good refresh when this fails.
            ++stats.sd_failures;
            co_return plain(500, groups.error());
        }
        http::Response r;
        r.body = std::move(*groups);  // application/json, which http_sd requires
        co_return r;
    });

    if (c.consul_agent) {
        // The agent answers 200 with an empty body, errors as text/plain (docs/consul.md).
        const auto answer = [](AgentAnswer a) {
            http::Response r;
            r.status = a.status;
            r.content_type = "text/plain; charset=utf-8";
            r.body = std::move(a.body);
            return r;
        };
        wp->router.add(http::Method::kPut, "/v1/agent/service/register",
                       [&agent, &stats, answer](http::Request& req) -> boost::asio::awaitable<http::Response> {
                           ++stats.agent_calls;
                           co_return answer(agent.register_service(req.body()));
                       });
        wp->router.add(http::Method::kPut, "/v1/agent/check/pass/{id}",
                       [&agent, &stats, answer](http::Request& req) -> boost::asio::awaitable<http::Response> {
                           ++stats.agent_calls;
                           co_return answer(agent.pass(req.path_param(0)));
                       });
        wp->router.add(http::Method::kPut, "/v1/agent/service/deregister/{id}",
                       [&agent, &stats, answer](http::Request& req) -> boost::asio::awaitable<http::Response> {
                           ++stats.agent_calls;
                           co_return answer(agent.deregister(req.path_param(0)));
                       });
        wp->router.add(http::Method::kGet, "/v1/agent/services",
                       [&agent](http::Request&) -> boost::asio::awaitable<http::Response> {
                           http::Response r;
                           r.body = agent.services_json();
                           co_return r;
                       });
    }

    wp->redis.start();
    http::WorkerHooks hooks;
    hooks.handler = [w](http::Request& r) { return w->router.async_dispatch(r); };
    hooks.on_drained = [w] {
        w->nginx.close();
        w->redis.stop();
    };
    return hooks;
}

boost::system::result<std::uint16_t, std::string> Exporter::start() {
    auto port = server_->listen();
    if (!port) {
        return {boost::system::in_place_error,
                "cannot listen on port " + std::to_string(config_.port) + ": " + port.error().message()};
    }
    server_->start();
    return *port;
}

void Exporter::request_stop() { server_->request_stop(std::chrono::seconds(2)); }

void Exporter::wait() { server_->wait(); }

}  // namespace moneta::stack_exporter
