#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "redis_fixture.hpp"

namespace moneta::redis::testing {
namespace {

using core::Errc;

TEST_F(RedisClientTest, RoundTripsStringsHashesAndSortedSets) {
    auto& client = connect(base_config());
    auto set = call({"SET", "k", "v"});
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_TRUE(set->is_status());
    EXPECT_EQ(set->as_string_view(), "OK");
    auto get = call({"GET", "k"});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->as_string_view(), "v");
    auto miss = call({"GET", "missing"});
    ASSERT_TRUE(miss);
    EXPECT_TRUE(miss->is_nil());

    auto hset = call({"HSET", "h", "f1", "a", "f2", "b"});
    ASSERT_TRUE(hset);
    EXPECT_EQ(hset->as_integer(), 2);
    auto hget = call({"HGET", "h", "f2"});
    ASSERT_TRUE(hget);
    EXPECT_EQ(hget->as_string_view(), "b");
    EXPECT_EQ(redis_->command({"HGET", "h", "f1"}), "a");  // really stored in Redis

    auto zadd = call({"ZADD", "z", "2", "two", "1", "one"});
    ASSERT_TRUE(zadd);
    EXPECT_EQ(zadd->as_integer(), 2);
    auto zrange = call({"ZRANGE", "z", "0", "-1", "WITHSCORES"});
    ASSERT_TRUE(zrange);
    ASSERT_EQ(zrange->size(), 4U);
    EXPECT_EQ((*zrange)[0].as_string_view(), "one");
    EXPECT_EQ((*zrange)[1].to_int64(), 1);
    EXPECT_EQ((*zrange)[2].as_string_view(), "two");

    auto incr = call({"INCRBY", "n", "41"});
    ASSERT_TRUE(incr);
    EXPECT_EQ(incr->as_integer(), 41);

    EXPECT_EQ(client.stats().commands_total.load(), 8U);
    EXPECT_EQ(client.stats().round_trips_total.load(), 8U);
    EXPECT_EQ(client.stats().errors_total.load(), 0U);
    EXPECT_EQ(client.stats().connected.load(), 1);
    EXPECT_EQ(client.stats().pending.load(), 0);
}

TEST_F(RedisClientTest, RedisErrorIsASuccessfulResultHoldingAnErrorReply) {
    auto& client = connect(base_config());
    ASSERT_TRUE(call({"SET", "s", "x"}));
    auto wrong = call({"HGET", "s", "f"});
    ASSERT_TRUE(wrong);
    EXPECT_TRUE(wrong->is_error());
    EXPECT_TRUE(wrong->is_error_with_prefix("WRONGTYPE")) << wrong->to_string();
    EXPECT_EQ(client.stats().error_replies_total.load(), 1U);
    EXPECT_EQ(client.stats().errors_total.load(), 0U);
    auto after = call({"GET", "s"});  // the connection is still in sync
    ASSERT_TRUE(after);
    EXPECT_EQ(after->as_string_view(), "x");
}

TEST_F(RedisClientTest, ThousandConcurrentCallersOnOneConnectionEachGetTheirOwnReply) {
    auto& client = connect(base_config());
    constexpr std::size_t kCallers = 1000;
    auto mismatches = std::make_shared<std::size_t>(0);
    auto finished = std::make_shared<std::size_t>(0);
    auto caller = [](Client& c, std::size_t i, std::shared_ptr<std::size_t> bad,
                     std::shared_ptr<std::size_t> fin) -> boost::asio::awaitable<void> {
        const std::string msg = "caller-" + std::to_string(i);
        const std::string key = "ctr:" + std::to_string(i);
        const std::string by = std::to_string(i + 1);
        auto echo = co_await c.async_command({"ECHO", msg}, core::Deadline::never());
        if (!echo || echo->as_string_view() != msg) {
            ++*bad;
        }
        auto incr = co_await c.async_command({"INCRBY", key, by}, core::Deadline::never());
        if (!incr || incr->as_integer() != static_cast<std::int64_t>(i + 1)) {
            ++*bad;
        }
        ++*fin;
    };
    for (std::size_t i = 0; i < kCallers; ++i) {
        boost::asio::co_spawn(io_, caller(client, i, mismatches, finished), boost::asio::detached);
    }
    ASSERT_TRUE(run_until(io_, [&] { return *finished == kCallers; }, 60s));
    EXPECT_EQ(*mismatches, 0U);
    const auto& st = client.stats();
    EXPECT_EQ(st.commands_total.load(), 2 * kCallers);
    EXPECT_EQ(st.pending.load(), 0);
    // Calls issued in the same loop turn share a write.
    EXPECT_LT(st.writes_total.load(), st.commands_total.load() / 10)
        << "writes=" << st.writes_total.load();
    EXPECT_EQ(redis_->command({"GET", "ctr:999"}), "1000");
}

TEST_F(RedisClientTest, PipelineIsOneRoundTripWithRepliesInOrder) {
    auto& client = connect(base_config());
    ASSERT_TRUE(call({"SET", "str", "x"}));
    const auto before_rt = client.stats().round_trips_total.load();
    const auto before_writes = client.stats().writes_total.load();
    const auto before_cmds = client.stats().commands_total.load();

    Pipeline p;
    constexpr int kN = 50;
    std::vector<std::string> keys;
    for (int i = 0; i < kN; ++i) {
        keys.push_back("p" + std::to_string(i));
    }
    for (int i = 0; i < kN; ++i) {
        if (i == 25) {
            p.add({"HGET", "str", "f"});  // an error reply in the middle
        } else {
            p.add({"INCRBY", keys[static_cast<std::size_t>(i)], std::to_string(i)});
        }
    }
    auto r = run(io_, client.async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(r);
    ASSERT_TRUE(*r) << r->error().message();
    const auto& replies = **r;
    ASSERT_EQ(replies.size(), static_cast<std::size_t>(kN));
    for (int i = 0; i < kN; ++i) {
        if (i == 25) {
            EXPECT_TRUE(replies[25].is_error_with_prefix("WRONGTYPE"));
        } else {
            EXPECT_EQ(replies[static_cast<std::size_t>(i)].as_integer(), i) << i;
        }
    }
    EXPECT_EQ(client.stats().round_trips_total.load() - before_rt, 1U);
    EXPECT_EQ(client.stats().writes_total.load() - before_writes, 1U);
    EXPECT_EQ(client.stats().commands_total.load() - before_cmds, static_cast<std::uint64_t>(kN));
}

TEST_F(RedisClientTest, ScriptDigestMatchesRedisScriptLoad) {
    const Script script("return redis.call('GET', KEYS[1])");
    EXPECT_EQ(redis_->command({"SCRIPT", "LOAD", std::string(script.source())}), script.sha1());
}

TEST_F(RedisClientTest, EvalShaRecoversFromNoscriptTransparently) {
    auto& client = connect(base_config());
    const Script script(
        "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('APPEND', KEYS[1], ARGV[2])");
    const std::string_view keys[] = {"ek"};
    const std::string_view args[] = {"ab", "cd"};

    // Empty script cache: EVALSHA -> NOSCRIPT -> EVAL.
    auto first = run(io_, client.async_eval(script, keys, args, core::Deadline::never()));
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->as_integer(), 4);
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 1U);
    EXPECT_EQ(client.stats().round_trips_total.load(), 2U);
    EXPECT_EQ(client.stats().error_replies_total.load(), 0U);  // NOSCRIPT is not surfaced

    // Cached now: one round trip.
    auto second = run(io_, client.async_eval(script, {"ek"}, {"x", "yz"}, core::Deadline::never()));
    ASSERT_TRUE(second && *second);
    EXPECT_EQ((*second)->as_integer(), 3);
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 1U);
    EXPECT_EQ(client.stats().round_trips_total.load(), 3U);

    EXPECT_EQ(redis_->command({"SCRIPT", "FLUSH"}), "OK");
    auto third = run(io_, client.async_eval(script, keys, args, core::Deadline::never()));
    ASSERT_TRUE(third && *third);
    EXPECT_EQ((*third)->as_integer(), 4);
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 2U);
    EXPECT_EQ(redis_->command({"GET", "ek"}), "abcd");
    EXPECT_EQ(redis_->command({"SCRIPT", "EXISTS", script.sha1()}), "1");
}

TEST_F(RedisClientTest, PipelineRecoversFromNoscriptInOneMoreRoundTrip) {
    auto& client = connect(base_config());
    const Script append("return redis.call('APPEND', KEYS[1], ARGV[1])");
    const Script count("return redis.call('INCR', KEYS[1])");
    auto build = [&](Pipeline& p) {
        p.add_eval(append, {"pk"}, {"ab"});
        p.add({"INCR", "plain"});
        p.add_eval(count, {"pc"}, {});
        p.add_eval(append, {"pk"}, {"cd"});  // the same script twice: loaded once
    };
    auto run_pipeline = [&](const Pipeline& p) {
        auto r = run(io_, client.async_pipeline(p, core::Deadline::never()));
        EXPECT_TRUE(r && *r);
        return r && *r ? std::move(**r) : Replies{};
    };

    // Empty script cache: NOSCRIPT for the three EVALSHAs -> SCRIPT LOAD x2 + the pipeline again.
    Pipeline p;
    build(p);
    EXPECT_EQ(p.scripts().size(), 2U);
    const auto first = run_pipeline(p);
    ASSERT_EQ(first.size(), 4U);
    EXPECT_EQ(first[0].as_integer(), 2) << first[0].to_string();
    EXPECT_EQ(first[1].as_integer(), 2);  // the plain command ran twice: the documented contract
    EXPECT_EQ(first[2].as_integer(), 1);
    EXPECT_EQ(first[3].as_integer(), 4);
    EXPECT_EQ(redis_->command({"GET", "pk"}), "abcd");
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 1U);
    EXPECT_EQ(client.stats().round_trips_total.load(), 2U);
    EXPECT_EQ(client.stats().error_replies_total.load(), 0U);  // NOSCRIPT is not surfaced

    // Cached: one round trip, nothing repeated.
    const auto second = run_pipeline(p);
    ASSERT_EQ(second.size(), 4U);
    EXPECT_EQ(second[1].as_integer(), 3);
    EXPECT_EQ(second[2].as_integer(), 2);
    EXPECT_EQ(client.stats().round_trips_total.load(), 3U);
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 1U);

    // Flushed between calls (restart, failover): recovered again.
    EXPECT_EQ(redis_->command({"SCRIPT", "FLUSH"}), "OK");
    const auto third = run_pipeline(p);
    ASSERT_EQ(third.size(), 4U);
    EXPECT_EQ(third[2].as_integer(), 3);
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 2U);
    EXPECT_EQ(redis_->command({"SCRIPT", "EXISTS", append.sha1()}), "1");
    EXPECT_EQ(redis_->command({"SCRIPT", "EXISTS", count.sha1()}), "1");

    // An EVALSHA added as a plain command carries no script: its NOSCRIPT is the caller's.
    EXPECT_EQ(redis_->command({"SCRIPT", "FLUSH"}), "OK");
    Pipeline raw;
    raw.add({"EVALSHA", append.sha1(), "1", "pk", "x"});
    const auto unrecovered = run_pipeline(raw);
    ASSERT_EQ(unrecovered.size(), 1U);
    EXPECT_TRUE(unrecovered[0].is_error_with_prefix("NOSCRIPT"));
    EXPECT_EQ(client.stats().noscript_reloads_total.load(), 2U);
}

TEST_F(RedisClientTest, RepliesKeptAcrossLaterCallsStayIntact) {
    // Each reply is a view into the connection's read buffer: later reads must not overwrite
    // the bytes of a Reply still held (ASan would also flag a use after free).
    auto& client = connect(base_config());
    const std::string big(5000, 'v');  // several replies exceed the 16 KiB read buffer together
    ASSERT_TRUE(call({"SET", "big", big}));
    Replies kept;
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(call({"SET", "k" + std::to_string(i), "value-" + std::to_string(i)}));
        auto got = call({"GET", "k" + std::to_string(i)});
        ASSERT_TRUE(got);
        kept.push_back(std::move(*got));
        auto b = call({"GET", "big"});
        ASSERT_TRUE(b);
        kept.push_back(std::move(*b));
    }
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(kept[2 * static_cast<std::size_t>(i)].as_string_view(), "value-" + std::to_string(i));
        EXPECT_EQ(kept[2 * static_cast<std::size_t>(i) + 1].as_string_view(), big);
    }
    EXPECT_EQ(client.stats().errors_total.load(), 0U);
}

TEST_F(RedisClientTest, ACommandLargerThanTheSocketBuffersIsSentWhole) {
    // 32 MiB in one SET: the writer's batch goes out in many sends, each from the right offset
    // (every byte depends on its offset, so a wrong one shows).
    auto& client = connect(base_config());
    std::string big(32U << 20U, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
    }
    ASSERT_TRUE(call({"SET", "huge", big}));
    ASSERT_TRUE(call({"SET", "after", "x"}));  // the connection is still in step
    auto len = call({"STRLEN", "huge"});
    ASSERT_TRUE(len);
    EXPECT_EQ(len->as_integer(), static_cast<std::int64_t>(big.size()));
    auto got = call({"GET", "huge"});
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->as_string_view() == big) << "the stored value differs";
    EXPECT_EQ(redis_->command({"GET", "after"}), "x");
    EXPECT_EQ(client.stats().errors_total.load(), 0U);
}

TEST_F(RedisClientTest, ScriptErrorsAreErrorReplies) {
    auto& client = connect(base_config());
    const Script custom("return redis.error_reply('MYERR custom failure')");
    auto r = run(io_, client.async_eval(custom, {}, {}, core::Deadline::never()));
    ASSERT_TRUE(r && *r);
    EXPECT_TRUE((*r)->is_error_with_prefix("MYERR")) << (*r)->to_string();

    ASSERT_TRUE(call({"SET", "notanumber", "abc"}));
    const Script runtime("return redis.call('INCR', KEYS[1])");
    auto e = run(io_, client.async_eval(runtime, {"notanumber"}, {}, core::Deadline::never()));
    ASSERT_TRUE(e && *e);
    EXPECT_TRUE((*e)->is_error()) << (*e)->to_string();
    EXPECT_NE((*e)->error_message().find("not an integer"), std::string_view::npos)
        << (*e)->error_message();
    EXPECT_EQ(client.stats().error_replies_total.load(), 2U);
    EXPECT_EQ(client.stats().errors_total.load(), 0U);
}

TEST_F(RedisClientTest, ExpiredDeadlineFailsWithoutSending) {
    auto& client = connect(base_config());
    const auto& st = client.stats();
    const auto cmds = st.commands_total.load();
    const auto rts = st.round_trips_total.load();
    const auto writes = st.writes_total.load();
    const auto expired = core::Deadline::after(core::SystemClock::instance(), -1ms);
    auto r = call({"SET", "never", "sent"}, expired);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_EQ(st.commands_total.load(), cmds);
    EXPECT_EQ(st.round_trips_total.load(), rts);
    EXPECT_EQ(st.writes_total.load(), writes);
    EXPECT_EQ(st.errors_total.load(), 1U);
    EXPECT_EQ(redis_->command({"EXISTS", "never"}), "0");
}

TEST_F(RedisClientTest, SelectsTheConfiguredDatabase) {
    auto config = base_config();
    config.database = 3;
    connect(config);
    ASSERT_TRUE(call({"SET", "indb3", "1"}));
    EXPECT_EQ(redis_->command({"EXISTS", "indb3"}), "0");  // the helper uses db 0
    EXPECT_NE(redis_->command({"INFO", "keyspace"}).find("db3:keys=1"), std::string::npos);
}

}  // namespace
}  // namespace moneta::redis::testing
