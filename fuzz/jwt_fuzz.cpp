// Fuzz target: libs/jwt Verifier::verify (header, claims and signature paths).
// The first input byte picks the mode:
// - even: the rest is a raw compact token, verified by a verifier holding two HS256 keys, an
//   RS256 and an ES256 public key (fuzz/keys, the seeds carry tokens they sign), issuer and
//   audience configured, and by one with a single HS256 key and no issuer/audience;
// - odd: the rest is "<header JSON>\0<claims JSON>", which the harness signs with the test HS256
//   key, so mutations reach claims parsing behind a valid signature.
// Invariants: verify is deterministic; a per-worker TokenCache agrees with it (miss and hit) and
// expires a cached token at exp + leeway; whatever verifies carries an allowed alg, a key of that
// alg, a signature that no other key (same kid, other secret) accepts and that breaks when one
// byte flips, and claims that round-trip from the payload JSON (sub, pid, iss, jti, exp, nbf, iat,
// aud) within the time rules; a harness-signed token with alg HS256 and kid k1 never fails on
// its signature or key.
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "check.hpp"
#include "moneta/core/base64.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "moneta/jwt/verifier.hpp"

namespace {

namespace json = boost::json;
using moneta::jwt::Claims;
using moneta::jwt::Failure;
using moneta::jwt::Verifier;
using moneta::jwt::VerifierConfig;

constexpr std::int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14: the seeds' times are around it
constexpr std::string_view kSecret1 = "fuzz-hs256-secret-k1-0123456789abcdef";
constexpr std::string_view kSecret2 = "fuzz-hs256-secret-k2-0123456789abcdef";
constexpr std::string_view kWrongSecret = "fuzz-hs256-WRONG!-k1-0123456789abcdef";

Verifier make(const VerifierConfig& cfg) {
    auto v = Verifier::create(cfg);
    if (!v) {
        moneta::fuzz::check_failed("Verifier::create", __FILE__, __LINE__, v.error());
    }
    return std::move(*v);
}

struct Verifiers {
    Verifier full;    ///< HS256 k1, k2; RS256 rsa; ES256 ec; issuer and audience
    Verifier single;  ///< one HS256 key (k1's secret), no kid needed, no issuer/audience
    Verifier wrong;   ///< kids k1, k2 with other secrets: must never accept anything
};

const Verifiers& verifiers() {
    // Read once, before the first input (the fuzz loop itself does no I/O).
    static const Verifiers v = [] {
        const std::string keys = std::string(MONETA_FUZZ_DIR) + "/keys/";
        VerifierConfig full;
        full.allowed_algs = {"HS256", "RS256", "ES256"};
        full.hmac_keys = {{"k1", std::string(kSecret1)}, {"k2", std::string(kSecret2)}};
        full.public_keys = {
            {"rsa", "RS256", keys + "rsa.pub.pem"}, {"ec", "ES256", keys + "ec.pub.pem"}};
        full.issuer = "https://auth.moneta.test";
        full.audience = "moneta";
        VerifierConfig single;
        single.hmac_keys = {{"", std::string(kSecret1)}};
        VerifierConfig wrong;
        wrong.allowed_algs = {"HS256", "RS256", "ES256"};
        wrong.hmac_keys = {
            {"k1", std::string(kWrongSecret)},
            {"k2", std::string(kWrongSecret) + "2"},
            {"", std::string(kWrongSecret) + "3"}};
        return Verifiers{make(full), make(single), make(wrong)};
    }();
    return v;
}

std::string hs256(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(
        EVP_sha256(),
        secret.data(),
        static_cast<int>(secret.size()),
        reinterpret_cast<const unsigned char*>(input.data()),
        input.size(),
        mac,
        &len
    );
    return std::string(reinterpret_cast<const char*>(mac), len);
}

std::optional<json::object> object_of(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.get_object());
}

std::string string_member(const json::object& o, std::string_view k) {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::int64_t> date_member(const json::object& o, std::string_view k) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    return v->is_double() ? std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_double()))
                          : std::nullopt;
}

/// An accepted token: its claims are what its payload says, inside the time rules.
void check_claims(const Claims& c, std::string_view token, std::int64_t leeway_s) {
    const auto dot1 = token.find('.');
    const auto dot2 = token.find('.', dot1 + 1);
    const auto header_text = moneta::core::base64url_decode(token.substr(0, dot1));
    const auto payload_text =
        moneta::core::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    FUZZ_CHECK(header_text && payload_text, "an accepted token whose parts are not base64url");
    const auto header = object_of(*header_text);
    const auto payload = object_of(*payload_text);
    FUZZ_CHECK(header && payload, "an accepted token whose header or payload is not a JSON object");
    FUZZ_CHECK(c.kid == string_member(*header, "kid"), "kid does not round-trip");
    FUZZ_CHECK(
        c.sub == string_member(*payload, "sub") && c.pid == string_member(*payload, "pid") &&
            c.iss == string_member(*payload, "iss") && c.jti == string_member(*payload, "jti"),
        "string claims do not round-trip"
    );
    FUZZ_CHECK(date_member(*payload, "exp") == c.exp_s, "exp does not round-trip");
    FUZZ_CHECK(date_member(*payload, "nbf") == c.nbf_s, "nbf does not round-trip");
    FUZZ_CHECK(date_member(*payload, "iat") == c.iat_s, "iat does not round-trip");
    const std::int64_t now_s = kNowMs / 1000;
    FUZZ_CHECK(now_s < c.exp_s + leeway_s, "an expired token verified");
    FUZZ_CHECK(!c.nbf_s || *c.nbf_s <= now_s + leeway_s, "a not-yet-valid token verified");
    FUZZ_CHECK(!c.iat_s || *c.iat_s <= now_s + leeway_s, "a token issued in the future verified");
    FUZZ_CHECK(c.exp_s >= 0 && c.exp_s <= 253402300799, "exp outside the NumericDate range");
    std::size_t aud_count = 0;
    if (const json::value* aud = payload->if_contains("aud")) {
        aud_count = aud->is_string() ? 1 : aud->get_array().size();
    }
    FUZZ_CHECK(c.aud.size() == aud_count, "aud does not round-trip");
}

bool same_claims(const Claims& a, const Claims& b) {
    if (a.aud.size() != b.aud.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.aud.size(); ++i) {
        if (a.aud[i] != b.aud[i]) {
            return false;
        }
    }
    return a.sub == b.sub && a.pid == b.pid && a.iss == b.iss && a.jti == b.jti && a.kid == b.kid &&
           a.exp_s == b.exp_s && a.nbf_s == b.nbf_s && a.iat_s == b.iat_s;
}

/// The token cache answers what the verifier answers, on the miss and on the hit, and a token
/// one byte longer never hits the cached entry.
void check_cache(const Verifier& verifier, std::string_view token, const std::variant<Claims, Failure>& want) {
    static moneta::jwt::TokenCache cache(verifier, moneta::jwt::TokenCacheConfig{64, 1 << 20, 2048});
    for (int round = 0; round < 2; ++round) {
        const auto got = cache.verify(token, kNowMs);
        if (const Failure* f = std::get_if<Failure>(&want)) {
            FUZZ_CHECK(
                std::holds_alternative<Failure>(got) && std::get<Failure>(got) == *f,
                "the token cache disagrees with the verifier on a failure"
            );
        } else {
            FUZZ_CHECK(
                std::holds_alternative<const Claims*>(got) &&
                    same_claims(*std::get<const Claims*>(got), std::get<Claims>(want)),
                "the token cache disagrees with the verifier on claims"
            );
        }
    }
    // Past exp + leeway, a cached token is expired like a fresh one.
    if (const Claims* c = std::get_if<Claims>(&want)) {
        const std::int64_t late_ms = (c->exp_s + 60) * 1000;
        const auto late = cache.verify(token, late_ms);
        FUZZ_CHECK(
            std::holds_alternative<Failure>(late) && std::get<Failure>(late) == Failure::kExpired,
            "a cached token outlived its exp"
        );
    }
}

void check_token(std::string_view token, bool harness_signed_k1) {
    const Verifiers& v = verifiers();
    const auto full = v.full.verify(token, kNowMs);
    const auto again = v.full.verify(token, kNowMs);
    FUZZ_CHECK(
        full.index() == again.index() &&
            (full.index() == 0 || std::get<1>(full) == std::get<1>(again)),
        "verify is not deterministic"
    );
    const auto single = v.single.verify(token, kNowMs);
    check_cache(v.full, token, full);
    FUZZ_CHECK(
        !std::holds_alternative<Claims>(v.wrong.verify(token, kNowMs)),
        "a token verified under the wrong secret"
    );
    for (const auto* r : {&full, &single}) {
        if (const Claims* c = std::get_if<Claims>(r)) {
            check_claims(*c, token, 60);
            // One flipped bit anywhere in the signature must break it.
            std::string flipped(token);
            flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
            const auto dot2 = token.rfind('.');
            const auto sig = moneta::core::base64url_decode(token.substr(dot2 + 1));
            const auto sig2 =
                moneta::core::base64url_decode(std::string_view(flipped).substr(dot2 + 1));
            if (sig && sig2 && *sig != *sig2) {
                const auto& verifier = r == &full ? v.full : v.single;
                FUZZ_CHECK(
                    !std::holds_alternative<Claims>(verifier.verify(flipped, kNowMs)),
                    "a token with a changed signature verified"
                );
            }
        }
    }
    if (const Claims* c = std::get_if<Claims>(&full)) {
        FUZZ_CHECK(c->iss == "https://auth.moneta.test", "issuer check bypassed");
        FUZZ_CHECK(c->aud.contains("moneta"), "audience check bypassed");
    }
    if (harness_signed_k1) {
        if (const Failure* f = std::get_if<Failure>(&full)) {
            FUZZ_CHECK(
                *f != Failure::kBadSignature && *f != Failure::kUnknownKey,
                "a token signed with k1 failed on its signature or key: " +
                    std::string(moneta::jwt::failure_name(*f))
            );
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1U) == 0) {
        check_token(rest, false);
        return 0;
    }
    // Harness-signed: "<header>\0<payload>" with the k1 secret.
    const auto nul = rest.find('\0');
    const std::string_view header = rest.substr(0, nul);
    const std::string_view payload =
        nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
    std::string token = moneta::core::base64url_encode(header);
    token += '.';
    token += moneta::core::base64url_encode(payload);
    const std::string sig = hs256(kSecret1, token);
    token += '.';
    token += moneta::core::base64url_encode(sig);
    // The signature is right for the full verifier's k1 when the header names HS256 and k1.
    const auto h = object_of(header);
    const bool alg_hs256 = h && h->if_contains("alg") != nullptr && h->at("alg") == "HS256";
    const json::value* kid = h ? h->if_contains("kid") : nullptr;
    const bool names_k1 = alg_hs256 && kid != nullptr && *kid == "k1" && !h->contains("crit") &&
                          (h->if_contains("typ") == nullptr || h->at("typ").is_string());
    check_token(token, names_k1 && !payload.empty() && token.size() <= 8192);
    return 0;
}
