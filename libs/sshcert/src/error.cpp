#include "moneta/sshcert/error.hpp"

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace moneta::sshcert {

std::string_view errc_name(Errc code) noexcept {
    switch (code) {
        case Errc::kMalformed: return "malformed";
        case Errc::kTooLarge: return "too_large";
        case Errc::kUnsupportedKeyType: return "unsupported_key_type";
        case Errc::kCertificateAsKey: return "certificate_as_key";
        case Errc::kTypeMismatch: return "type_mismatch";
        case Errc::kKeyTooSmall: return "key_too_small";
        case Errc::kInvalidKey: return "invalid_key";
        case Errc::kEmptyPrincipals: return "empty_principals";
        case Errc::kInvalidPrincipal: return "invalid_principal";
        case Errc::kInvalidValidity: return "invalid_validity";
        case Errc::kUnknownOption: return "unknown_option";
        case Errc::kInvalidOptionValue: return "invalid_option_value";
        case Errc::kUnknownExtension: return "unknown_extension";
        case Errc::kBadSignature: return "bad_signature";
        case Errc::kBadPassphrase: return "bad_passphrase";
        case Errc::kInvalidArgument: return "invalid_argument";
        case Errc::kIo: return "io";
        case Errc::kCrypto: return "crypto";
    }
    return "unknown";
}

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error(std::string(errc_name(e.code)) + ": " + e.message), loc);
}

}  // namespace moneta::sshcert
