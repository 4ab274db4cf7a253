/// @file moneta/sshcert/certificate.hpp
/// @brief OpenSSH certificates (PROTOCOL.certkeys): sign_certificate() issues user and host
/// certificates byte-compatible with `ssh-keygen -s`; Certificate::parse_line() reads one back
/// and checks its CA signature.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/sshcert/ca_key.hpp"
#include "moneta/sshcert/error.hpp"
#include "moneta/sshcert/public_key.hpp"

namespace moneta::sshcert {

enum class CertType : std::uint32_t {
    kUser = 1,  ///< SSH_CERT_TYPE_USER: principals are user names (or zones)
    kHost = 2,  ///< SSH_CERT_TYPE_HOST: principals are host names
};

/// The critical options a request may carry (user certificates only).
inline constexpr std::string_view kForceCommand = "force-command";
inline constexpr std::string_view kSourceAddress = "source-address";
/// The extensions a request may carry (user certificates only).
inline constexpr std::array<std::string_view, 5> kKnownExtensions{
    "permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
    "permit-user-rc"};

/// At most this many principals (OpenSSH refuses to parse more).
inline constexpr std::size_t kMaxPrincipals = 256;
/// Bound on the key id, each principal and each option value (sshd logs them).
inline constexpr std::size_t kMaxFieldBytes = 1024;
/// The nonce's size.
inline constexpr std::size_t kNonceBytes = 32;

/// What to certify. The caller (the CA server) decides every value; sign_certificate only
/// refuses what is malformed or unsafe.
struct CertificateRequest {
    CertType type = CertType::kUser;
    std::uint64_t serial = 0;
    std::string key_id;
    /// Never empty: a certificate without principals is valid for every user (or host).
    std::vector<std::string> principals;
    std::uint64_t valid_after = 0;   ///< seconds since the epoch, inclusive
    std::uint64_t valid_before = 0;  ///< seconds since the epoch, exclusive
    /// name → value: force-command (a command line) and source-address (a comma-separated CIDR
    /// list such as "10.0.0.0/8,2001:db8::/32"). Encoded sorted, as OpenSSH does.
    std::map<std::string, std::string> critical_options;
    /// Names from kKnownExtensions (permit-pty, ...). Encoded sorted, with empty data.
    std::set<std::string> extensions;
    /// The 32-byte nonce; leave empty for a fresh one from the CSPRNG (tests inject one).
    std::optional<std::array<std::uint8_t, kNonceBytes>> nonce;
};

/// A name and its data as in the certificate (for critical options the data is itself an SSH
/// string holding the value; see Certificate::critical_option).
struct CertField {
    std::string name;
    std::string data;
    friend bool operator==(const CertField&, const CertField&) = default;
};

/// A certificate: every field of PROTOCOL.certkeys, plus the blob they came from.
struct Certificate {
    std::string blob;  ///< the whole wire encoding (what the .pub line base64-encodes)
    std::string nonce;
    PublicKey key;  ///< the certified (subject) key
    std::uint64_t serial = 0;
    CertType type = CertType::kUser;
    std::string key_id;
    std::vector<std::string> principals;
    std::uint64_t valid_after = 0;
    std::uint64_t valid_before = 0;
    std::vector<CertField> critical_options;  ///< sorted by name
    std::vector<CertField> extensions;        ///< sorted by name
    PublicKey signature_key;                  ///< the CA's public key
    std::string signature_algorithm;          ///< e.g. "ssh-ed25519", "rsa-sha2-512"
    std::string signature;                    ///< the signature field (algorithm + signature blob)
    std::string comment;                      ///< the line's comment (parse_line only)

    /// "ssh-ed25519-cert-v01@openssh.com" etc.
    std::string type_name() const;
    /// `type-cert-v01@openssh.com base64 comment`: the content of an id_*-cert.pub file
    /// (without the newline).
    std::string to_line(std::string_view comment = {}) const;
    /// The value of a critical option (the string inside its data), nullopt when absent.
    std::optional<std::string> critical_option(std::string_view name) const;
    /// True when the certificate has the extension.
    bool has_extension(std::string_view name) const;

    /// Parses a certificate line (`…-cert-v01@openssh.com AAAA… comment`) and verifies its CA
    /// signature. The subject and CA keys follow PublicKey's rules (types, sizes). Errors:
    /// kMalformed (structure, trailing bytes, unsorted or repeated options), kTooLarge,
    /// kBadSignature, the key errors of PublicKey.
    static Result<Certificate> parse_line(std::string_view line);
    /// The same on a certificate blob.
    static Result<Certificate> from_blob(std::string_view blob);
};

/// Issues a certificate for @p subject signed by @p ca. Refuses: no principals
/// (kEmptyPrincipals); more than kMaxPrincipals (kTooLarge); an empty principal, one with a
/// space, a comma, a control character or over kMaxFieldBytes (kInvalidPrincipal); valid_after >= valid_before
/// (kInvalidValidity); a critical option other than force-command / source-address
/// (kUnknownOption); an empty or NUL-holding force-command or a bad CIDR list
/// (kInvalidOptionValue); an extension outside kKnownExtensions (kUnknownExtension); options
/// or extensions on a host certificate (kUnknownOption / kUnknownExtension: none are defined
/// for hosts); a key id with a NUL byte or over kMaxFieldBytes (kInvalidArgument).
Result<Certificate> sign_certificate(const CaKey& ca, const PublicKey& subject, const CertificateRequest& request);

/// Checks a source-address value as sshd reads it: comma-separated IPv4 or IPv6 addresses,
/// each with an optional /prefix (0-32, 0-128) whose host bits are zero. The server uses it to
/// validate its policy file at start.
Result<void> validate_cidr_list(std::string_view list);

}  // namespace moneta::sshcert
