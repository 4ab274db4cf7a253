/// @file moneta/testing/yaml.hpp
/// @brief YAML files read as JSON (Boost.JSON) for structural tests of workflows and manifests.
#pragma once

#include <boost/json/array.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace moneta::testing {

/// The documents of one YAML stream, or why it could not be read.
struct YamlDocuments {
    boost::json::array documents;  ///< one element per YAML document (an empty document is null)
    std::string error;             ///< empty on success; else the parser's message (with line)
    bool ok() const noexcept { return error.empty(); }
};

/// Reads @p file with Debian's python3-yaml (`/usr/bin/python3`, package python3-yaml, in
/// MONETA_PACKAGES) and converts every document to JSON. The reading is strict and follows the
/// YAML 1.2 core schema, which is what GitHub Actions and Kubernetes mean, not PyYAML's YAML 1.1:
///  - only true/false (any case) are booleans: `on:` and `yes` stay strings;
///  - integers are decimal, 0o octal or 0x hex (`0755` is 755; `8080:80` is a string);
///  - dates stay strings; null is `~`, `null` or nothing;
///  - a duplicated mapping key is an error (a parser would silently keep the last);
///  - anchors, aliases and `<<` merge keys resolve as usual;
///  - a local tag (`!Ref x`, CloudFormation's style) becomes the object {"!Ref": x};
///  - non-string keys become their JSON text ("1", "true").
/// @return the documents, or a non-empty error (unreadable file, syntax error, python3-yaml
/// missing: the message says so).
YamlDocuments load_yaml_file(const std::filesystem::path& file);

/// load_yaml_file of @p text (written to a scratch file first).
YamlDocuments load_yaml_text(std::string_view text);

}  // namespace moneta::testing
