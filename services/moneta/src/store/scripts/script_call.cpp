#include "store/scripts/script_call.hpp"


namespace moneta::store {

boost::asio::awaitable<core::Result<redis::Reply>> eval_script(
    redis::Commands& redis,
    const redis::Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline
) {
    return redis.async_eval(script, redis::CommandArgs(keys), redis::CommandArgs(args), deadline);
}

boost::system::error_code array_reply_error(
    const redis::ReplyView& r, std::size_t min_size
) noexcept {
    if (r.is_error()) {
        return core::make_error(core::Errc::kUpstreamError);
    }
    if (!r.is_array() || r.size() < min_size) {
        return core::make_error(core::Errc::kProtocolError);
    }
    return {};
}

SecondsArg::SecondsArg(double v) noexcept : len_(domain::write_double(buf_, v)) {}

}  // namespace moneta::store
