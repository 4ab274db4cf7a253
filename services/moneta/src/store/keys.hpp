/// @file services/moneta/src/store/keys.hpp
/// @brief Redis key names (docs/data.md). Built into a caller-owned buffer: no heap allocation
/// per request for keys.
///
/// Every key of an account carries its *partition* as the hash tag: `<prefix>{p<n>}:<account>…`
/// with n = account_partition(account). The partition's write-behind stream and due index
/// (`progq:{p<n>}`, `progdue:{p<n>}`) share that tag, so every script that writes an account's
/// progress and its marker touches one Redis Cluster slot (docs/data.md "Cluster").
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace moneta::store {

/// Up to twelve keys written back to back into one fixed buffer. Ids are ≤ 64 chars (validated
/// before they get here) and a key holds at most two of them, so 12 × 160 bytes always fits.
///
/// The bytes are a block of a per-thread pool, not a member: a KeyBuffer lives in the coroutine
/// frame of every store call, and 1.9 KB inline made those frames too large for Asio's frame
/// recycling (blocks over 1,020 bytes are never cached), i.e. one malloc per Redis call. A block
/// goes back to its thread's pool when the buffer is destroyed; in steady state (as many blocks
/// as calls in flight) nothing is allocated.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. Destroy it on the thread that made it.
class KeyBuffer {
public:
    static constexpr std::size_t kMaxKeys = 12;
    static constexpr std::size_t kBytes = kMaxKeys * 160;

    KeyBuffer();
    ~KeyBuffer();
    KeyBuffer(const KeyBuffer&) = delete;
    KeyBuffer& operator=(const KeyBuffer&) = delete;

    /// Appends prefix + "{" + tag + id + "}" + suffix + extra and returns a view of it.
    std::string_view add(std::string_view prefix, std::string_view tag, std::string_view id,
                         std::string_view suffix = {}, std::string_view extra = {}) noexcept;
    /// Appends prefix + "{p<n>}:" + account + suffix + extra (n = account_partition(account);
    /// computed once for consecutive keys of the same account view) and returns a view of it.
    std::string_view add_account(std::string_view prefix, std::string_view account, std::string_view suffix = {},
                                 std::string_view extra = {}) noexcept;
    /// add_account(prefix, account) for each of @p prefixes, in order: the same keys, built in
    /// one go. Why: a heartbeat writes eight keys of one account; per key, add_account compares
    /// the account with the last one and copies five pieces (~100 instructions a key). Here the
    /// account is compared once and each key after the first is its prefix plus one copy of
    /// "{p<n>}:<account>" from the first key.
    void add_account_keys(std::string_view account, std::span<const std::string_view> prefixes) noexcept;
    /// Appends prefix + "{p<n>}" with the partition of the account add_account() last wrote:
    /// the same key as add(prefix, "p", <n in decimal>), from the tag already made for the
    /// account (no integer formatting). Only after an add_account().
    std::string_view add_partition(std::string_view prefix) noexcept;
    /// The partition of the account add_account() last wrote (computed there once): what its
    /// progress stream and due keys take. Only after an add_account().
    int partition() const noexcept;
    std::string_view operator[](std::size_t i) const noexcept { return keys_[i]; }
    std::size_t size() const noexcept { return count_; }
    const std::string_view* data() const noexcept { return keys_.data(); }

    /// Blocks the calling thread's pool holds right now (tests).
    static std::size_t pooled_blocks_for_test() noexcept;

private:
    char* buf_;  ///< kBytes from the thread's pool
    std::array<std::string_view, kMaxKeys> keys_{};
    std::size_t used_ = 0;
    std::size_t count_ = 0;
    void set_account(std::string_view account) noexcept;

    std::string_view account_;  ///< the account id add_account last wrote (its copy in buf_)
    int partition_ = -1;        ///< its partition
    char tag_[8] = {};          ///< its "{p<n>}:"
    std::size_t tag_len_ = 0;
};

/// Partitions of the account keyspace. Fixed forever: changing it moves every account's keys.
/// 256 spread over up to 256 Redis Cluster masters; a flusher polls 256 streams.
inline constexpr int kPartitions = 256;

/// FNV-1a of the id mod kPartitions: stable across processes, versions and machines.
int account_partition(std::string_view account_id) noexcept;

/// The four lease keys of one account, in the order the lease scripts expect (KEYS[1..4]).
void lease_keys(KeyBuffer& kb, std::string_view account_id) noexcept;

/// ent, entd and dirty of one account (account_key, entitlement_digest_key, dirty_key), in that
/// order: the heartbeat's keys after the session meta, built in one go.
void entitlement_and_dirty_keys(KeyBuffer& kb, std::string_view account_id) noexcept;

/// `ent:{p<n>}:<id>`: the cached account (entitlement) JSON.
std::string_view account_key(KeyBuffer& kb, std::string_view account_id) noexcept;
/// `entd:{p<n>}:<id>`: the entitlement digest of the cached account (domain/entitlement_digest.hpp),
/// written with it; what a heartbeat reads instead of the account JSON.
std::string_view entitlement_digest_key(KeyBuffer& kb, std::string_view account_id) noexcept;
/// `content:{c:<id>}`: the cached content JSON.
std::string_view content_key(KeyBuffer& kb, std::string_view content_id) noexcept;
/// `content:nf:{c:<id>}`: negative cache for a content the internal API does not know.
std::string_view content_missing_key(KeyBuffer& kb, std::string_view content_id) noexcept;

/// `sm:{p<n>}:<id>:<sid>`: what a session is (profile, content, selection), kept past its lease so
/// a late heartbeat or stop still records progress.
std::string_view session_meta_key(KeyBuffer& kb, std::string_view account_id, std::string_view sid) noexcept;
/// `idem:{p<n>}:<id>:<key>`: an Idempotency-Key's request hash and response.
std::string_view idempotency_key(KeyBuffer& kb, std::string_view account_id, std::string_view key) noexcept;
/// `rl:{p<n>}:<id>:<window>`: start counter of one rate-limit window.
std::string_view rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept;
/// `rlp:{p<n>}:<id>:<window>`: progress-route request counter of one rate-limit window.
std::string_view progress_rate_key(KeyBuffer& kb, std::string_view account_id, std::string_view window) noexcept;
/// `prog:{p<n>}:<id>:<pid>` HASH content → progress value; `cw:{p<n>}:<id>:<pid>` ZSET.
std::string_view progress_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept;
std::string_view continue_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept;
/// `pnf:{p<n>}:<id>:<pid>` HASH content → "1": titles the system of record has no position for
/// (negative cache; short-lived and bounded, see progress_load_lua).
std::string_view progress_missing_key(KeyBuffer& kb, std::string_view account_id, std::string_view pid) noexcept;
/// The same without the profile: `prog:{p<n>}:<id>:` (the flush snapshot appends the pid).
std::string_view progress_prefix(KeyBuffer& kb, std::string_view account_id) noexcept;
/// `dirty:{p<n>}:<id>` HASH "pid/cid" → version not yet confirmed by the internal API.
std::string_view dirty_key(KeyBuffer& kb, std::string_view account_id) noexcept;
/// `progq:{p<n>}`: the write-behind stream of partition @p partition (0 ≤ n < kPartitions).
std::string_view progress_stream_key(KeyBuffer& kb, int partition) noexcept;
/// The same for the partition of the account @p kb last wrote (kb.partition()).
std::string_view progress_stream_key(KeyBuffer& kb) noexcept;
/// `progdue:{p<n>}` ZSET account → when its dirty hash needs the flusher without a marker (a held
/// title's due time; an announced one's marker presumed lost). Same slot as the stream.
std::string_view progress_due_key(KeyBuffer& kb, int partition) noexcept;
/// The same for the partition of the account @p kb last wrote (kb.partition()).
std::string_view progress_due_key(KeyBuffer& kb) noexcept;

}  // namespace moneta::store
