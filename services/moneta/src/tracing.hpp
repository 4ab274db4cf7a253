/// @file services/moneta/src/tracing.hpp
/// @brief moneta's use of libs/trace: the head decision on every request, the server span
/// from the access record, the exporter (on only with MONETA_OTLP_ENDPOINT) and its metrics.
/// docs/tracing.md.
#pragma once

#include <memory>
#include <string>

#include "moneta/core/clock.hpp"
#include "moneta/http/handler.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/trace/exporter.hpp"
#include "moneta/trace/recorder.hpp"
#include "moneta/trace/sampler.hpp"
#include "settings.hpp"

namespace moneta {

/// @par Thread safety
/// Built and started on the main thread; make_recorder from any worker's thread (at startup);
/// the recorders are each used by one worker.
class Tracing {
public:
    /// @param s the tracing settings; the endpoint/headers were validated by load_settings.
    Tracing(const TracingSettings& s, const core::Clock& clock);
    ~Tracing();

    bool exporting() const noexcept { return exporter_ != nullptr; }
    const trace::Sampler& sampler() const noexcept { return sampler_; }

    /// A worker's recorder (disabled when export is off: every call returns at once).
    std::unique_ptr<trace::Recorder> make_recorder();

    void start();
    /// Final flush of what the workers queued, bounded by @p budget.
    void stop(core::Duration budget);

    /// moneta_trace_spans_{exported,dropped,failed}_total, moneta_trace_export_requests_total,
    /// moneta_trace_export_errors_total (0 when export is off).
    void export_metrics(metrics::Registry& registry);

    /// Sets the request's sampled flag from the head decision before @p inner runs, so every
    /// outbound traceparent carries it. No allocation, no coroutine frame of its own.
    static http::Handler with_head_sampling(http::Handler inner, const trace::Sampler& sampler);

    /// Ends the request's server span (name `METHOD route-template`, http.* attributes, ERROR
    /// status on 5xx) and hands it to the recorder's end decision.
    static void on_access(trace::Recorder& recorder, const http::AccessRecord& rec, const http::Router& router,
                          const core::Clock& clock) noexcept;

private:
    const core::Clock& clock_;
    trace::Sampler sampler_;
    std::unique_ptr<trace::Exporter> exporter_;
};

}  // namespace moneta
