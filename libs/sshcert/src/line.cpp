#include "line.hpp"

#include <openssl/sha.h>

#include "moneta/core/base64.hpp"

namespace moneta::sshcert::detail {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view take_token(std::string_view& rest) noexcept {
    std::size_t n = 0;
    while (n < rest.size() && !is_blank(rest[n])) {
        ++n;
    }
    const std::string_view token = rest.substr(0, n);
    rest.remove_prefix(n);
    while (!rest.empty() && is_blank(rest.front())) {
        rest.remove_prefix(1);
    }
    return token;
}

}  // namespace

Result<LineFields> split_line(std::string_view line, std::size_t max_bytes) {
    if (line.size() > max_bytes) {
        return Error{Errc::kTooLarge, "line longer than " + std::to_string(max_bytes) + " bytes"};
    }
    if (!line.empty() && line.back() == '\n') {
        line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
    }
    while (!line.empty() && is_blank(line.back())) {
        line.remove_suffix(1);
    }
    for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
            return Error{Errc::kMalformed, "control character in the line"};
        }
    }
    LineFields out;
    out.type = take_token(line);
    out.base64 = take_token(line);
    out.comment = line;
    if (out.type.empty() || out.base64.empty()) {
        return Error{Errc::kMalformed, "expected 'type base64 [comment]'"};
    }
    return out;
}

Result<std::string> decode_blob(const LineFields& fields) {
    auto blob = core::base64_decode(fields.base64);
    if (!blob) {
        return Error{Errc::kMalformed, "key data is not valid base64"};
    }
    return std::move(*blob);
}

std::string join_line(std::string_view type, std::string_view blob, std::string_view comment) {
    std::string out(type);
    out.push_back(' ');
    core::append_base64(out, blob);
    if (!comment.empty()) {
        out.push_back(' ');
        out.append(comment);
    }
    return out;
}

std::string sha256_fingerprint(std::string_view blob) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(), digest);
    std::string out = "SHA256:";
    core::append_base64(out, std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
    while (out.back() == '=') {
        out.pop_back();
    }
    return out;
}

}  // namespace moneta::sshcert::detail
