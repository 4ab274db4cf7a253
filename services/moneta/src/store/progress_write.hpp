/// @file services/moneta/src/store/progress_write.hpp
/// @brief The progress guard's answer to one write (session_lua.cpp `put_progress`).
#pragma once

#include <cstdint>
#include <optional>

namespace moneta::store {

/// Progress outcome of a write (the Lua guard's answer).
enum class ProgressWrite : std::int8_t {
    kUnknownSession = -1,  ///< no session meta (never existed, or older than LeaseSettings::meta)
    kStale = 0,            ///< a newer write is stored
    kApplied = 1,
    kZeroKept = 2,         ///< a zero position did not replace a non-zero one
    /// Not stored: a per-account bound (ProgressSettings::max_titles_per_profile /
    /// max_dirty_per_account) is reached until the write-behind catches up.
    kCapped = 3,
};

/// The script's integer code (anything else: kUnknownSession).
constexpr ProgressWrite to_progress_write(std::optional<std::int64_t> v) noexcept {
    switch (v.value_or(-1)) {
        case 0: return ProgressWrite::kStale;
        case 1: return ProgressWrite::kApplied;
        case 2: return ProgressWrite::kZeroKept;
        case 3: return ProgressWrite::kCapped;
        default: return ProgressWrite::kUnknownSession;
    }
}

}  // namespace moneta::store
