/// @file services/moneta/src/store/scripts/script_call.hpp
/// @brief What the typed scripts are built from: the compiled source (TypedScript), the keys and
/// arguments of one call (ScriptCall; integers and seconds formatted on the stack by IntArg and
/// SecondsArg), the checks every reply decoder starts with (array_reply_error), and
/// eval_script. Each script is typed in its own store/scripts/<name>_script.hpp (argument
/// struct, Call, Lua source, decode()); the store or flusher that runs a script holds it as a
/// member. Single calls (`async_eval`) and pipelines (`Pipeline::add_eval`) recover NOSCRIPT in
/// libs/redis (docs/redis_client.md).
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/json_writer.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/command_args.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"

namespace moneta::store {

/// Decimal text of an integer in a small stack buffer (Redis arguments are strings).
using IntArg = redis::IntArg;

/// Shortest round-trip decimal text of a position or duration in seconds (as
/// domain::format_seconds, without its std::string: domain::write_double) in a small stack buffer.
class SecondsArg {
public:
    explicit SecondsArg(double v) noexcept;
    std::string_view view() const noexcept { return {buf_, len_}; }

private:
    char buf_[domain::kDoubleChars];
    std::size_t len_ = 0;
};

/// The compiled source a typed script holds: its SHA1 is computed once, when the owner (a
/// store, the flusher) builds the script.
/// @par Thread safety
/// Immutable after construction: share freely.
class TypedScript {
public:
    const redis::Script& script() const noexcept { return script_; }

protected:
    explicit TypedScript(std::string source) : script_(std::move(source)) {}

private:
    redis::Script script_;
};

/// The keys and arguments of one call of a script: the first @p NKeys keys of a KeyBuffer and
/// @p Args, a `std::array<std::string_view, n>` (FixedCall: nothing on the heap) or, for the
/// scripts whose number of arguments varies, a contiguous vector of `std::string_view`. A script's
/// `Call` derives from it, fills both in its constructor and holds what the views point to, so
/// it is not copyable.
template <std::size_t NKeys, class Args>
class ScriptCall {
public:
    ScriptCall(const ScriptCall&) = delete;
    ScriptCall& operator=(const ScriptCall&) = delete;
    std::span<const std::string_view> keys() const noexcept { return {keys_.data(), NKeys}; }
    std::span<const std::string_view> args() const noexcept { return {args_.data(), args_.size()}; }

protected:
    ScriptCall() = default;
    ~ScriptCall() = default;

    KeyBuffer keys_;
    Args args_{};
};

template <std::size_t NKeys, std::size_t NArgs>
using FixedCall = ScriptCall<NKeys, std::array<std::string_view, NArgs>>;

/// The fixed-width records of an array reply, from element @p from on: `Width` elements each,
/// an incomplete trailing record is not one. `Entry::read(reply, at)` makes record i from the
/// elements at `at = from + Width * i`; its views point into the reply the caller keeps alive.
/// (The list of leases, continue-watching titles, flush snapshot entries: one index rule.)
template <class Entry, std::size_t Width>
class ReplyRecords {
public:
    ReplyRecords() noexcept = default;
    ReplyRecords(const redis::ReplyView& r, std::size_t from) noexcept : r_(r), from_(from) {}

    std::size_t size() const noexcept { return r_.size() > from_ ? (r_.size() - from_) / Width : 0; }
    Entry operator[](std::size_t i) const noexcept { return Entry::read(r_, from_ + Width * i); }

private:
    redis::ReplyView r_;
    std::size_t from_ = 0;
};

/// What a reply decoder answers for a reply that is not an array of at least @p min_size: a
/// script error is a bug or a key of the wrong type (kUpstreamError), another shape is not this
/// script's (kProtocolError). Empty (false) when it is one.
boost::system::error_code array_reply_error(
    const redis::ReplyView& r, std::size_t min_size = 0
) noexcept;

/// `redis.async_eval(script, keys, args, deadline)`, with the call built outside the calling
/// coroutine. Why: a direct call's two CommandArgs temporaries (288 bytes each) live in the
/// caller's coroutine frame for the whole call and pushed the store calls' frames past the
/// 1,020 bytes Asio recycles: one malloc per Redis call. A CommandArgs made from a span only
/// views the span's elements; the caller keeps those alive until the call returns.
boost::asio::awaitable<core::Result<redis::Reply>> eval_script(
    redis::Commands& redis,
    const redis::Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline
);

}  // namespace moneta::store
