#include "redis_info.hpp"

#include <charconv>
#include <optional>

namespace moneta::stack_exporter {
namespace {

std::optional<double> to_number(std::string_view s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

/// "calls=1,usec=5,usec_per_call=5.00" → the value of @p key, if numeric.
std::optional<double> sub_field(std::string_view list, std::string_view key) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = list.substr(0, comma);
        const auto eq = item.find('=');
        if (eq != std::string_view::npos && item.substr(0, eq) == key) {
            return to_number(item.substr(eq + 1));
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return std::nullopt;
}

enum class Kind { kGauge, kCounter };

/// An INFO field exported as it is.
struct Mapped {
    std::string_view field;
    std::string_view metric;
    Kind kind;
    std::string_view help;
};

constexpr Mapped kMapped[] = {
    {"uptime_in_seconds", "redis_uptime_in_seconds", Kind::kGauge, "Seconds since the server started."},
    {"connected_clients", "redis_connected_clients", Kind::kGauge, "Client connections (replicas excluded)."},
    {"blocked_clients", "redis_blocked_clients", Kind::kGauge, "Clients in a blocking call."},
    {"maxclients", "redis_max_clients", Kind::kGauge, "The maxclients setting."},
    {"used_memory", "redis_memory_used_bytes", Kind::kGauge, "Bytes allocated by Redis (used_memory)."},
    {"used_memory_rss", "redis_memory_used_rss_bytes", Kind::kGauge, "Resident set size of the server."},
    {"used_memory_peak", "redis_memory_used_peak_bytes", Kind::kGauge, "Peak of used_memory."},
    {"maxmemory", "redis_memory_max_bytes", Kind::kGauge, "The maxmemory setting; 0 = no limit."},
    {"total_system_memory", "redis_total_system_memory_bytes", Kind::kGauge, "Memory of the host."},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", Kind::kGauge, "used_memory_rss / used_memory."},
    {"instantaneous_ops_per_sec", "redis_instantaneous_operations_per_second", Kind::kGauge,
     "Commands per second, as Redis samples it."},
    {"total_commands_processed", "redis_commands_processed_total", Kind::kCounter, "Commands processed."},
    {"total_connections_received", "redis_connections_received_total", Kind::kCounter, "Connections accepted."},
    {"rejected_connections", "redis_rejected_connections_total", Kind::kCounter,
     "Connections refused because of maxclients."},
    {"keyspace_hits", "redis_keyspace_hits_total", Kind::kCounter, "Successful key lookups."},
    {"keyspace_misses", "redis_keyspace_misses_total", Kind::kCounter, "Failed key lookups."},
    {"expired_keys", "redis_expired_keys_total", Kind::kCounter, "Keys removed because they expired."},
    {"evicted_keys", "redis_evicted_keys_total", Kind::kCounter, "Keys evicted because of maxmemory."},
    {"aof_enabled", "redis_aof_enabled", Kind::kGauge, "1 when appendonly is on."},
    {"aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", Kind::kGauge, "1 while an AOF rewrite runs."},
    {"aof_current_size", "redis_aof_current_size_bytes", Kind::kGauge, "Size of the AOF."},
    {"aof_delayed_fsync", "redis_aof_delayed_fsync_total", Kind::kCounter,
     "fsyncs that were late because the disk was busy (appendfsync everysec)."},
    {"rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", Kind::kGauge,
     "Writes since the last RDB save."},
};

/// An INFO "ok"/"err" status exported as 1/0.
struct Status {
    std::string_view field;
    std::string_view metric;
    std::string_view help;
};

constexpr Status kStatuses[] = {
    {"aof_last_write_status", "redis_aof_last_write_ok",
     "1 when the last write to the AOF succeeded (0: Redis refuses writes until it works again)."},
    {"aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_ok", "1 when the last AOF rewrite succeeded."},
    {"rdb_last_bgsave_status", "redis_rdb_last_bgsave_ok", "1 when the last RDB save succeeded."},
};

}  // namespace

core::Result<RedisInfo> parse_redis_info(std::string_view text) {
    RedisInfo info;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            continue;  // not a field; INFO has none, but a future version may
        }
        const auto key = line.substr(0, colon);
        const auto value = line.substr(colon + 1);
        if (key.starts_with("cmdstat_")) {
            CommandStat c;
            c.command = std::string(key.substr(8));
            c.calls = sub_field(value, "calls").value_or(0);
            c.usec = sub_field(value, "usec").value_or(0);
            c.rejected_calls = sub_field(value, "rejected_calls").value_or(0);
            c.failed_calls = sub_field(value, "failed_calls").value_or(0);
            info.commands.push_back(std::move(c));
        } else if (key.size() > 2 && key.starts_with("db") && to_number(key.substr(2)) &&
                   sub_field(value, "keys")) {
            info.keyspace.push_back({std::string(key), sub_field(value, "keys").value_or(0),
                                     sub_field(value, "expires").value_or(0)});
        } else {
            info.fields.emplace(std::string(key), std::string(value));
        }
    }
    if (!info.fields.contains("redis_version")) {
        return core::make_error(core::Errc::kProtocolError);
    }
    return info;
}

void add_redis_info(metrics::Registry& registry, const RedisInfo& info) {
    for (const Mapped& m : kMapped) {
        const auto it = info.fields.find(m.field);
        if (it == info.fields.end()) {
            continue;
        }
        const auto v = to_number(it->second);
        if (!v) {
            continue;
        }
        if (m.kind == Kind::kGauge) {
            registry.gauge(m.metric, m.help).set(*v);
        } else {
            const double value = *v;
            registry.callback_counter(m.metric, m.help, {}, [value] { return value; });
        }
    }
    for (const Status& s : kStatuses) {
        if (const auto it = info.fields.find(s.field); it != info.fields.end()) {
            registry.gauge(s.metric, s.help).set(it->second == "ok" ? 1 : 0);
        }
    }
    const auto field = [&info](std::string_view key) {
        const auto it = info.fields.find(key);
        return it == info.fields.end() ? std::string() : it->second;
    };
    registry.gauge("redis_instance_info", "Always 1; the labels say which server this is.",
                   {{"redis_version", field("redis_version")}, {"role", field("role")}})
        .set(1);
    for (const CommandStat& c : info.commands) {
        const metrics::Labels labels{{"cmd", c.command}};
        const auto counter = [&registry, &labels](std::string_view name, std::string_view help, double v) {
            registry.callback_counter(name, help, labels, [v] { return v; });
        };
        counter("redis_commands_total", "Calls per command (INFO commandstats).", c.calls);
        counter("redis_commands_duration_seconds_total", "CPU time spent in each command.", c.usec / 1e6);
        counter("redis_commands_rejected_calls_total", "Calls refused before running (wrong arity, OOM, ...).",
                c.rejected_calls);
        counter("redis_commands_failed_calls_total", "Calls that ran and returned an error.", c.failed_calls);
    }
    for (const KeyspaceDb& db : info.keyspace) {
        registry.gauge("redis_db_keys", "Keys per database.", {{"db", db.db}}).set(db.keys);
        registry.gauge("redis_db_keys_expiring", "Keys with a TTL per database.", {{"db", db.db}}).set(db.expires);
    }
}

}  // namespace moneta::stack_exporter
