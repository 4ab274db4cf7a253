/// @file services/moneta/src/progress/batch_split.hpp
/// @brief Isolating the positions the internal API refuses inside a batch upsert, so one bad
/// title cannot stall every account flushed with it (issue 10). Pure: the flusher makes the calls
/// and reports each answer; this decides what to send next.
///
/// A call refused with a 4xx that blames the items (item_rejection) is split and its pieces are
/// sent again, until every refused item stands alone: those are quarantined, the rest is
/// confirmed. Pieces fall on account boundaries first (the median account of the range), so the
/// accounts that share a call with a bad one are cleared of suspicion before any time is spent
/// inside the bad account; a range of one account is cut at its middle item. When the API names
/// the item it refused (`error.details.index`), that item is tried alone first and the rest in at
/// most two pieces; a name that proves wrong (the item alone is accepted) stops the use of names
/// for the rest of the flush, so a misleading API costs one call, not a linear scan.
///
/// Cost: a batch of n items with k refused ones takes O(k log n) extra calls. Both pieces of a
/// refused range are sent before either is split again (their good items are confirmed at once),
/// and refused pieces are then split depth first, so the first refused item stands alone after at
/// most 2 × (⌈log2 accounts⌉ + ⌈log2 items of one account⌉) + 1 calls: with the minimum
/// `split_calls_max` (kMinSplitCalls) every flush quarantines at least one item of a batch that
/// has any. Calls beyond `split_calls_max` are not made: what is left unresolved stays dirty and
/// its accounts' markers stay pending for the next flush.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::progress {

/// Why the internal API refused a call, when the refusal is about the items sent.
struct Rejection {
    int status = 0;
    /// The API's `error.code` ("UNKNOWN_CONTENT"): letters, digits and '_' only, at most 64
    /// characters; "" when the body has none (or anything else there).
    std::string code;
    /// `error.details.index`: the item of the call the API named, when it named one.
    std::optional<std::size_t> index;
};

/// The refusals that blame the items: 400, 413 and 422. Nothing else is split: 401/403 (our
/// token), 404/405 (our route), 408 and 429 (time, load), 409 and any other 4xx say nothing about
/// one item, and splitting because of them would quarantine good positions; 5xx, transport
/// errors and a 200 without "applied" are retried whole as before. nullopt when @p status is not
/// one of the three.
std::optional<Rejection> item_rejection(int status, std::string_view body);

/// Enough split calls for any batch of ≤ 1000 items to isolate its first refused item
/// (2 × (10 + 10) + 1 rounded up): the floor of `progress.split_calls_max`.
inline constexpr std::size_t kMinSplitCalls = 48;

struct Range {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t size() const noexcept { return end - begin; }
    friend bool operator==(const Range&, const Range&) = default;
};

enum class ItemState : std::uint8_t {
    kPending,      ///< not confirmed, not quarantined: stays dirty for the next flush
    kAccepted,     ///< in a call answered 200 {"applied"}
    kQuarantined,  ///< refused alone
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class BatchSplitter {
public:
    /// @param group_of        the account (any number) of each item, non-decreasing: the items
    ///                        of one account are adjacent
    /// @param max_per_call    items per call (the internal API's batch limit)
    /// @param split_calls_max calls made beyond the first ones (one per max_per_call items)
    BatchSplitter(std::vector<std::size_t> group_of, std::size_t max_per_call, std::size_t split_calls_max);

    /// The items to send next, or nullopt when every item is resolved or the budget is spent.
    std::optional<Range> next();
    /// The call for @p r was answered 200 {"applied"}.
    void accepted(Range r);
    /// The call for @p r was refused for its items.
    void rejected(Range r, Rejection why);

    ItemState state(std::size_t item) const { return states_[item]; }
    /// Why @p item was quarantined (only meaningful for kQuarantined items).
    const Rejection& rejection(std::size_t item) const;
    std::size_t split_calls() const noexcept { return split_calls_; }
    /// True when next() stopped because split_calls_max was reached with items unresolved.
    bool exhausted() const noexcept { return exhausted_; }

private:
    struct ToSend {
        Range range;
        bool split = false;   ///< counted against the budget (not one of the first calls)
        bool named = false;   ///< the single item the API named
    };
    struct Refused {
        Range range;
        Rejection why;
    };

    void expand(const Refused& r);
    std::size_t cut(Range r) const;

    std::vector<std::size_t> group_of_;
    std::size_t split_calls_max_;
    std::vector<ItemState> states_;
    std::vector<std::optional<Rejection>> why_;  ///< per item, set when quarantined
    std::deque<ToSend> to_send_;
    std::vector<Refused> refused_;  ///< a stack: depth first
    std::vector<Range> named_;      ///< singles sent because the API named them, not yet answered
    std::size_t split_calls_ = 0;
    bool trust_names_ = true;
    bool exhausted_ = false;
};

}  // namespace moneta::progress
