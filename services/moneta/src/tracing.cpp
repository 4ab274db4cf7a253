#include "tracing.hpp"

#include <unistd.h>

#include "moneta/trace/http_transport.hpp"

namespace moneta {
namespace {

std::string host_name() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

}  // namespace

Tracing::Tracing(const TracingSettings& s, const core::Clock& clock)
    : clock_(clock), sampler_(trace::SamplerConfig{s.sample_ratio, s.slow_threshold}) {
    if (s.endpoint.empty()) {
        return;
    }
    // load_settings refused a malformed endpoint or header list, so both parse here.
    auto endpoint = trace::parse_endpoint(s.endpoint);
    auto headers = trace::parse_headers(s.headers);
    if (!endpoint || !headers) {
        return;
    }
    trace::ExporterConfig c;
    c.queue_spans = s.queue_spans;
    c.batch_spans = s.batch_spans;
    c.flush_interval = s.flush_interval;
    c.export_timeout = s.export_timeout;
    trace::ResourceInfo r;
    r.service_name = s.service_name;
    r.service_version = MONETA_VERSION;
    r.host_name = host_name();
    r.deployment_environment = s.environment;
    r.scope_name = "moneta";
    r.scope_version = MONETA_VERSION;
    exporter_ = std::make_unique<trace::Exporter>(
        c, std::move(r), std::make_unique<trace::HttpTransport>(std::move(*endpoint), std::move(*headers)), clock);
}

Tracing::~Tracing() { stop(core::Duration::zero()); }

std::unique_ptr<trace::Recorder> Tracing::make_recorder() {
    return std::make_unique<trace::Recorder>(exporter_ ? &exporter_->add_ring() : nullptr, sampler_, clock_);
}

void Tracing::start() {
    if (exporter_) {
        exporter_->start();
    }
}

void Tracing::stop(core::Duration budget) {
    if (exporter_) {
        exporter_->stop(budget);
    }
}

void Tracing::export_metrics(metrics::Registry& registry) {
    auto counter = [&](std::string_view name, std::string_view help, std::uint64_t (trace::Exporter::*get)() const noexcept) {
        registry.callback_counter(name, help, {}, [this, get] {
            return exporter_ ? static_cast<double>(((*exporter_).*get)()) : 0.0;
        });
    };
    counter("moneta_trace_spans_exported_total", "Spans the OTLP collector accepted.", &trace::Exporter::spans_exported);
    counter("moneta_trace_spans_dropped_total",
            "Spans dropped because a worker's span queue was full (collector down or slow).",
            &trace::Exporter::spans_dropped);
    counter("moneta_trace_spans_failed_total",
            "Spans given up after the export's retries or refused by the collector.", &trace::Exporter::spans_failed);
    counter("moneta_trace_export_requests_total", "OTLP export POSTs sent.", &trace::Exporter::export_requests);
    counter("moneta_trace_export_errors_total", "OTLP export POSTs that failed (no answer or not 2xx).",
            &trace::Exporter::export_errors);
}

http::Handler Tracing::with_head_sampling(http::Handler inner, const trace::Sampler& sampler) {
    return [inner = std::move(inner), &sampler](http::Request& req) {
        core::RequestContext& ctx = req.context();
        ctx.trace.flags = sampler.head(ctx.trace, ctx.parent) ? 1 : 0;
        return inner(req);
    };
}

void Tracing::on_access(trace::Recorder& recorder, const http::AccessRecord& rec, const http::Router& router,
                        const core::Clock& clock) noexcept {
    if (!recorder.enabled()) {
        return;
    }
    const core::RequestContext& ctx = rec.request.context();
    trace::SpanRecord s;
    s.trace_id = ctx.trace.trace_id;
    s.span_id = ctx.trace.span_id;
    if (ctx.parent) {
        s.parent_span_id = ctx.parent->span_id;
    }
    s.flags = ctx.trace.flags;
    s.kind = trace::SpanKind::kServer;
    const auto end = clock.steady_now();
    s.end_unix_ns = recorder.unix_ns(end);
    s.start_unix_ns = recorder.unix_ns(end - rec.duration);
    const std::string_view method = rec.request.method_string();
    // The route template, never the raw path (it holds session and account ids).
    const std::uint16_t id = rec.request.route_id();
    const std::string_view route = id == http::Request::kNoRoute ? std::string_view{} : router.route_pattern(id);
    s.http_method.assign(method);
    s.http_route.assign(route);
    s.http_status = rec.status;
    // "GET /v1/sessions/{id}": low cardinality; a request no route matched is just "GET".
    s.name.assign_joined(method, route);
    if (rec.status >= 500) {
        s.status = trace::StatusCode::kError;
        s.error_type.assign_status(rec.status);
    }
    (void)recorder.finish_server(s, rec.duration);
}

}  // namespace moneta
