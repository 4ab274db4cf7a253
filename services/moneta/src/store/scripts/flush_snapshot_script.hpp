/// @file services/moneta/src/store/scripts/flush_snapshot_script.hpp
/// @brief The write-behind snapshot of one account, typed (heartbeat_script.hpp has the
/// pattern): its due dirty entries with their versions and current values, marked as
/// snapshotted (docs/data.md "Write-behind").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {

struct FlushSnapshotArgs {
    std::string_view account_id;
    std::int64_t due_by_ms = 0;  ///< entries due by then (held ones not yet); huge: all
};

/// One snapshotted entry. Views point into the reply the caller keeps alive.
struct FlushSnapshotEntry {
    std::string_view field;    ///< "pid/cid"
    std::string_view version;  ///< the entry as marked: what the clear compares
    std::string_view value;    ///< the stored progress value; empty: none (vanished)

    static FlushSnapshotEntry read(const redis::ReplyView& r, std::size_t at) noexcept {
        return {r[at].as_string_view(), r[at + 1].as_string_view(), r[at + 2].as_string_view()};
    }
};

/// The decoded reply: its (field, version, value) triples.
using FlushSnapshotReply = ReplyRecords<FlushSnapshotEntry, 3>;

/// @par Thread safety
/// Immutable after construction: share freely.
class FlushSnapshotScript : public TypedScript {
public:
    /// KEYS dirty.
    static constexpr std::size_t kKeys = 1;
    /// ARGV prog_prefix (of the account's progress keys), due_by.
    static constexpr std::size_t kArgs = 2;

    FlushSnapshotScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const FlushSnapshotArgs& a) noexcept;

    private:
        IntArg due_by_;
    };

    /// → {field "pid/cid", version, value or "", ...}. A script error is kUpstreamError; not an
    /// array: kProtocolError.
    static core::Result<FlushSnapshotReply> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
