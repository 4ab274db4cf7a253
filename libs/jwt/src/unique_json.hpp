/// @file libs/jwt/src/unique_json.hpp
/// @brief JSON objects with unique member names, for JOSE headers and claims sets. Boost.JSON
/// keeps the last of two equal names; RFC 7515 §4 allows that or a refusal, and RFC 8725 §3.11
/// warns that two parsers choosing differently is an attack surface: we refuse.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace moneta::jwt::detail {

enum class JsonVerdict : unsigned char { kOk, kInvalid, kNotObject, kDuplicateName };

struct UniqueObject {
    JsonVerdict verdict = JsonVerdict::kInvalid;
    boost::json::object object;  ///< valid only with kOk
};

/// One pass of Boost.JSON's parser with a handler that also counts the members it saw; an object
/// holding fewer members than were parsed had a duplicate name (at any depth).
UniqueObject parse_unique_object(std::string_view text, std::size_t max_depth = 16);

}  // namespace moneta::jwt::detail
