/// @file moneta/testing/moneta_keys.hpp
/// @brief moneta's Redis key names as docs/data.md spells them, for tests that look into Redis.
/// Written from the document, not from services/moneta/src/store/keys.cpp: a test that reads a
/// key through this header fails when the layout drifts from what the document promises.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moneta::testing {

/// docs/data.md "Cluster": n = FNV-1a(account) mod 256.
inline int account_partition(std::string_view account) {
    std::uint32_t h = 2166136261U;
    for (const char c : account) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    }
    return static_cast<int>(h % 256U);
}

/// `<prefix>{p<n>}:<account><suffix>`, e.g. account_key("lease:", "a_1") or
/// account_key("prog:", "a_1", ":p_1").
inline std::string account_key(std::string_view prefix, std::string_view account, std::string_view suffix = {}) {
    std::string k(prefix);
    k += "{p";
    k += std::to_string(account_partition(account));
    k += "}:";
    k += account;
    k += suffix;
    return k;
}

/// `<prefix>{p<n>}` of a partition: `progq:` (write-behind stream), `progdue:` (due index).
inline std::string partition_key(std::string_view prefix, int partition) {
    return std::string(prefix) + "{p" + std::to_string(partition) + "}";
}

/// Partitions of the account keyspace (fixed).
inline constexpr int kPartitions = 256;

}  // namespace moneta::testing
