#include "moneta/testing/base64.hpp"

#include <openssl/evp.h>

namespace moneta::testing {

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL OpenSSL writes
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

std::optional<std::string> cloudfront_base64_decode(std::string_view text) {
    std::string b64(text);
    for (char& c : b64) {
        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '=';
        } else if (c == '~') {
            c = '/';
        } else if (c == '+' || c == '=' || c == '/') {
            return std::nullopt;  // the substitution must have removed these
        }
    }
    return base64_decode(b64);
}

}  // namespace moneta::testing
