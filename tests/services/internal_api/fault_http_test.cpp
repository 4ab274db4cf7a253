// Every fault mode over HTTP against the real internal_api binary started with --fault-control
// (docs/fixtures.md "Fault injection"), plus: no /_fault without the flag, bounded fds under a
// blackhole, and a prompt SIGTERM while requests are held.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moneta/testing/load.hpp"
#include "moneta/testing/support.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kToken = "fault-test-token-0123456789abcdef";
constexpr std::string_view kAccount = "/internal/v1/accounts/a_1";

HttpHeaders auth() { return {{"Authorization", "Bearer " + std::string(kToken)}}; }

std::string raw_get(std::string_view target) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
           std::string(kToken) + "\r\n\r\n";
}

/// One internal_api process on a free port with its own SQLite file.
struct Api {
    std::uint16_t port = 0;
    std::optional<Process> proc;

    [[nodiscard]] ::testing::AssertionResult start(
        const TempDir& dir, const std::string& name, bool fault_control
    ) {
        port = free_port();
        std::vector<std::string> argv{
            (binary_dir() / "services/internal_api/internal_api").string(),
            "--config",
            (source_dir() / "services/internal_api/config/internal_api.json").string(),
            "--port",
            std::to_string(port),
            "--db",
            dir.file(name + ".sqlite").string(),
            "--fixtures",
            (source_dir() / "fixtures/demo.json").string()};
        if (fault_control) {
            argv.emplace_back("--fault-control");
        }
        auto p = Process::spawn(
            std::move(argv), {{"INTERNAL_API_TOKEN", std::string(kToken)}}, dir.file(name + ".log")
        );
        if (!p) {
            return ::testing::AssertionFailure() << "spawn: " << p.error().message();
        }
        proc.emplace(std::move(*p));
        if (auto ok = wait_until(
                [&] {
                    return !proc->running() ||
                           http_call(port, "GET", "/healthz", {}, {}, 1s).status == 200;
                },
                60s,
                "internal_api /healthz"
            );
            !ok || !proc->running()) {
            return ::testing::AssertionFailure() << "internal_api did not start:\n"
                                                 << proc->read_log();
        }
        return ::testing::AssertionSuccess();
    }

    HttpReply call(
        std::string_view method,
        std::string_view target,
        std::string_view body = {},
        std::chrono::milliseconds timeout = 5s
    ) const {
        HttpHeaders h = auth();
        if (!body.empty()) {
            h.emplace_back("Content-Type", "application/json");
        }
        return http_call(port, method, target, body, std::move(h), timeout);
    }

    [[nodiscard]] ::testing::AssertionResult set(std::string_view json) const {
        const auto r = call("PUT", "/_fault", json);
        if (r.status != 200) {
            return ::testing::AssertionFailure()
                   << "PUT /_fault " << json << " → " << r.status << " " << r.body << r.error;
        }
        return ::testing::AssertionSuccess();
    }
};

class FaultHttpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("ia-fault-");
        api_ = new Api();
        const auto ok = api_->start(*dir_, "faulty", true);
        started_ = static_cast<bool>(ok);
        if (!started_) {
            ADD_FAILURE() << ok.message();
        }
    }
    static void TearDownTestSuite() {
        delete api_;  // ~Process: SIGKILL + reap if still running
        delete dir_;
        api_ = nullptr;
        dir_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(started_);
        ASSERT_TRUE(api_->set(R"({"mode":"ok"})"));
    }
    void TearDown() override {
        if (started_) {
            EXPECT_TRUE(api_->set(R"({"mode":"ok"})"));
        }
    }

    static inline TempDir* dir_ = nullptr;
    static inline Api* api_ = nullptr;
    static inline bool started_ = false;
};

TEST_F(FaultHttpTest, FaultEndpointNeedsTheServiceTokenAndReportsTheMode) {
    EXPECT_EQ(http_call(api_->port, "PUT", "/_fault", R"({"mode":"reset"})").status, 401);
    EXPECT_EQ(http_call(api_->port, "GET", "/_fault").status, 401);
    const auto put = api_->call("PUT", "/_fault", R"({"delay_ms":5,"mode":"slow"})");
    EXPECT_EQ(put.status, 200);
    EXPECT_EQ(put.body, R"({"mode":"slow","delay_ms":5})");
    const auto get = api_->call("GET", "/_fault");
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, R"({"mode":"slow","delay_ms":5})");
}

TEST_F(FaultHttpTest, BadBodiesAre400AndLeaveTheModeUnchanged) {
    ASSERT_TRUE(api_->set(R"({"mode":"error_rate","rate":0})"));
    for (std::string_view body :
         {"",
          "{",
          R"({"mode":"refuse"})",
          R"({"mode":"ok","x":1})",
          R"({"mode":"slow"})",
          R"({"mode":"error_rate","rate":2})",
          R"({"mode":"error_rate","rate":1,"status":404})",
          R"({"mode":"flap","period_ms":10,"fault":{"mode":"flap"}})"}) {
        const auto r = api_->call("PUT", "/_fault", body);
        EXPECT_EQ(r.status, 400) << body;
        EXPECT_NE(r.body.find("\"INVALID_REQUEST\""), std::string::npos) << r.body;
    }
    EXPECT_EQ(api_->call("GET", "/_fault").body, R"({"mode":"error_rate","rate":0,"status":503})");
}

TEST_F(FaultHttpTest, BlackholeHoldsUntilTheModeChangesThenClosesWithoutAResponse) {
    ASSERT_TRUE(api_->set(R"({"mode":"blackhole"})"));
    // A client with a 300 ms timeout times out.
    const auto t0 = SteadyClock::now();
    const auto timed_out = api_->call("GET", kAccount, {}, 300ms);
    EXPECT_EQ(timed_out.status, 0);
    EXPECT_NE(timed_out.error.find("timed out"), std::string::npos) << timed_out.error;
    EXPECT_GE(SteadyClock::now() - t0, 290ms);  // the client's poll() rounds down to whole ms

    // Another request is held: nothing comes back and the connection stays open...
    HttpConnection held(api_->port);
    ASSERT_TRUE(held.send_raw(raw_get(kAccount)));
    EXPECT_FALSE(held.peer_closed(300ms));
    // ...while health, metrics and /_fault itself are never faulted.
    EXPECT_EQ(http_call(api_->port, "GET", "/healthz").status, 200);
    EXPECT_EQ(api_->call("GET", "/internal/metrics").status, 200);
    EXPECT_EQ(api_->call("GET", "/_fault").body, R"({"mode":"blackhole"})");

    // Leaving blackhole closes the held request without a response, at once.
    ASSERT_TRUE(api_->set(R"({"mode":"ok"})"));
    const auto t1 = SteadyClock::now();
    const auto released = held.read_reply(10s);
    EXPECT_EQ(released.status, 0);
    EXPECT_EQ(released.error.find("timed out"), std::string::npos) << released.error;
    EXPECT_LT(SteadyClock::now() - t1, 5s);
    EXPECT_FALSE(held.is_open());
    // The next request answers.
    EXPECT_EQ(api_->call("GET", kAccount).status, 200);
}

TEST_F(FaultHttpTest, BlackholedConnectionsAreReleasedSoFdsStayBounded) {
    const pid_t pid = api_->proc->pid();
    ASSERT_TRUE(api_->set(R"({"mode":"blackhole"})"));
    // The socket of the PUT just answered may still be closing: take the baseline once two
    // samples in a row agree.
    std::size_t baseline = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            const std::size_t n = sample_process(pid).open_fds;
            const bool settled = n == baseline;
            baseline = n;
            return settled;
        },
        5s,
        "a settled fd count"
    ));
    ASSERT_GT(baseline, 0U);
    constexpr std::size_t kHeld = 40;
    {
        std::vector<HttpConnection> clients;
        for (std::size_t i = 0; i < kHeld; ++i) {
            clients.emplace_back(api_->port);
            ASSERT_TRUE(clients.back().send_raw(raw_get(kAccount)));
        }
        ASSERT_TRUE(wait_until(
            [&] { return sample_process(pid).open_fds >= baseline + kHeld; },
            10s,
            "the server holds every connection"
        ));
    }  // the clients give up; the server still holds their sockets
    EXPECT_GE(sample_process(pid).open_fds, baseline + kHeld);
    ASSERT_TRUE(api_->set(R"({"mode":"ok"})"));
    EXPECT_TRUE(wait_until(
        [&] { return sample_process(pid).open_fds <= baseline + 1; },
        10s,
        "held sockets closed after the mode change"
    )) << "fds: "
       << sample_process(pid).open_fds << " baseline " << baseline;
}

TEST_F(FaultHttpTest, ResetClosesTheConnectionWithNoBytes) {
    ASSERT_TRUE(api_->set(R"({"mode":"reset"})"));
    const auto t0 = SteadyClock::now();
    EXPECT_EQ(raw_exchange(api_->port, raw_get(kAccount), 5s), "");
    EXPECT_LT(SteadyClock::now() - t0, 3s);  // closed by the server, not by the client's timeout
    const auto r = api_->call("GET", kAccount);
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(http_call(api_->port, "GET", "/healthz").status, 200);
}

TEST_F(FaultHttpTest, ErrorRateAnswersTheStatusWithItsProbability) {
    ASSERT_TRUE(api_->set(R"({"mode":"error_rate","rate":1.0})"));
    HttpConnection c(api_->port);
    for (int i = 0; i < 10; ++i) {
        const auto r = c.call("GET", kAccount, {}, auth());
        ASSERT_EQ(r.status, 503) << r.error;
        EXPECT_NE(r.body.find(R"("code":"FAULT_INJECTED")"), std::string::npos) << r.body;
        EXPECT_NE(r.body.find(R"("retryable":true)"), std::string::npos) << r.body;
    }
    ASSERT_TRUE(api_->set(R"({"mode":"error_rate","rate":1,"status":500})"));
    EXPECT_EQ(c.call("GET", kAccount, {}, auth()).status, 500);
    ASSERT_TRUE(api_->set(R"({"mode":"error_rate","rate":0})"));
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(c.call("GET", kAccount, {}, auth()).status, 200);
    }
    // p = 0.5 over 400 requests: 200 expected, sd 10; [120, 280] is 8 sd wide on each side.
    ASSERT_TRUE(api_->set(R"({"mode":"error_rate","rate":0.5})"));
    int errors = 0;
    for (int i = 0; i < 400; ++i) {
        const auto r = c.call("GET", kAccount, {}, auth());
        ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << r.error;
        errors += r.status == 503 ? 1 : 0;
    }
    EXPECT_GE(errors, 120);
    EXPECT_LE(errors, 280);
}

TEST_F(FaultHttpTest, SlowDelaysTheAnswer) {
    ASSERT_TRUE(api_->set(R"({"mode":"slow","delay_ms":200})"));
    const auto t0 = SteadyClock::now();
    const auto r = api_->call("GET", kAccount);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"a_1\""), std::string::npos);
    EXPECT_GE(SteadyClock::now() - t0, 200ms);
}

TEST_F(FaultHttpTest, FlapAlternatesOkAndTheFaultBySteadyTimeSinceThePut) {
    constexpr auto kPeriod = 250ms;
    const auto put_start = SteadyClock::now();
    ASSERT_TRUE(
        api_->set(R"({"mode":"flap","period_ms":250,"fault":{"mode":"error_rate","rate":1}})")
    );
    const auto put_done = SteadyClock::now();
    HttpConnection c(api_->port);
    int checked = 0;
    int ok_seen = 0;
    int err_seen = 0;
    const auto phase = [&](SteadyClock::duration since) { return since / kPeriod; };
    while (SteadyClock::now() - put_done < 4 * kPeriod + 100ms) {
        const auto t0 = SteadyClock::now();
        const auto r = c.call("GET", kAccount, {}, auth());
        const auto t1 = SteadyClock::now();
        ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << r.error;
        (r.status == 200 ? ok_seen : err_seen) += 1;
        // The server decided at some point in [t0 - put_done, t1 - put_start] after its set():
        // only when that whole interval lies in one phase is the expected status certain.
        const auto lo = phase(t0 - put_done);
        const auto hi = phase(t1 - put_start);
        if (lo == hi) {
            ++checked;
            EXPECT_EQ(r.status, lo % 2 == 0 ? 200 : 503) << "phase " << lo;
        }
    }
    EXPECT_GE(checked, 10);
    EXPECT_GT(ok_seen, 0);
    EXPECT_GT(err_seen, 0);
}

TEST(FaultHttpNoFlagTest, WithoutTheFlagThereIsNoFaultEndpoint) {
    TempDir dir("ia-nofault-");
    Api api;
    ASSERT_TRUE(api.start(dir, "plain", false));
    EXPECT_EQ(api.call("PUT", "/_fault", R"({"mode":"reset"})").status, 404);
    EXPECT_EQ(api.call("GET", "/_fault").status, 404);
    EXPECT_EQ(api.call("GET", kAccount).status, 200);
    EXPECT_EQ(api.proc->stop(20s), 0);
}

TEST(FaultHttpShutdownTest, SigtermReleasesHeldRequestsAndExitsPromptly) {
    TempDir dir("ia-fault-stop-");
    Api api;
    ASSERT_TRUE(api.start(dir, "stopping", true));
    ASSERT_TRUE(api.set(R"({"mode":"blackhole"})"));
    HttpConnection held(api.port);
    ASSERT_TRUE(held.send_raw(raw_get(kAccount)));
    EXPECT_FALSE(held.peer_closed(200ms));
    const auto t0 = SteadyClock::now();
    EXPECT_EQ(api.proc->stop(30s), 0) << api.proc->read_log();
    // The server's drain is 5 s; a hold that outlived it would show up here (kMaxHold is 60 s).
    EXPECT_LT(SteadyClock::now() - t0, 5s);
    const auto r = held.read_reply(5s);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error.find("timed out"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace moneta::testing
