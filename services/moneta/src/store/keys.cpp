#include "store/keys.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "moneta/core/assert.hpp"
#include "moneta/core/small_copy.hpp"
#include "moneta/core/swar.hpp"

namespace moneta::store {
namespace {

/// Free blocks of one thread, linked through their first bytes. Bounded: blocks beyond
/// kMaxPooled (a burst of calls in flight far above the usual) are freed, not kept.
constexpr std::size_t kMaxPooled = 1024;

struct BlockPool {
    BlockPool() = default;
    BlockPool(const BlockPool&) = delete;
    BlockPool& operator=(const BlockPool&) = delete;
    // A KeyBuffer destroyed later in the thread's exit (a thread_local or static owner) must not
    // hand its block to a destroyed pool.
    ~BlockPool() {
        closed = true;
        while (head != nullptr) {
            char* next = nullptr;
            std::memcpy(&next, head, sizeof next);
            delete[] head;
            head = next;
        }
        count = 0;
    }
    char* head = nullptr;
    std::size_t count = 0;
    bool closed = false;
};

thread_local BlockPool t_pool;

char* take_block() {
    if (t_pool.head == nullptr || t_pool.closed) {
        return new char[KeyBuffer::kBytes];
    }
    char* block = t_pool.head;
    std::memcpy(&t_pool.head, block, sizeof t_pool.head);
    --t_pool.count;
    return block;
}

void give_block(char* block) noexcept {
    if (t_pool.closed || t_pool.count == kMaxPooled) {
        delete[] block;
        return;
    }
    std::memcpy(block, &t_pool.head, sizeof t_pool.head);
    t_pool.head = block;
    ++t_pool.count;
}

/// a == b, eight bytes at a time (ids are ≤ 64 bytes): inline, where memcmp was a libc call
/// per key. The tail and ids of 4-7 bytes (the bench's "a_00001") as two overlapping loads, not
/// a byte loop: every key of a script compares its account with the last one (~40
/// instructions a key a byte at a time).
bool same_bytes(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    const std::size_t n = a.size();
    const char* const p = a.data();
    const char* const q = b.data();
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            if (core::swar::load8(p + i) != core::swar::load8(q + i)) {
                return false;
            }
        }
        return core::swar::load8(p + n - 8) == core::swar::load8(q + n - 8);  // the last eight, overlapping
    }
    if (n >= 4) {
        return core::swar::load4(p) == core::swar::load4(q) && core::swar::load4(p + n - 4) == core::swar::load4(q + n - 4);
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] != q[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

KeyBuffer::KeyBuffer() : buf_(take_block()) {}

KeyBuffer::~KeyBuffer() { give_block(buf_); }

std::size_t KeyBuffer::pooled_blocks_for_test() noexcept { return t_pool.count; }

std::string_view KeyBuffer::add(std::string_view prefix, std::string_view tag, std::string_view id,
                                std::string_view suffix, std::string_view extra) noexcept {
    const std::size_t len = prefix.size() + 1 + tag.size() + id.size() + 1 + suffix.size() + extra.size();
    MONETA_RELEASE_ASSERT(count_ < keys_.size() && used_ + len <= kBytes, "key buffer full");
    char* const start = buf_ + used_;
    char* p = core::put_bytes(start, prefix);
    *p++ = '{';
    p = core::put_bytes(p, tag);
    p = core::put_bytes(p, id);
    *p++ = '}';
    p = core::put_bytes(p, suffix);
    core::put_bytes(p, extra);
    used_ += len;
    keys_[count_] = std::string_view(start, len);
    return keys_[count_++];
}

std::string_view KeyBuffer::add_account(std::string_view prefix, std::string_view account, std::string_view suffix,
                                        std::string_view extra) noexcept {
    // A script's keys are built from one account id: its partition tag "{p<n>}:" is made once.
    if (tag_len_ == 0 || !same_bytes(account, account_)) {
        set_account(account);
    }
    const std::size_t len = prefix.size() + tag_len_ + account.size() + suffix.size() + extra.size();
    MONETA_RELEASE_ASSERT(count_ < keys_.size() && used_ + len <= kBytes, "key buffer full");
    char* const start = buf_ + used_;
    char* p = core::put_bytes(start, prefix);
    p = core::put_bytes(p, std::string_view(tag_, tag_len_));
    p = core::put_bytes(p, account);
    p = core::put_bytes(p, suffix);
    core::put_bytes(p, extra);
    account_ = std::string_view(start + prefix.size() + tag_len_, account.size());  // our copy
    used_ += len;
    keys_[count_] = std::string_view(start, len);
    return keys_[count_++];
}

void KeyBuffer::add_account_keys(std::string_view account, std::span<const std::string_view> prefixes) noexcept {
    if (prefixes.empty()) {
        return;
    }
    if (tag_len_ == 0 || !same_bytes(account, account_)) {
        set_account(account);
    }
    const std::size_t tail = tag_len_ + account.size();  // "{p<n>}:<account>", the same in every key
    std::size_t len = prefixes.size() * tail;
    for (const std::string_view prefix : prefixes) {
        len += prefix.size();
    }
    MONETA_RELEASE_ASSERT(count_ + prefixes.size() <= keys_.size() && used_ + len <= kBytes, "key buffer full");
    char* p = buf_ + used_;
    char* start = p;
    p = core::put_bytes(p, prefixes[0]);
    const char* const first_tail = p;
    p = core::put_bytes(p, std::string_view(tag_, tag_len_));
    p = core::put_bytes(p, account);
    keys_[count_++] = std::string_view(start, static_cast<std::size_t>(p - start));
    const std::string_view tail_bytes(first_tail, tail);
    for (std::size_t i = 1; i < prefixes.size(); ++i) {
        start = p;
        p = core::put_bytes(p, prefixes[i]);
        p = core::put_bytes(p, tail_bytes);  // from the first key: written before, never overlaps
        keys_[count_++] = std::string_view(start, static_cast<std::size_t>(p - start));
    }
    account_ = std::string_view(first_tail + tag_len_, account.size());  // our copy
    used_ += len;
}

std::string_view KeyBuffer::add_partition(std::string_view prefix) noexcept {
    MONETA_RELEASE_ASSERT(partition_ >= 0, "KeyBuffer::add_partition() before any add_account()");
    const std::size_t tag = tag_len_ - 1;  // "{p<n>}" without the ':'
    const std::size_t len = prefix.size() + tag;
    MONETA_RELEASE_ASSERT(count_ < keys_.size() && used_ + len <= kBytes, "key buffer full");
    char* const start = buf_ + used_;
    core::put_bytes(core::put_bytes(start, prefix), std::string_view(tag_, tag));
    used_ += len;
    keys_[count_] = std::string_view(start, len);
    return keys_[count_++];
}

int KeyBuffer::partition() const noexcept {
    MONETA_RELEASE_ASSERT(partition_ >= 0, "KeyBuffer::partition() before any add_account()");
    return partition_;
}

void KeyBuffer::set_account(std::string_view account) noexcept {
    account_ = account;
    partition_ = account_partition(account);
    const int partition = partition_;
    static_assert(kPartitions <= 1000, "the tag below has room for three digits");
    tag_len_ = 0;
    tag_[tag_len_++] = '{';
    tag_[tag_len_++] = 'p';
    if (partition >= 100) {
        tag_[tag_len_++] = static_cast<char>('0' + partition / 100);
    }
    if (partition >= 10) {
        tag_[tag_len_++] = static_cast<char>('0' + partition / 10 % 10);
    }
    tag_[tag_len_++] = static_cast<char>('0' + partition % 10);
    tag_[tag_len_++] = '}';
    tag_[tag_len_++] = ':';
}

int account_partition(std::string_view account_id) noexcept {
    std::uint32_t h = 2166136261U;
    for (const char c : account_id) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    }
    return static_cast<int>(h % static_cast<std::uint32_t>(kPartitions));
}

void lease_keys(KeyBuffer& kb, std::string_view account_id) noexcept {
    static constexpr std::array<std::string_view, 4> kPrefixes{"lease:", "sess:", "dev:", "evict:"};
    kb.add_account_keys(account_id, kPrefixes);
}

void entitlement_and_dirty_keys(KeyBuffer& kb, std::string_view account_id) noexcept {
    static constexpr std::array<std::string_view, 3> kPrefixes{"ent:", "entd:", "dirty:"};
    kb.add_account_keys(account_id, kPrefixes);
}

std::string_view account_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add_account("ent:", account_id);
}

std::string_view entitlement_digest_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add_account("entd:", account_id);
}

std::string_view content_key(KeyBuffer& kb, std::string_view content_id) noexcept {
    return kb.add("content:", "c:", content_id);
}

std::string_view content_missing_key(KeyBuffer& kb, std::string_view content_id) noexcept {
    return kb.add("content:nf:", "c:", content_id);
}

std::string_view session_meta_key(KeyBuffer& kb, std::string_view account_id, std::string_view sid) noexcept {
    return kb.add_account("sm:", account_id, ":", sid);
}

std::string_view idempotency_key(KeyBuffer& kb, std::string_view account_id, std::string_view key) noexcept {
    return kb.add_account("idem:", account_id, ":", key);
}

std::string_view rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept {
    return kb.add_account("rl:", account_id, ":", window);
}

std::string_view progress_rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept {
    return kb.add_account("rlp:", account_id, ":", window);
}

std::string_view progress_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add_account("prog:", account_id, ":", pid);
}

std::string_view continue_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add_account("cw:", account_id, ":", pid);
}

std::string_view progress_missing_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add_account("pnf:", account_id, ":", pid);
}

std::string_view progress_prefix(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add_account("prog:", account_id, ":");
}

std::string_view dirty_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add_account("dirty:", account_id);
}

namespace {

std::string_view partition_key(KeyBuffer& kb, std::string_view prefix, int partition) noexcept {
    MONETA_RELEASE_ASSERT(partition >= 0 && partition < kPartitions, "partition out of range");
    char digits[4];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, partition);
    return kb.add(prefix, "p", std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

}  // namespace

std::string_view progress_stream_key(KeyBuffer& kb, int partition) noexcept {
    return partition_key(kb, "progq:", partition);
}

std::string_view progress_due_key(KeyBuffer& kb, int partition) noexcept {
    return partition_key(kb, "progdue:", partition);
}

std::string_view progress_stream_key(KeyBuffer& kb) noexcept { return kb.add_partition("progq:"); }

std::string_view progress_due_key(KeyBuffer& kb) noexcept { return kb.add_partition("progdue:"); }

}  // namespace moneta::store
