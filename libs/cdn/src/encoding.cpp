#include "encoding.hpp"

#include "moneta/core/base64.hpp"
#include "moneta/core/hex.hpp"

namespace moneta::cdn::detail {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool is_alnum(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string cloudfront_base64(std::string_view bytes) {
    std::string out = core::base64_encode(bytes);
    for (char& c : out) {
        switch (c) {
            case '+':
                c = '-';
                break;
            case '=':
                c = '_';
                break;
            case '/':
                c = '~';
                break;
            default:
                break;
        }
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
    if (hex.empty() || hex.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = core::hex_value(hex[i]);
        const int lo = core::hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

std::string quote_plus_lower(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        if (is_alnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~') {
            out.push_back(ch);
        } else if (ch == ' ') {
            out.push_back('+');
        } else {
            const auto b = static_cast<unsigned char>(ch);
            out.push_back('%');
            out.push_back(kHex[b >> 4U]);
            out.push_back(kHex[b & 0x0FU]);
        }
    }
    return out;
}

bool is_plain_url_text(std::string_view text) noexcept {
    for (const char ch : text) {
        const auto b = static_cast<unsigned char>(ch);
        if (b <= 0x20 || b >= 0x7F || ch == '"' || ch == '\\') {
            return false;
        }
    }
    return true;
}

std::optional<std::string> normalise_base_url(std::string_view url) {
    std::size_t scheme_len = 0;
    if (url.starts_with("https://")) {
        scheme_len = 8;
    } else if (url.starts_with("http://")) {
        scheme_len = 7;
    } else {
        return std::nullopt;
    }
    if (url.ends_with('/')) {
        url.remove_suffix(1);
    }
    if (url.size() <= scheme_len || !is_plain_url_text(url) ||
        url.find_first_of("?#*", scheme_len) != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view host = url_host(url);
    if (host.empty() || host.find('@') != std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(url);
}

std::string_view url_host(std::string_view url) noexcept {
    const std::size_t start = url.find("://");
    if (start == std::string_view::npos) {
        return {};
    }
    std::string_view rest = url.substr(start + 3);
    return rest.substr(0, rest.find_first_of(":/"));
}

}  // namespace moneta::cdn::detail
