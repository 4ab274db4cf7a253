/// @file services/moneta/src/store/scripts/continue_watching_script.hpp
/// @brief The continue-watching read, typed (heartbeat_script.hpp has the pattern): a
/// profile's titles newest first with their stored values, and whether the profile was ever
/// loaded from the system of record (the "~cw" marker), in one round trip.
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

struct ContinueWatchingArgs {
    std::string_view account_id;
    std::string_view profile_id;
    std::int64_t limit = 0;
};

/// One title of the reply. Views point into the reply the caller keeps alive.
struct ContinueWatchingEntry {
    std::string_view content_id;
    std::string_view value;  ///< the stored progress value (domain::decode_progress_value)

    static ContinueWatchingEntry read(const redis::ReplyView& r, std::size_t at) noexcept {
        return {r[at].as_string_view(), r[at + 1].as_string_view()};
    }
};

/// The decoded reply {marker, cid, value, ...}: the (cid, value) pairs after the marker, newest
/// title first.
struct ContinueWatchingReply : ReplyRecords<ContinueWatchingEntry, 2> {
    ContinueWatchingReply(const redis::ReplyView& r, bool has_marker) noexcept
        : ReplyRecords(r, 1), loaded(has_marker) {}

    bool loaded = false;  ///< the profile's "~cw" marker: its newest titles were loaded once
};

/// @par Thread safety
/// Immutable after construction: share freely.
class ContinueWatchingScript : public TypedScript {
public:
    /// KEYS prog, cw.
    static constexpr std::size_t kKeys = 2;
    /// ARGV limit.
    static constexpr std::size_t kArgs = 1;

    ContinueWatchingScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const ContinueWatchingArgs& a) noexcept;

    private:
        IntArg limit_;
    };

    /// → {has "~cw" marker 0/1, cid, value, ...} newest first. A script error is
    /// kUpstreamError; not an array of at least the marker: kProtocolError.
    static core::Result<ContinueWatchingReply> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
