/// @file krl_serials.hpp (private)
/// @brief The smallest encoding of a set of revoked serials as KRL certificate subsections
/// (PROTOCOL.krl §2.1-2.3: lists, ranges, bitmaps).
#pragma once

#include <cstdint>
#include <vector>

#include "wire.hpp"

namespace moneta::sshcert::detail {

inline constexpr std::uint8_t kKrlSerialList = 0x20;
inline constexpr std::uint8_t kKrlSerialRange = 0x21;
inline constexpr std::uint8_t kKrlSerialBitmap = 0x22;

/// Appends subsections (byte type, string data) revoking exactly @p serials (sorted, unique,
/// none zero) to @p out. Deterministic: the same set gives the same bytes.
void write_serial_sections(const std::vector<std::uint64_t>& serials, wire::Writer& out);

}  // namespace moneta::sshcert::detail
