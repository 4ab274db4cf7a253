// ResilientInternalApi: deadline, throttle, breaker, bulkhead, classification and budgeted retries
// of reads, against scripted fakes on a FakeClock (retry backoff is 0 so no time passes).
#include "upstream/resilient_internal_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "fake_internal_api.hpp"

namespace moneta::upstream {
namespace {

using namespace std::chrono_literals;
using core::Errc;
using redis::testing::run;
using testing::answer;
using testing::failure;
using testing::ManualApi;
using testing::ScriptedApi;

/// Deterministic settings: no throttle (random), backoff 0, trips after 3 failures in a row.
InternalApiGuardSettings test_settings() {
    InternalApiGuardSettings s;
    s.breaker.window = resilience::WindowKind::kCount;
    s.breaker.window_calls = 100;
    s.breaker.minimum_calls = 100;  // only the consecutive trip in these tests
    s.breaker.consecutive_failures = 3;
    s.breaker.ramp_duration = 0s;
    s.throttle_enabled = false;
    s.retry.max_retries = 1;
    s.retry.base_delay = 0ms;
    s.retry.max_delay = 0ms;
    return s;
}

core::RequestContext context(core::Deadline deadline = core::Deadline::never()) {
    core::RequestContext ctx;
    ctx.request_id = "req-1";
    ctx.deadline = deadline;
    return ctx;
}

class ResilientInternalApiTest : public ::testing::Test {
protected:
    void make(const InternalApiGuardSettings& s, InternalApi& inner) {
        auto g = InternalApiGuard::create(s, clock_);
        ASSERT_TRUE(g) << g.error().message();
        guard_ = std::move(*g);
        api_ = std::make_unique<ResilientInternalApi>(inner, *guard_, clock_, io_.get_executor());
    }
    core::Result<Fetched> get(Resource r, const core::RequestContext& ctx = context()) {
        return *run(io_, api_->async_get(r, "id1", ctx));
    }
    core::Result<Fetched> progress(const core::RequestContext& ctx = context()) {
        return *run(io_, api_->async_get_progress("p1", "", ctx));
    }
    core::Result<Fetched> upsert(const core::RequestContext& ctx = context()) {
        return *run(io_, api_->async_upsert_progress("{}", ctx));
    }
    resilience::CircuitBreakerStats breaker(Endpoint e) { return guard_->breaker(e).stats(); }

    core::FakeClock clock_;
    std::unique_ptr<InternalApiGuard> guard_;
    std::unique_ptr<ResilientInternalApi> api_;
    boost::asio::io_context io_;  // last: destroyed first, with any frame still holding a permit
};

TEST_F(ResilientInternalApiTest, GuardValidatesItsSettings) {
    InternalApiGuardSettings defaults;
    EXPECT_TRUE(InternalApiGuard::create(defaults, clock_));
    auto bad = defaults;
    bad.bulkhead.max_active = 0;
    auto r = InternalApiGuard::create(bad, clock_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kInvalidArgument));
    bad = defaults;
    bad.breaker.failure_rate_threshold = 2.0;
    EXPECT_FALSE(InternalApiGuard::create(bad, clock_));
    bad = defaults;
    bad.throttle.k = 0.5;
    EXPECT_FALSE(InternalApiGuard::create(bad, clock_));
    bad.throttle_enabled = false;  // a disabled throttle's config is not used
    auto no_throttle = InternalApiGuard::create(bad, clock_);
    ASSERT_TRUE(no_throttle);
    EXPECT_EQ((*no_throttle)->throttle(), nullptr);
    EXPECT_NE((*InternalApiGuard::create(defaults, clock_))->throttle(), nullptr);
}

TEST(EndpointTest, NamesAreMetricLabels) {
    EXPECT_EQ(endpoint_name(Endpoint::kAccount), "account");
    EXPECT_EQ(endpoint_name(Endpoint::kContent), "content");
    EXPECT_EQ(endpoint_name(Endpoint::kProgressRead), "progress_read");
    EXPECT_EQ(endpoint_name(Endpoint::kProgressWrite), "progress_write");
    EXPECT_EQ(InternalApiGuard::kEndpoints.size(), 4U);
}

TEST_F(ResilientInternalApiTest, ExpiredDeadlineSendsNothing) {
    ScriptedApi inner;
    make(test_settings(), inner);
    const auto ctx = context(core::Deadline::after(clock_, 10ms));
    clock_.advance(10ms);
    auto r = get(Resource::kAccount, ctx);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_TRUE(upsert(ctx).has_error());
    EXPECT_TRUE(inner.calls.empty());
    EXPECT_EQ(guard_->stats().deadline_expired_total.load(), 2U);
    EXPECT_EQ(breaker(Endpoint::kAccount).permitted, 0U);  // the breaker was not even asked
}

TEST_F(ResilientInternalApiTest, OpenBreakerShortCircuitsWithoutSending) {
    ScriptedApi inner;
    make(test_settings(), inner);
    for (int i = 0; i < 3; ++i) {
        inner.script.push_back(failure(Errc::kConnectFailed));
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(upsert().error(), core::make_error(Errc::kConnectFailed));
    }
    ASSERT_EQ(inner.calls.size(), 3U);
    EXPECT_EQ(guard_->breaker(Endpoint::kProgressWrite).state(), resilience::State::kOpen);

    auto r = upsert();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kUnavailable));
    EXPECT_EQ(inner.calls.size(), 3U);  // nothing sent
    EXPECT_EQ(guard_->stats().short_circuited_total.load(), 1U);
    EXPECT_EQ(guard_->bulkhead().stats().admitted_total, 3U);  // the bulkhead was not asked

    // Endpoints are separate failure domains: reads still go through.
    EXPECT_TRUE(get(Resource::kAccount).has_value());
    EXPECT_EQ(inner.calls.size(), 4U);
}

TEST_F(ResilientInternalApiTest, ThrottleShedsLocallyAndCountsAccepts) {
    auto s = test_settings();
    s.throttle_enabled = true;
    s.breaker.consecutive_failures = 0;  // keep the breaker out of the way
    s.retry.max_retries = 0;
    ScriptedApi inner;
    make(s, inner);
    resilience::ClientThrottle& throttle = *guard_->throttle();

    // Accepted answers first, so the reject probability stays 0 for these five.
    inner.script = {answer(404), answer(500), answer(503), answer(429), failure(Errc::kTimeout)};
    for (int i = 0; i < 5; ++i) {
        (void)get(Resource::kContent);
    }
    // 404 and 500 are answers the API accepted; 503, 429 and transport errors are not.
    EXPECT_EQ(throttle.counts().requests, 5U);
    EXPECT_EQ(throttle.counts().accepts, 2U);

    // A hard-down API: with no accepts the reject probability climbs to ~1 and calls are shed
    // locally (kOverloaded, nothing sent). Each call has probability n/(n+1) of being shed.
    bool shed = false;
    for (int i = 0; i < 200 && !shed; ++i) {
        inner.script.push_back(failure(Errc::kConnectFailed));
        const auto sent_before = inner.calls.size();
        auto r = get(Resource::kContent);
        if (r.has_error() && r.error() == core::make_error(Errc::kOverloaded)) {
            shed = true;
            EXPECT_EQ(inner.calls.size(), sent_before);
        }
    }
    EXPECT_TRUE(shed);
    EXPECT_GE(guard_->stats().throttled_total.load(), 1U);
}

// Calls the breaker refuses never reach the throttle: counted there as requests with no chance of
// an accept, they would keep it rejecting for its whole window after the breaker closed again.
TEST_F(ResilientInternalApiTest, ShortCircuitedCallsAreNotThrottleRequests) {
    auto s = test_settings();
    s.throttle_enabled = true;
    s.retry.max_retries = 0;
    ScriptedApi inner;
    make(s, inner);
    resilience::ClientThrottle& throttle = *guard_->throttle();
    inner.script = {answer(200), answer(200), answer(200), answer(200)};
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(get(Resource::kAccount));
    }
    guard_->breaker(Endpoint::kAccount).set_mode(resilience::Mode::kForcedOpen);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(get(Resource::kAccount).error(), core::make_error(Errc::kUnavailable));
    }
    EXPECT_EQ(throttle.counts().requests, 4U);
    EXPECT_EQ(throttle.counts().accepts, 4U);
    EXPECT_EQ(throttle.reject_probability(), 0.0);
    guard_->breaker(Endpoint::kAccount).set_mode(resilience::Mode::kNormal);
    inner.script.push_back(answer(200));
    EXPECT_TRUE(get(Resource::kAccount));  // nothing throttled after the breaker lets calls through
}

// A burst of concurrent calls to a healthy API from a cold client is all sent: a call in flight
// is not a request without an accept (counted so, the N-th call of the burst was shed with
// probability (N-1)/N; two of ten concurrent starts of one account were answered 503).
TEST_F(ResilientInternalApiTest, ConcurrentCallsFromAColdClientAreNotThrottled) {
    auto s = test_settings();
    s.throttle_enabled = true;  // the real random source: any p > 0 would shed some of 16
    ManualApi slow;
    make(s, slow);
    constexpr int kBurst = 16;
    std::vector<std::optional<core::Result<Fetched>>> results(kBurst);
    const auto ctx = context();
    for (int i = 0; i < kBurst; ++i) {
        boost::asio::co_spawn(io_, api_->async_get(Resource::kAccount, "a1", ctx),
                              [&, i](std::exception_ptr, auto r) { results[i] = std::move(r); });
    }
    io_.poll();
    EXPECT_EQ(slow.calls(), kBurst) << "every call of the burst was sent";
    EXPECT_EQ(guard_->stats().throttled_total.load(), 0U);
    EXPECT_EQ(guard_->throttle()->counts().requests, 0U) << "nothing has ended yet";
    slow.complete(answer(200, "ok"));
    ASSERT_TRUE(redis::testing::run_until(
        io_, [&] { return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); }); },
        5s));
    for (const auto& r : results) {
        EXPECT_TRUE(r->has_value());
    }
    EXPECT_EQ(guard_->throttle()->counts().requests, static_cast<std::uint64_t>(kBurst));
    EXPECT_EQ(guard_->throttle()->counts().accepts, static_cast<std::uint64_t>(kBurst));
}

// Ends that are ours, not the API's (the caller's deadline, cancellation, our own connection
// queue), are no throttle requests: else a client sending tiny deadlines would raise the reject
// probability for every caller of the worker.
TEST_F(ResilientInternalApiTest, OurOwnEndsAreNotThrottleRequests) {
    auto s = test_settings();
    s.throttle_enabled = true;
    s.retry.max_retries = 0;
    ScriptedApi inner;
    make(s, inner);
    for (int i = 0; i < 100; ++i) {
        inner.script.push_back(failure(i % 3 == 0 ? Errc::kDeadlineExceeded : i % 3 == 1 ? Errc::kCancelled : Errc::kOverloaded));
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(get(Resource::kContent));
    }
    EXPECT_EQ(inner.calls.size(), 100U) << "none shed";
    EXPECT_EQ(guard_->throttle()->counts().requests, 0U);
    EXPECT_EQ(guard_->throttle()->reject_probability(), 0.0);
}

TEST_F(ResilientInternalApiTest, FullBulkheadRejectsAndThePermitIsHeldUntilTheCallReturns) {
    auto s = test_settings();
    s.bulkhead.max_active = 1;
    ManualApi slow;
    make(s, slow);

    std::optional<core::Result<Fetched>> first;
    const auto ctx = context();
    boost::asio::co_spawn(
        io_,
        api_->async_get(Resource::kAccount, "a1", ctx),
        [&](std::exception_ptr, auto r) { first = std::move(r); }
    );
    io_.poll();
    ASSERT_FALSE(first);
    EXPECT_EQ(guard_->bulkhead().stats().active, 1U);

    // Time passing does not free the slot: only the inner call returning does.
    clock_.advance(30s);
    EXPECT_EQ(guard_->bulkhead().stats().active, 1U);

    auto second = get(Resource::kContent);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), core::make_error(Errc::kOverloaded));
    EXPECT_EQ(guard_->stats().bulkhead_rejected_total.load(), 1U);
    EXPECT_EQ(slow.calls(), 1);
    // The breaker permit of the shed call was reported as ignored, not as a failure.
    EXPECT_EQ(breaker(Endpoint::kContent).ignored, 1U);
    EXPECT_EQ(breaker(Endpoint::kContent).failures, 0U);

    slow.complete(answer(200, "slow"));
    ASSERT_TRUE(redis::testing::run_until(
        io_, [&] { return first.has_value(); }, 5s
    ));
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ((*first)->body, "slow");
    EXPECT_EQ(guard_->bulkhead().stats().active, 0U);
    EXPECT_TRUE(get(Resource::kContent).has_value());
}

TEST_F(ResilientInternalApiTest, PermitIsHeldDuringTheInnerCall) {
    ScriptedApi inner;
    make(test_settings(), inner);
    std::uint32_t active_during = 0;
    inner.during_call = [&] { active_during = guard_->bulkhead().stats().active; };
    EXPECT_TRUE(upsert().has_value());
    EXPECT_EQ(active_during, 1U);
    EXPECT_EQ(guard_->bulkhead().stats().active, 0U);
}

struct ClassificationCase {
    std::string name;
    core::Result<Fetched> outcome;
    std::uint64_t successes, failures, timeouts, ignored, accepts;
};

TEST_F(ResilientInternalApiTest, ClassificationTable) {
    const std::vector<ClassificationCase> cases = {
        {"200", answer(200), 1, 0, 0, 0, 1},
        {"204", answer(204), 1, 0, 0, 0, 1},
        {"400", answer(400), 1, 0, 0, 0, 1},
        {"404", answer(404), 1, 0, 0, 0, 1},
        {"429", answer(429), 0, 1, 0, 0, 0},
        {"500", answer(500), 0, 1, 0, 0, 1},
        {"502", answer(502), 0, 1, 0, 0, 1},
        {"503", answer(503), 0, 1, 0, 0, 0},
        {"timeout", failure(Errc::kTimeout), 0, 0, 1, 0, 0},
        {"deadline", failure(Errc::kDeadlineExceeded), 0, 0, 0, 1, 0},
        {"cancelled", failure(Errc::kCancelled), 0, 0, 0, 1, 0},
        {"client queue full", failure(Errc::kOverloaded), 0, 0, 0, 1, 0},
        {"connect failed", failure(Errc::kConnectFailed), 0, 1, 0, 0, 0},
        {"connection closed", failure(Errc::kConnectionClosed), 0, 1, 0, 0, 0},
        {"protocol error", failure(Errc::kProtocolError), 0, 1, 0, 0, 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto s = test_settings();
        s.throttle_enabled = true;
        ScriptedApi inner;
        make(s, inner);
        inner.script.push_back(c.outcome);
        auto r = upsert();  // the POST: one attempt, no retry
        EXPECT_EQ(inner.calls.size(), 1U);
        EXPECT_EQ(r.has_value(), c.outcome.has_value());  // the answer is passed through
        const auto st = breaker(Endpoint::kProgressWrite);
        EXPECT_EQ(st.successes, c.successes);
        EXPECT_EQ(st.failures, c.failures);
        EXPECT_EQ(st.timeouts, c.timeouts);
        EXPECT_EQ(st.ignored, c.ignored);
        EXPECT_EQ(guard_->throttle()->counts().accepts, c.accepts);
    }
}

TEST_F(ResilientInternalApiTest, ReadsAreRetriedOnce) {
    ScriptedApi inner;
    make(test_settings(), inner);
    inner.script = {answer(500), answer(200, "acct")};
    auto r = get(Resource::kAccount);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "acct");
    EXPECT_EQ(inner.calls, (std::vector<std::string>{"get account id1", "get account id1"}));

    inner.calls.clear();
    inner.script = {failure(Errc::kTimeout), answer(200, "c")};
    EXPECT_EQ(get(Resource::kContent)->body, "c");
    EXPECT_EQ(inner.calls.size(), 2U);

    inner.calls.clear();
    inner.script = {failure(Errc::kConnectionClosed), answer(200, "p")};
    EXPECT_EQ(progress()->body, "p");
    EXPECT_EQ(inner.calls, (std::vector<std::string>{"progress p1", "progress p1"}));
    EXPECT_EQ(guard_->stats().retries_total.load(), 3U);

    // At most max_retries (1): the second failure is returned.
    inner.calls.clear();
    inner.script = {answer(502), answer(503), answer(200)};
    auto twice = get(Resource::kAccount);
    ASSERT_TRUE(twice);
    EXPECT_EQ(twice->status, 503);
    EXPECT_EQ(inner.calls.size(), 2U);
}

TEST_F(ResilientInternalApiTest, NotRetried404And429AndLocalErrors) {
    ScriptedApi inner;
    make(test_settings(), inner);
    inner.script = {
        answer(404), answer(429), failure(Errc::kOverloaded), failure(Errc::kDeadlineExceeded)};
    EXPECT_EQ(get(Resource::kAccount)->status, 404);
    EXPECT_EQ(get(Resource::kAccount)->status, 429);
    EXPECT_TRUE(get(Resource::kAccount).has_error());
    EXPECT_TRUE(get(Resource::kAccount).has_error());
    EXPECT_EQ(inner.calls.size(), 4U);
    EXPECT_EQ(guard_->stats().retries_total.load(), 0U);
}

TEST_F(ResilientInternalApiTest, ThePostUpsertIsNeverRetried) {
    ScriptedApi inner;
    make(test_settings(), inner);
    inner.script = {answer(500), answer(200)};
    EXPECT_EQ(upsert()->status, 500);
    inner.script = {failure(Errc::kConnectionClosed), answer(200)};
    EXPECT_EQ(upsert().error(), core::make_error(Errc::kConnectionClosed));
    inner.script = {failure(Errc::kTimeout), answer(200)};
    EXPECT_EQ(upsert().error(), core::make_error(Errc::kTimeout));
    EXPECT_EQ(inner.calls, (std::vector<std::string>{"upsert", "upsert", "upsert"}));
    EXPECT_EQ(guard_->stats().retries_total.load(), 0U);
    EXPECT_EQ(guard_->retry_budget().active_requests(), 0U);
}

TEST_F(ResilientInternalApiTest, ExhaustedBudgetMeansNoRetry) {
    ScriptedApi inner;
    make(test_settings(), inner);
    // Other requests' retries hold the whole floor (3; 20 % of 1 active read is less).
    std::vector<resilience::RetryPermit> others;
    for (int i = 0; i < 3; ++i) {
        others.push_back(std::move(*guard_->retry_budget().try_retry()));
    }
    inner.script = {answer(500), answer(200)};
    auto r = get(Resource::kAccount);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);  // the original answer
    EXPECT_EQ(inner.calls.size(), 1U);
    EXPECT_EQ(guard_->stats().retry_budget_exhausted_total.load(), 1U);
    EXPECT_EQ(guard_->stats().retries_total.load(), 0U);

    others.clear();
    inner.script = {answer(500), answer(200)};
    EXPECT_EQ(get(Resource::kAccount)->status, 200);
    EXPECT_EQ(guard_->retry_budget().active_requests(), 0U);
    EXPECT_EQ(guard_->retry_budget().active_retries(), 0U);
}

TEST_F(ResilientInternalApiTest, NoRetryWhenTheBackoffDoesNotFitTheDeadline) {
    auto s = test_settings();
    s.retry.base_delay = 50ms;
    s.retry.max_delay = 50ms;
    ScriptedApi inner;
    make(s, inner);
    const auto ctx = context(core::Deadline::after(clock_, 1ms));
    inner.script = {answer(500), answer(200)};
    inner.during_call = [&] { clock_.advance(1ms); };  // the first attempt uses up the deadline
    EXPECT_EQ(get(Resource::kAccount, ctx)->status, 500);
    EXPECT_EQ(inner.calls.size(), 1U);
    EXPECT_EQ(guard_->stats().retries_total.load(), 0U);
}

TEST_F(ResilientInternalApiTest, ARetryShedByTheBreakerReturnsThePreviousAnswer) {
    auto s = test_settings();
    s.breaker.consecutive_failures = 1;  // the first 500 opens the circuit
    ScriptedApi inner;
    make(s, inner);
    inner.script = {answer(500, "first"), answer(200)};
    auto r = get(Resource::kAccount);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->body, "first");
    EXPECT_EQ(inner.calls.size(), 1U);
    EXPECT_EQ(guard_->stats().retries_total.load(), 1U);
    EXPECT_EQ(guard_->stats().short_circuited_total.load(), 1U);
}

TEST_F(ResilientInternalApiTest, AvailableFollowsTheBreaker) {
    ScriptedApi inner;
    make(test_settings(), inner);
    EXPECT_TRUE(api_->available(Resource::kAccount));
    for (int i = 0; i < 3; ++i) {
        inner.script.push_back(answer(503));
        inner.script.push_back(answer(503));  // and its retry
    }
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(get(Resource::kAccount)->status, 503);
    }
    ASSERT_EQ(guard_->breaker(Endpoint::kAccount).state(), resilience::State::kOpen);
    EXPECT_FALSE(api_->available(Resource::kAccount));
    EXPECT_TRUE(api_->available(Resource::kContent));  // separate breaker

    // Once the open wait is over (1 s ± 10 %) the breaker may probe again, even if no call
    // came in meanwhile: available() moves it to half-open itself.
    clock_.advance(1200ms);
    EXPECT_TRUE(api_->available(Resource::kAccount));
    EXPECT_EQ(guard_->breaker(Endpoint::kAccount).state(), resilience::State::kHalfOpen);
    EXPECT_TRUE(api_->available(Resource::kAccount));
    inner.script.clear();
    EXPECT_EQ(get(Resource::kAccount)->status, 200);  // a probe slot is free for the real call

    guard_->breaker(Endpoint::kContent).set_mode(resilience::Mode::kForcedOpen);
    EXPECT_FALSE(api_->available(Resource::kContent));
    guard_->breaker(Endpoint::kContent).set_mode(resilience::Mode::kNormal);
    EXPECT_TRUE(api_->available(Resource::kContent));
}

TEST_F(ResilientInternalApiTest, DefaultInternalApiIsAlwaysAvailable) {
    ScriptedApi plain;
    const InternalApi& api = plain;
    EXPECT_TRUE(api.available(Resource::kAccount));
    EXPECT_TRUE(api.available(Resource::kContent));
}

}  // namespace
}  // namespace moneta::upstream
