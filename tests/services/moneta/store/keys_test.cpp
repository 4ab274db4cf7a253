// The key layout (docs/data.md "Cluster": every key of an account and its partition's stream and
// due index in one slot), and KeyBuffer: its bytes come from a per-thread pool (so store coroutine
// frames stay small enough for Asio's frame recycling); blocks are reused, never shared by two
// live buffers.
#include "store/keys.hpp"

#include "moneta/redis/cluster.hpp"
#include "moneta/testing/moneta_keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace moneta::store {
namespace {

// Every key one script may touch for an account, and its partition's stream and due index, hash
// to one slot: what lets Redis Cluster run the scripts (CROSSSLOT otherwise).
TEST(KeyLayout, AnAccountsKeysAndItsPartitionsStreamShareOneSlot) {
    for (const std::string& account : std::vector<std::string>{"a_1", "k_shape", std::string(64, 'z'), "acc-0042"}) {
        KeyBuffer kb;
        lease_keys(kb, account);
        account_key(kb, account);
        entitlement_digest_key(kb, account);
        session_meta_key(kb, account, "ps_1");
        idempotency_key(kb, account, "key-1");
        rate_key(kb, account, "29000000");
        progress_rate_key(kb, account, "29000000");
        KeyBuffer more;
        progress_key(more, account, "p_1");
        continue_key(more, account, "p_1");
        progress_missing_key(more, account, "p_1");
        progress_prefix(more, account);
        dirty_key(more, account);
        progress_stream_key(more, account_partition(account));
        progress_due_key(more, account_partition(account));
        const std::uint16_t slot = redis::key_slot(kb[0]);
        for (std::size_t i = 0; i < kb.size(); ++i) {
            EXPECT_EQ(redis::key_slot(kb[i]), slot) << kb[i];
        }
        for (std::size_t i = 0; i < more.size(); ++i) {
            EXPECT_EQ(redis::key_slot(more[i]), slot) << more[i];
        }
        // Spelled as docs/data.md says (the test helper is written from the document).
        EXPECT_EQ(kb[0], testing::account_key("lease:", account));
        EXPECT_EQ(kb[6], testing::account_key("sm:", account, ":ps_1"));
        EXPECT_EQ(more[0], testing::account_key("prog:", account, ":p_1"));
        EXPECT_EQ(more[5], testing::partition_key("progq:", testing::account_partition(account)));
        EXPECT_EQ(more[6], testing::partition_key("progdue:", testing::account_partition(account)));
    }
    KeyBuffer kb;
    EXPECT_EQ(content_key(kb, "m_1"), "content:{c:m_1}");  // content keys are not partitioned
}

// 100,000 accounts spread over the 256 partitions evenly enough that no master of a 256-master
// cluster would hold more than ~1.3× its share; partitions are stable (a known value).
TEST(KeyLayout, PartitionsSpreadAccountsEvenly) {
    std::vector<int> count(kPartitions);
    constexpr int kAccounts = 100'000;
    for (int i = 0; i < kAccounts; ++i) {
        ++count[static_cast<std::size_t>(account_partition("acc_" + std::to_string(i)))];
    }
    const double share = static_cast<double>(kAccounts) / kPartitions;
    EXPECT_GT(*std::min_element(count.begin(), count.end()), 0.7 * share);
    EXPECT_LT(*std::max_element(count.begin(), count.end()), 1.3 * share);
    EXPECT_EQ(account_partition("a_1"), testing::account_partition("a_1"));
    EXPECT_EQ(account_partition(""), 2166136261U % 256U);  // FNV-1a's offset basis, nothing hashed
}

// add_account computes the partition once for consecutive keys of one account: a different
// account (even of the same length, even written over the same bytes) gets its own.
TEST(KeyLayout, ConsecutiveAccountsNeverShareAStalePartition) {
    KeyBuffer kb;
    std::string account = "acc_1";
    for (int i = 0; i < 6; ++i) {
        account.back() = static_cast<char>('1' + i);  // same length, same storage
        EXPECT_EQ(kb.add_account("lease:", account), testing::account_key("lease:", account)) << account;
        EXPECT_EQ(kb.partition(), testing::account_partition(account)) << account;  // what the stream key takes
    }
}

// The account comparison reads words (8 bytes, or two overlapping 4-byte loads under 8): an
// account of every length 1-64 changed in any one byte, in place, is always a new account.
TEST(KeyLayout, AnAccountChangedInAnyOneByteIsANewAccount) {
    for (std::size_t len = 1; len <= 64; ++len) {
        std::string account(len, 'a');
        KeyBuffer kb;
        ASSERT_EQ(kb.add_account("ent:", account), testing::account_key("ent:", account));
        for (std::size_t at = 0; at < len && kb.size() + 2 <= KeyBuffer::kMaxKeys; at += 1 + len / 5) {
            account[at] = static_cast<char>('b' + at % 20);  // same length, same storage
            EXPECT_EQ(kb.add_account("ent:", account), testing::account_key("ent:", account)) << len << " " << at;
            EXPECT_EQ(kb.partition(), testing::account_partition(account)) << account;
        }
        // The same bytes again (an equal account) keep their partition.
        EXPECT_EQ(kb.add_account("dirty:", account), testing::account_key("dirty:", account)) << account;
    }
}

// The partition is written digit by digit: accounts of one-, two- and three-digit partitions,
// with and without a suffix, spelled as docs/data.md says.
TEST(KeyLayout, PartitionTagsOfEveryWidth) {
    bool seen[3] = {};
    for (int i = 0; i < 10'000 && !(seen[0] && seen[1] && seen[2]); ++i) {
        const std::string account = "acc_" + std::to_string(i);
        const int partition = account_partition(account);
        seen[partition < 10 ? 0 : partition < 100 ? 1 : 2] = true;
        KeyBuffer kb;
        EXPECT_EQ(kb.add_account("ent:", account), testing::account_key("ent:", account));
        EXPECT_EQ(session_meta_key(kb, account, "ps_9"), testing::account_key("sm:", account, ":ps_9"));
    }
    EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
}

TEST(KeyBuffer, ReusesTheBlockOfADestroyedBuffer) {
    const char* first = nullptr;
    {
        KeyBuffer kb;
        first = kb.add("lease:", "a:", "a_1").data();
    }
    const std::size_t pooled = KeyBuffer::pooled_blocks_for_test();
    ASSERT_GE(pooled, 1U);
    KeyBuffer again;
    EXPECT_EQ(again.add("sess:", "a:", "a_2").data(), first);
    EXPECT_EQ(KeyBuffer::pooled_blocks_for_test(), pooled - 1);
}

TEST(KeyBuffer, LiveBuffersNeverShareBytes) {
    KeyBuffer a;
    KeyBuffer b;
    const std::string id(64, 'x');  // the longest valid id
    const std::string_view ka = a.add_account("prog:", id, ":", id);
    const std::string_view kb = b.add_account("cw:", "a_9");
    EXPECT_EQ(ka, testing::account_key("prog:", id, ":") + id);
    EXPECT_EQ(kb, testing::account_key("cw:", "a_9"));
    EXPECT_TRUE(ka.data() + ka.size() <= kb.data() || kb.data() + kb.size() <= ka.data());
    for (std::size_t i = 1; i < KeyBuffer::kMaxKeys; ++i) {
        a.add_account("idem:", id, ":", id);  // twelve of the longest keys fit
    }
    EXPECT_EQ(a.size(), KeyBuffer::kMaxKeys);
    EXPECT_EQ(ka, testing::account_key("prog:", id, ":") + id);  // the first key is intact
    EXPECT_EQ(kb, testing::account_key("cw:", "a_9"));
}

TEST(KeyBuffer, EachThreadHasItsOwnPool) {
    { KeyBuffer warm; }
    const std::size_t here = KeyBuffer::pooled_blocks_for_test();
    std::size_t there = 99;
    std::thread t([&] {
        // Made before the thread's pool, so destroyed after it at thread exit: its buffer must
        // then free its block instead of touching the destroyed pool (ASan would see a leak or
        // a bad free otherwise).
        thread_local std::unique_ptr<KeyBuffer> late;
        {
            KeyBuffer kb;
            kb.add("lease:", "a:", "a_1");
        }
        there = KeyBuffer::pooled_blocks_for_test();
        late = std::make_unique<KeyBuffer>();
    });
    t.join();
    EXPECT_EQ(there, 1U);
    EXPECT_EQ(KeyBuffer::pooled_blocks_for_test(), here);
}

}  // namespace
}  // namespace moneta::store
