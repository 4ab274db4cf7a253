// The load generator's event loop: N keep-alive HTTP/1.1 connections on one thread (epoll),
// one request in flight per connection, requests taken in order from the prepared list.
//
// Closed loop (rate == 0): each connection sends its next request when the previous answer
// arrives; latency is measured from the send. Open loop (rate > 0): request k is *intended* at
// start + k / rate and sent on the first free connection at or after that time; its latency is
// measured from the intended time, so a stalled server is charged for the queue it causes
// (no coordinated omission).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "latency_histogram.hpp"
#include "request_file.hpp"

namespace moneta::bench {

struct LoadOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    int connections = 32;
    double duration_sec = 10;
    double rate = 0;        // requests/s; 0 = closed loop
    bool once = false;      // send every request exactly once, then stop (bounds the duration)
    bool capture = false;   // keep the "session_id" of each response (with once)
    std::size_t offset = 0;       // closed/open loop: the first request index (rows of a run continue
                                  // where the previous one stopped, so every line gets its turn)
    std::uint64_t max_requests = 0;  // closed/open loop: stop sending after this many (0: no bound)
    std::uint64_t seq_start = 0;  // @SEQ@ of the first request is seq_start + 1
};

struct LoadResult {
    std::uint64_t sent = 0;
    std::uint64_t completed = 0;   // responses received
    std::uint64_t non_2xx = 0;
    std::uint64_t errors = 0;      // connection errors, unparsable responses, lost in-flight requests
    std::map<int, std::uint64_t> statuses;
    LatencyHistogram latency;      // µs
    double elapsed_sec = 0;        // first send to last response
    double cpu_user_sec = 0;       // of this process
    double cpu_system_sec = 0;
    std::uint64_t max_backlog = 0; // open loop: most requests that were due but not yet sent
    std::vector<std::string> captured;  // by request index, when capture
};

/// Runs the load; false with `error` when it cannot connect at all.
bool run_load(const LoadOptions& options, const std::vector<RenderedRequest>& requests, LoadResult& result,
              std::string& error);

}  // namespace moneta::bench
