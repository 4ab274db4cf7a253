/// @file moneta/core/request_context.hpp
/// @brief What every inbound request carries through the call chain, passed explicitly.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "moneta/core/deadline.hpp"
#include "moneta/core/trace_context.hpp"

namespace moneta::core {

struct RequestContext {
    std::string request_id;  ///< from a valid inbound X-Request-Id, else generated
    TraceContext trace;      ///< our server span (child of the inbound parent, or a new root)
    std::optional<TraceContext> parent;  ///< the inbound parent, when one was sent
    Deadline deadline;       ///< min(server default, inbound X-Request-Timeout-Ms)
    /// The inbound `tracestate` when valid (TraceContext::valid_tracestate) and a parent was
    /// sent, else empty; passed on unchanged to outbound calls. Last, so aggregate
    /// initializers of the fields above still compile.
    std::string tracestate;
};

/// True when @p id is safe to log and echo: 1..128 chars of [A-Za-z0-9._:-].
bool is_valid_request_id(std::string_view id) noexcept;

/// A new request id (32 hex chars).
std::string new_request_id();

/// Parses X-Request-Timeout-Ms: 1..600000 decimal digits only; nullopt otherwise.
std::optional<std::chrono::milliseconds> parse_timeout_ms(std::string_view v) noexcept;

}  // namespace moneta::core
