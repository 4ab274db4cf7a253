/// @file services/internal_api/src/requests.hpp
/// @brief Parsing of the internal API's request bodies and queries (api.md §7): pure functions,
/// no I/O, so the handlers in app.cpp stay thin and fuzz/internal_api_fuzz.cpp reaches them.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"

namespace moneta::internal_api {

/// Account, profile and content ids: 1..64 characters of [A-Za-z0-9_-].
bool valid_id(std::string_view id);

/// Strict item of progress:batchUpsert; nullopt with @p why set when malformed.
std::optional<ProgressRow> parse_item(const boost::json::value& v, std::string& why);

/// The body of POST /internal/v1/progress:batchUpsert: `{"items":[...]}`, at most 1000 items.
/// @return the rows, or the reason the request is malformed (the 400's details.reason).
boost::system::result<std::vector<ProgressRow>, std::string> parse_batch_upsert(std::string_view body);

/// The query of GET /internal/v1/profiles/{id}/progress: empty, or `content_ids=a,b,...` with at
/// most 100 ids. @return the ids (empty: all), or the reason the request is malformed.
boost::system::result<std::vector<std::string>, std::string> parse_content_ids_query(std::string_view query);

}  // namespace moneta::internal_api
