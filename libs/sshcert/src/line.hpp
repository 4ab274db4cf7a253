/// @file line.hpp (private)
/// @brief The text form shared by keys and certificates, `type base64 [comment]`, and the
/// fingerprint of a blob.
#pragma once

#include <string>
#include <string_view>

#include "moneta/sshcert/error.hpp"

namespace moneta::sshcert::detail {

struct LineFields {
    std::string_view type;
    std::string_view base64;
    std::string_view comment;
};

/// Splits a line of at most @p max_bytes: one trailing "\n" (or "\r\n") allowed, fields
/// separated by spaces or tabs, no control characters.
Result<LineFields> split_line(std::string_view line, std::size_t max_bytes);

/// The blob of a line's base64 field (strict base64, kMalformed otherwise).
Result<std::string> decode_blob(const LineFields& fields);

/// `type base64(blob)[ comment]`.
std::string join_line(std::string_view type, std::string_view blob, std::string_view comment);

/// `SHA256:` + unpadded base64 of SHA-256(@p blob).
std::string sha256_fingerprint(std::string_view blob);

}  // namespace moneta::sshcert::detail
