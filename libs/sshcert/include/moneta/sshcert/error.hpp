/// @file moneta/sshcert/error.hpp
/// @brief The one error type of libs/sshcert: a stable code (what the caller branches on, e.g.
/// the CA server's 400 vs 422) and a message naming what was wrong (safe to show the client: it
/// never contains key material).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace moneta::sshcert {

enum class Errc : std::uint8_t {
    kMalformed,           ///< not the expected syntax or encoding (bad base64, truncated, trailing bytes)
    kTooLarge,            ///< an input over its size bound (a line over 16 KiB, > 256 principals)
    kUnsupportedKeyType,  ///< DSA, security-key (sk-*) or unknown key types
    kCertificateAsKey,    ///< a certificate where a plain public key is expected
    kTypeMismatch,        ///< the line's key type differs from the one inside the blob
    kKeyTooSmall,         ///< RSA below 3072 bits
    kInvalidKey,          ///< well-formed but not a valid key (an EC point off its curve)
    kEmptyPrincipals,     ///< a certificate without principals: valid for anyone, never issued
    kInvalidPrincipal,    ///< an empty principal or one holding a NUL byte
    kInvalidValidity,     ///< valid_after is not before valid_before
    kUnknownOption,       ///< a critical option outside {force-command, source-address}
    kInvalidOptionValue,  ///< a bad source-address CIDR list, an empty force-command
    kUnknownExtension,    ///< an extension outside the permit-* set
    kBadSignature,        ///< a certificate whose CA signature does not verify
    kBadPassphrase,       ///< the CA key file does not decrypt with this passphrase
    kInvalidArgument,     ///< a caller input outside the API's contract (empty passphrase, serial 0 in a KRL)
    kIo,                  ///< reading or writing a file failed
    kCrypto,              ///< OpenSSL failed where it should not (out of memory, a bug)
};

/// Short stable name ("empty_principals"), usable as a metric label or a JSON error code.
std::string_view errc_name(Errc code) noexcept;

struct Error {
    Errc code;
    std::string message;
};

/// What every fallible call returns.
template <class T>
using Result = boost::system::result<T, Error>;

/// Lets `Result<T>::value()` throw (a caller that did not check: a bug, never the data path).
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace moneta::sshcert
