#include "sshca_fixture.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "moneta/jwt/verifier.hpp"

namespace moneta::sshca::testing {

CaServer::CaServer(const core::Clock& clock, const std::filesystem::path& dir, ServerOptions options)
    : clock_(clock) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // a test may give a subdirectory of its temp dir
    std::ofstream(dir / "policy.json", std::ios::trunc) << options.policy;
    Settings s;
    s.address = "127.0.0.1";
    s.port = 0;
    s.db = dir / options.db_name;
    s.policy = dir / "policy.json";
    s.ca.dir = dir / "keys";
    s.ca.passphrase = std::string(kCaPassphrase);
    s.ca.generate_missing = true;
    s.jwt_secret = std::string(kJwtSecret);
    s.host_token = std::string(kHostToken);
    s.failures = options.failures;
    if (options.aws) {
        s.aws = *options.aws;
    }
    auto app = App::create(std::move(s), clock);
    if (!app) {
        ADD_FAILURE() << "App::create: " << app.error();
        return;
    }
    app_ = std::move(*app);
    auto port = app_->start();
    if (!port) {
        ADD_FAILURE() << "App::start: " << port.error();
        return;
    }
    port_ = *port;
}

CaServer::~CaServer() {
    if (app_ && port_ != 0) {
        app_->request_stop();
        app_->wait();
    }
}

std::string CaServer::token(std::string_view user, const std::vector<std::string>& groups, std::int64_t ttl_s,
                            std::string_view audience, std::string_view secret) const {
    boost::json::array g;
    for (const auto& s : groups) {
        g.emplace_back(s);
    }
    const std::int64_t now_s = clock_.wall_ms() / 1000;
    const boost::json::object claims{{"sub", user},          {"groups", std::move(g)}, {"aud", audience},
                                     {"iat", now_s - 10},     {"exp", now_s + ttl_s}};
    auto signer = jwt::Signer::hs256("", std::string(secret));
    EXPECT_TRUE(signer) << signer.error();
    return signer ? signer->sign(boost::json::serialize(claims)) : std::string();
}

moneta::testing::HttpReply CaServer::call(std::string_view method, std::string_view target, std::string_view bearer,
                                          std::string_view body, moneta::testing::HttpHeaders headers) const {
    if (!bearer.empty()) {
        headers.emplace_back("Authorization", "Bearer " + std::string(bearer));
    }
    if (!body.empty()) {
        headers.emplace_back("Content-Type", "application/json");
    }
    return moneta::testing::http_call(port_, method, target, body, std::move(headers));
}

boost::json::value parse_json(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return ec ? boost::json::value() : v;
}

std::string error_code(std::string_view body) {
    const auto v = parse_json(body);
    if (!v.is_object()) {
        return "";
    }
    const auto* e = v.get_object().if_contains("error");
    if (e == nullptr || !e->is_object()) {
        return "";
    }
    const auto* c = e->get_object().if_contains("code");
    return c != nullptr && c->is_string() ? std::string(c->get_string()) : "";
}

std::string json_string(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

}  // namespace moneta::sshca::testing
