#include "key_codec.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <array>

namespace moneta::sshcert::detail {
namespace {

constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";

/// A refused name, shortened and made printable, for a message the client may see.
std::string quoted(std::string_view name) {
    std::string out = "'";
    for (char c : name.substr(0, 64)) {
        out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    }
    if (name.size() > 64) {
        out += "...";
    }
    return out + "'";
}

struct Curve {
    KeyType type;
    std::string_view ssh_curve;  ///< the curve identifier inside the blob
    const char* openssl_group;
    std::string_view openssl_short_name;  ///< what OpenSSL reports as the group name of a key
    std::size_t field_bytes;
};
constexpr std::array<Curve, 3> kCurves{{
    {KeyType::kEcdsaP256, "nistp256", "P-256", "prime256v1", 32},
    {KeyType::kEcdsaP384, "nistp384", "P-384", "secp384r1", 48},
    {KeyType::kEcdsaP521, "nistp521", "P-521", "secp521r1", 66},
}};

const Curve* curve_of(KeyType type) noexcept {
    for (const auto& c : kCurves) {
        if (c.type == type) {
            return &c;
        }
    }
    return nullptr;
}

/// Builds a public EVP_PKEY of @p algorithm ("EC", "RSA") from @p params.
EvpPkeyPtr pkey_from_params(const char* algorithm, OSSL_PARAM_BLD* bld) {
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();  // outside input's failure: leave no error queued on this thread
        return nullptr;
    }
    return EvpPkeyPtr(raw);
}

Result<PublicKey::Parts> read_ed25519(wire::Reader& in) {
    const auto pk = in.get_string();
    if (!pk) {
        return fail(Errc::kMalformed, "truncated ssh-ed25519 key");
    }
    if (pk->size() != 32) {
        return fail(Errc::kInvalidKey, "an ssh-ed25519 key is 32 bytes");
    }
    EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(pk->data()), pk->size()));
    if (!pkey) {
        return fail(Errc::kCrypto, "OpenSSL refused an Ed25519 key");
    }
    return PublicKey::Parts{KeyType::kEd25519, 256, {}, {}, share(std::move(pkey))};
}

Result<PublicKey::Parts> read_ecdsa(const Curve& curve, wire::Reader& in) {
    const auto name = in.get_string();
    const auto point = name ? in.get_string() : std::nullopt;
    if (!point) {
        return fail(Errc::kMalformed, "truncated ECDSA key");
    }
    if (*name != curve.ssh_curve) {
        return fail(Errc::kInvalidKey, "ECDSA curve " + quoted(*name) + " does not match the key type");
    }
    // Uncompressed points only, as OpenSSH writes and reads them.
    if (point->size() != 1 + 2 * curve.field_bytes || point->front() != '\x04') {
        return fail(Errc::kInvalidKey, "ECDSA public point is not an uncompressed point of its curve");
    }
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point->data(), point->size()) != 1) {
        return fail(Errc::kCrypto, "OpenSSL parameter builder failed");
    }
    EvpPkeyPtr pkey = pkey_from_params("EC", bld.get());
    if (!pkey) {
        return fail(Errc::kInvalidKey, "ECDSA public point is not on its curve");
    }
    // The full public check: on the curve, not the point at infinity, of the group's order.
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::kInvalidKey, "ECDSA public point is not a valid point of its curve");
    }
    return PublicKey::Parts{curve.type, static_cast<unsigned>(EVP_PKEY_get_bits(pkey.get())), {}, {},
                            share(std::move(pkey))};
}

BignumPtr bignum(std::string_view magnitude) {
    return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(magnitude.data()),
                               static_cast<int>(magnitude.size()), nullptr));
}

Result<PublicKey::Parts> read_rsa(wire::Reader& in) {
    const auto e = in.get_mpint();
    const auto n = e ? in.get_mpint() : std::nullopt;
    if (!n) {
        return fail(Errc::kMalformed, "truncated or non-canonical ssh-rsa key");
    }
    if (n->size() > kMaxRsaBits / 8) {
        return fail(Errc::kInvalidKey, "RSA modulus over 16384 bits");
    }
    BignumPtr bn_n = bignum(*n);
    BignumPtr bn_e = bignum(*e);
    if (!bn_n || !bn_e) {
        return fail(Errc::kCrypto, "OpenSSL bignum allocation failed");
    }
    const auto bits = static_cast<unsigned>(BN_num_bits(bn_n.get()));
    if (bits < kMinRsaBits) {
        return fail(Errc::kKeyTooSmall,
                    "RSA key of " + std::to_string(bits) + " bits; at least " + std::to_string(kMinRsaBits) + " required");
    }
    // A modulus is a product of two odd primes and an exponent is odd and at least 3.
    if (!BN_is_odd(bn_n.get()) || !BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2 ||
        BN_cmp(bn_e.get(), bn_n.get()) >= 0) {
        return fail(Errc::kInvalidKey, "RSA modulus or exponent is not valid");
    }
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return fail(Errc::kCrypto, "OpenSSL parameter builder failed");
    }
    EvpPkeyPtr pkey = pkey_from_params("RSA", bld.get());
    if (!pkey) {
        return fail(Errc::kInvalidKey, "OpenSSL refused the RSA key");
    }
    return PublicKey::Parts{KeyType::kRsa, bits, {}, {}, share(std::move(pkey))};
}

/// The big-endian bytes of a BIGNUM parameter of @p pkey, left-padded to @p width (0: minimal).
std::optional<std::string> bn_param(EVP_PKEY* pkey, const char* name, std::size_t width = 0) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
        return std::nullopt;
    }
    BignumPtr bn(raw);
    const auto size = static_cast<std::size_t>(BN_num_bytes(bn.get()));
    if (width == 0) {
        width = size;
    }
    if (size > width) {
        return std::nullopt;
    }
    std::string out(width, '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width)) < 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

Result<KeyType> key_type_from_name(std::string_view name) {
    if (name == "ssh-ed25519") {
        return KeyType::kEd25519;
    }
    for (const auto& c : kCurves) {
        if (name == key_type_name(c.type)) {
            return c.type;
        }
    }
    if (name == "ssh-rsa") {
        return KeyType::kRsa;
    }
    if (name.size() >= kCertSuffix.size() && name.substr(name.size() - kCertSuffix.size()) == kCertSuffix) {
        return fail(Errc::kCertificateAsKey, "a certificate (" + quoted(name) + ") is not accepted as a public key");
    }
    if (name == "ssh-dss") {
        return fail(Errc::kUnsupportedKeyType, "DSA keys are not accepted");
    }
    if (name.substr(0, 3) == "sk-") {
        return fail(Errc::kUnsupportedKeyType, "security-key (sk-*) keys are not accepted");
    }
    return fail(Errc::kUnsupportedKeyType, "unsupported key type " + quoted(name));
}

Result<PublicKey> read_key_fields(KeyType type, wire::Reader& in) {
    const std::string_view start = in.rest();
    Result<PublicKey::Parts> parts = [&]() -> Result<PublicKey::Parts> {
        switch (type) {
            case KeyType::kEd25519: return read_ed25519(in);
            case KeyType::kRsa: return read_rsa(in);
            default: return read_ecdsa(*curve_of(type), in);
        }
    }();
    if (!parts) {
        return parts.error();
    }
    // Every field was read in its canonical form, so the bytes consumed are the key's encoding.
    wire::Writer blob;
    blob.put_string(key_type_name(type));
    blob.put_raw(start.substr(0, start.size() - in.remaining()));
    parts->blob = std::move(blob).take();
    return PublicKey(std::move(*parts));
}

std::string_view key_fields(const PublicKey& key) noexcept {
    return std::string_view(key.blob()).substr(4 + key.type_name().size());
}

Result<PublicKey> public_key_of(EVP_PKEY* pkey) {
    wire::Writer fields;
    KeyType type{};
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        type = KeyType::kEd25519;
        std::string pk(32, '\0');
        std::size_t len = pk.size();
        if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pk.data()), &len) != 1 || len != 32) {
            return fail(Errc::kCrypto, "cannot read the Ed25519 public key");
        }
        fields.put_string(pk);
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = {};
        std::size_t group_len = 0;
        const Curve* curve = nullptr;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &group_len) == 1) {
            for (const auto& c : kCurves) {
                if (std::string_view(group, group_len) == c.openssl_short_name) {
                    curve = &c;
                }
            }
        }
        const auto x = curve ? bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, curve->field_bytes) : std::nullopt;
        const auto y = x ? bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, curve->field_bytes) : std::nullopt;
        if (!y) {
            return fail(Errc::kUnsupportedKeyType, "unsupported EC key");
        }
        type = curve->type;
        fields.put_string(curve->ssh_curve);
        fields.put_string("\x04" + *x + *y);
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        type = KeyType::kRsa;
        const auto e = bn_param(pkey, OSSL_PKEY_PARAM_RSA_E);
        const auto n = e ? bn_param(pkey, OSSL_PKEY_PARAM_RSA_N) : std::nullopt;
        if (!n) {
            return fail(Errc::kCrypto, "cannot read the RSA public key");
        }
        fields.put_mpint(*e);
        fields.put_mpint(*n);
    } else {
        return fail(Errc::kUnsupportedKeyType, "unsupported private key type");
    }
    // Through the same validation as a key read from the wire.
    wire::Reader in(fields.bytes());
    return read_key_fields(type, in);
}

}  // namespace moneta::sshcert::detail
