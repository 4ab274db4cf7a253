// Fuzz target: libs/sshcert's parsers of outside bytes: the public key lines engineers and hosts
// upload (PublicKey::parse_line, ::from_blob) and certificates read back (Certificate::parse_line,
// ::from_blob). The low 2 bits of the first byte pick the parser; the rest is its input.
// Invariants: each parser is deterministic (same verdict, same code); a refusal has a message;
// an accepted key's line and blob parse back to the same key, type and comment, its fingerprint
// is SHA256 + 43 base64 characters, RSA keys have >= 3072 bits; an accepted certificate's line
// and blob parse back to the same fields, its option and extension names are strictly sorted,
// it holds at most 256 principals, and a flipped byte in its signature is refused.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "moneta/sshcert/certificate.hpp"
#include "moneta/sshcert/public_key.hpp"

namespace {

using moneta::sshcert::Certificate;
using moneta::sshcert::CertField;
using moneta::sshcert::KeyType;
using moneta::sshcert::PublicKey;

template <class T>
void check_deterministic(const moneta::sshcert::Result<T>& a, const moneta::sshcert::Result<T>& b) {
    FUZZ_CHECK(a.has_value() == b.has_value(), "verdict differs between two parses");
    if (!a) {
        FUZZ_CHECK(a.error().code == b.error().code, "error code differs between two parses");
        FUZZ_CHECK(!a.error().message.empty(), "a refusal without a message");
    }
}

void check_key(const PublicKey& key) {
    const auto again = PublicKey::parse_line(key.to_line());
    FUZZ_CHECK(again && *again == key && again->comment() == key.comment() && again->type() == key.type(),
               "an accepted key's line does not parse back to it");
    const auto blob = PublicKey::from_blob(key.blob());
    FUZZ_CHECK(blob && *blob == key, "an accepted key's blob does not parse back to it");
    FUZZ_CHECK(key.fingerprint().size() == 7 + 43 && key.fingerprint().rfind("SHA256:", 0) == 0, "fingerprint shape");
    FUZZ_CHECK(key.type() != KeyType::kRsa || key.bits() >= 3072, "an RSA key under 3072 bits accepted");
}

bool strictly_sorted(const std::vector<CertField>& fields) {
    for (std::size_t i = 1; i < fields.size(); ++i) {
        if (!(fields[i - 1].name < fields[i].name)) {
            return false;
        }
    }
    return true;
}

void check_cert(const Certificate& cert) {
    check_key(cert.key);
    check_key(cert.signature_key);
    FUZZ_CHECK(cert.principals.size() <= moneta::sshcert::kMaxPrincipals, "too many principals accepted");
    FUZZ_CHECK(strictly_sorted(cert.critical_options) && strictly_sorted(cert.extensions), "unsorted names accepted");
    const auto again = Certificate::parse_line(cert.to_line(cert.comment));
    FUZZ_CHECK(again && again->blob == cert.blob && again->comment == cert.comment && again->serial == cert.serial &&
                   again->key_id == cert.key_id && again->principals == cert.principals &&
                   again->critical_options == cert.critical_options && again->extensions == cert.extensions,
               "an accepted certificate's line does not parse back to it");
    std::string flipped = cert.blob;
    flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 0x01);
    FUZZ_CHECK(!Certificate::from_blob(flipped), "a certificate with a flipped signature byte accepted");
}

/// Parses @p input twice with @p parse (same verdict), then checks what was accepted.
template <class T>
void fuzz_one(moneta::sshcert::Result<T> (*parse)(std::string_view), std::string_view input, void (*check)(const T&)) {
    const auto result = parse(input);
    check_deterministic(result, parse(input));
    if (result) {
        check(*result);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] & 3U) {
        case 0: fuzz_one(&PublicKey::parse_line, input, check_key); break;
        case 1: fuzz_one(&PublicKey::from_blob, input, check_key); break;
        case 2: fuzz_one(&Certificate::parse_line, input, check_cert); break;
        default: fuzz_one(&Certificate::from_blob, input, check_cert); break;
    }
    return 0;
}
