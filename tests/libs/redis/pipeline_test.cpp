#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/script.hpp"
#include "resp.hpp"

namespace moneta::redis {
namespace {

// hiredis's own encoder is the reference for ours.
std::string hiredis_format(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* out = nullptr;
    const int n = redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), lens.data());
    std::string s(out, static_cast<std::size_t>(n));
    redisFreeCommand(out);
    return s;
}

// The EVALSHA / EVAL encoder (the script's cached head copied as one piece, short headers
// stored eight bytes at a time into a buffer with slack) against hiredis encoding the whole
// argument list, over generated commands: every argument length 0-130 (one-, two- and three-
// digit headers, the 100-byte edge of the header table), 0-20 keys and arguments, and a part
// count of three digits; appended after bytes already there, which stay, with nothing after.
TEST(PipelineTest, EvalEncodesExactlyLikeHiredisForGeneratedCommands) {
    const Script script("return {KEYS[1], ARGV[1]}");
    EXPECT_EQ(script.evalsha_head(), "$7\r\nEVALSHA\r\n$40\r\n" + script.sha1() + "\r\n");
    std::mt19937 rng(11);
    const auto text = [&rng](std::size_t n) {
        std::string t(n, ' ');
        for (char& c : t) {
            c = static_cast<char>(rng() % 256);  // any byte, CR and LF included
        }
        return t;
    };
    for (int round = 0; round < 3000; ++round) {
        const std::size_t nkeys = round == 0 ? 0 : rng() % 21;
        const std::size_t nargs = round == 1 ? 120 : rng() % 21;  // 123 parts in round 1
        std::vector<std::string> keys_text;
        std::vector<std::string> args_text;
        for (std::size_t i = 0; i < nkeys; ++i) {
            keys_text.push_back(text(round < 131 ? static_cast<std::size_t>(round) : rng() % 131));
        }
        for (std::size_t i = 0; i < nargs; ++i) {
            args_text.push_back(text(rng() % 131));
        }
        const std::vector<std::string_view> keys(keys_text.begin(), keys_text.end());
        const std::vector<std::string_view> args(args_text.begin(), args_text.end());
        const std::string numkeys = std::to_string(nkeys);
        for (const auto kind : {detail::EvalKind::kEvalSha, detail::EvalKind::kEval}) {
            std::vector<std::string_view> argv;
            if (kind == detail::EvalKind::kEvalSha) {
                argv = {"EVALSHA", script.sha1()};
            } else {
                argv = {"EVAL", script.source()};
            }
            argv.push_back(numkeys);
            argv.insert(argv.end(), keys.begin(), keys.end());
            argv.insert(argv.end(), args.begin(), args.end());
            const std::string before = round % 2 == 0 ? std::string() : "*1\r\n$4\r\nPING\r\n";
            std::string out = before;
            detail::append_eval(out, kind, script, keys, args);
            ASSERT_EQ(out, before + hiredis_format(argv)) << "round " << round;
        }
    }
}

// Plain commands through the same writer: generated argument lists against hiredis.
TEST(PipelineTest, CommandsEncodeExactlyLikeHiredisForGeneratedArguments) {
    std::mt19937 rng(12);
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::string> text;
        const std::size_t n = 1 + rng() % 20;
        for (std::size_t i = 0; i < n; ++i) {
            text.push_back(std::string(rng() % 131, static_cast<char>('a' + rng() % 26)));
        }
        const std::vector<std::string_view> args(text.begin(), text.end());
        std::string out = "x";
        detail::append_command(out, args);
        ASSERT_EQ(out, "x" + hiredis_format(args)) << "round " << round;
    }
}

TEST(PipelineTest, EncodesCommandsExactlyLikeHiredis) {
    const std::vector<std::string_view> set = {"SET", "key", std::string_view("a\r\n\0b", 5)};
    const std::vector<std::string_view> empty_arg = {"HSET", "h", "", "v"};
    const std::string big(100000, 'x');
    const std::vector<std::string_view> large = {"SET", "big", big};
    // Counts and lengths of one, two and more digits (the writer sizes every part first).
    std::vector<std::string> many_text;
    for (std::size_t n = 0; n < 12; ++n) {
        many_text.push_back(std::string(n * 9, static_cast<char>('a' + n)));
    }
    const std::vector<std::string_view> many(many_text.begin(), many_text.end());
    Pipeline p;
    p.add(set).add(empty_arg).add(large).add(many);
    EXPECT_EQ(p.size(), 4U);
    EXPECT_EQ(p.wire(), hiredis_format(set) + hiredis_format(empty_arg) + hiredis_format(large) + hiredis_format(many));
}

// Every argument length around the writer's digit-count branches (1, 2, 3 and more digits) and
// an argument count of three digits, each payload copied whole.
TEST(PipelineTest, EveryLengthAroundTheDigitBoundariesEncodesLikeHiredis) {
    std::vector<std::string> text;
    for (const std::size_t n : {0, 1, 7, 8, 9, 10, 15, 16, 17, 64, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 12345}) {
        text.push_back(std::string(n, static_cast<char>('a' + n % 26)));
    }
    for (std::size_t i = 0; i < 120; ++i) {
        text.push_back(std::to_string(i));
    }
    const std::vector<std::string_view> args(text.begin(), text.end());
    Pipeline p;
    p.add(args);
    EXPECT_EQ(p.wire(), hiredis_format(args));
    for (const std::string_view a : args) {
        Pipeline one;
        one.add({"SET", a, a});
        EXPECT_EQ(one.wire(), hiredis_format({"SET", a, a})) << a.size();
    }
}

TEST(PipelineTest, IgnoresEmptyCommandsAndClearsForReuse) {
    Pipeline p;
    p.add(std::span<const std::string_view>{});
    EXPECT_TRUE(p.empty());
    p.add({"PING"});
    EXPECT_EQ(p.wire(), "*1\r\n$4\r\nPING\r\n");
    p.clear();
    EXPECT_TRUE(p.empty());
    EXPECT_EQ(p.wire(), "");
}

TEST(PipelineTest, EncodesEvalShaWithTheScriptsDigestAndRemembersTheScript) {
    const Script a("return 1");
    const Script b("return 2");
    Pipeline p;
    p.add_eval(a, {"k1", "k2"}, {"x"}).add({"GET", "g"}).add_eval(b, {}, {}).add_eval(a, {"k"}, {});
    EXPECT_EQ(p.size(), 4U);
    EXPECT_EQ(p.wire(), hiredis_format({"EVALSHA", a.sha1(), "2", "k1", "k2", "x"}) +
                            hiredis_format({"GET", "g"}) + hiredis_format({"EVALSHA", b.sha1(), "0"}) +
                            hiredis_format({"EVALSHA", a.sha1(), "1", "k"}));
    ASSERT_EQ(p.scripts().size(), 2U);  // distinct, in first-use order
    EXPECT_EQ(p.scripts()[0], &a);
    EXPECT_EQ(p.scripts()[1], &b);
    EXPECT_TRUE(p.has_scripts());
    Pipeline q;
    q.add({"PING"});
    EXPECT_FALSE(q.has_scripts());
    q.append(p);
    EXPECT_EQ(q.size(), 5U);
    EXPECT_EQ(q.scripts().size(), 2U);
    p.clear();
    EXPECT_FALSE(p.has_scripts());
}

TEST(PipelineTest, RemembersMoreDistinctScriptsThanItsInlineSlots) {
    std::vector<std::unique_ptr<Script>> scripts;
    Pipeline p;
    for (int i = 0; i < 9; ++i) {
        scripts.push_back(std::make_unique<Script>("return " + std::to_string(i)));
        p.add_eval(*scripts.back(), {}, {});
        p.add_eval(*scripts.back(), {}, {});
    }
    const auto seen = p.scripts();
    ASSERT_EQ(seen.size(), 9U);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i], scripts[i].get());
    }
}

TEST(PipelineTest, ReusesItsBufferThroughThePerThreadCache) {
    const char* first = nullptr;
    {
        Pipeline p;
        p.add({"SET", "k", "v"});
        first = p.wire().data();
    }
    Pipeline again;
    again.add({"GET", "k"});
    EXPECT_EQ(again.wire().data(), first) << "a per-request Pipeline must not allocate its buffer";
    EXPECT_EQ(again.wire(), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    Pipeline moved(std::move(again));
    EXPECT_EQ(moved.size(), 1U);
    EXPECT_TRUE(again.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
    Pipeline copy(moved);
    EXPECT_EQ(copy.wire(), moved.wire());
}

TEST(IntArgTest, FormatsWithoutAllocating) {
    EXPECT_EQ(IntArg(0).view(), "0");
    EXPECT_EQ(IntArg(-9223372036854775807 - 1).view(), "-9223372036854775808");
    EXPECT_EQ(IntArg(9223372036854775807).view(), "9223372036854775807");
    EXPECT_EQ(IntArg(1765432109876).view(), "1765432109876");  // a time: eight digits at a time
    EXPECT_EQ(IntArg(100000000).view(), "100000000");
    EXPECT_EQ(IntArg(99999999).view(), "99999999");
    const IntArg ttl(1500);
    Pipeline p;
    p.add({"PEXPIRE", "k", ttl});
    EXPECT_EQ(p.wire(), hiredis_format({"PEXPIRE", "k", "1500"}));
}

}  // namespace
}  // namespace moneta::redis
