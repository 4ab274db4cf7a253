#include "store/scripts.hpp"

#include <array>
#include <charconv>

#include "moneta/core/assert.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {

const Scripts& Scripts::get() {
    static const Scripts scripts{
        redis::Script(session_start_lua()),      redis::Script(session_heartbeat_lua()),
        redis::Script(session_stop_lua()),       redis::Script(session_list_lua()),
        redis::Script(session_kick_lua()),       redis::Script(progress_put_lua()),
        redis::Script(progress_load_lua()),      redis::Script(continue_watching_lua()),
        redis::Script(flush_snapshot_lua()),     redis::Script(flush_clear_lua()),
    };
    return scripts;
}

IntArg::IntArg(std::int64_t v) noexcept {
    const auto r = std::to_chars(buf_, buf_ + sizeof buf_, v);
    len_ = static_cast<std::size_t>(r.ptr - buf_);
}

void add_evalsha(redis::Pipeline& p, const redis::Script& script, std::span<const std::string_view> keys,
                 std::span<const std::string_view> args) {
    std::vector<std::string_view> argv;
    argv.reserve(3 + keys.size() + args.size());
    const IntArg nkeys(static_cast<std::int64_t>(keys.size()));
    argv.push_back("EVALSHA");
    argv.push_back(script.sha1());
    argv.push_back(nkeys.view());
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    p.add(argv);  // encoded now: the views need not outlive this call
}

boost::asio::awaitable<core::Result<std::vector<redis::Reply>>> async_run_scripted(
    redis::Commands& redis, const redis::Pipeline& p, std::span<const redis::Script* const> scripts,
    core::Deadline deadline) {
    auto replies = co_await redis.async_pipeline(p, deadline);
    if (!replies) {
        co_return replies;
    }
    bool missing = false;
    for (const redis::Reply& r : *replies) {
        missing = missing || r.is_error_with_prefix("NOSCRIPT");
    }
    if (!missing) {
        co_return replies;
    }
    redis::Pipeline load;
    for (const redis::Script* s : scripts) {
        load.add({"SCRIPT", "LOAD", s->source()});
    }
    auto loaded = co_await redis.async_pipeline(load, deadline);
    if (!loaded) {
        co_return loaded.error();
    }
    co_return co_await redis.async_pipeline(p, deadline);
}

}  // namespace moneta::store
