#include "upstream/internal_api_client.hpp"

namespace moneta::upstream {

InternalApiClient::InternalApiClient(http_client::Client& http, std::string service_token,
                                     std::chrono::milliseconds timeout, InternalApiStats& stats)
    : http_(http), authorization_("Bearer " + service_token), timeout_(timeout), stats_(stats) {}

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
    const std::string traceparent = ctx.trace.child().to_traceparent();
    const http_client::Header headers[] = {
        {"Authorization", authorization_},
        {"X-Request-Id", ctx.request_id},
        {"traceparent", traceparent},
        {"elastic-apm-traceparent", traceparent},
    };
    http_client::RequestControl control;
    control.timeout = timeout_;
    auto res = co_await http_.async_request("GET", target, {}, headers, ctx.deadline, control);
    if (!res) {
        ++stats_.errors_total;
        co_return res.error();
    }
    if (res->status >= 500) {
        ++stats_.errors_total;
    }
    co_return Fetched{res->status, std::move(res->body)};
}

}  // namespace moneta::upstream
