#include "test_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace moneta::cdn::testing {
namespace {

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

}  // namespace

PkeyPtr generate_rsa(unsigned bits) { return PkeyPtr(EVP_RSA_gen(bits), &EVP_PKEY_free); }

const PkeyPtr& shared_rsa_2048() {
    static const PkeyPtr key = generate_rsa(2048);
    return key;
}

std::string private_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    return bio_text(bio);
}

std::string encrypted_private_pem(EVP_PKEY* key, const char* passphrase) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(
        bio,
        key,
        EVP_aes_256_cbc(),
        passphrase,
        static_cast<int>(std::string_view(passphrase).size()),
        nullptr,
        nullptr
    );
    return bio_text(bio);
}

PkeyPtr public_only(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return PkeyPtr(pub, &EVP_PKEY_free);
}

bool verify_sha1(EVP_PKEY* public_key, std::string_view data, std::string_view signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha1(), nullptr, public_key) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
              EVP_DigestVerify(
                  ctx,
                  reinterpret_cast<const unsigned char*>(signature.data()),
                  signature.size(),
                  reinterpret_cast<const unsigned char*>(data.data()),
                  data.size()
              ) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::string hmac_sha256_hex(std::string_view key_hex, std::string_view data) {
    long key_len = 0;
    unsigned char* key = OPENSSL_hexstr2buf(std::string(key_hex).c_str(), &key_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(
        EVP_sha256(),
        key,
        static_cast<int>(key_len),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size(),
        mac,
        &mac_len
    );
    OPENSSL_free(key);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < mac_len; ++i) {
        out.push_back(kHex[mac[i] >> 4U]);
        out.push_back(kHex[mac[i] & 0x0FU]);
    }
    return out;
}

std::optional<std::string> between(
    std::string_view s, std::string_view begin, std::string_view end
) {
    const std::size_t b = s.find(begin);
    if (b == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t from = b + begin.size();
    const std::size_t e = end.empty() ? std::string_view::npos : s.find(end, from);
    return std::string(s.substr(from, e == std::string_view::npos ? s.size() - from : e - from));
}

}  // namespace moneta::cdn::testing
