/// @file cert_fields.hpp (private)
/// @brief The checks and encodings of a certificate's text fields: principals, critical options,
/// extensions (PROTOCOL.certkeys "Critical options" / "Extensions").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "moneta/sshcert/certificate.hpp"

namespace moneta::sshcert::detail {

/// The request's principals, key id, options and extensions checked (see sign_certificate).
Result<void> check_request(const CertificateRequest& request);

/// The "valid principals" field: each principal as a string, packed in one string's body.
std::string encode_principals(const std::vector<std::string>& principals);

/// The "critical options" field's body: (string name, string(string value)) sorted by name.
std::string encode_critical_options(const std::map<std::string, std::string>& options);

/// The "extensions" field's body: (string name, string "") sorted by name.
std::string encode_extensions(const std::set<std::string>& extensions);

/// Reads an options/extensions body: (cstring name, string data) pairs, names strictly
/// increasing (sorted, no repeats), nothing left over.
Result<std::vector<CertField>> decode_fields(std::string_view body, std::string_view what);

/// Reads a principals body (cstrings, at most kMaxPrincipals).
Result<std::vector<std::string>> decode_principals(std::string_view body);

}  // namespace moneta::sshcert::detail
