/// @file tools/stack_exporter/src/stub_status.hpp
/// @brief nginx's stub_status page (ngx_http_stub_status_module) → Prometheus series.
#pragma once

#include <cstdint>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/metrics/registry.hpp"

namespace moneta::stack_exporter {

/// The seven numbers of the page:
/// @code
///   Active connections: 291
///   server accepts handled requests
///    16630948 16630948 31070465
///   Reading: 6 Writing: 179 Waiting: 106
/// @endcode
struct StubStatus {
    std::uint64_t active = 0;
    std::uint64_t accepted = 0;
    std::uint64_t handled = 0;
    std::uint64_t requests = 0;
    std::uint64_t reading = 0;
    std::uint64_t writing = 0;
    std::uint64_t waiting = 0;
};

/// @return the numbers, or kProtocolError when @p text is not that page (a wrong URL answering
/// 200 with HTML must not look like an idle nginx).
core::Result<StubStatus> parse_stub_status(std::string_view text);

/// Registers nginx_connections_{active,reading,writing,waiting} (gauges) and
/// nginx_connections_{accepted,handled}_total, nginx_http_requests_total (counters) in @p registry.
void add_stub_status(metrics::Registry& registry, const StubStatus& status);

}  // namespace moneta::stack_exporter
