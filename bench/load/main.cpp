// moneta_load: the bench's HTTP/1.1 load generator (docs/performance.md "Load generator").
//   moneta_load --port 8081 --requests heartbeat.tsv [--connections 64] [--duration 10]
//               [--rate R] [--once] [--capture FILE]
// Prints one line of key=value figures (req/s, latency percentiles in µs, non-2xx, errors,
// statuses, its own CPU), which bench/run.sh reads.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "load_driver.hpp"
#include "request_file.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"moneta_load: HTTP/1.1 keep-alive load generator"};
    moneta::bench::LoadOptions options;
    std::string requests_path;
    std::string capture_path;
    std::string host;
    cli.add_option("--address", options.address, "server IPv4 address");
    cli.add_option("--port", options.port, "server port")->required();
    cli.add_option("--host", host, "Host header (default address:port)");
    cli.add_option("--requests", requests_path, "request file: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY per line")->required();
    cli.add_option("--connections,-c", options.connections, "keep-alive connections")->check(CLI::Range(1, 10000));
    cli.add_option("--duration,-d", options.duration_sec, "seconds (ignored with --once)")->check(CLI::Range(0.1, 3600.0));
    cli.add_option("--rate,-R", options.rate, "open loop at this many requests/s (0: closed loop)")->check(CLI::Range(0.0, 1e7));
    cli.add_option("--seq-start", options.seq_start, "@SEQ@ starts above this (rows of one run keep seq increasing)")
        ->check(CLI::Range(0ULL, 800000000000ULL));
    cli.add_option("--offset", options.offset, "start at this request index (modulo the file; not with --once)");
    cli.add_option("--max-requests", options.max_requests, "stop after this many requests (e.g. one pass over the sessions)");
    cli.add_flag("--once", options.once, "send each request of the file exactly once");
    cli.add_option("--capture", capture_path, "with --once: write the session_id of each response, one line per request");
    CLI11_PARSE(cli, argc, argv);
    if (!capture_path.empty() && !options.once) {
        std::fprintf(stderr, "moneta_load: --capture needs --once\n");
        return 2;
    }
    options.capture = !capture_path.empty();
    if (host.empty()) host = options.address + ":" + std::to_string(options.port);

    std::vector<moneta::bench::RenderedRequest> requests;
    std::string error;
    if (!moneta::bench::load_request_file(requests_path, host, requests, error)) {
        std::fprintf(stderr, "moneta_load: %s\n", error.c_str());
        return 2;
    }
    moneta::bench::LoadResult result;
    if (!moneta::bench::run_load(options, requests, result, error)) {
        std::fprintf(stderr, "moneta_load: %s\n", error.c_str());
        return 1;
    }
    if (options.capture) {
        std::ofstream out(capture_path);
        for (const auto& sid : result.captured) out << sid << '\n';
    }
    std::string statuses;
    for (const auto& [status, n] : result.statuses) {
        if (!statuses.empty()) statuses += ',';
        statuses += std::to_string(status) + ":" + std::to_string(n);
    }
    const double rps = result.elapsed_sec > 0 ? static_cast<double>(result.completed) / result.elapsed_sec : 0;
    const auto& h = result.latency;
    std::printf(
        "requests=%llu sent=%llu rps=%.0f p50_us=%llu p99_us=%llu p999_us=%llu max_us=%llu non2xx=%llu "
        "errors=%llu next_offset=%zu statuses=%s elapsed_s=%.3f load_cpu_us_per_req=%.2f max_backlog=%llu\n",
        static_cast<unsigned long long>(result.completed), static_cast<unsigned long long>(result.sent), rps,
        static_cast<unsigned long long>(h.percentile(0.50)), static_cast<unsigned long long>(h.percentile(0.99)),
        static_cast<unsigned long long>(h.percentile(0.999)), static_cast<unsigned long long>(h.max()),
        static_cast<unsigned long long>(result.non_2xx), static_cast<unsigned long long>(result.errors),
        options.once ? std::size_t{0} : (options.offset + result.sent) % requests.size(), statuses.empty() ? "-" : statuses.c_str(), result.elapsed_sec,
        result.completed > 0 ? (result.cpu_user_sec + result.cpu_system_sec) * 1e6 / static_cast<double>(result.completed) : 0.0,
        static_cast<unsigned long long>(result.max_backlog));
    return 0;
}
