#include "moneta/redis/config.hpp"

namespace moneta::redis {

core::Result<void> validate(const ClientConfig& c) {
    const bool ok = !c.host.empty() && c.port != 0 && c.database >= 0 &&
                    c.connect_timeout > Duration::zero() && c.command_timeout > Duration::zero() &&
                    c.reconnect_backoff_min > Duration::zero() &&
                    c.reconnect_backoff_min <= c.reconnect_backoff_max && c.max_pending > 0 &&
                    c.stuck_timeout >= Duration::zero() && c.read_buffer_size >= 512 &&
                    (c.username.empty() || !c.password.empty());
    if (!ok) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    return {};
}

}  // namespace moneta::redis
