#include "store/redis_failure.hpp"

#include "moneta/core/error.hpp"

namespace moneta::store {

RedisFailure classify_redis_failure(const boost::system::error_code& ec) noexcept {
    using core::Errc;
    if (ec == Errc::kUnavailable || ec == Errc::kConnectFailed) {
        return RedisFailure::kNotSent;
    }
    if (ec == Errc::kTimeout || ec == Errc::kConnectionClosed) {
        return RedisFailure::kNoReply;
    }
    if (ec == Errc::kDeadlineExceeded || ec == Errc::kCancelled) {
        return RedisFailure::kCallerGaveUp;
    }
    if (ec == Errc::kOverloaded) {
        return RedisFailure::kLocalOverload;
    }
    return RedisFailure::kBadAnswer;
}

}  // namespace moneta::store
