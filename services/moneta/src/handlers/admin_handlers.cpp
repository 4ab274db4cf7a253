#include "handlers/admin_handlers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <memory>

#include "handlers/http_util.hpp"

namespace moneta::handlers {
namespace {

namespace bj = boost::json;
using resilience::Mode;

bj::object view(const NamedBreaker& b) {
    const resilience::CircuitBreakerStats s = b.breaker->stats();
    bj::object o;
    o["name"] = b.name;
    o["state"] = resilience::state_name(s.state);
    o["mode"] = resilience::mode_name(s.mode);
    o["open"] = s.open;
    o["epoch"] = s.epoch;
    o["consecutive_opens"] = s.consecutive_opens;
    o["successes"] = s.successes;
    o["failures"] = s.failures;
    o["timeouts"] = s.timeouts;
    o["short_circuits"] = s.short_circuits;
    o["transitions"] = s.transitions;
    return o;
}

http::Response bad_body(std::int64_t now_ms) {
    return error(domain::ApiError::kInvalidRequest, now_ms,
                 R"({"field":"mode","reason":"expected {\"mode\": normal|forced_open|forced_closed|disabled|metrics_only}"})");
}

}  // namespace

std::optional<Mode> parse_mode(std::string_view name) noexcept {
    for (Mode m : {Mode::kNormal, Mode::kForcedOpen, Mode::kForcedClosed, Mode::kDisabled, Mode::kMetricsOnly}) {
        if (resilience::mode_name(m) == name) {
            return m;
        }
    }
    return std::nullopt;
}

void register_breaker_routes(http::Router& router, std::vector<NamedBreaker> breakers, const core::Clock& clock) {
    auto shared = std::make_shared<const std::vector<NamedBreaker>>(std::move(breakers));
    router.add(http::Method::kGet, "/admin/breakers",
               [shared](http::Request&) -> boost::asio::awaitable<http::Response> {
                   bj::array list;
                   for (const auto& b : *shared) {
                       list.push_back(view(b));
                   }
                   bj::object body;
                   body["breakers"] = std::move(list);
                   co_return json(200, bj::serialize(body));
               });
    router.add(http::Method::kPut, "/admin/breakers/{name}",
               [shared, &clock](http::Request& req) -> boost::asio::awaitable<http::Response> {
                   const std::int64_t now_ms = clock.wall_ms();
                   const std::string_view name = req.path_param(0);
                   const NamedBreaker* found = nullptr;
                   for (const auto& b : *shared) {
                       if (b.name == name) {
                           found = &b;
                       }
                   }
                   if (found == nullptr) {
                       co_return error(domain::ApiError::kNotFound, now_ms);
                   }
                   boost::system::error_code ec;
                   const bj::value v = bj::parse(req.body(), ec);
                   const bj::object* o = ec ? nullptr : v.if_object();
                   const bj::string* mode_text =
                       o != nullptr && o->size() == 1 && o->contains("mode") ? o->at("mode").if_string() : nullptr;
                   const auto mode = mode_text != nullptr ? parse_mode(*mode_text) : std::nullopt;
                   if (!mode) {
                       co_return bad_body(now_ms);
                   }
                   found->breaker->set_mode(*mode);
                   co_return json(200, bj::serialize(view(*found)));
               });
}

}  // namespace moneta::handlers
