// The pure half of the flusher's 4xx handling (progress/batch_split.hpp): which answers blame the
// items, and how a refused batch is split. The internal API is an oracle here: a call is refused
// when it holds a bad item, optionally naming one (honestly or not).

#include "progress/batch_split.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace moneta::progress {
namespace {

// --- item_rejection --------------------------------------------------------------------------

TEST(ItemRejectionTest, OnlyFourHundredFourThirteenAndFourTwentyTwoBlameTheItems) {
    for (const int status : {400, 413, 422}) {
        const auto r = item_rejection(status, "{}");
        ASSERT_TRUE(r.has_value()) << status;
        EXPECT_EQ(r->status, status);
        EXPECT_EQ(r->code, "");
        EXPECT_FALSE(r->index.has_value());
    }
    // Our token, our route, time, load, conflicts, the API itself: retried whole, never split.
    for (const int status : {200, 201, 204, 401, 403, 404, 405, 408, 409, 410, 415, 429, 451, 500, 502, 503, 504}) {
        EXPECT_FALSE(item_rejection(status, R"({"error":{"code":"X","details":{"index":0}}})").has_value())
            << status;
    }
}

TEST(ItemRejectionTest, ReadsTheCodeAndTheNamedIndexOfTheErrorBody) {
    const auto r = item_rejection(
        422,
        R"({"error":{"code":"UNKNOWN_CONTENT","message":"No such content.","retryable":false,)"
        R"("details":{"index":7,"content_id":"x_1"}},"server_time_ms":1})"
    );
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->code, "UNKNOWN_CONTENT");
    ASSERT_TRUE(r->index.has_value());
    EXPECT_EQ(*r->index, 7U);
}

TEST(ItemRejectionTest, IgnoresWhatIsNotAPlainCodeOrAnIndex) {
    // Still a refusal (split without a name), but nothing odd reaches a log line or Redis.
    for (const char* body : {"not json", "[]", R"({"error":"x"})", R"({"error":{"code":5}})",
                             R"({"error":{"code":"has space"}})", R"({"error":{"code":"a\nb"}})",
                             R"({"error":{"code":""}})"}) {
        const auto r = item_rejection(400, body);
        ASSERT_TRUE(r.has_value()) << body;
        EXPECT_EQ(r->code, "") << body;
        EXPECT_FALSE(r->index.has_value()) << body;
    }
    EXPECT_EQ(item_rejection(400, R"({"error":{"code":")" + std::string(65, 'A') + R"("}})")->code, "");
    EXPECT_EQ(item_rejection(400, R"({"error":{"code":")" + std::string(64, 'A') + R"("}})")->code,
              std::string(64, 'A'));
    for (const char* details : {R"({"index":-1})", R"({"index":1.5})", R"({"index":"3"})", R"({"index":null})",
                                R"([3])"}) {
        const std::string body = std::string(R"({"error":{"code":"BAD","details":)") + details + "}}";
        const auto r = item_rejection(422, body);
        ASSERT_TRUE(r.has_value()) << body;
        EXPECT_EQ(r->code, "BAD");
        EXPECT_FALSE(r->index.has_value()) << body;
    }
}

// --- BatchSplitter ---------------------------------------------------------------------------

enum class Names {
    kNone,    ///< the API never names an item
    kHonest,  ///< names the first bad item of the call
    kLying,   ///< always names the call's first item, bad or not
};

struct SplitRun {
    std::size_t calls = 0;        ///< all calls, the first ones included
    std::size_t split_calls = 0;  ///< as counted by the splitter
    bool exhausted = false;
    std::vector<ItemState> states;
    std::vector<int> accepted_times;  ///< per item: in how many accepted calls it was
};

/// Drives a splitter over items whose accounts are @p groups against an oracle API refusing any
/// call that holds an item of @p bad.
SplitRun drive(const std::vector<std::size_t>& groups, const std::set<std::size_t>& bad, Names names,
          std::size_t budget, std::size_t per_call = 1000) {
    BatchSplitter plan(groups, per_call, budget);
    SplitRun run;
    run.accepted_times.assign(groups.size(), 0);
    while (const auto r = plan.next()) {
        EXPECT_GT(r->size(), 0U);
        EXPECT_LE(r->size(), per_call);
        EXPECT_LE(r->end, groups.size());
        ++run.calls;
        const auto first_bad = bad.lower_bound(r->begin);
        if (first_bad == bad.end() || *first_bad >= r->end) {
            plan.accepted(*r);
            for (std::size_t i = r->begin; i < r->end; ++i) {
                ++run.accepted_times[i];
            }
            continue;
        }
        Rejection why{422, "UNKNOWN_CONTENT", std::nullopt};
        if (names == Names::kHonest) {
            why.index = *first_bad - r->begin;
        } else if (names == Names::kLying) {
            why.index = 0;
        }
        plan.rejected(*r, why);
        if (run.calls > 100'000) {
            ADD_FAILURE() << "the splitter never ends";
            break;
        }
    }
    run.split_calls = plan.split_calls();
    run.exhausted = plan.exhausted();
    for (std::size_t i = 0; i < groups.size(); ++i) {
        run.states.push_back(plan.state(i));
        if (plan.state(i) == ItemState::kQuarantined) {
            EXPECT_EQ(plan.rejection(i).status, 422);
            EXPECT_EQ(plan.rejection(i).code, "UNKNOWN_CONTENT");
        }
    }
    return run;
}

/// The run's invariants: nothing good quarantined, nothing bad accepted, nothing accepted twice.
void expect_sound(const SplitRun& run, const std::set<std::size_t>& bad) {
    for (std::size_t i = 0; i < run.states.size(); ++i) {
        const bool is_bad = bad.contains(i);
        if (run.states[i] == ItemState::kQuarantined) {
            EXPECT_TRUE(is_bad) << "good item " << i << " quarantined";
        }
        if (run.states[i] == ItemState::kAccepted) {
            EXPECT_FALSE(is_bad) << "bad item " << i << " accepted";
        }
        EXPECT_LE(run.accepted_times[i], 1) << "item " << i;
        if (!run.exhausted) {
            EXPECT_NE(run.states[i], ItemState::kPending) << "item " << i << " unresolved";
        }
    }
}

std::vector<std::size_t> one_account(std::size_t n) { return std::vector<std::size_t>(n, 0); }

std::vector<std::size_t> accounts_of(std::size_t accounts, std::size_t items_each) {
    std::vector<std::size_t> g;
    for (std::size_t a = 0; a < accounts; ++a) {
        g.insert(g.end(), items_each, a * 10 + 3);  // any non-decreasing numbers will do
    }
    return g;
}

std::size_t count(const SplitRun& run, ItemState s) {
    return static_cast<std::size_t>(std::count(run.states.begin(), run.states.end(), s));
}

TEST(BatchSplitterTest, ABatchWithoutRefusalsIsOneCallPerThousandItems) {
    const SplitRun run = drive(one_account(2500), {}, Names::kNone, kMinSplitCalls);
    EXPECT_EQ(run.calls, 3U);
    EXPECT_EQ(run.split_calls, 0U);
    EXPECT_EQ(count(run, ItemState::kAccepted), 2500U);
    expect_sound(run, {});
}

TEST(BatchSplitterTest, OneBadItemOfAThousandCostsAtMostTwoLogTwoNCalls) {
    for (const std::size_t at : {0UL, 1UL, 499UL, 500UL, 998UL, 999UL}) {
        const std::set<std::size_t> bad{at};
        const SplitRun run = drive(one_account(1000), bad, Names::kNone, 10'000);
        expect_sound(run, bad);
        EXPECT_FALSE(run.exhausted);
        EXPECT_EQ(count(run, ItemState::kQuarantined), 1U);
        EXPECT_EQ(count(run, ItemState::kAccepted), 999U);
        EXPECT_LE(run.split_calls, 2U * 10U) << "bad at " << at;  // 2 × ⌈log2 1000⌉
    }
}

TEST(BatchSplitterTest, KBadItemsCostOKLogNCalls) {
    std::mt19937 rng(7);
    for (const std::size_t k : {2UL, 5UL, 20UL}) {
        std::set<std::size_t> bad;
        while (bad.size() < k) {
            bad.insert(rng() % 1000);
        }
        const SplitRun run = drive(one_account(1000), bad, Names::kNone, 10'000);
        expect_sound(run, bad);
        EXPECT_EQ(count(run, ItemState::kQuarantined), k);
        EXPECT_LE(run.split_calls, 2U * k * 10U) << k << " bad items";
    }
}

TEST(BatchSplitterTest, AnHonestNameIsolatesEachBadItemInAboutThreeCalls) {
    const std::set<std::size_t> bad{17, 400, 401, 999};
    const SplitRun run = drive(one_account(1000), bad, Names::kHonest, 10'000);
    expect_sound(run, bad);
    EXPECT_EQ(count(run, ItemState::kQuarantined), 4U);
    EXPECT_LE(run.split_calls, 3U * bad.size());
}

TEST(BatchSplitterTest, AMisleadingNameCostsOneCallThenBisectionTakesOver) {
    const std::set<std::size_t> bad{600};
    const SplitRun lying = drive(one_account(1000), bad, Names::kLying, 10'000);
    expect_sound(lying, bad);
    EXPECT_EQ(count(lying, ItemState::kQuarantined), 1U);
    // Without the distrust a "first item" liar makes this a linear scan (~1000 calls).
    EXPECT_LE(lying.split_calls, 3U + 2U * 10U);
}

TEST(BatchSplitterTest, AccountsSharingACallWithABadOneAreClearedFirst) {
    // 20 accounts × 50 items; account 13 holds 50 bad items (an attacker's bogus titles). The
    // budget runs out inside account 13, but every other account is confirmed by then.
    const std::vector<std::size_t> groups = accounts_of(20, 50);
    std::set<std::size_t> bad;
    for (std::size_t i = 13 * 50; i < 14 * 50; ++i) {
        bad.insert(i);
    }
    const SplitRun run = drive(groups, bad, Names::kNone, kMinSplitCalls);
    expect_sound(run, bad);
    EXPECT_TRUE(run.exhausted) << "50 bad items need ~100 calls";
    EXPECT_EQ(run.split_calls, kMinSplitCalls);
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (!bad.contains(i)) {
            EXPECT_EQ(run.states[i], ItemState::kAccepted) << "item " << i << " of account " << i / 50;
        }
    }
    EXPECT_GE(count(run, ItemState::kQuarantined), 1U) << "a flush always isolates at least one";
}

TEST(BatchSplitterTest, TheMinimumBudgetIsolatesAtLeastOneItemOfAnyBatch) {
    // Worst cases for the depth: everything bad, one account or a thousand; and a mix.
    const std::vector<std::vector<std::size_t>> layouts = {
        one_account(1000), accounts_of(1000, 1), accounts_of(31, 32), accounts_of(500, 2)};
    for (const auto& groups : layouts) {
        std::set<std::size_t> all;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            all.insert(i);
        }
        for (const Names names : {Names::kNone, Names::kLying}) {
            const SplitRun run = drive(groups, all, names, kMinSplitCalls);
            expect_sound(run, all);
            EXPECT_GE(count(run, ItemState::kQuarantined), 1U) << groups.size() << " items";
            EXPECT_LE(run.split_calls, kMinSplitCalls);
        }
    }
}

TEST(BatchSplitterTest, NeverSpendsMoreThanTheBudgetAndLeavesTheRestPending) {
    const std::set<std::size_t> bad{3, 250, 251, 700, 701, 702, 999};
    for (const std::size_t budget : {kMinSplitCalls, kMinSplitCalls + 1, std::size_t{60}}) {
        const SplitRun run = drive(one_account(1000), bad, Names::kNone, budget);
        expect_sound(run, bad);
        EXPECT_LE(run.split_calls, budget);
        EXPECT_EQ(run.calls, 1 + run.split_calls);
        if (run.exhausted) {
            EXPECT_EQ(run.split_calls, budget);
            EXPECT_GT(count(run, ItemState::kPending), 0U);
        }
    }
}

TEST(BatchSplitterTest, RandomBatchesAreAlwaysSoundAndBounded) {
    std::mt19937 rng(20240611);
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = 1 + rng() % 2500;
        std::vector<std::size_t> groups;
        std::size_t account = 0;
        while (groups.size() < n) {
            account += 1 + rng() % 3;
            groups.insert(groups.end(), std::min<std::size_t>(n - groups.size(), 1 + rng() % 40), account);
        }
        std::set<std::size_t> bad;
        const std::size_t k = rng() % 4 == 0 ? 0 : rng() % std::min<std::size_t>(n, 30);
        while (bad.size() < k) {
            bad.insert(rng() % n);
        }
        const Names names = static_cast<Names>(rng() % 3);
        const std::size_t budget = kMinSplitCalls + rng() % 200;
        SCOPED_TRACE("round " + std::to_string(round) + ": n=" + std::to_string(n) + " k=" + std::to_string(k));
        const SplitRun run = drive(groups, bad, names, budget);
        expect_sound(run, bad);
        const std::size_t chunks = (n + 999) / 1000;
        EXPECT_EQ(run.calls, chunks + run.split_calls);
        EXPECT_LE(run.split_calls, budget);
        if (!bad.empty()) {
            EXPECT_GE(count(run, ItemState::kQuarantined), 1U);
        }
        if (!run.exhausted) {
            EXPECT_EQ(count(run, ItemState::kQuarantined), bad.size());
            // O(k log n): ≤ 2 calls per level, ≤ ⌈log2 1000⌉ account levels + ⌈log2 1000⌉ item
            // levels per bad item (+3 for one misleading name).
            EXPECT_LE(run.split_calls, 3 + 2 * bad.size() * 20);
        }
    }
}

}  // namespace
}  // namespace moneta::progress
