/// @file tests/e2e/fault_support.hpp
/// @brief Helpers of the fault-injection suite (fault_injection_test.cpp): the "warm" workload
/// (heartbeats and same-device starts of already-cached viewers, driven by run_load), "cold"
/// starts that must reach the internal API, the check of api.md error bodies, and the printed
/// per-phase table.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/testing/load.hpp"
#include "moneta/testing/stack.hpp"
#include "no_loss_support.hpp"

namespace moneta::e2e {

/// Counters of one run of the warm workload (merged from the connection threads).
struct WarmCounts {
    std::uint64_t heartbeats = 0;
    std::uint64_t heartbeats_ok = 0;  ///< 200
    std::uint64_t starts = 0;
    std::uint64_t starts_ok = 0;                    ///< 201
    std::map<std::string, std::uint64_t> failures;  ///< "<kind> <status> <code>" → count
    std::vector<std::string> samples;               ///< the first few failures, verbatim

    std::string summary() const;
};

/// The warm workload: every request concerns a viewer whose account and content are cached.
/// Four heartbeats (position +0.1 s, seq +1) for one start from the viewer's own device (which
/// replaces its own lease → 201 with a new session id). Viewers are split across the connections,
/// so each viewer's requests are sequential and its newest acknowledged position is exact. A
/// heartbeat answered 404/409 (its session was lost or replaced behind a timed-out start) makes
/// that viewer start again, as a player would.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe, except that the LoadSpec callbacks may run
/// concurrently (one connection thread each). Read the viewers and counts only between runs.
class WarmWorkload {
public:
    WarmWorkload(std::vector<Viewer>& viewers, std::size_t connections);

    /// A LoadSpec over this workload: @p connections keep-alive connections for @p duration.
    testing::LoadSpec spec(std::uint16_t port, std::chrono::milliseconds duration);
    /// Counts since the previous call (then reset).
    WarmCounts take_counts();
    /// With no load running: one heartbeat per viewer, in turn, then a start for every viewer
    /// whose heartbeat found its session gone. @return the counts of these requests.
    WarmCounts heartbeat_each(std::uint16_t port);
    /// Viewers whose next request must be a start.
    std::vector<std::size_t> needing_start() const;
    /// When @p viewer got @p session_id from a 201 start ("started at <wall ms>"), or
    /// "not a session of this viewer".
    std::string session_origin(std::size_t viewer, const std::string& session_id) const;
    void mark_started(std::size_t viewer) { needs_start_[viewer] = 0; }

private:
    struct Sent {
        std::size_t viewer = 0;
        bool start = false;
        std::int64_t seq = 0;
        std::int64_t tenths = 0;
    };
    struct Conn {
        std::vector<std::size_t> viewers;
        std::size_t next = 0;
        std::uint64_t sent_count = 0;
        Sent last;
        WarmCounts counts;
    };

    testing::LoadRequest request(std::size_t conn);
    testing::LoadRequest heartbeat(Conn& c, std::size_t viewer);
    testing::LoadRequest start(Conn& c, std::size_t viewer);
    void on_response(std::size_t conn, const testing::HttpReply& reply);

    std::vector<Viewer>& viewers_;
    std::vector<std::uint8_t> needs_start_;  // per viewer; written by its connection's thread only
    /// Per viewer, its last few answers ("<wall ms> start → 201 ps_…"), shown with a failure.
    std::vector<std::deque<std::string>> history_;
    /// Per viewer, session id → wall ms of the 201 that gave it.
    std::vector<std::map<std::string, std::int64_t>> sessions_;
    std::vector<Conn> conns_;  // conns_[i] is touched by connection thread i only
};

/// Error code of an api.md error body ("" when the body is not one).
std::string error_code(const std::string& body);

/// "" when @p r is a well-formed api.md §Errors answer for a failed upstream: 502
/// UPSTREAM_ERROR, 503 UPSTREAM_UNAVAILABLE or OVERLOADED with a positive integer Retry-After,
/// or 504 UPSTREAM_TIMEOUT; `retryable: true`, message, details and server_time_ms present.
/// Otherwise what is wrong.
std::string upstream_error_problem(const testing::HttpReply& r);

/// Accounts of the fixtures (no_loss_support) that no viewer uses: the cold starts rotate over
/// them.
inline constexpr int kFirstColdAccount = 31;
inline constexpr int kColdAccounts = 10;
/// A title no viewer plays, added to the fixtures by add_cold_content().
inline constexpr std::string_view kColdContent = "fi_cold";

/// Adds kColdContent (a copy of nl_c1) to the fixtures file written by write_fixtures().
void add_cold_content(const std::filesystem::path& fixtures);

/// One cold start: the cached account and title are deleted first (`DEL ent:{p<n>}:<id>` and
/// `content:{c:fi_cold}`, what billing and catalog events do), so moneta must ask the internal
/// API for both: the start needs the account and the content breakers to admit calls.
struct ColdResult {
    testing::HttpReply reply;
    std::chrono::milliseconds latency{0};
};
ColdResult cold_start(testing::Stack& stack, int n);

/// Outcome of the cold starts of one phase.
struct ColdTally {
    std::uint64_t total = 0;
    std::uint64_t created = 0;                       ///< 201
    std::map<std::string, std::uint64_t> by_answer;  ///< "503 UPSTREAM_UNAVAILABLE" → count
    std::vector<std::string>
        problems;  ///< answers that were neither 201 nor a valid upstream error

    void add(const ColdResult& r);
    /// How many got @p answer ("503 OVERLOADED", "201", …).
    std::uint64_t count(const std::string& answer) const {
        const auto it = by_answer.find(answer);
        return it == by_answer.end() ? 0 : it->second;
    }
    std::string summary() const;
};

/// One row of the printed table.
struct PhaseRow {
    std::string mode;
    std::uint64_t requests = 0;
    double success_pct = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double p99_ratio = 0;  ///< p99 / healthy p99
    double cpu_us_per_request = 0;
    std::size_t fds = 0;
    double rss_mb = 0;
    std::string cold;        ///< "2xx/total"
    double recovery_s = -1;  ///< time to the first 201 cold start after the fault ended; -1: n/a
};

/// The table, one line per row, fixed-width columns.
std::string format_table(const std::vector<PhaseRow>& rows);

}  // namespace moneta::e2e
