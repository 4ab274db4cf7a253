// Keys are loaded once at create(): HS256 secrets, PEM public keys and JWKS files.
#include "moneta/jwt/verifier.hpp"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/bn.h>

#include <boost/json.hpp>

#include <array>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>

#include "moneta/jwt/hmac_sha256.hpp"
#include "jose_reader.hpp"

namespace moneta::jwt {

struct Verifier::Key {
    std::string kid;
    std::string alg;
    std::optional<HmacSha256Key> hs256;  // HS256: the key's ipad/opad states, computed once
    EVP_PKEY* pkey = nullptr;               // RS256 / ES256
    ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

namespace json = boost::json;

/// A token of the default max_token_bytes (2048) decodes within this: no heap per verify.
constexpr std::size_t kStackDecodeBytes = 1536;

bool is_allowed(const std::vector<std::string>& algs, std::string_view alg) {
    for (const auto& a : algs) {
        if (a == alg) {
            return true;
        }
    }
    return false;
}

std::optional<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opt;
    opt.max_depth = 16;
    json::value v = json::parse(text, ec, {}, opt);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.get_object());
}

/// NumericDate bound: 9999-12-31T23:59:59Z.
constexpr std::int64_t kMaxNumericDate = 253402300799;

/// JWS ES256 signatures are R||S (32 + 32 bytes); OpenSSL verifies DER.
std::optional<std::string> es256_raw_to_der(std::string_view raw) {
    if (raw.size() != 64) {
        return std::nullopt;
    }
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (len <= 0) {
        return std::nullopt;
    }
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

bool digest_verify(EVP_PKEY* pkey, std::string_view data, std::string_view sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr &&
              EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return in ? ss.str() : std::string{};
}

}  // namespace

std::string_view failure_name(Failure f) noexcept {
    switch (f) {
        case Failure::kMalformed: return "malformed";
        case Failure::kUnsupportedAlg: return "unsupported_alg";
        case Failure::kUnknownKey: return "unknown_key";
        case Failure::kBadSignature: return "bad_signature";
        case Failure::kExpired: return "expired";
        case Failure::kNotYetValid: return "not_yet_valid";
        case Failure::kIssuedInFuture: return "issued_in_future";
        case Failure::kBadIssuer: return "bad_issuer";
        case Failure::kBadAudience: return "bad_audience";
        case Failure::kTooLong: return "too_long";
        case Failure::kMissingClaim: return "missing_claim";
    }
    return "unknown";
}

Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;
Verifier::~Verifier() = default;

boost::system::result<Verifier, std::string> Verifier::create(const VerifierConfig& config) {
    Verifier v;
    v.config_ = config;
    for (const auto& alg : config.allowed_algs) {
        if (alg != "HS256" && alg != "RS256" && alg != "ES256") {
            return "auth.algorithms: unsupported algorithm \"" + alg + "\" (HS256, RS256, ES256)";
        }
    }
    for (const HmacKey& k : config.hmac_keys) {
        if (k.secret.size() < 32) {
            return "auth.hs256_keys[" + k.kid + "]: secret shorter than 32 bytes";
        }
        auto key = std::make_shared<Key>();
        key->kid = k.kid;
        key->alg = "HS256";
        key->hs256.emplace(k.secret);
        v.keys_.push_back(std::move(key));
    }
    for (const PublicKeyFile& f : config.public_keys) {
        const std::string where = "auth.public_keys[" + f.kid + "]";
        if (f.alg != "RS256" && f.alg != "ES256") {
            return where + ": alg must be RS256 or ES256";
        }
        const std::string pem = read_file(f.path);
        if (pem.empty()) {
            return where + ": cannot read " + f.path;
        }
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        if (pkey == nullptr) {
            return where + ": " + f.path + " is not a PEM public key";
        }
        if (auto e = v.add_public_key(f.kid, f.alg, pkey, where)) {
            return *e;
        }
    }
    for (const std::string& path : config.jwks_files) {
        if (auto e = v.add_jwks(path)) {
            return *e;
        }
    }
    if (v.keys_.empty()) {
        return std::string("auth: no keys configured");
    }
    return v;
}

std::optional<std::string> Verifier::add_public_key(const std::string& kid, const std::string& alg, EVP_PKEY* pkey,
                                                   const std::string& where) {
    const bool rsa = EVP_PKEY_is_a(pkey, "RSA") == 1;
    const bool ec = EVP_PKEY_is_a(pkey, "EC") == 1;
    if ((alg == "RS256" && (!rsa || EVP_PKEY_get_bits(pkey) < 2048)) ||
        (alg == "ES256" && (!ec || EVP_PKEY_get_bits(pkey) != 256))) {
        EVP_PKEY_free(pkey);
        return where + ": key type does not match " + alg + " (RSA >= 2048 bits or EC P-256)";
    }
    for (const auto& k : keys_) {
        if (k->kid == kid && !kid.empty()) {
            EVP_PKEY_free(pkey);
            return where + ": duplicate kid \"" + kid + "\"";
        }
    }
    auto key = std::make_shared<Key>();
    key->kid = kid;
    key->alg = alg;
    key->pkey = pkey;
    keys_.push_back(std::move(key));
    return std::nullopt;
}

std::optional<std::string> Verifier::add_jwks(const std::string& path) {
    const std::string text = read_file(path);
    if (text.empty()) {
        return "auth.jwks_files: cannot read " + path;
    }
    const auto doc = parse_object(text);
    const json::value* keys = doc ? doc->if_contains("keys") : nullptr;
    if (keys == nullptr || !keys->is_array()) {
        return "auth.jwks_files: " + path + " is not a JWKS ({\"keys\":[...]})";
    }
    std::size_t index = 0;
    for (const json::value& kv : keys->get_array()) {
        const std::string where = "auth.jwks_files: " + path + " keys[" + std::to_string(index++) + "]";
        if (!kv.is_object()) {
            return where + ": not an object";
        }
        const json::object& k = kv.get_object();
        auto str = [&k](std::string_view name) -> std::optional<std::string> {
            const json::value* f = k.if_contains(name);
            if (f == nullptr || !f->is_string()) {
                return std::nullopt;
            }
            return std::string(f->get_string().data(), f->get_string().size());
        };
        for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
            if (k.contains(secret)) {
                return where + ": holds private key material (\"" + secret + "\"): publish public keys only";
            }
        }
        const auto kid = str("kid");
        const auto kty = str("kty");
        if (!kid || kid->empty() || !kty) {
            return where + ": kid and kty are required";
        }
        if (const auto use = str("use"); use && *use != "sig") {
            return where + " (" + *kid + "): use must be \"sig\"";
        }
        std::string alg;
        EVP_PKEY* pkey = nullptr;
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        BIGNUM* n = nullptr;
        BIGNUM* e = nullptr;
        std::string point;
        const char* type = nullptr;
        bool ok = bld != nullptr;
        if (*kty == "RSA") {
            alg = "RS256";
            type = "RSA";
            const auto nb = str("n") ? base64url_decode(*str("n")) : std::nullopt;
            const auto eb = str("e") ? base64url_decode(*str("e")) : std::nullopt;
            ok = ok && nb && eb && !nb->empty() && !eb->empty();
            if (ok) {
                n = BN_bin2bn(reinterpret_cast<const unsigned char*>(nb->data()), static_cast<int>(nb->size()), nullptr);
                e = BN_bin2bn(reinterpret_cast<const unsigned char*>(eb->data()), static_cast<int>(eb->size()), nullptr);
                ok = n != nullptr && e != nullptr && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
                     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1;
            }
        } else if (*kty == "EC") {
            alg = "ES256";
            type = "EC";
            const auto xb = str("x") ? base64url_decode(*str("x")) : std::nullopt;
            const auto yb = str("y") ? base64url_decode(*str("y")) : std::nullopt;
            ok = ok && str("crv") == std::optional<std::string>("P-256") && xb && yb && xb->size() == 32 &&
                 yb->size() == 32;
            if (ok) {
                point = std::string(1, '\x04') + *xb + *yb;  // uncompressed SEC1 point
                ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
                     OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1;
            }
        } else {
            OSSL_PARAM_BLD_free(bld);
            return where + " (" + *kid + "): kty must be RSA or EC";
        }
        if (const auto declared = str("alg"); ok && declared && *declared != alg) {
            OSSL_PARAM_BLD_free(bld);
            BN_free(n);
            BN_free(e);
            return where + " (" + *kid + "): alg " + *declared + " does not match the key (" + alg + ")";
        }
        OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
        EVP_PKEY_CTX* ctx = params != nullptr ? EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr) : nullptr;
        ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(n);
        BN_free(e);
        if (!ok || pkey == nullptr) {
            EVP_PKEY_free(pkey);
            // (OpenSSL's fromdata also refuses an EC point that is not on the curve.)
            return where + " (" + *kid + "): malformed " + *kty + " key";
        }
        if (auto err = add_public_key(*kid, alg, pkey, where)) {
            return err;
        }
    }
    return std::nullopt;
}

std::variant<Claims, Failure> Verifier::verify(std::string_view token, std::int64_t now_ms) const {
    Claims c;
    if (auto failure = verify_into(token, now_ms, c)) {
        return *failure;
    }
    return c;
}

std::optional<Failure> Verifier::check_time(const Claims& c, std::int64_t now_ms) const noexcept {
    const std::int64_t now_s = now_ms / 1000;
    const std::int64_t leeway = config_.leeway.count();
    if (now_s >= c.exp_s + leeway) {
        return Failure::kExpired;
    }
    if (c.nbf_s && now_s + leeway < *c.nbf_s) {
        return Failure::kNotYetValid;
    }
    if (c.iat_s && now_s + leeway < *c.iat_s) {
        return Failure::kIssuedInFuture;
    }
    return std::nullopt;
}

std::optional<Failure> Verifier::verify_into(std::string_view token, std::int64_t now_ms, Claims& c) const {
    using detail::JsonKind;
    using detail::JsonValue;
    using detail::JsonVerdict;
    if (token.size() > config_.max_token_bytes) {
        return Failure::kTooLong;
    }
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
        dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == token.size()) {
        return Failure::kMalformed;
    }
    // Decoded on the stack (no allocation per token); a token longer than the stack buffer
    // (max_token_bytes above its default) decodes into one heap buffer instead.
    std::array<char, kStackDecodeBytes> stack_buf;
    std::unique_ptr<char[]> heap_buf;
    std::span<char> buf(stack_buf);
    if (core::base64url_decoded_size(token.size()) > buf.size()) {
        heap_buf = std::make_unique_for_overwrite<char[]>(core::base64url_decoded_size(token.size()));
        buf = std::span<char>(heap_buf.get(), core::base64url_decoded_size(token.size()));
    }
    std::optional<std::string_view> parts[3];
    const std::string_view texts[3] = {token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1),
                                       token.substr(dot2 + 1)};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto n = core::base64url_decode_to(texts[i], buf);
        if (!n) {
            return Failure::kMalformed;
        }
        parts[i] = std::string_view(buf.data(), *n);
        buf = buf.subspan(*n);
    }
    const auto& header_text = parts[0];
    const auto& payload_text = parts[1];
    const auto& signature = parts[2];
    // One strict pass, no tree; duplicate member names are refused (RFC 8725 §3.11): another
    // parser could read the other "alg" or "kid" of the two (jose_reader.hpp).
    enum { kAlg, kCrit, kTyp, kKid, kHeaderMembers };
    static constexpr std::string_view kHeaderNames[kHeaderMembers] = {"alg", "crit", "typ", "kid"};
    JsonValue header[kHeaderMembers];
    if (detail::read_object(*header_text, kHeaderNames, header) != JsonVerdict::kOk) {
        return Failure::kMalformed;
    }
    if (header[kAlg].kind != JsonKind::kString) {
        return Failure::kMalformed;
    }
    ClaimString alg_text;
    detail::unescape_into(header[kAlg], alg_text);
    const std::string_view alg = alg_text.view();
    if (!is_allowed(config_.allowed_algs, alg)) {
        return Failure::kUnsupportedAlg;
    }
    if (header[kCrit].kind != JsonKind::kAbsent) {
        return Failure::kMalformed;  // we implement no extensions
    }
    if (header[kTyp].kind != JsonKind::kAbsent) {
        if (header[kTyp].kind != JsonKind::kString) {
            return Failure::kMalformed;
        }
        ClaimString typ;
        detail::unescape_into(header[kTyp], typ);
        const std::string_view t = typ.view();
        if (t.size() != 3 || (t[0] | 0x20) != 'j' || (t[1] | 0x20) != 'w' || (t[2] | 0x20) != 't') {
            return Failure::kMalformed;
        }
    }
    c.kid.clear();
    if (header[kKid].kind != JsonKind::kAbsent) {
        if (header[kKid].kind != JsonKind::kString) {
            return Failure::kMalformed;
        }
        detail::unescape_into(header[kKid], c.kid);
    }
    const std::string_view kid = c.kid.view();
    // Key: same alg, and the kid when given; without kid only if exactly one key of that alg.
    const Key* key = nullptr;
    const Key* only = nullptr;
    int candidates = 0;
    for (const auto& k : keys_) {
        if (k->alg != alg) {
            continue;
        }
        ++candidates;
        only = k.get();
        if (!kid.empty() && k->kid == kid) {
            key = k.get();
        }
    }
    if (kid.empty() && candidates == 1) {
        key = only;
    }
    if (key == nullptr) {
        return Failure::kUnknownKey;
    }
    const std::string_view signing_input = token.substr(0, dot2);
    bool ok = false;
    if (alg == "HS256") {
        ok = key->hs256 && key->hs256->verify(signing_input, *signature);
    } else if (alg == "RS256") {
        ok = digest_verify(key->pkey, signing_input, *signature);
    } else {
        const auto der = es256_raw_to_der(*signature);
        ok = der && digest_verify(key->pkey, signing_input, *der);
    }
    if (!ok) {
        return Failure::kBadSignature;
    }

    // The claims only now: unauthenticated input never reaches the claim logic. Same reader.
    enum { kSub, kPid, kIss, kJti, kExp, kNbf, kIat, kAud, kGroups, kClaimMembers };
    static constexpr std::string_view kClaimNames[kClaimMembers] = {"sub", "pid", "iss", "jti", "exp",
                                                                    "nbf", "iat", "aud", "groups"};
    JsonValue claim[kClaimMembers];
    if (detail::read_object(*payload_text, kClaimNames, claim) != JsonVerdict::kOk) {
        return Failure::kMalformed;
    }
    auto string_claim = [&claim](int i, ClaimString& out) {
        out.clear();
        if (claim[i].kind == JsonKind::kAbsent) {
            return true;
        }
        if (claim[i].kind != JsonKind::kString) {
            return false;
        }
        detail::unescape_into(claim[i], out);
        return true;
    };
    if (!string_claim(kSub, c.sub) || !string_claim(kPid, c.pid) || !string_claim(kIss, c.iss) ||
        !string_claim(kJti, c.jti)) {
        return Failure::kMalformed;
    }
    // NumericDate: an integer literal (a zero fraction allowed), 0..9999-12-31; no string, no
    // fraction, no exponent.
    auto date = [&claim](int i) -> std::optional<std::int64_t> {
        if (claim[i].kind != JsonKind::kNumber) {
            return std::nullopt;
        }
        return detail::integral_number(claim[i].raw, kMaxNumericDate);
    };
    if (claim[kExp].kind == JsonKind::kAbsent) {
        return Failure::kMissingClaim;
    }
    const auto exp_s = date(kExp);
    if (!exp_s) {
        return Failure::kMalformed;
    }
    c.exp_s = *exp_s;
    c.nbf_s.reset();
    c.iat_s.reset();
    // The order of the checks is the failure reported: exp, then nbf, then iat (check_time).
    const std::int64_t now_s = now_ms / 1000;
    const std::int64_t leeway = config_.leeway.count();
    if (now_s >= c.exp_s + leeway) {
        return Failure::kExpired;
    }
    if (claim[kNbf].kind != JsonKind::kAbsent) {
        c.nbf_s = date(kNbf);
        if (!c.nbf_s) {
            return Failure::kMalformed;
        }
        if (now_s + leeway < *c.nbf_s) {
            return Failure::kNotYetValid;
        }
    }
    if (claim[kIat].kind != JsonKind::kAbsent) {
        c.iat_s = date(kIat);
        if (!c.iat_s) {
            return Failure::kMalformed;
        }
        if (now_s + leeway < *c.iat_s) {
            return Failure::kIssuedInFuture;
        }
    }
    if (config_.issuer && c.iss != *config_.issuer) {
        return Failure::kBadIssuer;
    }
    c.aud.clear();
    if (claim[kAud].kind == JsonKind::kString) {
        ClaimString a;
        detail::unescape_into(claim[kAud], a);
        c.aud.push_back(a.view());
    } else if (claim[kAud].kind == JsonKind::kArray) {
        const bool strings = detail::for_each_string(claim[kAud], [&c](const JsonValue& v) {
            ClaimString a;
            detail::unescape_into(v, a);
            c.aud.push_back(a.view());
            return true;
        });
        if (!strings) {
            return Failure::kMalformed;
        }
    } else if (claim[kAud].kind != JsonKind::kAbsent) {
        return Failure::kMalformed;
    }
    if (config_.audience && !c.aud.contains(*config_.audience)) {
        return Failure::kBadAudience;
    }
    c.groups.clear();
    if (claim[kGroups].kind == JsonKind::kArray) {
        const bool strings = detail::for_each_string(claim[kGroups], [&c](const JsonValue& v) {
            if (c.groups.size() == Claims::kMaxGroups) {
                return false;
            }
            ClaimString g;
            detail::unescape_into(v, g);
            if (g.empty() || g.size() > Claims::kMaxGroupBytes) {
                return false;
            }
            c.groups.emplace_back(g.view());
            return true;
        });
        if (!strings) {
            return Failure::kMalformed;
        }
    } else if (claim[kGroups].kind != JsonKind::kAbsent) {
        return Failure::kMalformed;
    }
    return std::nullopt;
}

}  // namespace moneta::jwt
