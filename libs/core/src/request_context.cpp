#include "moneta/core/request_context.hpp"

#include <array>

#include "moneta/core/hex.hpp"
#include "moneta/core/random.hpp"

namespace moneta::core {

bool is_valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string new_request_id() {
    std::array<std::uint8_t, 16> b{};
    secure_random_bytes(b);
    return to_hex(b);
}

std::optional<std::chrono::milliseconds> parse_timeout_ms(std::string_view v) noexcept {
    constexpr std::int64_t kMax = 600'000;
    if (v.empty() || v.size() > 6) {
        return std::nullopt;
    }
    std::int64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n * 10 + (c - '0');
    }
    if (n < 1 || n > kMax) {
        return std::nullopt;
    }
    return std::chrono::milliseconds{n};
}

}  // namespace moneta::core
