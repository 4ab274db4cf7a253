#include "moneta/consul/agent_client.hpp"

#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "moneta/core/thread_name.hpp"
#include "moneta/log/logger.hpp"

namespace moneta::consul {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxResponseBody = 64 * 1024;

struct CallResult {
    Outcome outcome = Outcome::kFailed;
    int status = 0;         ///< 0: no HTTP answer
    std::string error;      ///< why it failed, for the log (never the token)
};

std::int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

class Client::Impl {
public:
    Impl(ClientConfig config, const core::Clock& clock, log::Logger* logger)
        : config_(std::move(config)),
          clock_(clock),
          logger_(logger),
          registrar_(timing(config_)),
          body_(encode_register_body(config_.service)),
          pass_target_(pass_path(config_.service.check_id(), config_.pass_note)),
          deregister_target_(deregister_path(config_.service.id)),
          host_header_(host_header(config_.agent)),
          agent_text_(host_header_),
          timer_(io_) {}

    ~Impl() { stop(std::chrono::milliseconds(0)); }

    void start() {
        if (thread_.joinable()) {
            return;
        }
        registrar_.start(clock_.steady_now());
        asio::co_spawn(io_, run(), asio::detached);
        thread_ = std::thread([this] {
            core::set_thread_name("consul");
            io_.run();
        });
    }

    bool stop(std::chrono::milliseconds budget) {
        if (!thread_.joinable()) {
            return false;
        }
        asio::post(io_, [this, budget] {
            stopping_ = true;
            stop_deadline_ = clock_.steady_now() + budget;
            timer_.cancel();
            if (active_ != nullptr) {
                active_->cancel();  // a register/pass in flight ends now (operation_aborted)
            }
        });
        // The deregister is bounded by stop_deadline_; the margin covers scheduling only.
        if (done_.wait_for(budget + std::chrono::milliseconds(200)) != std::future_status::ready) {
            io_.stop();  // abandon it (a resolver stuck on a name, say): the caller's shutdown wins
        }
        thread_.join();
        return stats_.deregisters_ok.load() > 0 && deregistered_;
    }

    const ClientStats& stats() const noexcept { return stats_; }

private:
    static RegistrarConfig timing(const ClientConfig& c) {
        RegistrarConfig t = c.timing;
        t.ttl = c.service.ttl;
        return t;
    }

    static std::string host_header(const AgentConfig& a) {
        const bool v6 = a.host.find(':') != std::string::npos;
        return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
    }

    asio::awaitable<void> run() {
        while (!stopping_) {
            const Registrar::Step step = registrar_.next();
            if (step.op == Op::kNone) {
                break;
            }
            const Duration wait = step.at - clock_.steady_now();
            if (wait > Duration::zero()) {
                timer_.expires_after(wait);
                co_await timer_.async_wait(kTuple);
                continue;  // re-read next(): stop() may have come meanwhile
            }
            registrar_.on_send(step.op);
            const CallResult r = co_await call(step.op, clock_.steady_now() + config_.request_timeout);
            if (stopping_) {
                break;
            }
            account(step.op, r);
            const Registrar::Change change = registrar_.on_result(step.op, r.outcome, clock_.steady_now());
            stats_.registered.store(registrar_.link() == Link::kUp);
            if (change.link_changed) {
                log_change(step.op, r, change);
            }
        }
        if (registrar_.stop()) {
            const CallResult r = co_await call(Op::kDeregister, stop_deadline_);
            deregistered_ = r.outcome == Outcome::kOk;
            account(Op::kDeregister, r);
            if (logger_ != nullptr) {
                if (deregistered_) {
                    logger_->info("deregistered from consul agent", {{"consul.service.id", config_.service.id},
                                                                     {"consul.agent.address", agent_text_}});
                } else {
                    logger_->warn("consul deregister failed (the agent drops us after "
                                  "deregister_critical_after)",
                                  {{"consul.service.id", config_.service.id},
                                   {"consul.agent.address", agent_text_},
                                   {"error.message", r.error}});
                }
            }
        }
        stats_.registered.store(false);
        done_promise_.set_value();
    }

    void account(Op op, const CallResult& r) {
        if (r.outcome == Outcome::kFailed) {
            ++stats_.failures;
            return;
        }
        if (r.outcome == Outcome::kLost) {
            ++stats_.lost;
            return;
        }
        switch (op) {
            case Op::kRegister: ++stats_.registers_ok; break;
            case Op::kPass: ++stats_.passes_ok; break;
            case Op::kDeregister: ++stats_.deregisters_ok; break;
            case Op::kNone: break;
        }
    }

    void log_change(Op op, const CallResult& r, const Registrar::Change& c) {
        if (logger_ == nullptr) {
            return;
        }
        if (c.lost) {
            logger_->warn("consul agent lost our registration (restarted?): registering again",
                          {{"consul.service.id", config_.service.id}, {"consul.agent.address", agent_text_}});
        } else if (c.to == Link::kUp) {
            logger_->info(c.from == Link::kDown ? "consul agent reachable again: registered"
                                                : "registered with consul agent",
                          {{"consul.service.id", config_.service.id},
                           {"consul.service.name", config_.service.name},
                           {"consul.agent.address", agent_text_},
                           {"consul.check.ttl_ms", to_ms(config_.service.ttl)},
                           {"consul.check.pass_interval_ms", to_ms(registrar_.pass_interval())}});
        } else if (c.to == Link::kDown) {
            logger_->warn("consul agent call failed: retrying with backoff (logged once until it recovers)",
                          {{"consul.service.id", config_.service.id},
                           {"consul.agent.address", agent_text_},
                           {"consul.op", to_string(op)},
                           {"http.response.status_code", std::int64_t{r.status}},
                           {"error.message", r.error},
                           {"consul.retry_in_ms", to_ms(c.retry_in)}});
        }
    }

    /// One HTTP/1.1 exchange with the agent; every failure is a value.
    asio::awaitable<CallResult> call(Op op, SteadyTime deadline) {
        CallResult out;
        const auto left = [&] { return deadline - clock_.steady_now(); };
        if (left() <= Duration::zero()) {
            out.error = "no time left";
            co_return out;
        }
        tcp::resolver resolver(io_);
        auto [rec, endpoints] = co_await resolver.async_resolve(config_.agent.host, std::to_string(config_.agent.port), kTuple);
        if (rec) {
            out.error = "resolve: " + rec.message();
            co_return out;
        }
        // stop() cancels the operation in flight; one that had just completed is caught here,
        // so only the deregister goes out after a stop.
        const auto abandoned = [&] { return stopping_ && op != Op::kDeregister; };
        if (abandoned()) {
            out.error = "stopping";
            co_return out;
        }
        beast::tcp_stream stream(io_);
        active_ = &stream;
        struct Clear {
            beast::tcp_stream*& p;
            ~Clear() { p = nullptr; }
        } clear{active_};
        stream.expires_after(std::min<Duration>(config_.connect_timeout, left()));
        if (auto [ec, ep] = co_await stream.async_connect(endpoints, kTuple); ec) {
            (void)ep;
            out.error = ec == beast::error::timeout ? "connect timeout" : "connect: " + ec.message();
            co_return out;
        }
        if (abandoned()) {
            out.error = "stopping";
            co_return out;
        }
        bhttp::request<bhttp::string_body> req;
        req.method(bhttp::verb::put);
        req.target(op == Op::kRegister ? std::string(kRegisterPath) : op == Op::kPass ? pass_target_ : deregister_target_);
        req.version(11);
        req.set(bhttp::field::host, host_header_);
        req.set(bhttp::field::user_agent, "moneta-consul");
        req.set(bhttp::field::connection, "close");
        if (!config_.agent.token.empty()) {
            req.set("X-Consul-Token", config_.agent.token);
        }
        if (op == Op::kRegister) {
            req.set(bhttp::field::content_type, "application/json");
            req.body() = body_;
        }
        req.prepare_payload();  // Content-Length: 0 on the bodiless PUTs
        stream.expires_after(left());
        if (auto [ec, n] = co_await bhttp::async_write(stream, req, kTuple); ec) {
            (void)n;
            out.error = ec == beast::error::timeout ? "timeout" : "write: " + ec.message();
            co_return out;
        }
        if (abandoned()) {
            out.error = "stopping";
            co_return out;
        }
        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.header_limit(16 * 1024);
        parser.body_limit(kMaxResponseBody);
        if (auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple); ec) {
            (void)n;
            out.error = ec == beast::error::timeout ? "timeout" : "malformed or cut response: " + ec.message();
            co_return out;
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        const auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        out.outcome = classify(op, out.status, res.body());
        if (out.outcome == Outcome::kFailed) {
            // The agent's error text says why (ACL denied, bad request); bounded, no token in it.
            out.error = "HTTP " + std::to_string(out.status) + ": " + res.body().substr(0, 200);
        }
        co_return out;
    }

    /// 200 is the agent's only success. A pass on a check the agent does not know: 404 "Unknown
    /// check ID" (current agents), 500 `CheckID "..." does not have associated TTL` before.
    static Outcome classify(Op op, int status, std::string_view body) {
        if (status == 200) {
            return Outcome::kOk;
        }
        if (op == Op::kPass && (status == 404 || (status == 500 && body.find("does not have associated TTL") !=
                                                                        std::string_view::npos))) {
            return Outcome::kLost;
        }
        if (op == Op::kDeregister && status == 404) {
            return Outcome::kOk;  // already gone: what we wanted
        }
        return Outcome::kFailed;
    }

    ClientConfig config_;
    const core::Clock& clock_;
    log::Logger* logger_;
    Registrar registrar_;
    const std::string body_;
    const std::string pass_target_;
    const std::string deregister_target_;
    const std::string host_header_;
    const std::string agent_text_;
    ClientStats stats_;
    asio::io_context io_;
    asio::steady_timer timer_;
    beast::tcp_stream* active_ = nullptr;  ///< the call in flight (io thread only)
    bool stopping_ = false;                ///< io thread only
    bool deregistered_ = false;
    SteadyTime stop_deadline_{};
    std::promise<void> done_promise_;
    std::future<void> done_ = done_promise_.get_future();
    std::thread thread_;
};

Client::Client(ClientConfig config, const core::Clock& clock, log::Logger* logger)
    : impl_(std::make_unique<Impl>(std::move(config), clock, logger)) {}
Client::~Client() = default;
void Client::start() { impl_->start(); }
bool Client::stop(std::chrono::milliseconds budget) { return impl_->stop(budget); }
const ClientStats& Client::stats() const noexcept { return impl_->stats(); }

}  // namespace moneta::consul
