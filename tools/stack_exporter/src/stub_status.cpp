#include "stub_status.hpp"

#include <charconv>
#include <optional>

namespace moneta::stack_exporter {
namespace {

/// Reads the number that follows @p label in @p text (after optional spaces), e.g. "Reading:".
std::optional<std::uint64_t> number_after(std::string_view text, std::string_view label) {
    const auto at = text.find(label);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    auto rest = text.substr(at + label.size());
    while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || end == rest.data()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

core::Result<StubStatus> parse_stub_status(std::string_view text) {
    StubStatus s;
    const auto active = number_after(text, "Active connections:");
    // The three totals are the line after the "server accepts handled requests" header.
    constexpr std::string_view kHeader = "server accepts handled requests";
    const auto header = text.find(kHeader);
    const auto reading = number_after(text, "Reading:");
    const auto writing = number_after(text, "Writing:");
    const auto waiting = number_after(text, "Waiting:");
    if (!active || header == std::string_view::npos || !reading || !writing || !waiting) {
        return core::make_error(core::Errc::kProtocolError);
    }
    auto totals = text.substr(header + kHeader.size());
    std::uint64_t* fields[] = {&s.accepted, &s.handled, &s.requests};
    for (std::uint64_t* field : fields) {
        while (!totals.empty() && (totals.front() == ' ' || totals.front() == '\n' || totals.front() == '\r')) {
            totals.remove_prefix(1);
        }
        const auto [end, ec] = std::from_chars(totals.data(), totals.data() + totals.size(), *field);
        if (ec != std::errc() || end == totals.data()) {
            return core::make_error(core::Errc::kProtocolError);
        }
        totals.remove_prefix(static_cast<std::size_t>(end - totals.data()));
    }
    s.active = *active;
    s.reading = *reading;
    s.writing = *writing;
    s.waiting = *waiting;
    return s;
}

void add_stub_status(metrics::Registry& registry, const StubStatus& s) {
    const auto gauge = [&registry](std::string_view name, std::string_view help, std::uint64_t v) {
        registry.gauge(name, help).set(static_cast<double>(v));
    };
    gauge("nginx_connections_active", "Open client connections, including waiting ones (stub_status).", s.active);
    gauge("nginx_connections_reading", "Connections whose request header nginx is reading.", s.reading);
    gauge("nginx_connections_writing", "Connections nginx is writing a response to.", s.writing);
    gauge("nginx_connections_waiting", "Idle keep-alive connections.", s.waiting);
    registry.counter("nginx_connections_accepted_total", "Client connections accepted.").inc(s.accepted);
    // accepted - handled > 0: connections closed at once because worker_connections was reached.
    registry.counter("nginx_connections_handled_total", "Client connections handled (accepted minus dropped at the worker_connections limit).")
        .inc(s.handled);
    registry.counter("nginx_http_requests_total", "Client requests.").inc(s.requests);
}

}  // namespace moneta::stack_exporter
