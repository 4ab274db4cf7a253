#include "app.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "moneta/config/config.hpp"
#include "moneta/http/router.hpp"
#include "moneta/trace/http_transport.hpp"
#include "moneta/trace/recorder.hpp"
#include "requests.hpp"
#include "store.hpp"

namespace moneta::internal_api {

namespace json = boost::json;

namespace {

http::Response with_time(std::string doc, std::int64_t now_ms) {
    // Documents are JSON objects: add server_time_ms before the closing brace.
    http::Response r;
    doc.pop_back();
    doc += ",\"server_time_ms\":" + std::to_string(now_ms) + "}";
    r.body = std::move(doc);
    return r;
}

http::Response bad_request(std::string_view why, std::int64_t now_ms) {
    json::object details{{"reason", why}};
    return http::error_response(400, "INVALID_REQUEST", "The request is malformed.", false, now_ms,
                                json::serialize(details));
}

std::string progress_json(const std::vector<ProgressRow>& rows, std::int64_t now_ms) {
    json::array items;
    for (const ProgressRow& r : rows) {
        items.push_back(json::object{{"profile_id", r.profile_id}, {"content_id", r.content_id},
                                     {"position_sec", r.position_sec}, {"duration_sec", r.duration_sec},
                                     {"completed", r.completed}, {"updated_at_ms", r.updated_at_ms},
                                     {"seq", r.seq}});
    }
    return json::serialize(json::object{{"items", std::move(items)}, {"server_time_ms", now_ms}});
}

/// Faults apply to the API proper (/internal/v1/*), never to /_fault, /healthz or metrics, so
/// the harness can always steer and observe the fake upstream.
template <class Worker>
boost::asio::awaitable<http::Response> async_handle(std::shared_ptr<Worker> w, http::Request& r) {
    if (w->gate && r.path().starts_with("/internal/v1/")) {
        if (auto faulted = co_await w->gate->async_admit()) {
            co_return std::move(*faulted);
        }
    }
    co_return co_await w->router.async_dispatch(r);
}

/// The server span of one request (the parent is moneta's client span when it sent one), and
/// an ECS-shaped line on stderr with the ids, so its log lines join moneta's in the APM.
void finish_request(trace::Recorder& recorder, const http::AccessRecord& rec, const http::Router& router,
                    const core::Clock& clock) {
    const core::RequestContext& ctx = rec.request.context();
    trace::SpanRecord s;
    s.trace_id = ctx.trace.trace_id;
    s.span_id = ctx.trace.span_id;
    if (ctx.parent) {
        s.parent_span_id = ctx.parent->span_id;
    }
    s.flags = ctx.trace.flags;
    s.kind = trace::SpanKind::kServer;
    const auto end = clock.steady_now();
    s.end_unix_ns = recorder.unix_ns(end);
    s.start_unix_ns = recorder.unix_ns(end - rec.duration);
    const std::uint16_t id = rec.request.route_id();
    const std::string_view route = id == http::Request::kNoRoute ? std::string_view{} : router.route_pattern(id);
    s.http_method.assign(rec.request.method_string());
    s.http_route.assign(route);
    s.http_status = rec.status;
    s.name.assign_joined(rec.request.method_string(), route);
    if (rec.status >= 500) {
        s.status = trace::StatusCode::kError;
        s.error_type.assign_status(rec.status);
    }
    (void)recorder.finish_server(s, rec.duration);
    std::fprintf(stderr,
                 "{\"@timestamp\":%lld,\"log.level\":\"info\",\"message\":\"request\",\"service.name\":\"internal-api\","
                 "\"trace.id\":\"%s\",\"transaction.id\":\"%s\",\"http.request.method\":\"%.*s\","
                 "\"http.route\":\"%.*s\",\"http.response.status_code\":%d}\n",
                 static_cast<long long>(clock.wall_ms()), ctx.trace.trace_id_hex().c_str(), ctx.trace.span_id_hex().c_str(),
                 static_cast<int>(s.http_method.len), s.http_method.data, static_cast<int>(route.size()), route.data(),
                 rec.status);
}

std::string host_name() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

}  // namespace

boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file) {
    static constexpr config::EnvOverride kEnv[] = {
        {"INTERNAL_API_ADDRESS", "server.address", config::EnvType::kString},
        {"INTERNAL_API_PORT", "server.port", config::EnvType::kInteger},
    };
    auto doc = config::load_file(file, kEnv);
    if (!doc) {
        return {boost::system::in_place_error, doc.error()};
    }
    try {
        Settings s;
        config::Reader root(doc->get_object(), "");
        auto server = root.child("server");
        s.address = server.string("address", s.address);
        s.port = server.port("port", s.port);
        s.threads = static_cast<std::size_t>(server.integer("threads", 1, 1, 64));
        server.finish();
        s.db = root.string("db", s.db.string());
        s.fixtures = root.string("fixtures", s.fixtures.string());
        s.token = root.secret("token", true).reveal();
        root.finish();
        if (s.token.size() < 16) {
            return {boost::system::in_place_error, "token: the service token must be at least 16 characters"};
        }
        return s;
    } catch (const config::ConfigError& e) {
        return {boost::system::in_place_error, file.filename().string() + ": " + e.what()};
    }
}

App::App(Settings settings, const core::Clock& clock) : settings_(std::move(settings)), clock_(clock) {
    if (settings_.fault_control) {
        fault_ = std::make_unique<fault::FaultControl>(clock_);
    }
}

App::~App() {
    // A held request would otherwise keep its worker (and ~Server) waiting up to kMaxHold.
    if (fault_) {
        fault_->stop();
    }
}

boost::system::result<std::unique_ptr<App>, std::string> App::create(Settings settings, const core::Clock& clock) {
    auto fixtures = load_fixtures(settings.fixtures);
    if (!fixtures) {
        return {boost::system::in_place_error, fixtures.error()};
    }
    if (settings.db.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(settings.db.parent_path(), ec);
    }
    auto store = Store::open(settings.db);
    if (!store) {
        return {boost::system::in_place_error, store.error()};
    }
    if (auto loaded = store->load(*fixtures); !loaded) {
        return {boost::system::in_place_error, "loading fixtures: " + loaded.error()};
    }
    std::unique_ptr<App> app(new App(std::move(settings), clock));
    if (const char* v = std::getenv("MONETA_TRACE_SAMPLE_RATIO"); v != nullptr && *v != '\0') {
        char* end = nullptr;
        const double ratio = std::strtod(v, &end);
        if (end == v || *end != '\0' || !(ratio >= 0.0 && ratio <= 1.0)) {
            return {boost::system::in_place_error, "MONETA_TRACE_SAMPLE_RATIO: expected a number in [0, 1]"};
        }
        app->sampler_ = trace::Sampler(trace::SamplerConfig{ratio, std::chrono::milliseconds(500)});
    }
    if (const char* e = std::getenv("MONETA_OTLP_ENDPOINT"); e != nullptr && *e != '\0') {
        auto endpoint = trace::parse_endpoint(e);
        if (!endpoint) {
            return {boost::system::in_place_error, "MONETA_OTLP_ENDPOINT: expected http://host[:port][/path]"};
        }
        const char* h = std::getenv("MONETA_OTLP_HEADERS");
        auto headers = trace::parse_headers(h != nullptr ? h : "");
        if (!headers) {  // credentials: never echoed
            return {boost::system::in_place_error, "MONETA_OTLP_HEADERS: expected name=value[,name=value...]"};
        }
        trace::ResourceInfo r;
        r.service_name = "internal-api";
        r.host_name = host_name();
        r.scope_name = "moneta.internal_api";
        app->exporter_ = std::make_unique<trace::Exporter>(
            trace::ExporterConfig{}, std::move(r),
            std::make_unique<trace::HttpTransport>(std::move(*endpoint), std::move(*headers)), clock);
    }
    http::ServerConfig cfg;
    cfg.address = app->settings_.address;
    cfg.port = app->settings_.port;
    cfg.threads = app->settings_.threads;
    cfg.limits.body_bytes = 1024 * 1024;  // batchUpsert of 1000 items
    App* raw = app.get();
    app->server_ = std::make_unique<http::Server>(cfg, clock, [raw](boost::asio::io_context& io, std::size_t) {
        return raw->make_worker(io);
    });
    return app;
}

http::WorkerHooks App::make_worker(boost::asio::io_context& io) {
    struct Worker {
        Store store;
        http::Router router;
        std::unique_ptr<fault::FaultGate> gate;  ///< null unless --fault-control
        std::unique_ptr<trace::Recorder> recorder;  ///< null unless exporting
    };
    auto store = Store::open(settings_.db);
    if (!store) {
        std::fprintf(stderr, "internal_api: %s\n", store.error().c_str());
        std::abort();  // opened fine in create(): a failure here is an environment fault
    }
    auto w = std::make_shared<Worker>(Worker{std::move(*store), http::Router(clock_), nullptr});
    const core::Clock& clock = clock_;
    ApiStats& stats = stats_;
    const std::string expected = "Bearer " + settings_.token;
    // Every route requires the service token (constant-time compare).
    auto authorized = [expected, &stats](const http::Request& r) {
        const auto h = r.header("authorization");
        const bool ok = h && h->size() == expected.size() &&
                        CRYPTO_memcmp(h->data(), expected.data(), expected.size()) == 0;
        if (!ok) {
            ++stats.unauthorized;
        }
        return ok;
    };
    auto unauthorized = [&clock] {
        return http::error_response(401, "TOKEN_INVALID", "A valid service token is required.", false, clock.wall_ms());
    };
    Worker* wp = w.get();
    wp->router.add(http::Method::kGet, "/healthz", [&clock](http::Request&) -> boost::asio::awaitable<http::Response> {
        http::Response r;
        r.body = R"({"status":"ok","server_time_ms":)" + std::to_string(clock.wall_ms()) + "}";
        co_return r;
    });
    wp->router.add(http::Method::kGet, "/internal/v1/accounts/{id}",
                   [wp, &clock, &stats, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                       if (!authorized(r)) co_return unauthorized();
                       ++stats.accounts;
                       if (!valid_id(r.path_param(0))) co_return bad_request("bad id", clock.wall_ms());
                       auto doc = wp->store.account(r.path_param(0));
                       if (!doc) {
                           co_return http::error_response(404, "ACCOUNT_NOT_FOUND", "No such account.", false, clock.wall_ms());
                       }
                       co_return with_time(std::move(*doc), clock.wall_ms());
                   });
    wp->router.add(http::Method::kGet, "/internal/v1/contents/{id}",
                   [wp, &clock, &stats, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                       if (!authorized(r)) co_return unauthorized();
                       ++stats.contents;
                       if (!valid_id(r.path_param(0))) co_return bad_request("bad id", clock.wall_ms());
                       auto doc = wp->store.content(r.path_param(0));
                       if (!doc) {
                           co_return http::error_response(404, "CONTENT_NOT_FOUND", "No such content.", false, clock.wall_ms());
                       }
                       co_return with_time(std::move(*doc), clock.wall_ms());
                   });
    wp->router.add(http::Method::kPost, "/internal/v1/progress:batchUpsert",
                   [wp, &clock, &stats, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                       if (!authorized(r)) co_return unauthorized();
                       ++stats.batch_upserts;
                       auto rows = parse_batch_upsert(r.body());
                       if (!rows) co_return bad_request(rows.error(), clock.wall_ms());
                       // A well-formed item for a title the catalog does not know is refused,
                       // naming the item, so a caller can tell it apart and send the rest.
                       if (const auto unknown = wp->store.first_unknown_content(*rows)) {
                           const json::object details{{"index", *unknown},
                                                      {"content_id", (*rows)[*unknown].content_id}};
                           co_return http::error_response(422, "UNKNOWN_CONTENT", "No such content.", false,
                                                          clock.wall_ms(), json::serialize(details));
                       }
                       auto res = wp->store.upsert_progress(*rows);
                       if (!res) {
                           co_return http::error_response(503, "UNAVAILABLE", "Storage is busy.", true, clock.wall_ms());
                       }
                       http::Response out;
                       out.body = json::serialize(json::object{{"applied", res->applied}, {"stale", res->stale},
                                                               {"server_time_ms", clock.wall_ms()}});
                       co_return out;
                   });
    wp->router.add(http::Method::kGet, "/internal/v1/profiles/{id}/progress",
                   [wp, &clock, &stats, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                       if (!authorized(r)) co_return unauthorized();
                       ++stats.progress_reads;
                       if (!valid_id(r.path_param(0))) co_return bad_request("bad id", clock.wall_ms());
                       auto ids = parse_content_ids_query(r.query());
                       if (!ids) co_return bad_request(ids.error(), clock.wall_ms());
                       http::Response out;
                       out.body = progress_json(wp->store.progress(r.path_param(0), *ids), clock.wall_ms());
                       co_return out;
                   });
    wp->router.add(http::Method::kGet, "/internal/metrics",
                   [&stats, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                       if (!authorized(r)) co_return unauthorized();
                       http::Response out;
                       out.content_type = "text/plain; version=0.0.4; charset=utf-8";
                       out.body = "# TYPE internal_api_requests_total counter\n";
                       for (const auto& [name, value] : {std::pair{"account", &stats.accounts}, std::pair{"content", &stats.contents},
                                                         std::pair{"batch_upsert", &stats.batch_upserts},
                                                         std::pair{"progress_read", &stats.progress_reads}}) {
                           out.body += std::string("internal_api_requests_total{endpoint=\"") + name + "\"} " +
                                       std::to_string(value->load()) + "\n";
                       }
                       co_return out;
                   });
    if (fault_) {
        // Test-only (--fault-control): the fake-upstream modes of docs/fixtures.md.
        fault::FaultControl& control = *fault_;
        wp->gate = std::make_unique<fault::FaultGate>(control, io, clock);
        wp->router.add(http::Method::kGet, "/_fault",
                       [&control, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                           if (!authorized(r)) co_return unauthorized();
                           http::Response out;
                           out.body = fault::to_json(control.mode());
                           co_return out;
                       });
        wp->router.add(http::Method::kPut, "/_fault",
                       [&control, &clock, authorized, unauthorized](http::Request& r) -> boost::asio::awaitable<http::Response> {
                           if (!authorized(r)) co_return unauthorized();
                           auto mode = fault::parse_mode(r.body());
                           if (!mode) co_return bad_request(mode.error(), clock.wall_ms());
                           control.set(*mode);
                           http::Response out;
                           out.body = fault::to_json(*mode);
                           co_return out;
                       });
    }
    http::WorkerHooks hooks;
    if (!exporter_) {
        hooks.handler = [w](http::Request& r) { return async_handle(w, r); };
        return hooks;
    }
    w->recorder = std::make_unique<trace::Recorder>(&exporter_->add_ring(), sampler_, clock_);
    hooks.handler = [w, this](http::Request& r) {
        core::RequestContext& ctx = r.context();
        ctx.trace.flags = sampler_.head(ctx.trace, ctx.parent) ? 1 : 0;
        return async_handle(w, r);
    };
    hooks.on_access = [w, this](const http::AccessRecord& rec) { finish_request(*w->recorder, rec, w->router, clock_); };
    return hooks;
}

boost::system::result<std::uint16_t, std::string> App::start() {
    auto port = server_->listen();
    if (!port) {
        return {boost::system::in_place_error, "cannot listen on port " + std::to_string(settings_.port) + ": " +
                                                   port.error().message()};
    }
    if (exporter_) {
        exporter_->start();
    }
    server_->start();
    return *port;
}

void App::request_stop() {
    if (fault_) {
        fault_->stop();  // before the drain: held requests must not run out its 5 s
    }
    server_->request_stop(std::chrono::seconds(5));
}
void App::wait() {
    server_->wait();
    if (exporter_) {
        exporter_->stop(std::chrono::seconds(2));  // the last spans; a dead collector costs 2 s at most
    }
}

}  // namespace moneta::internal_api
