// The client's streaming reader (src/reply_reader.*): replies split across reads at every byte,
// many replies in one read, bounds enforced before allocating, replies that outlive the reads
// after them, and arena recycling (no allocation in steady state).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "reply_reader.hpp"

namespace moneta::redis::detail {
namespace {

// Copies @p bytes into the reader in reads of at most @p chunk bytes, collecting every reply.
struct Feed {
    explicit Feed(std::size_t arena_bytes = 1024) : owner(arena_bytes), reader(*owner) {}

    // false on a protocol error
    bool push(std::string_view bytes, std::size_t chunk, Replies& out) {
        while (!bytes.empty()) {
            const auto room = reader.prepare();
            if (room.empty()) {
                return false;
            }
            const std::size_t n = std::min({chunk, room.size(), bytes.size()});
            std::memcpy(room.data(), bytes.data(), n);
            reader.commit(n);
            bytes.remove_prefix(n);
            for (;;) {
                Reply r;
                const ParseStatus s = reader.next(r);
                if (s == ParseStatus::kError) {
                    return false;
                }
                if (s == ParseStatus::kNeedMore) {
                    break;
                }
                out.push_back(std::move(r));
            }
        }
        return true;
    }

    ArenaPoolOwner owner;
    ReplyReader reader;
};

const std::string kEveryType =
    "+OK\r\n"
    "-ERR wrong\r\n"
    ":-42\r\n"
    "$5\r\nhe\r\no\r\n"
    "$0\r\n\r\n"
    "$-1\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*6\r\n:1\r\n$4\r\nps_1\r\n*2\r\n+a\r\n*1\r\n:7\r\n$-1\r\n-E x\r\n:0\r\n";

const std::vector<std::string> kEveryTypeText = {
    "OK", "(error) ERR wrong", "(integer) -42", "\"he\r\no\"", "\"\"", "(nil)", "(nil)", "[]",
    "[(integer) 1, \"ps_1\", [a, [(integer) 7]], (nil), (error) E x, (integer) 0]"};

std::vector<std::string> texts(const Replies& replies) {
    std::vector<std::string> out;
    for (const auto& r : replies) {
        out.push_back(r.to_string());
    }
    return out;
}

TEST(ReplyReaderTest, ReadsEveryTypeFromOneRead) {
    Feed f;
    Replies replies;
    ASSERT_TRUE(f.push(kEveryType, SIZE_MAX, replies));
    EXPECT_EQ(texts(replies), kEveryTypeText);
    EXPECT_TRUE(replies[0].is_status());
    EXPECT_TRUE(replies[1].is_error_with_prefix("ERR"));
    EXPECT_EQ(replies[2].as_integer(), -42);
    EXPECT_EQ(replies[8][1].as_string_view(), "ps_1");
    EXPECT_EQ(replies[8][2][1][0].to_int64(), 7);
}

TEST(ReplyReaderTest, GivesTheSameRepliesWhereverTheReadsSplitTheBytes) {
    for (std::size_t split = 1; split < kEveryType.size(); ++split) {
        Feed f;
        Replies replies;
        ASSERT_TRUE(f.push(kEveryType.substr(0, split), SIZE_MAX, replies)) << split;
        ASSERT_TRUE(f.push(kEveryType.substr(split), SIZE_MAX, replies)) << split;
        EXPECT_EQ(texts(replies), kEveryTypeText) << "split at " << split;
    }
    Feed bytewise;
    Replies replies;
    ASSERT_TRUE(bytewise.push(kEveryType, 1, replies));
    EXPECT_EQ(texts(replies), kEveryTypeText);
}

TEST(ReplyReaderTest, RepliesStayValidWhileLaterReadsMoveToOtherArenas) {
    Feed f(1024);
    Replies kept;
    const std::string big(3000, 'b');  // larger than one arena: the buffer must grow
    ASSERT_TRUE(f.push("$5\r\nfirst\r\n", SIZE_MAX, kept));
    ASSERT_EQ(kept.size(), 1U);
    const char* first_bytes = kept[0].as_string_view().data();
    for (int i = 0; i < 200; ++i) {
        const std::string body = "reply-" + std::to_string(i);
        ASSERT_TRUE(f.push("$" + std::to_string(body.size()) + "\r\n" + body + "\r\n", 7, kept));
    }
    ASSERT_TRUE(f.push("$3000\r\n" + big + "\r\n", 100, kept));
    ASSERT_EQ(kept.size(), 202U);
    // Nothing was compacted under the replies: the first one still points at its bytes.
    EXPECT_EQ(kept[0].as_string_view(), "first");
    EXPECT_EQ(kept[0].as_string_view().data(), first_bytes);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(kept[static_cast<std::size_t>(i) + 1].as_string_view(), "reply-" + std::to_string(i));
    }
    EXPECT_EQ(kept[201].as_string_view(), big);
    kept.clear();  // the arenas go back to the pool (ASan: nothing freed twice, nothing leaked)
}

TEST(ReplyReaderTest, RecyclesArenasSoSteadyStateAllocatesNothing) {
    Feed f(1024);
    const std::string reply = "*6\r\n:1\r\n:1700000000000\r\n:0\r\n$4\r\nps_1\r\n:3\r\n$-1\r\n";
    Replies batch;
    // Callers keep their replies a little while (until they resume), then drop them.
    for (int round = 0; round < 2000; ++round) {
        ASSERT_TRUE(f.push(reply + reply + reply, SIZE_MAX, batch));
        if (batch.size() > 30) {
            batch.clear();
        }
    }
    EXPECT_LE((*f.owner).live(), 4U) << "arenas must be reused, not allocated per read";
}

TEST(ReplyReaderTest, RefusesAHugeBulkLengthWithoutAllocatingIt) {
    Feed f(1024);
    Replies replies;
    // Within the bound: waits for the bytes, reserving nothing for them.
    ASSERT_TRUE(f.push("$536870912\r\nabc", SIZE_MAX, replies));
    EXPECT_TRUE(replies.empty());
    EXPECT_EQ((*f.owner).live(), 1U);
    const auto room = f.reader.prepare();
    EXPECT_LE(room.size(), 1024U) << "the buffer grew for bytes that have not arrived";
    // Over the bound: a protocol error at once.
    Feed g;
    EXPECT_FALSE(g.push("$536870913\r\n", SIZE_MAX, replies));
    Feed h;
    EXPECT_FALSE(h.push("$99999999999999999999999\r\n", SIZE_MAX, replies));
}

TEST(ReplyReaderTest, RefusesAHugeArrayLengthWithoutReservingNodes) {
    Feed f(1024);
    Replies replies;
    ASSERT_TRUE(f.push("*1048576\r\n:1\r\n", SIZE_MAX, replies));  // at the bound: wait
    EXPECT_TRUE(replies.empty());
    Feed g;
    EXPECT_FALSE(g.push("*1048577\r\n", SIZE_MAX, replies));  // over it: error
}

TEST(ReplyReaderTest, RefusesAnEndlessLine) {
    Feed f(1024);
    Replies replies;
    const std::string chunk(4096, 'x');
    bool ok = f.push("+", SIZE_MAX, replies);
    for (int i = 0; ok && i < 40; ++i) {
        ok = f.push(chunk, SIZE_MAX, replies);
    }
    EXPECT_FALSE(ok) << "a status line without CRLF must hit the line bound";
}

TEST(ReplyReaderTest, AProtocolErrorIsFinalForTheBytesRead) {
    Feed f;
    Replies replies;
    EXPECT_FALSE(f.push(":1\r\n!bad\r\n", SIZE_MAX, replies));
    ASSERT_EQ(replies.size(), 1U);  // what came before the bad bytes was delivered
    EXPECT_EQ(replies[0].as_integer(), 1);
    EXPECT_STRNE(f.reader.error(), "");
}

TEST(ReplyReaderTest, ReplyOutlivesItsPool) {
    Reply survivor;
    {
        Feed f;
        Replies replies;
        ASSERT_TRUE(f.push("$3\r\nabc\r\n", SIZE_MAX, replies));
        survivor = std::move(replies[0]);
    }  // reader and pool owner gone; the arena lives on with the reply (ASan checks the rest)
    EXPECT_EQ(survivor.as_string_view(), "abc");
}

}  // namespace
}  // namespace moneta::redis::detail
