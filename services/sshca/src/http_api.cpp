#include "http_api.hpp"

#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <charconv>

namespace moneta::sshca::api {

namespace json = boost::json;
using boost::asio::awaitable;

http::Response error(const Failure& f, const core::Clock& clock) {
    return http::error_response(f.status, f.code, f.message, f.status == 503, clock.wall_ms());
}

http::Response json_response(int status, const json::object& body) {
    http::Response r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
}

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

/// The body as a JSON object whose members are all in @p allowed; an error message otherwise.
boost::system::result<json::object, std::string> body_object(std::string_view body,
                                                             std::initializer_list<std::string_view> allowed) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return {boost::system::in_place_error, "the body must be a JSON object"};
    }
    for (const auto& kv : v.get_object()) {
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
            return {boost::system::in_place_error, "unknown member \"" + std::string(kv.key().substr(0, 64)) + "\""};
        }
    }
    return std::move(v.get_object());
}

/// Reads an optional member of one type; @p bad is set when it has another.
std::optional<std::string> opt_string(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        bad = true;
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_int64() && !v->is_uint64()) {
        bad = true;
        return std::nullopt;
    }
    return v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
}

std::optional<std::vector<std::string>> opt_strings(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_array() || v->get_array().size() > 256) {
        bad = true;
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& e : v->get_array()) {
        if (!e.is_string()) {
            bad = true;
            return std::nullopt;
        }
        out.emplace_back(e.get_string());
    }
    return out;
}

http::Response invalid(std::string message, const core::Clock& clock) {
    return error(Failure{400, "INVALID_REQUEST", std::move(message)}, clock);
}

CallContext call_context(const http::Request& r) {
    return CallContext{std::string(r.remote_ip()), r.context().request_id};
}

/// The query's parameters (names unique, each in @p allowed), or an error message.
boost::system::result<std::map<std::string, std::string>, std::string> query_params(
    std::string_view query, std::initializer_list<std::string_view> allowed) {
    std::map<std::string, std::string> out;
    if (query.empty()) {
        return out;
    }
    // Boost.URL 1.81's parse_query reads the last value up to a NUL, past the view's end (here
    // into " HTTP/1.1\r\n…" of the request line): parse a NUL-terminated copy.
    const std::string terminated(query);
    auto params = boost::urls::parse_query(terminated);
    if (!params) {
        return {boost::system::in_place_error, "the query string is malformed"};
    }
    for (const auto& p : *params) {
        if (std::find(allowed.begin(), allowed.end(), p.key) == allowed.end()) {
            return {boost::system::in_place_error, "unknown query parameter"};
        }
        // The value percent-decoded (alice%40corp is alice@corp).
        std::string key(p.key.data(), p.key.size());
        std::string value = p.has_value ? p.value.decode() : std::string();
        if (!out.emplace(std::move(key), std::move(value)).second) {
            return {boost::system::in_place_error, "a query parameter is repeated"};
        }
    }
    return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? std::optional<std::int64_t>(v) : std::nullopt;
}

http::Response Api::rate_limited() {
    ++stats.rate_limited;
    http::Response resp =
        http::error_response(429, "RATE_LIMITED", "Too many failed identity attempts.", true, clock.wall_ms());
    resp.headers.emplace_back("Retry-After", "60");
    return resp;
}

awaitable<std::variant<Identity, http::Response>> Api::async_user(const http::Request& r) {
    const auto credential = aws_sts_credential(r.header("authorization"));
    if (!credential) {
        co_return user(r);
    }
    const std::string ip(r.remote_ip());
    if (auth.limited(ip)) {
        co_return rate_limited();
    }
    AwsOutcome o;
    if (aws == nullptr) {
        o.status = 401;
        o.code = "UNAUTHENTICATED";
        o.message = "AWS IAM identity is not enabled on this CA.";
        o.reason = "aws: not enabled";
    } else {
        o = co_await aws->async_identify(*credential, clock.wall_ms() / 1000);
        if (o.identity) {
            co_return std::move(*o.identity);
        }
    }
    if (o.status != 503) {
        ++stats.auth_failures;
        auth.limiter().record_failure(ip);
        authority.record("auth_failed", "", call_context(r), json::serialize(json::object{{"reason", o.reason}}));
    }
    http::Response resp = http::error_response(o.status, o.code, o.message, o.status == 503, clock.wall_ms());
    if (o.status == 401) {
        resp.headers.emplace_back("WWW-Authenticate", "Bearer, AWS4-STS");
    }
    co_return resp;
}

std::variant<Identity, http::Response> Api::user(const http::Request& r) {
    AuthResult a = auth.user(r.header("authorization"), r.remote_ip());
    if (a.identity) {
        return std::move(*a.identity);
    }
    if (a.failure == AuthFailure::kLimited) {
        return rate_limited();
    }
    ++stats.auth_failures;
    if (auth.limiter().limited(r.remote_ip()) || a.failure != AuthFailure::kMissing) {
        authority.record("auth_failed", "", call_context(r),
                         json::serialize(json::object{{"reason", a.reason}}));
    }
    http::Response resp =
        http::error_response(401, "UNAUTHENTICATED", "A valid identity token is required.", false, clock.wall_ms());
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    return resp;
}

}  // namespace moneta::sshca::api
