#include "app.hpp"

#include <system_error>

#include "moneta/http/router.hpp"

namespace moneta::sshca {

boost::system::result<std::unique_ptr<App>, std::string> App::create(Settings settings, const core::Clock& clock) {
    auto policy = Policy::load(settings.policy);
    if (!policy) {
        return {boost::system::in_place_error, "policy: " + policy.error()};
    }
    auto keys = CaKeys::load(settings.ca);
    if (!keys) {
        return {boost::system::in_place_error, "ca: " + keys.error()};
    }
    if (settings.db.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(settings.db.parent_path(), ec);
    }
    auto store = Store::open(settings.db);
    if (!store) {
        return {boost::system::in_place_error, store.error()};
    }
    for (const auto& k : keys->published_user_keys()) {
        if (auto ok = store->remember_ca("user", k.fingerprint(), k.to_line()); !ok) {
            return {boost::system::in_place_error, ok.error()};
        }
    }
    const auto& host_key = keys->host().public_key();
    if (auto ok = store->remember_ca("host", host_key.fingerprint(), host_key.to_line()); !ok) {
        return {boost::system::in_place_error, ok.error()};
    }
    jwt::VerifierConfig vc;
    vc.allowed_algs = {"HS256"};
    vc.hmac_keys = {jwt::HmacKey{"", settings.jwt_secret}};
    vc.audience = "sshca";
    if (!settings.jwt_issuer.empty()) {
        vc.issuer = settings.jwt_issuer;
    }
    auto verifier = jwt::Verifier::create(vc);
    if (!verifier) {
        return {boost::system::in_place_error, "auth: " + verifier.error()};
    }
    std::unique_ptr<AwsIdentity> aws;
    if (settings.aws.enabled) {
        auto created = AwsIdentity::create(settings.aws);
        if (!created) {
            return {boost::system::in_place_error, created.error()};
        }
        aws = std::make_unique<AwsIdentity>(std::move(*created));
    }
    std::unique_ptr<App> app(new App(std::move(settings), clock));
    app->aws_ = std::move(aws);
    app->authority_ = std::make_unique<Authority>(std::move(*policy), app->settings_.host, std::move(*keys),
                                                  std::move(*store), clock);
    app->auth_ = std::make_unique<Authenticator>(std::move(*verifier), app->settings_.host_token,
                                                 app->settings_.failures, clock);
    http::ServerConfig cfg;
    cfg.address = app->settings_.address;
    cfg.port = app->settings_.port;
    cfg.threads = 1;
    cfg.limits.body_bytes = 64 * 1024;  // a public key line and a few options
    App* raw = app.get();
    app->server_ = std::make_unique<http::Server>(cfg, clock, [raw](boost::asio::io_context&, std::size_t) {
        auto router = std::make_shared<http::Router>(raw->clock_);
        add_routes(*router, *raw->authority_, *raw->auth_, raw->aws_.get(), raw->stats_, raw->clock_);
        http::WorkerHooks hooks;
        hooks.handler = [router](http::Request& r) { return router->async_dispatch(r); };
        return hooks;
    });
    return app;
}

App::~App() = default;

boost::system::result<std::uint16_t, std::string> App::start() {
    auto port = server_->listen();
    if (!port) {
        return {boost::system::in_place_error,
                "cannot listen on port " + std::to_string(settings_.port) + ": " + port.error().message()};
    }
    server_->start();
    return *port;
}

void App::request_stop() { server_->request_stop(std::chrono::seconds(5)); }
void App::wait() { server_->wait(); }

}  // namespace moneta::sshca
