#include "signer.hpp"

#include <openssl/err.h>

#include "key_codec.hpp"

namespace moneta::sshcert::detail {
namespace {

/// The digest of @p type's signatures (Ed25519 has its own: nullptr).
const EVP_MD* digest_for(KeyType type, RsaHash rsa_hash) noexcept {
    switch (type) {
        case KeyType::kEd25519: return nullptr;
        case KeyType::kEcdsaP256: return EVP_sha256();
        case KeyType::kEcdsaP384: return EVP_sha384();
        case KeyType::kEcdsaP521: return EVP_sha512();
        case KeyType::kRsa: return rsa_hash == RsaHash::kSha256 ? EVP_sha256() : EVP_sha512();
    }
    return nullptr;
}

const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

/// The big-endian magnitude of @p bn.
std::string magnitude(const BIGNUM* bn) {
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

/// ECDSA's DER signature → the SSH form `mpint r, mpint s`.
std::optional<std::string> ecdsa_der_to_ssh(std::string_view der) {
    const unsigned char* p = bytes(der);
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) {
        return std::nullopt;
    }
    wire::Writer out;
    out.put_mpint(magnitude(ECDSA_SIG_get0_r(sig.get())));
    out.put_mpint(magnitude(ECDSA_SIG_get0_s(sig.get())));
    return std::move(out).take();
}

/// The SSH form `mpint r, mpint s` → DER (nullopt when it does not parse).
std::optional<std::string> ecdsa_ssh_to_der(std::string_view ssh) {
    wire::Reader in(ssh);
    const auto r = in.get_mpint();
    const auto s = r ? in.get_mpint() : std::nullopt;
    if (!s || !in.empty()) {
        return std::nullopt;
    }
    EcdsaSigPtr sig(ECDSA_SIG_new());
    BIGNUM* bn_r = BN_bin2bn(bytes(*r), static_cast<int>(r->size()), nullptr);
    BIGNUM* bn_s = BN_bin2bn(bytes(*s), static_cast<int>(s->size()), nullptr);
    if (!sig || !bn_r || !bn_s || ECDSA_SIG_set0(sig.get(), bn_r, bn_s) != 1) {
        BN_free(bn_r);
        BN_free(bn_s);
        return std::nullopt;
    }
    const int n = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (n <= 0) {
        return std::nullopt;
    }
    std::string der(static_cast<std::size_t>(n), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &p);
    return der;
}

}  // namespace

Result<std::string> sign(const CaKey& ca, std::string_view data) {
    EVP_PKEY* pkey = CaKeyAccess::pkey(ca);
    const KeyType type = ca.public_key().type();
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(type, ca.rsa_hash()), nullptr, pkey) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) != 1) {
        return fail(Errc::kCrypto, "signing failed");
    }
    std::string raw(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(raw.data()), &len, bytes(data), data.size()) != 1) {
        return fail(Errc::kCrypto, "signing failed");
    }
    raw.resize(len);
    if (type == KeyType::kEcdsaP256 || type == KeyType::kEcdsaP384 || type == KeyType::kEcdsaP521) {
        auto ssh = ecdsa_der_to_ssh(raw);
        if (!ssh) {
            return fail(Errc::kCrypto, "OpenSSL returned an unreadable ECDSA signature");
        }
        raw = std::move(*ssh);
    }
    wire::Writer out;
    out.put_string(ca.signature_algorithm());
    out.put_string(raw);
    return std::move(out).take();
}

Result<std::string> verify(const PublicKey& key, std::string_view signature, std::string_view data) {
    wire::Reader in(signature);
    const auto algorithm = in.get_cstring();
    const auto sig = algorithm ? in.get_string() : std::nullopt;
    if (!sig || !in.empty()) {
        return fail(Errc::kMalformed, "signature blob does not parse");
    }
    RsaHash rsa_hash = RsaHash::kSha512;
    if (key.type() == KeyType::kRsa) {
        if (*algorithm == "rsa-sha2-256") {
            rsa_hash = RsaHash::kSha256;
        } else if (*algorithm != "rsa-sha2-512") {
            return fail(Errc::kBadSignature, "RSA signatures must be rsa-sha2-256 or rsa-sha2-512");
        }
    } else if (*algorithm != key.type_name()) {
        return fail(Errc::kBadSignature, "signature algorithm does not match the signing key");
    }
    std::string raw(*sig);
    if (key.type() == KeyType::kEcdsaP256 || key.type() == KeyType::kEcdsaP384 || key.type() == KeyType::kEcdsaP521) {
        auto der = ecdsa_ssh_to_der(raw);
        if (!der) {
            return fail(Errc::kBadSignature, "ECDSA signature does not parse");
        }
        raw = std::move(*der);
    } else if (raw.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.evp_for_library()))) {
        return fail(Errc::kBadSignature, "signature has the wrong length");
    }
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(key.type(), rsa_hash), nullptr,
                                     key.evp_for_library()) != 1) {
        return fail(Errc::kCrypto, "cannot set up verification");
    }
    if (EVP_DigestVerify(ctx.get(), bytes(raw), raw.size(), bytes(data), data.size()) != 1) {
        ERR_clear_error();
        return fail(Errc::kBadSignature, "signature does not verify");
    }
    return std::string(*algorithm);
}

}  // namespace moneta::sshcert::detail
