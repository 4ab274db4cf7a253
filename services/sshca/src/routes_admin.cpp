// The admin routes: revocations and the audit log.
#include "http_api.hpp"

namespace moneta::sshca::api {

namespace json = boost::json;
using boost::asio::awaitable;

void add_admin_routes(http::Router& router, const std::shared_ptr<Api>& api) {
    router.add(http::Method::kPost, "/v1/revocations", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        const Identity& id = std::get<Identity>(who);
        if (!api->authority.is_admin(id)) {
            co_return error(Failure{403, "FORBIDDEN", "only admins may revoke"}, api->clock);
        }
        auto body = body_object(req.body(), {"serial", "key_id", "public_key", "user", "reason"});
        if (!body) {
            co_return invalid(body.error(), api->clock);
        }
        bool bad = false;
        RevokeCall call;
        if (auto s = opt_int(*body, "serial", bad)) {
            if (*s <= 0) {
                bad = true;
            } else {
                call.serial = static_cast<std::uint64_t>(*s);
            }
        }
        call.key_id = opt_string(*body, "key_id", bad);
        call.public_key = opt_string(*body, "public_key", bad);
        call.user = opt_string(*body, "user", bad);
        call.reason = opt_string(*body, "reason", bad).value_or("");
        if (bad || call.reason.size() > 1024 || (call.key_id && (call.key_id->empty() || call.key_id->size() > 1024))) {
            co_return invalid("serial is a positive integer; key_id, public_key, user and reason are strings",
                              api->clock);
        }
        auto revoked = api->authority.revoke(id, call, call_context(req));
        if (!revoked) {
            co_return error(revoked.error(), api->clock);
        }
        ++api->stats.revocations;
        json::array serials;
        for (const auto s : revoked->serials) {
            serials.emplace_back(s);
        }
        co_return json_response(201, json::object{{"krl_version", revoked->krl_version}, {"serials", std::move(serials)}});
    });
    router.add(http::Method::kGet, "/v1/audit", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        if (!api->authority.is_admin(std::get<Identity>(who))) {
            co_return error(Failure{403, "FORBIDDEN", "only admins may read the audit log"}, api->clock);
        }
        auto q = query_params(req.query(), {"since"});
        if (!q) {
            co_return invalid(q.error(), api->clock);
        }
        std::int64_t since_ms = 0;
        if (auto it = q->find("since"); it != q->end()) {
            const auto s = to_int(it->second);
            if (!s || *s < 0) {
                co_return invalid("since: seconds since the epoch", api->clock);
            }
            since_ms = *s * 1000;
        }
        json::array items;
        for (const AuditEvent& e : api->authority.audit(since_ms, kMaxListed)) {
            boost::system::error_code ec;
            json::value detail = json::parse(e.detail, ec);
            items.push_back(json::object{{"id", e.id},
                                         {"at_ms", e.at_ms},
                                         {"event", e.event},
                                         {"actor", e.actor},
                                         {"ip", e.ip},
                                         {"request_id", e.request_id},
                                         {"detail", ec ? json::value(json::object{}) : std::move(detail)}});
        }
        co_return json_response(200, json::object{{"items", std::move(items)}});
    });
}

}  // namespace moneta::sshca::api
