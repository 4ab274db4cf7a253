#include "store/scripts.hpp"

#include <array>
#include <charconv>

#include "moneta/core/assert.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {

const Scripts& Scripts::get() {
    static const Scripts scripts{
        redis::Script(session_start_lua()),      redis::Script(session_list_lua()),
        redis::Script(session_kick_lua()),
        redis::Script(progress_load_lua()),      redis::Script(continue_watching_lua()),
        redis::Script(flush_snapshot_lua()),     redis::Script(flush_clear_lua()),
        redis::Script(due_take_lua()),
    };
    return scripts;
}

boost::asio::awaitable<core::Result<redis::Reply>> eval_script(redis::Commands& redis,
                                                               const redis::Script& script,
                                                               std::span<const std::string_view> keys,
                                                               std::span<const std::string_view> args,
                                                               core::Deadline deadline) {
    return redis.async_eval(script, redis::CommandArgs(keys), redis::CommandArgs(args), deadline);
}

IntArg::IntArg(std::int64_t v) noexcept {
    const auto r = std::to_chars(buf_, buf_ + sizeof buf_, v);
    len_ = static_cast<std::size_t>(r.ptr - buf_);
}

SecondsArg::SecondsArg(double v) noexcept {
    const auto r = std::to_chars(buf_, buf_ + sizeof buf_, v);
    len_ = static_cast<std::size_t>(r.ptr - buf_);
}

}  // namespace moneta::store
