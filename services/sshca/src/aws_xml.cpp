#include "aws_xml.hpp"

#include <cstdint>

#include "moneta/core/hex.hpp"

namespace moneta::sshca {
namespace {

bool name_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

bool space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Parser {
public:
    Parser(std::string_view s, std::size_t max_depth) : s_(s), max_depth_(max_depth) {}

    std::optional<XmlElement> document() {
        skip_space();
        if (s_.substr(i_).starts_with("<?xml")) {
            const auto end = s_.find("?>", i_);
            if (end == std::string_view::npos) {
                return std::nullopt;
            }
            i_ = end + 2;
        }
        skip_space();
        XmlElement root;
        if (!element(root, 0)) {
            return std::nullopt;
        }
        skip_space();
        return i_ == s_.size() ? std::optional<XmlElement>(std::move(root)) : std::nullopt;
    }

private:
    void skip_space() {
        while (i_ < s_.size() && space(s_[i_])) {
            ++i_;
        }
    }

    std::optional<std::string_view> name() {
        const std::size_t start = i_;
        while (i_ < s_.size() && name_char(s_[i_])) {
            ++i_;
        }
        if (i_ == start) {
            return std::nullopt;
        }
        return s_.substr(start, i_ - start);
    }

    /// Character data up to @p stop, entities decoded, into @p out.
    bool chars(char stop, std::string& out) {
        while (i_ < s_.size() && s_[i_] != stop) {
            const char c = s_[i_];
            if (c == '<' || (c == '>' && stop == '"')) {
                return false;
            }
            if (c != '&') {
                out += c;
                ++i_;
                continue;
            }
            const auto semi = s_.find(';', i_);
            if (semi == std::string_view::npos || semi - i_ > 10) {
                return false;
            }
            const std::string_view ref = s_.substr(i_ + 1, semi - i_ - 1);
            if (ref == "amp") {
                out += '&';
            } else if (ref == "lt") {
                out += '<';
            } else if (ref == "gt") {
                out += '>';
            } else if (ref == "quot") {
                out += '"';
            } else if (ref == "apos") {
                out += '\'';
            } else if (ref.size() >= 2 && ref[0] == '#') {
                std::uint32_t cp = 0;
                const bool hexa = ref[1] == 'x';
                const std::string_view digits = ref.substr(hexa ? 2 : 1);
                if (digits.empty()) {
                    return false;
                }
                for (const char d : digits) {
                    const int v = hexa ? core::hex_value(d) : (d >= '0' && d <= '9' ? d - '0' : -1);
                    if (v < 0) {
                        return false;
                    }
                    cp = cp * (hexa ? 16 : 10) + static_cast<std::uint32_t>(v);
                    if (cp > 0x10FFFF) {
                        return false;
                    }
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                    return false;
                }
                append_utf8(out, cp);
            } else {
                return false;
            }
            i_ = semi + 1;
        }
        return i_ < s_.size();
    }

    bool element(XmlElement& e, std::size_t depth) {
        if (depth >= max_depth_ || i_ >= s_.size() || s_[i_] != '<') {
            return false;
        }
        ++i_;
        const auto n = name();
        if (!n) {
            return false;
        }
        e.name = std::string(*n);
        while (true) {
            skip_space();
            if (i_ >= s_.size()) {
                return false;
            }
            if (s_[i_] == '/' || s_[i_] == '>') {
                break;
            }
            const auto attr = name();
            if (!attr || i_ + 1 >= s_.size() || s_[i_] != '=' || s_[i_ + 1] != '"') {
                return false;
            }
            i_ += 2;
            std::string value;
            if (!chars('"', value)) {
                return false;
            }
            ++i_;
            if (*attr == "xmlns") {
                e.xmlns = std::move(value);
            }
        }
        if (s_[i_] == '/') {
            if (i_ + 1 >= s_.size() || s_[i_ + 1] != '>') {
                return false;
            }
            i_ += 2;
            return true;
        }
        ++i_;  // '>'
        std::string text;
        while (true) {
            if (!chars('<', text)) {
                return false;
            }
            if (s_.substr(i_).starts_with("</")) {
                i_ += 2;
                const auto close = name();
                if (!close || *close != e.name || i_ >= s_.size() || s_[i_] != '>') {
                    return false;
                }
                ++i_;
                break;
            }
            if (i_ + 1 < s_.size() && (s_[i_ + 1] == '!' || s_[i_ + 1] == '?')) {
                return false;  // comments, CDATA, DTDs, processing instructions
            }
            XmlElement child;
            if (!element(child, depth + 1)) {
                return false;
            }
            e.children.push_back(std::move(child));
        }
        if (e.children.empty()) {
            e.text = std::move(text);
        } else {
            for (const char c : text) {
                if (!space(c)) {
                    return false;  // mixed content: not AWS's
                }
            }
        }
        return true;
    }

    std::string_view s_;
    std::size_t max_depth_;
    std::size_t i_ = 0;
};

}  // namespace

const XmlElement* XmlElement::only(std::string_view child) const noexcept {
    const XmlElement* found = nullptr;
    for (const auto& c : children) {
        if (c.name == child) {
            if (found != nullptr) {
                return nullptr;
            }
            found = &c;
        }
    }
    return found;
}

std::optional<std::string> XmlElement::leaf(std::string_view child) const {
    const XmlElement* c = only(child);
    if (c == nullptr || !c->children.empty()) {
        return std::nullopt;
    }
    return c->text;
}

std::optional<XmlElement> parse_xml(std::string_view text, std::size_t max_depth) {
    return Parser(text, max_depth).document();
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace moneta::sshca
