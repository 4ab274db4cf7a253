/// @file moneta/metrics/stats_table.hpp
/// @brief How a subsystem declares what its stats struct exports, once, next to the struct:
/// a constexpr table of (kind, name, help, labels, reader). register_stats() walks the table
/// and registers one scrape-time callback per row that sums the row over every instance
/// (one instance per worker thread), so no other file repeats a metric name.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/metrics/registry.hpp"

namespace moneta::metrics {

enum class StatKind : std::uint8_t { kCounter, kGauge };

/// Up to two fixed labels; an empty key means "no label".
struct StatLabels {
    std::string_view key1;
    std::string_view value1;
    std::string_view key2;
    std::string_view value2;
};

/// One exported series of stats struct @p S.
template <class S>
struct Stat {
    StatKind kind;
    std::string_view name;
    std::string_view help;
    StatLabels labels;
    double (*read)(const S&);  ///< the member's current value (relaxed load)
};

/// A reader for member @p m of any stats struct: `MONETA_STAT(starts_granted_total)`.
#define MONETA_STAT(m) [](const auto& s) { return static_cast<double>(s.m.load()); }

/// Registers every row of @p table as a callback summing it over @p instances (which must
/// outlive @p registry's scrapes). Startup only: allocates.
template <class S>
void register_stats(Registry& registry, std::span<const Stat<S>> table, std::vector<const S*> instances) {
    auto shared = std::make_shared<const std::vector<const S*>>(std::move(instances));
    for (const Stat<S>& row : table) {
        Labels labels;
        if (!row.labels.key1.empty()) {
            labels.emplace_back(std::string(row.labels.key1), std::string(row.labels.value1));
        }
        if (!row.labels.key2.empty()) {
            labels.emplace_back(std::string(row.labels.key2), std::string(row.labels.value2));
        }
        auto sum = [shared, read = row.read] {
            double total = 0;
            for (const S* s : *shared) {
                total += read(*s);
            }
            return total;
        };
        if (row.kind == StatKind::kCounter) {
            registry.callback_counter(row.name, row.help, std::move(labels), std::move(sum));
        } else {
            registry.callback_gauge(row.name, row.help, std::move(labels), std::move(sum));
        }
    }
}

}  // namespace moneta::metrics
