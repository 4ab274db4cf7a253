// The key layout (docs/data.md "Cluster": every key of an account and its partition's stream and
// due index in one slot), and KeyBuffer: its bytes come from a per-thread pool (so store coroutine
// frames stay small enough for Asio's frame recycling); blocks are reused, never shared by two
// live buffers.
#include "store/keys.hpp"

#include "moneta/redis/cluster.hpp"
#include "moneta/testing/moneta_keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

// add_account_keys and add_partition build a script's keys in one go (the tail of the first key
// copied into the others, the partition from the account's tag): the same bytes as one
// add_account / add(prefix, "p", n) per key, for accounts of every length 1-64 and of one-, two-
// and three-digit partitions, after the same account, after another one of the same length
// (written over the same storage) and in a fresh buffer.
TEST(KeyLayout, KeysBuiltInOneGoAreTheKeysBuiltOneByOne) {
    static constexpr std::array<std::string_view, 4> kLease{"lease:", "sess:", "dev:", "evict:"};
    static constexpr std::array<std::string_view, 3> kMore{"ent:", "entd:", "dirty:"};
    static constexpr std::array<std::string_view, 1> kOne{"x:"};
    bool seen[3] = {};
    for (int i = 0; i < 2'000; ++i) {
        std::string account = "a_" + std::to_string(i);
        if (i < 64) {
            account = std::string(static_cast<std::size_t>(i) + 1, static_cast<char>('a' + i % 26));
        }
        const int partition = testing::account_partition(account);
        seen[partition < 10 ? 0 : partition < 100 ? 1 : 2] = true;
        KeyBuffer one;  // one key at a time, the way every key was built before
        one.add_account("lease:", account);
        one.add_account("sess:", account);
        one.add_account("dev:", account);
        one.add_account("evict:", account);
        one.add_account("sm:", account, ":", "ps_1");
        one.add_account("ent:", account);
        one.add_account("entd:", account);
        one.add_account("dirty:", account);
        progress_stream_key(one, one.partition());
        progress_due_key(one, one.partition());
        KeyBuffer batch;
        batch.add_account_keys(account, kLease);  // what lease_keys() writes
        session_meta_key(batch, account, "ps_1");
        entitlement_and_dirty_keys(batch, account);
        progress_stream_key(batch);
        progress_due_key(batch);
        ASSERT_EQ(batch.size(), one.size());
        KeyBuffer lease;
        lease_keys(lease, account);
        for (std::size_t k = 0; k < lease.size(); ++k) {
            EXPECT_EQ(lease[k], one[k]) << account << " key " << k;
        }
        for (std::size_t k = 0; k < one.size(); ++k) {
            EXPECT_EQ(batch[k], one[k]) << account << " key " << k;
        }
        EXPECT_EQ(batch[8], testing::partition_key("progq:", partition));
        EXPECT_EQ(batch[9], testing::partition_key("progdue:", partition));
        EXPECT_EQ(batch.partition(), partition);

        // A batch straight after another account of the same length in the same storage, and a
        // one-prefix batch: a new tag, the right keys.
        KeyBuffer again;
        std::string other = account;
        again.add_account("ent:", other);
        other.back() = other.back() == 'z' ? 'y' : 'z';
        again.add_account_keys(other, kMore);
        again.add_account_keys(other, kOne);
        EXPECT_EQ(again[1], testing::account_key("ent:", other));
        EXPECT_EQ(again[2], testing::account_key("entd:", other));
        EXPECT_EQ(again[3], testing::account_key("dirty:", other));
        EXPECT_EQ(again[4], testing::account_key("x:", other));
        EXPECT_EQ(again.add_partition("progq:"), testing::partition_key("progq:", testing::account_partition(other)));
        EXPECT_EQ(again.partition(), testing::account_partition(other));
        again.add_account_keys(other, {});  // nothing
        EXPECT_EQ(again.size(), 6U);
    }
    EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
}

// Twelve keys of the longest account in one batch fit, and nothing is written past them.
TEST(KeyBuffer, ABatchOfTheLongestKeysFits) {
    const std::string id(64, 'q');
    std::array<std::string_view, KeyBuffer::kMaxKeys> prefixes{};
    prefixes.fill("progdue:");
    KeyBuffer kb;
    kb.add_account_keys(id, prefixes);
    ASSERT_EQ(kb.size(), KeyBuffer::kMaxKeys);
    for (std::size_t i = 0; i < kb.size(); ++i) {
        EXPECT_EQ(kb[i], testing::account_key("progdue:", id));
    }
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
