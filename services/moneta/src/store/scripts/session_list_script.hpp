/// @file services/moneta/src/store/scripts/session_list_script.hpp
/// @brief The session list script, typed (heartbeat_script.hpp has the pattern): prunes the
/// expired leases of an account and answers the live ones. Also LeaseList, the (session id,
/// info JSON, expiry) triples that the list and a denied start answer.
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

/// One lease of a LeaseList. Views point into the reply the caller keeps alive.
struct LeaseEntry {
    std::string_view session_id;
    std::string_view info_json;      ///< "{}" when the session info is gone
    std::int64_t expires_at_ms = 0;  ///< the lease score: last_seen + lease

    static LeaseEntry read(const redis::ReplyView& r, std::size_t at) noexcept {
        return {r[at].as_string_view(), r[at + 1].as_string_view(), r[at + 2].to_int64().value_or(0)};
    }
};

/// The leases `append_leases` (session_lua.cpp) writes: (session id, info JSON, expiry) triples.
using LeaseList = ReplyRecords<LeaseEntry, 3>;

struct SessionListArgs {
    std::string_view account_id;
    std::int64_t now_ms = 0;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class SessionListScript : public TypedScript {
public:
    /// KEYS lease, sess, dev, evict.
    static constexpr std::size_t kKeys = 4;
    /// ARGV now.
    static constexpr std::size_t kArgs = 1;

    SessionListScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const SessionListArgs& a) noexcept;

    private:
        IntArg now_;
    };

    /// The live leases. Script error: kUpstreamError; not an array: kProtocolError.
    static core::Result<LeaseList> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
