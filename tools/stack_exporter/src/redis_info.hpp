/// @file tools/stack_exporter/src/redis_info.hpp
/// @brief Redis `INFO` / `INFO commandstats` text → Prometheus series (redis_*).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/metrics/registry.hpp"

namespace moneta::stack_exporter {

/// One `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..` line.
struct CommandStat {
    std::string command;  ///< "get", "client|list" (Redis 7 sub-commands keep their '|')
    double calls = 0;
    double usec = 0;
    double rejected_calls = 0;  ///< absent before Redis 6.2: 0
    double failed_calls = 0;
};

/// One `db<N>:keys=..,expires=..,avg_ttl=..` line.
struct KeyspaceDb {
    std::string db;  ///< "db0"
    double keys = 0;
    double expires = 0;
};

/// Every `key:value` line of the INFO sections given to parse_redis_info, plus the two sections
/// with structured values.
struct RedisInfo {
    std::map<std::string, std::string, std::less<>> fields;
    std::vector<CommandStat> commands;
    std::vector<KeyspaceDb> keyspace;
};

/// Parses the concatenated bulk replies of `INFO` and `INFO commandstats` (CRLF or LF lines;
/// `# Section` headers and blank lines skipped).
/// @return kProtocolError when no `redis_version` line is present: not an INFO reply.
core::Result<RedisInfo> parse_redis_info(std::string_view text);

/// Registers the mapped series in @p registry (documented in docs/observability.md). A field
/// the server did not report is left out, never exported as 0.
void add_redis_info(metrics::Registry& registry, const RedisInfo& info);

}  // namespace moneta::stack_exporter
