#include "moneta/trace/exporter.hpp"

#include <algorithm>

#include "moneta/core/thread_name.hpp"

namespace moneta::trace {
namespace {

/// Worth another attempt: no answer at all, throttled, or the collector/proxy is unavailable.
bool retryable(int status) noexcept {
    return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

/// The thread also wakes this often to look at the rings (producers never signal it: that
/// would be a syscall on the request path).
constexpr core::Duration kPoll = std::chrono::milliseconds(100);

}  // namespace

Exporter::Exporter(ExporterConfig config, ResourceInfo resource, std::unique_ptr<Transport> transport,
                   const core::Clock& clock)
    : config_(config),
      encoder_(std::move(resource)),
      transport_(std::move(transport)),
      clock_(clock),
      backoff_(config.backoff_initial) {
    config_.batch_spans = std::max<std::size_t>(config_.batch_spans, 1);
    config_.max_attempts = std::max(config_.max_attempts, 1);
    batch_.reserve(config_.batch_spans);
}

Exporter::~Exporter() { stop(core::Duration::zero()); }

SpanRing& Exporter::add_ring() {
    std::lock_guard lock(rings_mu_);
    rings_.push_back(std::make_unique<SpanRing>(config_.queue_spans));
    return *rings_.back();
}

std::uint64_t Exporter::spans_dropped() const noexcept {
    std::lock_guard lock(rings_mu_);
    std::uint64_t n = 0;
    for (const auto& r : rings_) {
        n += r->dropped();
    }
    return n;
}

core::SteadyTime Exporter::pump(bool force) {
    const core::SteadyTime now = clock_.steady_now();
    if (now < retry_at_) {
        return retry_at_;  // backing off: the rings absorb (or drop) what comes meanwhile
    }
    if (batch_.size() < config_.batch_spans) {
        const bool was_empty = batch_.empty();
        std::lock_guard lock(rings_mu_);
        for (const auto& r : rings_) {
            const std::size_t room = config_.batch_spans - batch_.size();
            if (room == 0) {
                break;
            }
            r->drain([this](const SpanRecord& s) { batch_.push_back(s); }, room);
        }
        if (was_empty && !batch_.empty()) {
            first_at_ = now;
        }
    }
    if (batch_.empty()) {
        return now + std::min(config_.flush_interval, kPoll);
    }
    const core::SteadyTime due = first_at_ + config_.flush_interval;
    if (!force && batch_.size() < config_.batch_spans && now < due) {
        return std::min(due, now + kPoll);
    }
    const std::string_view body = encoder_.encode(batch_);
    requests_.fetch_add(1, std::memory_order_relaxed);
    const PostResult r = transport_->post(body, config_.export_timeout);
    const auto n = static_cast<std::uint64_t>(batch_.size());
    if (r.status >= 200 && r.status < 300) {
        exported_.fetch_add(n, std::memory_order_relaxed);
        batch_.clear();
        attempts_ = 0;
        backoff_ = config_.backoff_initial;
        return clock_.steady_now();  // more may be waiting in the rings
    }
    errors_.fetch_add(1, std::memory_order_relaxed);
    ++attempts_;
    if (!retryable(r.status) || attempts_ >= config_.max_attempts) {
        failed_.fetch_add(n, std::memory_order_relaxed);
        batch_.clear();
        attempts_ = 0;
    }
    // Back off even when the batch was given up: the collector is still sick. Retry-After (429,
    // 503) replaces our own delay, capped like it.
    const core::Duration delay = r.retry_after ? std::min(*r.retry_after, config_.backoff_max) : backoff_;
    backoff_ = std::min(backoff_ * 2, config_.backoff_max);
    retry_at_ = clock_.steady_now() + delay;
    return retry_at_;
}

void Exporter::start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable() || stopping_) {
        return;
    }
    thread_ = std::thread([this] {
        core::set_thread_name("trace-export");
        run();
    });
}

void Exporter::run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        lock.unlock();
        const core::SteadyTime next = pump();
        lock.lock();
        const core::Duration wait = std::clamp<core::Duration>(next - clock_.steady_now(), core::Duration::zero(), kPoll);
        cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
}

void Exporter::stop(core::Duration budget) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    // Last flush on this thread: what the workers queued before they stopped, while the budget
    // lasts and the collector answers.
    const core::SteadyTime end = clock_.steady_now() + budget;
    retry_at_ = {};
    while (clock_.steady_now() < end) {
        const std::uint64_t before = errors_.load(std::memory_order_relaxed);
        (void)pump(true);
        if (errors_.load(std::memory_order_relaxed) != before) {
            break;
        }
        std::size_t queued = batch_.size();
        {
            std::lock_guard lock(rings_mu_);
            for (const auto& r : rings_) {
                queued += r->size();
            }
        }
        if (queued == 0) {
            break;
        }
    }
}

}  // namespace moneta::trace
