/// @file services/sshca/src/aws_xml.hpp
/// @brief The XML AWS's query APIs (STS, IAM) answer with, read strictly into a small tree: an
/// optional `<?xml …?>` declaration, elements, text, attributes (only `xmlns` is kept), the five
/// predefined entities and numeric character references. No DTD, comments, CDATA or processing
/// instructions (AWS sends none); bounded depth and size. Anything else is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::sshca {

struct XmlElement {
    std::string name;
    std::string xmlns;  ///< the element's own xmlns attribute ("" when none)
    std::string text;   ///< the character data directly inside (whitespace between children dropped)
    std::vector<XmlElement> children;

    /// The only child named @p name; nullptr when there is none or more than one.
    const XmlElement* only(std::string_view child) const noexcept;
    /// The text of the only child named @p name; nullopt when absent, repeated or not a leaf.
    std::optional<std::string> leaf(std::string_view child) const;
};

/// The document element of @p text, or nullopt when it is not well-formed within the subset.
std::optional<XmlElement> parse_xml(std::string_view text, std::size_t max_depth = 16);

/// @p text with & < > " ' escaped (for the fake AWS's answers).
std::string xml_escape(std::string_view text);

}  // namespace moneta::sshca
