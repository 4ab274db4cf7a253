#include "handlers/admin_handlers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <memory>

#include "handlers/http_util.hpp"
#include "moneta/http/edge_trust.hpp"

namespace moneta::handlers {
namespace {

namespace bj = boost::json;
using resilience::Mode;

bj::object view(const NamedBreaker& b) {
    const resilience::CircuitBreakerStats s = b.stats();
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
    o["instances"] = b.members.size();  // one per worker for "redis"; the figures are their sum
    return o;
}

http::Response bad_body(std::int64_t now_ms) {
    return error(domain::ApiError::kInvalidRequest, now_ms,
                 R"({"field":"mode","reason":"expected {\"mode\": normal|forced_open|forced_closed|disabled|metrics_only}"})");
}

http::Response unauthorized(std::string_view code, std::string_view message, std::int64_t now_ms) {
    http::Response r = http::error_response(401, code, message, false, now_ms);
    r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="moneta-admin")");
    return r;
}

}  // namespace

std::optional<http::Response> check_admin_token(const http::Request& req, std::string_view admin_token,
                                                std::int64_t now_ms) {
    if (admin_token.empty()) {
        return http::error_response(403, "ADMIN_DISABLED",
                                    "Admin changes are disabled: no admin token is configured.", false, now_ms);
    }
    const auto auth = req.header(http::KnownHeader::kAuthorization);
    constexpr std::string_view kScheme = "bearer ";
    std::string_view presented;
    if (auth && auth->size() > kScheme.size()) {
        std::string_view scheme = auth->substr(0, kScheme.size());
        bool bearer = true;
        for (std::size_t i = 0; i < kScheme.size(); ++i) {
            const char c = scheme[i] >= 'A' && scheme[i] <= 'Z' ? static_cast<char>(scheme[i] + 32) : scheme[i];
            bearer = bearer && c == kScheme[i];
        }
        if (bearer) {
            presented = auth->substr(kScheme.size());  // exactly one space, as on the API (auth.cpp)
        }
    }
    if (presented.empty()) {
        return unauthorized("TOKEN_MISSING", "An admin token is required (Authorization: Bearer).", now_ms);
    }
    if (!http::secret_equals(presented, admin_token)) {
        return unauthorized("TOKEN_INVALID", "The admin token is not valid.", now_ms);
    }
    return std::nullopt;
}

resilience::CircuitBreakerStats NamedBreaker::stats() const noexcept {
    return resilience::merged_stats(std::span<const resilience::CircuitBreaker* const>(members.data(), members.size()));
}

void NamedBreaker::set_mode(Mode m) const noexcept {
    for (resilience::CircuitBreaker* b : members) {
        b->set_mode(m);
    }
}

std::optional<Mode> parse_mode(std::string_view name) noexcept {
    for (Mode m : {Mode::kNormal, Mode::kForcedOpen, Mode::kForcedClosed, Mode::kDisabled, Mode::kMetricsOnly}) {
        if (resilience::mode_name(m) == name) {
            return m;
        }
    }
    return std::nullopt;
}

void register_breaker_routes(http::Router& router, std::vector<NamedBreaker> breakers, const core::Clock& clock,
                             std::string admin_token) {
    auto shared = std::make_shared<const std::vector<NamedBreaker>>(std::move(breakers));
    auto token = std::make_shared<const std::string>(std::move(admin_token));
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
               [shared, token, &clock](http::Request& req) -> boost::asio::awaitable<http::Response> {
                   const std::int64_t now_ms = clock.wall_ms();
                   // Before anything else: an unauthenticated caller learns nothing, not even
                   // which breaker names exist.
                   if (auto refused = check_admin_token(req, *token, now_ms)) {
                       co_return std::move(*refused);
                   }
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
                   found->set_mode(*mode);
                   co_return json(200, bj::serialize(view(*found)));
               });
}

}  // namespace moneta::handlers
