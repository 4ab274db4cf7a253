#include "store/keys.hpp"

#include <cstring>

#include "moneta/core/assert.hpp"

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

}  // namespace

KeyBuffer::KeyBuffer() : buf_(take_block()) {}

KeyBuffer::~KeyBuffer() { give_block(buf_); }

std::size_t KeyBuffer::pooled_blocks_for_test() noexcept { return t_pool.count; }

std::string_view KeyBuffer::add(std::string_view prefix, std::string_view tag, std::string_view id,
                                std::string_view suffix, std::string_view extra) noexcept {
    const std::size_t len = prefix.size() + 1 + tag.size() + id.size() + 1 + suffix.size() + extra.size();
    MONETA_RELEASE_ASSERT(count_ < keys_.size() && used_ + len <= kBytes, "key buffer full");
    char* start = buf_ + used_;
    char* p = start;
    auto put = [&p](std::string_view s) {
        if (!s.empty()) {  // an empty view may have a null data()
            std::memcpy(p, s.data(), s.size());
            p += s.size();
        }
    };
    put(prefix);
    *p++ = '{';
    put(tag);
    put(id);
    *p++ = '}';
    put(suffix);
    put(extra);
    used_ += len;
    keys_[count_] = std::string_view(start, len);
    return keys_[count_++];
}

void lease_keys(KeyBuffer& kb, std::string_view account_id) noexcept {
    kb.add("lease:", "a:", account_id);
    kb.add("sess:", "a:", account_id);
    kb.add("dev:", "a:", account_id);
    kb.add("evict:", "a:", account_id);
}

std::string_view account_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add("ent:", "a:", account_id);
}

std::string_view entitlement_digest_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add("entd:", "a:", account_id);
}

std::string_view content_key(KeyBuffer& kb, std::string_view content_id) noexcept {
    return kb.add("content:", "c:", content_id);
}

std::string_view content_missing_key(KeyBuffer& kb, std::string_view content_id) noexcept {
    return kb.add("content:nf:", "c:", content_id);
}

std::string_view session_meta_key(KeyBuffer& kb, std::string_view account_id, std::string_view sid) noexcept {
    return kb.add("sm:", "a:", account_id, ":", sid);
}

std::string_view idempotency_key(KeyBuffer& kb, std::string_view account_id, std::string_view key) noexcept {
    return kb.add("idem:", "a:", account_id, ":", key);
}

std::string_view rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept {
    return kb.add("rl:", "a:", account_id, ":", window);
}

std::string_view progress_rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept {
    return kb.add("rlp:", "a:", account_id, ":", window);
}

std::string_view progress_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add("prog:", "a:", account_id, ":", pid);
}

std::string_view continue_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add("cw:", "a:", account_id, ":", pid);
}

std::string_view progress_missing_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept {
    return kb.add("pnf:", "a:", account_id, ":", pid);
}

std::string_view progress_prefix(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add("prog:", "a:", account_id, ":");
}

std::string_view continue_prefix(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add("cw:", "a:", account_id, ":");
}

std::string_view dirty_key(KeyBuffer& kb, std::string_view account_id) noexcept {
    return kb.add("dirty:", "a:", account_id);
}

std::string_view progress_stream_key(KeyBuffer& kb, std::string_view shard) noexcept {
    return kb.add("progq:", "q", shard);
}

std::string_view progress_due_key(KeyBuffer& kb, std::string_view shard) noexcept {
    return kb.add("progdue:", "q", shard);
}

}  // namespace moneta::store
