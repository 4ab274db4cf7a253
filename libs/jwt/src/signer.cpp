#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "moneta/jwt/verifier.hpp"

namespace moneta::jwt {
namespace {

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string der_to_es256_raw(const unsigned char* der, std::size_t len) {
    const unsigned char* p = der;
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    if (sig == nullptr) {
        return {};
    }
    std::string out(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return out;
}

}  // namespace

Signer::Signer(Signer&& o) noexcept
    : alg_(std::move(o.alg_)), kid_(std::move(o.kid_)), secret_(std::move(o.secret_)), pkey_(o.pkey_) {
    o.pkey_ = nullptr;
}

Signer& Signer::operator=(Signer&& o) noexcept {
    if (this != &o) {
        EVP_PKEY_free(as_pkey(pkey_));
        alg_ = std::move(o.alg_);
        kid_ = std::move(o.kid_);
        secret_ = std::move(o.secret_);
        pkey_ = o.pkey_;
        o.pkey_ = nullptr;
    }
    return *this;
}

Signer::~Signer() { EVP_PKEY_free(as_pkey(pkey_)); }

boost::system::result<Signer, std::string> Signer::hs256(std::string kid, std::string secret) {
    if (secret.empty()) {
        return std::string("empty HS256 secret");
    }
    Signer s;
    s.alg_ = "HS256";
    s.kid_ = std::move(kid);
    s.secret_ = std::move(secret);
    return s;
}

boost::system::result<Signer, std::string> Signer::from_private_pem(std::string alg, std::string kid,
                                                                    std::string_view pem) {
    if (alg != "RS256" && alg != "ES256") {
        return std::string("alg must be RS256 or ES256");
    }
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (pkey == nullptr) {
        return std::string("not a PEM private key");
    }
    Signer s;
    s.alg_ = std::move(alg);
    s.kid_ = std::move(kid);
    s.pkey_ = pkey;
    return s;
}

std::string Signer::sign(std::string_view payload_json) const {
    std::string header = R"({"alg":")" + alg_ + R"(","typ":"JWT")";
    if (!kid_.empty()) {
        header += R"(,"kid":")" + kid_ + "\"";
    }
    header += "}";
    std::string input = base64url_encode(header);
    input += '.';
    input += base64url_encode(payload_json);
    std::string sig;
    if (alg_ == "HS256") {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
        sig.assign(reinterpret_cast<char*>(mac), len);
    } else {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, as_pkey(pkey_));
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        std::string der(len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        EVP_MD_CTX_free(ctx);
        der.resize(len);
        sig = alg_ == "ES256" ? der_to_es256_raw(reinterpret_cast<const unsigned char*>(der.data()),
                                                 der.size())
                              : der;
    }
    input += '.';
    input += base64url_encode(sig);
    return input;
}

}  // namespace moneta::jwt
