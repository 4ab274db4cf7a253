// Issue 10: state-changing admin routes need `Authorization: Bearer <admin token>`; reads stay
// open; no configured token disables changes (403). The router is driven in-process.
#include "handlers/admin_handlers.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"

namespace moneta::handlers {
namespace {

const std::string kAdminToken = "adm-" + std::string(36, 't');

class AdminHandlersTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto b = resilience::CircuitBreaker::create(resilience::CircuitBreakerConfig{}, clock_);
        ASSERT_TRUE(b);
        breaker_ = std::move(*b);
    }

    void build(std::string token) {
        router_ = std::make_unique<http::Router>(clock_);
        register_breaker_routes(*router_, {{"redis", {breaker_.get()}}}, clock_, std::move(token));
    }

    http::Response call(http::Method m, std::string_view method, std::string_view target,
                        std::vector<http::Header> headers = {}, std::string_view body = R"({"mode":"forced_open"})") {
        http::Request req;
        req.set_line(m, method, target);
        req.mutable_headers() = std::move(headers);
        req.set_body(body);
        boost::asio::io_context io;
        auto fut = boost::asio::co_spawn(io, router_->async_dispatch(req), boost::asio::use_future);
        io.run();
        return fut.get();
    }

    http::Response put(std::vector<http::Header> headers) {
        return call(http::Method::kPut, "PUT", "/admin/breakers/redis", std::move(headers));
    }

    static std::string header(const http::Response& r, std::string_view name) {
        for (const auto& [n, v] : r.headers) {
            if (n == name) {
                return v;
            }
        }
        return "";
    }

    core::FakeClock clock_;
    std::unique_ptr<resilience::CircuitBreaker> breaker_;
    std::unique_ptr<http::Router> router_;
};

TEST_F(AdminHandlersTest, TheRightBearerTokenChangesABreaker) {
    build(kAdminToken);
    const std::string auth = "Bearer " + kAdminToken;
    const auto r = put({{"Authorization", auth}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(breaker_->mode(), resilience::Mode::kForcedOpen);
    const std::string lower = "bearer " + kAdminToken;  // the scheme is case-insensitive
    EXPECT_EQ(call(http::Method::kPut, "PUT", "/admin/breakers/redis", {{"authorization", lower}},
                   R"({"mode":"normal"})")
                  .status,
              200);
    EXPECT_EQ(breaker_->mode(), resilience::Mode::kNormal);
}

TEST_F(AdminHandlersTest, AMissingOrWrongTokenIs401AndChangesNothing) {
    build(kAdminToken);
    const std::string wrong = "Bearer " + kAdminToken.substr(0, kAdminToken.size() - 1) + "x";
    const std::string prefix = "Bearer " + kAdminToken.substr(0, 10);
    const std::string longer = "Bearer " + kAdminToken + "x";
    const std::string basic = "Basic " + kAdminToken;
    const std::string bare = kAdminToken;
    struct Case {
        std::vector<http::Header> headers;
        const char* code;
    };
    const std::vector<Case> cases = {
        {{}, "TOKEN_MISSING"},
        {{{"Authorization", "Bearer "}}, "TOKEN_MISSING"},
        {{{"Authorization", basic}}, "TOKEN_MISSING"},
        {{{"Authorization", bare}}, "TOKEN_MISSING"},
        {{{"Authorization", wrong}}, "TOKEN_INVALID"},
        {{{"Authorization", prefix}}, "TOKEN_INVALID"},
        {{{"Authorization", longer}}, "TOKEN_INVALID"},
    };
    for (const Case& c : cases) {
        const auto r = put(c.headers);
        EXPECT_EQ(r.status, 401) << c.code;
        EXPECT_NE(r.body.find(std::string(R"("code":")") + c.code + "\""), std::string::npos) << r.body;
        EXPECT_NE(r.body.find(R"("server_time_ms":)"), std::string::npos) << r.body;  // api.md body
        EXPECT_EQ(r.body.find(kAdminToken.substr(4)), std::string::npos) << "token echoed: " << r.body;
        EXPECT_EQ(header(r, "WWW-Authenticate"), R"(Bearer realm="moneta-admin")");
    }
    EXPECT_EQ(breaker_->mode(), resilience::Mode::kNormal);
    // The token is checked first: an unauthenticated caller cannot probe breaker names.
    EXPECT_EQ(call(http::Method::kPut, "PUT", "/admin/breakers/nope", {}).status, 401);
}

TEST_F(AdminHandlersTest, NoConfiguredTokenDisablesChanges) {
    build("");
    for (const std::string& sent : {std::string(), "Bearer " + kAdminToken, std::string("Bearer ")}) {
        std::vector<http::Header> h;
        if (!sent.empty()) {
            h.push_back({"Authorization", sent});
        }
        const auto r = put(h);
        EXPECT_EQ(r.status, 403) << sent;
        EXPECT_NE(r.body.find(R"("code":"ADMIN_DISABLED")"), std::string::npos) << r.body;
    }
    EXPECT_EQ(breaker_->mode(), resilience::Mode::kNormal);
}

TEST_F(AdminHandlersTest, ReadingTheBreakersStaysOpen) {
    build(kAdminToken);
    const auto r = call(http::Method::kGet, "GET", "/admin/breakers", {}, "");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(R"("name":"redis")"), std::string::npos) << r.body;
}

// The Redis breaker is one per worker (docs/resilience.md "Per worker"): the admin port shows
// and switches them as one.
TEST_F(AdminHandlersTest, APerWorkerBreakerIsSwitchedAndShownAsOne) {
    auto second = resilience::CircuitBreaker::create(resilience::CircuitBreakerConfig{}, clock_);
    ASSERT_TRUE(second);
    router_ = std::make_unique<http::Router>(clock_);
    register_breaker_routes(*router_, {{"redis", {breaker_.get(), second->get()}}}, clock_, kAdminToken);
    const auto r = put({{"Authorization", "Bearer " + kAdminToken}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(breaker_->mode(), resilience::Mode::kForcedOpen);
    EXPECT_EQ((*second)->mode(), resilience::Mode::kForcedOpen);
    const auto list = call(http::Method::kGet, "GET", "/admin/breakers");
    EXPECT_NE(list.body.find(R"("instances":2)"), std::string::npos) << list.body;
    EXPECT_NE(list.body.find(R"("open":true)"), std::string::npos) << list.body;
}

}  // namespace
}  // namespace moneta::handlers
