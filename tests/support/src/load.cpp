// NOTE: deliberate simplifications: closed loop (each connection sends its next request when the
// previous one finished), no rate pacing, latencies kept as raw samples (a few MB for a
// million requests) and sorted once at the end.
#include "moneta/testing/load.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace moneta::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

struct ConnTally {
    std::map<int, std::uint64_t> by_status;
    std::vector<std::int64_t> all_us;
    std::vector<std::int64_t> ok_us;
    std::uint64_t connects = 0;
};

LatencyStats summarize(std::vector<std::int64_t>& us) {
    LatencyStats s;
    s.count = us.size();
    if (us.empty()) {
        return s;
    }
    std::sort(us.begin(), us.end());
    // Nearest rank: the smallest sample with at least p of the samples at or below it.
    auto rank = [&](double p) {
        const auto n = static_cast<double>(us.size());
        auto idx = static_cast<std::size_t>(std::max(1.0, std::ceil(p * n))) - 1;
        return microseconds(us[std::min(idx, us.size() - 1)]);
    };
    s.p50 = rank(0.50);
    s.p99 = rank(0.99);
    s.max = microseconds(us.back());
    return s;
}

void run_connection(
    const LoadSpec& spec,
    std::size_t index,
    SteadyClock::time_point end,
    std::atomic<std::uint64_t>& issued,
    ConnTally& tally
) {
    std::optional<HttpConnection> conn;
    for (std::uint64_t seq = 0;; ++seq) {
        if (spec.duration.count() > 0 && SteadyClock::now() >= end) {
            return;
        }
        if (spec.max_requests > 0 &&
            issued.fetch_add(1, std::memory_order_relaxed) >= spec.max_requests) {
            return;
        }
        const LoadRequest req = spec.request(index, seq);
        const auto t0 = SteadyClock::now();
        const auto deadline = t0 + spec.timeout;
        HttpReply reply;
        bool connect_failed = false;
        if (!conn || !conn->is_open()) {
            conn.emplace(spec.port, spec.timeout);
            if (conn->is_open()) {
                ++tally.connects;
            } else {
                connect_failed = true;
                reply.error = "connect failed";
            }
        }
        if (!connect_failed) {
            const auto left =
                std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
            reply = conn->call(
                req.method, req.target, req.body, req.headers, std::max(left, milliseconds(1))
            );
        }
        const auto latency =
            std::chrono::duration_cast<microseconds>(SteadyClock::now() - t0).count();
        const int status = reply.ok() ? reply.status : 0;
        ++tally.by_status[status];
        tally.all_us.push_back(latency);
        if (status >= 200 && status < 300) {
            tally.ok_us.push_back(latency);
        }
        if (spec.on_response) {
            spec.on_response(index, seq, reply);
        }
        if (connect_failed && spec.connect_retry_pause.count() > 0) {
            auto pause_until = SteadyClock::now() + spec.connect_retry_pause;
            if (spec.duration.count() > 0) {
                pause_until = std::min(pause_until, end);
            }
            std::this_thread::sleep_until(pause_until);
        }
    }
}

}  // namespace

std::uint64_t LoadResult::count_range(int lo, int hi) const {
    std::uint64_t n = 0;
    for (auto it = by_status.lower_bound(lo); it != by_status.end() && it->first <= hi; ++it) {
        n += it->second;
    }
    return n;
}

LoadResult run_load(const LoadSpec& spec) {
    LoadResult result;
    if (spec.connections == 0 || spec.connections > LoadSpec::kMaxConnections) {
        result.error = "connections must be in [1, 32]";
        return result;
    }
    if (spec.duration.count() <= 0 && spec.max_requests == 0) {
        result.error = "set duration or max_requests";
        return result;
    }
    if (!spec.request || spec.port == 0 || spec.timeout.count() <= 0) {
        result.error = "request callback, port and a positive timeout are required";
        return result;
    }
    const auto start = SteadyClock::now();
    const auto end = start + spec.duration;
    std::atomic<std::uint64_t> issued{0};
    std::vector<ConnTally> tallies(spec.connections);
    {
        std::vector<std::jthread> threads;
        threads.reserve(spec.connections);
        for (std::size_t i = 0; i < spec.connections; ++i) {
            threads.emplace_back([&spec, i, end, &issued, &tallies] {
                run_connection(spec, i, end, issued, tallies[i]);
            });
        }
    }  // joined
    result.elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);

    std::vector<std::int64_t> all_us;
    std::vector<std::int64_t> ok_us;
    for (ConnTally& t : tallies) {
        for (const auto& [status, n] : t.by_status) {
            result.by_status[status] += n;
            result.total += n;
        }
        all_us.insert(all_us.end(), t.all_us.begin(), t.all_us.end());
        ok_us.insert(ok_us.end(), t.ok_us.begin(), t.ok_us.end());
        result.connects += t.connects;
    }
    result.all = summarize(all_us);
    result.ok = summarize(ok_us);
    return result;
}

ProcSample sample_process(pid_t pid) {
    ProcSample s;
    s.ticks_per_second = ::sysconf(_SC_CLK_TCK);
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    std::error_code ec;
    std::filesystem::directory_iterator it(proc / "fd", ec);
    if (ec) {
        return s;
    }
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) {
            return s;
        }
        ++s.open_fds;
    }

    std::ifstream status(proc / "status");
    std::string line;
    bool have_rss = false;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            std::istringstream(line.substr(6)) >> s.rss_kb;
            have_rss = true;
            break;
        }
    }

    // Fields after the command name (which may contain spaces and parentheses): state is field
    // 3, utime 14 and stime 15 (proc(5)).
    std::ifstream stat(proc / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close_paren = text.rfind(')');
    if (!have_rss || close_paren == std::string::npos) {
        return s;
    }
    std::istringstream fields(text.substr(close_paren + 1));
    std::string field;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    for (int n = 3; n <= 15 && fields >> field; ++n) {
        if (n == 14) {
            utime = std::stoull(field);
        } else if (n == 15) {
            stime = std::stoull(field);
            s.cpu_ticks = utime + stime;
            s.ok = true;
        }
    }
    return s;
}

}  // namespace moneta::testing
