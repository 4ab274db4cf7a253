#include "moneta/redis/script.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>
#include <utility>

#include "moneta/core/assert.hpp"
#include "moneta/core/hex.hpp"

namespace moneta::redis {

Script::Script(std::string source) : source_(std::move(source)) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    const int ok = EVP_Digest(source_.data(), source_.size(), digest.data(), &len, EVP_sha1(), nullptr);
    MONETA_RELEASE_ASSERT(ok == 1 && len == 20, "SHA1 unavailable in OpenSSL");
    sha1_ = core::to_hex(std::span<const std::uint8_t>(digest.data(), len));
    evalsha_head_ = "$7\r\nEVALSHA\r\n$40\r\n" + sha1_ + "\r\n";
}

}  // namespace moneta::redis
