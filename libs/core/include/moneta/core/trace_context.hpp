/// @file moneta/core/trace_context.hpp
/// @brief W3C Trace Context (`traceparent`) parse/format; also accepts `elastic-apm-traceparent`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moneta::core {

/// The ids of one position in a distributed trace.
struct TraceContext {
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> span_id{};  ///< the span that this context names
    std::uint8_t flags = 0;                 ///< bit 0: sampled

    /// Parses a `traceparent` value per W3C Trace Context level 1: version 00 exactly
    /// (`00-<32 hex>-<16 hex>-<2 hex>`), higher versions by their first four fields; rejects
    /// version ff, upper-case hex, all-zero ids and wrong lengths.
    static std::optional<TraceContext> parse(std::string_view traceparent) noexcept;

    /// A new trace with random ids (sampled flag as given).
    static TraceContext new_root(bool sampled) noexcept;

    /// The same trace with a fresh span id (for a child span or an outbound call).
    TraceContext child() const noexcept;

    /// The longest `tracestate` we pass on (W3C: at least 512 chars must be propagated).
    static constexpr std::size_t kMaxTracestate = 512;

    /// True when @p v is a `tracestate` we pass on unchanged: at most kMaxTracestate chars, at
    /// most 32 list members (empty ones allowed), each `key=value` with the W3C key grammar
    /// (`lcalpha *(lcalpha / digit / _ - * /)` up to 256, or `tenant@system`) and value
    /// (1..256 printable ASCII chars other than `,` and `=`, not ending in a space), no
    /// duplicate key. Anything else is dropped, never repaired.
    static bool valid_tracestate(std::string_view v) noexcept;

    bool sampled() const noexcept { return (flags & 1U) != 0; }
    std::string trace_id_hex() const;
    std::string span_id_hex() const;
    /// "00-<trace>-<span>-<flags>".
    std::string to_traceparent() const;
};

}  // namespace moneta::core
