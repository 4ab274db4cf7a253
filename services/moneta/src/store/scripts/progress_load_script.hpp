/// @file services/moneta/src/store/scripts/progress_load_script.hpp
/// @brief The load of what the system of record returned, typed (heartbeat_script.hpp has the
/// pattern): each position goes through the same progress guard as a write, without marking
/// anything dirty; the requested ids it had no position for go to the profile's bounded,
/// short-lived negative cache (`pnf:`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/progress.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/progress_stream.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {

struct ProgressLoadArgs {
    std::string_view account_id;
    std::string_view profile_id;
    std::span<const domain::ProgressRecord> records;  ///< what the system of record returned
    /// The content ids asked for (those not in @p records are cached as "no position"). Empty:
    /// the profile's newest titles were asked for, and the load marks the profile loaded ("~cw").
    std::span<const std::string> requested;
    const ProgressSettings& settings;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class ProgressLoadScript : public TypedScript {
public:
    /// KEYS prog, cw, dirty, pnf.
    static constexpr std::size_t kKeys = 4;

    ProgressLoadScript();

    /// Keys and arguments of one call. ARGV progress_ttl_ms, cw_max, marker ("" or "~cw"), n,
    /// pid, missing_ttl_ms, missing_max, max_titles, max_dirty, n × (cid, pos, dur, updated_at,
    /// seq, completed), then the requested content ids without a position. Their number
    /// varies: the arguments and the number texts are in vectors (a cache miss, off the warm
    /// path; the keys are in the fixed buffer). Not copyable: the views point into it.
    class Call : public ScriptCall<kKeys, std::vector<std::string_view>> {
    public:
        explicit Call(const ProgressLoadArgs& a);

    private:
        IntArg ttl_, cwmax_, n_, neg_ttl_, neg_max_, max_titles_, max_dirty_;
        std::vector<std::string> numbers_;  ///< pos, dur, updated_at, seq texts per record
    };

    /// → 1. A script error is kUpstreamError; any other reply counts as loaded, as the store
    /// always read it (it only counts a failed load, and answers from the records anyway).
    static core::Result<void> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
