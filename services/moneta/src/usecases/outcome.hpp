/// @file services/moneta/src/usecases/outcome.hpp
/// @brief What a use case answers: its success value, or a refusal the api.md error table
/// names, or a store/upstream failure the handler maps (handlers/http_util: store_error,
/// upstream_error). No HTTP here: a handler turns an Outcome into a response.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <variant>

#include "domain/api_error.hpp"
#include "moneta/jwt/claims.hpp"

namespace moneta::usecases {

/// An api.md error answer. `details` is the error's details JSON ("{}": none; short, so the
/// common refusals stay within the string's inline storage).
struct Refused {
    domain::ApiError error = domain::ApiError::kInternal;
    std::string details = "{}";
    int retry_after_sec = 1;  ///< sent on 429/503/504 only
};

/// Redis failed on a session/progress operation (and no fallback applied): store_error(ec).
struct StoreFailed {
    boost::system::error_code ec;
};

/// The internal API failed on a miss: upstream_error(ec).
struct UpstreamFailed {
    boost::system::error_code ec;
};

template <class T>
using Outcome = std::variant<T, Refused, StoreFailed, UpstreamFailed>;

/// The verified caller (token `sub` and `pid`), owned: a command outlives the handler's stack
/// frame (it is moved into the use case's coroutine), and ClaimString copies without a heap
/// allocation.
struct Caller {
    jwt::ClaimString account_id;
    jwt::ClaimString profile_id;  ///< empty for calls that do not need one
};

}  // namespace moneta::usecases
