#include "upstream/internal_api_client.hpp"

namespace moneta::upstream {

InternalApiClient::InternalApiClient(http_client::Client& http, std::string service_token,
                                     std::chrono::milliseconds timeout, InternalApiStats& stats,
                                     const core::Clock* clock)
    : http_(http), authorization_("Bearer " + service_token), timeout_(timeout), stats_(stats), clock_(clock) {}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_call(std::string_view method,
                                                                           std::string_view target,
                                                                           std::string_view body,
                                                                           const core::RequestContext& ctx,
                                                                           std::size_t resource) {
    const std::string traceparent = ctx.trace.child().to_traceparent();
    const http_client::Header get_headers[] = {
        {"Authorization", authorization_},
        {"X-Request-Id", ctx.request_id},
        {"traceparent", traceparent},
        {"elastic-apm-traceparent", traceparent},
    };
    const http_client::Header post_headers[] = {
        {"Authorization", authorization_},
        {"X-Request-Id", ctx.request_id},
        {"traceparent", traceparent},
        {"elastic-apm-traceparent", traceparent},
        {"Content-Type", "application/json"},
    };
    std::span<const http_client::Header> headers = body.empty() ? std::span<const http_client::Header>(get_headers)
                                                                : std::span<const http_client::Header>(post_headers);
    http_client::RequestControl control;
    control.timeout = timeout_;
    const core::SteadyTime start = clock_ != nullptr ? clock_->steady_now() : core::SteadyTime{};
    auto res = co_await http_.async_request(method, target, body, headers, ctx.deadline, control);
    if (clock_ != nullptr) {
        // Every exchange that was attempted, failed ones included: a timeout shows as its length.
        stats_.latency[resource].observe(std::chrono::duration<double>(clock_->steady_now() - start).count());
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
    co_return co_await async_call("GET", target, {}, ctx, resource == Resource::kAccount ? 0 : 1);
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
    co_return co_await async_call("GET", target, {}, ctx, 2);
}

boost::asio::awaitable<core::Result<Fetched>> InternalApiClient::async_upsert_progress(
    std::string_view body, const core::RequestContext& ctx) {
    ++stats_.progress_upserts_total;
    co_return co_await async_call("POST", "/internal/v1/progress:batchUpsert", body, ctx, 3);
}

}  // namespace moneta::upstream
