#include "upstream/internal_api_client.hpp"

namespace moneta::upstream {

InternalApiClient::InternalApiClient(http_client::Client& http, std::string service_token,
                                     std::chrono::milliseconds timeout, InternalApiStats& stats,
                                     const core::Clock* clock)
    : http_(http), authorization_("Bearer " + service_token), timeout_(timeout), stats_(stats), clock_(clock) {}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_call(std::string_view method,
                                                                           std::string_view target,
                                                                           std::string_view route,
                                                                           std::string_view body,
                                                                           const core::RequestContext& ctx,
                                                                           std::size_t resource) {
    // The client span: its id goes out in traceparent, so the API's server span is its child.
    const core::TraceContext span = ctx.trace.child();
    const std::string traceparent = span.to_traceparent();
    const auto started = recorder_ != nullptr ? recorder_->now() : core::SteadyTime{};
    const http_client::Header get_headers[] = {
        {"Authorization", authorization_},
        {"X-Request-Id", ctx.request_id},
        {"traceparent", traceparent},
        {"elastic-apm-traceparent", traceparent},
        {"tracestate", ctx.tracestate},
    };
    const http_client::Header post_headers[] = {
        {"Authorization", authorization_},
        {"X-Request-Id", ctx.request_id},
        {"traceparent", traceparent},
        {"elastic-apm-traceparent", traceparent},
        {"Content-Type", "application/json"},
        {"tracestate", ctx.tracestate},
    };
    // tracestate is last in both lists: left out when the request brought none.
    std::span<const http_client::Header> headers = body.empty() ? std::span<const http_client::Header>(get_headers)
                                                                : std::span<const http_client::Header>(post_headers);
    if (ctx.tracestate.empty()) {
        headers = headers.first(headers.size() - 1);
    }
    http_client::RequestControl control;
    control.timeout = timeout_;
    const core::SteadyTime start = clock_ != nullptr ? clock_->steady_now() : core::SteadyTime{};
    auto res = co_await http_.async_request(method, target, body, headers, ctx.deadline, control);
    if (clock_ != nullptr) {
        // Every exchange that was attempted, failed ones included: a timeout shows as its length.
        stats_.latency[resource].observe(std::chrono::duration<double>(clock_->steady_now() - start).count());
    }
    if (recorder_ != nullptr) {
        record_span(span, ctx, started, method, route, res ? res->status : 0, res ? std::string_view{} : "transport");
    }
    if (!res) {
        ++stats_.errors_total;
        co_return res.error();
    }
    if (res->status >= 500) {
        ++stats_.errors_total;
    }
    co_return Fetched{res->status, std::move(res->body)};
}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_get(
    Resource resource, std::string_view id, const core::RequestContext& ctx) {
    std::string target;
    target.reserve(40 + id.size());
    if (resource == Resource::kAccount) {
        target = "/internal/v1/accounts/";
        ++stats_.account_calls_total;
    } else {
        target = "/internal/v1/contents/";
        ++stats_.content_calls_total;
    }
    target += id;  // ids are validated ([A-Za-z0-9_-]) before they get here: no escaping needed
    co_return co_await async_call(
        "GET", target,
        resource == Resource::kAccount ? "/internal/v1/accounts/{id}" : "/internal/v1/contents/{id}", {}, ctx,
        resource == Resource::kAccount ? 0 : 1);
}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_get_progress(
    std::string_view profile_id, std::string_view content_ids_csv, const core::RequestContext& ctx) {
    ++stats_.progress_reads_total;
    std::string target = "/internal/v1/profiles/";
    target += profile_id;
    target += "/progress";
    if (!content_ids_csv.empty()) {
        target += "?content_ids=";
        target += content_ids_csv;  // validated ids and commas only
    }
    co_return co_await async_call("GET", target, "/internal/v1/profiles/{id}/progress", {}, ctx, 2);
}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_upsert_progress(
    std::string_view body, const core::RequestContext& ctx) {
    ++stats_.progress_upserts_total;
    co_return co_await async_call("POST", "/internal/v1/progress:batchUpsert", "/internal/v1/progress:batchUpsert", body,
                                  ctx, 3);
}

void InternalApiClient::record_span(const core::TraceContext& span, const core::RequestContext& ctx,
                                    core::SteadyTime started, std::string_view method, std::string_view route,
                                    int status, std::string_view error) noexcept {
    trace::SpanRecord s;
    s.trace_id = span.trace_id;
    s.span_id = span.span_id;
    s.parent_span_id = ctx.trace.span_id;
    s.flags = span.flags;
    s.kind = trace::SpanKind::kClient;
    s.start_unix_ns = recorder_->unix_ns(started);
    s.end_unix_ns = recorder_->unix_ns(recorder_->now());
    s.name.assign_joined(method, route);
    s.http_method.assign(method);
    s.http_route.assign(route);
    s.http_status = status;
    s.server_address.assign(trace_address_);
    s.server_port = trace_port_;
    s.peer_service.assign("internal-api");
    if (!error.empty()) {
        s.status = trace::StatusCode::kError;
        s.error_type.assign(error);
    } else if (status >= 500) {
        s.status = trace::StatusCode::kError;
        s.error_type.assign_status(status);
    }
    recorder_->add_client(s);
}

}  // namespace moneta::upstream
