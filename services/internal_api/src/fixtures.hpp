/// @file services/internal_api/src/fixtures.hpp
/// @brief Demo/test fixtures (api.md §7 format) plus a deterministic "generate" section that
/// expands into thousands of accounts and titles for load tests (docs/fixtures.md).
#pragma once

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moneta::internal_api {

struct ProgressRow {
    std::string profile_id;
    std::string content_id;
    double position_sec = 0;
    double duration_sec = 0;
    bool completed = false;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 0;
};

/// Documents are kept as the exact JSON the API serves.
struct Fixtures {
    std::vector<std::pair<std::string, std::string>> accounts;  ///< id → account JSON (plan embedded)
    std::vector<std::pair<std::string, std::string>> contents;  ///< id → content JSON
    std::vector<ProgressRow> progress;
    /// For benchmarks: "account profile content" triples that can start playback.
    std::vector<std::string> playable;
};

/// Loads, validates (unknown plan, duplicate ids, bad id charset, missing fields) and expands.
/// @return the fixtures or a message naming the offending entry.
boost::system::result<Fixtures, std::string> load_fixtures(const std::filesystem::path& file);

/// The fully expanded fixture document (for --dump-fixtures).
boost::system::result<std::string, std::string> expand_fixtures_json(const std::filesystem::path& file);

}  // namespace moneta::internal_api
