#include "domain/session_id.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <span>

#include "moneta/core/base64.hpp"
#include "moneta/core/random.hpp"

namespace moneta::domain {
namespace {

constexpr std::string_view kPrefix = "ps_";

/// @p key, or 32 random bytes when it is empty (ids valid for this process only).
std::string key_or_random(std::string_view key) {
    if (!key.empty()) {
        return std::string(key);
    }
    std::array<std::uint8_t, 32> k{};
    core::secure_random_bytes(k);
    return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

}  // namespace

SessionIdSigner::SessionIdSigner(std::string_view key) : key_(key_or_random(key)) {}

void SessionIdSigner::mac(std::string_view account_id, const std::uint8_t* random, std::uint8_t* out) const noexcept {
    // account ‖ 0x00 ‖ random: ids are [A-Za-z0-9_-], so the separator keeps the message unambiguous.
    std::array<std::uint8_t, 64 + 1 + kRandomBytes> msg{};
    const std::size_t n = std::min(account_id.size(), std::size_t{64});
    std::copy_n(account_id.data(), n, msg.data());
    msg[n] = 0;
    std::copy_n(random, kRandomBytes, msg.data() + n + 1);
    const jwt::HmacSha256Key::Mac full =
        key_.mac(std::string_view(reinterpret_cast<const char*>(msg.data()), n + 1 + kRandomBytes));
    std::copy_n(full.data(), kMacBytes, out);
}

std::string SessionIdSigner::mint(std::string_view account_id, std::size_t spare_capacity) const {
    std::array<std::uint8_t, kRandomBytes + kMacBytes> raw{};
    core::secure_random_bytes(std::span(raw.data(), kRandomBytes));
    mac(account_id, raw.data(), raw.data() + kRandomBytes);
    std::string id;
    id.reserve(kPrefix.size() + kEncoded + spare_capacity);
    id.append(kPrefix);
    core::append_base64url(id, std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    return id;
}

bool SessionIdSigner::minted_for(std::string_view account_id, std::string_view session_id) const {
    if (account_id.size() > 64 || session_id.size() != kPrefix.size() + kEncoded ||
        session_id.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    const auto raw = core::base64url_decode(session_id.substr(kPrefix.size()));
    if (!raw || raw->size() != kRandomBytes + kMacBytes) {
        return false;
    }
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(raw->data());
    std::array<std::uint8_t, kMacBytes> expected{};
    mac(account_id, bytes, expected.data());
    return CRYPTO_memcmp(expected.data(), bytes + kRandomBytes, kMacBytes) == 0;
}

}  // namespace moneta::domain
