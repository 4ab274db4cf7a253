/// @file moneta/core/random.hpp
/// @brief Unguessable identifiers (session ids, request ids, span ids) from the kernel CSPRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace moneta::core {

/// Fills @p out from getrandom(2) through a per-thread buffer (one syscall per 4 KiB), so an id
/// costs tens of nanoseconds while staying cryptographically strong.
/// @par Thread safety
/// Safe: the buffer is thread-local.
void secure_random_bytes(std::span<std::uint8_t> out) noexcept;

/// @return a random 64-bit value from the same source.
std::uint64_t secure_random_u64() noexcept;

/// @return @p prefix followed by base64url (no padding) of @p bytes random bytes;
/// e.g. random_id("ps_", 16) → "ps_" + 22 chars, matching the api.md id charset.
std::string random_id(std::string_view prefix, std::size_t bytes);

}  // namespace moneta::core
