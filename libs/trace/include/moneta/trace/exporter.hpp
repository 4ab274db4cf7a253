/// @file moneta/trace/exporter.hpp
/// @brief The batching OTLP/HTTP exporter: drains the workers' span rings on its own thread,
/// encodes a batch (size or time) and POSTs it through a Transport; retries with capped
/// exponential backoff, honouring Retry-After on 429/503. The workers never wait for it: while
/// it backs off, their rings fill and drop (counted).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/trace/otlp_encoder.hpp"
#include "moneta/trace/span_ring.hpp"

namespace moneta::trace {

struct ExporterConfig {
    std::size_t queue_spans = 4096;  ///< per worker ring
    std::size_t batch_spans = 512;   ///< a batch is sent when this many are waiting...
    core::Duration flush_interval = std::chrono::seconds(1);  ///< ...or this long after the first
    core::Duration export_timeout = std::chrono::seconds(2);  ///< one POST, connect to response
    core::Duration backoff_initial = std::chrono::milliseconds(250);
    core::Duration backoff_max = std::chrono::seconds(30);  ///< also caps Retry-After
    int max_attempts = 5;  ///< per batch; then the batch is dropped (counted as failed)
};

/// What one POST came back with.
struct PostResult {
    int status = 0;  ///< HTTP status; 0 = no response (connect failure, timeout, bad reply)
    std::optional<core::Duration> retry_after;  ///< a parsed Retry-After (delta-seconds)
};

/// Sends one encoded ExportTraceServiceRequest. Called on the exporter's thread only.
class Transport {
public:
    virtual ~Transport() = default;
    virtual PostResult post(std::string_view body, core::Duration timeout) = 0;
};

/// @par Thread safety
/// add_ring from any thread (worker factories run on the workers); start/stop from one thread;
/// the counters from any thread; pump() is the thread's body (tests call it directly instead
/// of start()).
class Exporter {
public:
    Exporter(ExporterConfig config, ResourceInfo resource, std::unique_ptr<Transport> transport,
             const core::Clock& clock);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    /// A new producer ring (one per worker thread), owned by the exporter.
    SpanRing& add_ring();

    /// Starts the exporter's thread.
    void start();
    /// Stops the thread after a last flush of what is queued, bounded by @p budget.
    void stop(core::Duration budget);

    /// One step: drains the rings into the batch and sends it when it is due (full, or the
    /// flush interval passed since its first span, or @p force) and no backoff is pending.
    /// @return when the next step is due.
    core::SteadyTime pump(bool force = false);

    std::uint64_t spans_dropped() const noexcept;  ///< full rings
    std::uint64_t spans_exported() const noexcept { return exported_.load(std::memory_order_relaxed); }
    std::uint64_t spans_failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
    std::uint64_t export_requests() const noexcept { return requests_.load(std::memory_order_relaxed); }
    std::uint64_t export_errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
    std::size_t batch_size() const noexcept { return batch_.size(); }

private:
    void run();

    ExporterConfig config_;
    OtlpEncoder encoder_;
    std::unique_ptr<Transport> transport_;
    const core::Clock& clock_;

    mutable std::mutex rings_mu_;
    std::vector<std::unique_ptr<SpanRing>> rings_;

    // Exporter thread only.
    std::vector<SpanRecord> batch_;
    core::SteadyTime first_at_{};     ///< when the batch's first span was drained
    core::SteadyTime retry_at_{};     ///< no send before this (backoff)
    core::Duration backoff_;
    int attempts_ = 0;

    std::atomic<std::uint64_t> exported_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> errors_{0};

    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace moneta::trace
