/// @file moneta/core/error.hpp
/// @brief Project-wide error codes for the data path (no exceptions there; see docs/STYLE.md).
#pragma once

#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace moneta::core {

/// Transport- and dependency-level failures shared by every library. Domain failures (e.g.
/// STREAM_LIMIT_REACHED) live in the service's domain layer, not here.
enum class Errc {
    kOk = 0,
    kTimeout,            ///< a per-call timeout fired
    kDeadlineExceeded,   ///< the request deadline passed (before or during the call)
    kCancelled,          ///< cancelled by the caller or by shutdown
    kConnectFailed,      ///< could not establish a connection
    kConnectionClosed,   ///< peer closed or reset the connection mid-call
    kProtocolError,      ///< peer sent bytes we cannot parse
    kOverloaded,         ///< a local bound (queue, pool, permits) is full
    kNotFound,           ///< the thing asked for does not exist
    kInvalidArgument,    ///< caller passed something malformed
    kUpstreamError,      ///< dependency answered with an error (5xx, Redis error reply)
    kUnavailable,        ///< dependency known to be down (not connected, breaker open)
    kInternal,           ///< a bug: never expected on a healthy system
};

/// The category of Errc values.
const boost::system::error_category& error_category() noexcept;

/// Lets `boost::system::error_code ec = Errc::kTimeout;` work.
boost::system::error_code make_error_code(Errc e) noexcept;

/// Short stable name ("timeout"), usable as a metric label.
std::string_view errc_name(Errc e) noexcept;

}  // namespace moneta::core

template <>
struct boost::system::is_error_code_enum<moneta::core::Errc> : std::true_type {};
