#include "moneta/jwt/hmac_sha256.hpp"

#include <openssl/crypto.h>

namespace moneta::jwt {

HmacSha256Key::HmacSha256Key(std::string_view secret) noexcept {
    constexpr std::size_t kBlock = SHA256_CBLOCK;  // 64
    unsigned char key[kBlock] = {};
    if (secret.size() > kBlock) {
        SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), key);  // RFC 2104 §2
    } else {
        for (std::size_t i = 0; i < secret.size(); ++i) {
            key[i] = static_cast<unsigned char>(secret[i]);
        }
    }
    unsigned char ipad[kBlock];
    unsigned char opad[kBlock];
    for (std::size_t i = 0; i < kBlock; ++i) {
        ipad[i] = key[i] ^ 0x36;
        opad[i] = key[i] ^ 0x5c;
    }
    SHA256_Init(&inner_);
    SHA256_Update(&inner_, ipad, kBlock);
    SHA256_Init(&outer_);
    SHA256_Update(&outer_, opad, kBlock);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
}

HmacSha256Key::Mac HmacSha256Key::mac(std::string_view message) const noexcept {
    Mac inner_hash;
    Mac out;
    SHA256_CTX ctx = inner_;
    SHA256_Update(&ctx, message.data(), message.size());
    SHA256_Final(inner_hash.data(), &ctx);
    ctx = outer_;
    SHA256_Update(&ctx, inner_hash.data(), inner_hash.size());
    SHA256_Final(out.data(), &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    return out;
}

bool HmacSha256Key::verify(std::string_view message, std::string_view signature) const noexcept {
    if (signature.size() != SHA256_DIGEST_LENGTH) {
        return false;
    }
    const Mac m = mac(message);
    return CRYPTO_memcmp(m.data(), signature.data(), m.size()) == 0;
}

}  // namespace moneta::jwt
