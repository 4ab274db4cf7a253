#include "store/keys.hpp"

#include <cstring>

#include "moneta/core/assert.hpp"

namespace moneta::store {

std::string_view KeyBuffer::add(std::string_view prefix, std::string_view tag, std::string_view id,
                                std::string_view suffix, std::string_view extra) noexcept {
    const std::size_t len = prefix.size() + 1 + tag.size() + id.size() + 1 + suffix.size() + extra.size();
    MONETA_RELEASE_ASSERT(count_ < keys_.size() && used_ + len <= buf_.size(), "key buffer full");
    char* start = buf_.data() + used_;
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
