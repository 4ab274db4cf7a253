// api.md §3, §4 and §5.8 through nginx: every error code the service can produce, with the
// exact error body, the §5.1 check order (token → entitlement → content → window → geo → plan
// → parental → negotiation → lease), bad input of every documented kind, the body limit,
// media type, unknown paths/methods, and the operations endpoints.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <set>

#include "contract_support.hpp"
#include "moneta/jwt/verifier.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::contract {
namespace {

namespace json = boost::json;

class ErrorsContract : public ContractTest {
protected:
    static void SetUpTestSuite() { boot(); }
    static void TearDownTestSuite() { shutdown(); }

    /// Claims in the dev stack's shape; an empty value or 0 leaves the claim out.
    static std::string claims(
        std::string_view sub,
        std::string_view pid,
        std::int64_t exp_s,
        std::string_view iss = "moneta-dev",
        std::string_view aud = "moneta",
        std::int64_t nbf_s = 0
    ) {
        json::object c;
        c["sub"] = sub;
        if (!pid.empty()) {
            c["pid"] = pid;
        }
        if (exp_s != 0) {
            c["exp"] = exp_s;
        }
        if (!iss.empty()) {
            c["iss"] = iss;
        }
        if (!aud.empty()) {
            c["aud"] = aud;
        }
        if (nbf_s != 0) {
            c["nbf"] = nbf_s;
        }
        c["iat"] = now_ms() / 1000;
        return json::serialize(c);
    }
    static std::string sign(
        std::string_view claims_json, std::string kid = "dev", std::string secret = {}
    ) {
        auto signer =
            jwt::Signer::hs256(std::move(kid), secret.empty() ? stack().jwt_secret() : secret);
        EXPECT_TRUE(signer.has_value());
        return signer ? signer->sign(claims_json) : std::string();
    }
};

TEST_F(ErrorsContract, EveryV1CallNeedsAToken) {
    const std::string body = start_body({});
    struct Call {
        std::string method, target, body;
    };
    const std::vector<Call> calls = {
        {"POST", "/v1/playback/sessions", body},
        {"GET", "/v1/playback/sessions", ""},
        {"POST", "/v1/playback/sessions/ps_x/heartbeat", heartbeat_body(1, 1)},
        {"POST", "/v1/playback/sessions/ps_x/stop", stop_body(1, 1)},
        {"POST", "/v1/playback/sessions/ps_x/refresh", ""},
        {"DELETE", "/v1/playback/sessions/ps_x", ""},
        {"GET", "/v1/me/progress?content_ids=c_main", ""},
        {"PUT", "/v1/me/progress/c_main", progress_body(1, 10, now_ms(), 1)},
        {"GET", "/v1/me/continue-watching", ""},
    };
    for (const Call& c : calls) {
        EXPECT_TRUE(is_error(stack().call(c.method, c.target, c.body, ""), 401, "TOKEN_MISSING"))
            << c.target;
        EXPECT_TRUE(
            is_error(stack().call(c.method, c.target, c.body, "not.a.token"), 401, "TOKEN_INVALID")
        ) << c.target;
    }
    // Another scheme is not a bearer token.
    EXPECT_TRUE(is_error(
        stack().call(
            "GET", "/v1/playback/sessions", "", "", {{"Authorization", "Basic a190b2tlbnM6eA=="}}
        ),
        401,
        "TOKEN_MISSING"
    ));
}

TEST_F(ErrorsContract, TokenChecksAnswerOnlyTheDocumentedCodes) {
    const std::int64_t now_s = now_ms() / 1000;
    auto list_with = [&](const std::string& token) {
        return stack().call("GET", "/v1/playback/sessions", "", token);
    };
    ASSERT_TRUE(is_json(list_with(sign(claims("k_tokens", "kp_tokens", now_s + 600))), 200));
    // Leeway 60 s: just expired still passes; well expired does not.
    EXPECT_TRUE(is_json(list_with(sign(claims("k_tokens", "kp_tokens", now_s - 20))), 200));
    EXPECT_TRUE(is_error(
        list_with(sign(claims("k_tokens", "kp_tokens", now_s - 300))), 401, "TOKEN_EXPIRED"
    ));
    EXPECT_TRUE(is_json(
        list_with(
            sign(claims("k_tokens", "kp_tokens", now_s + 600, "moneta-dev", "moneta", now_s + 20))
        ),
        200
    )) << "nbf within the leeway";
    EXPECT_TRUE(
        is_error(list_with(stack().token("k_tokens", "kp_tokens", -300)), 401, "TOKEN_EXPIRED")
    );

    const std::string good = sign(claims("k_tokens", "kp_tokens", now_s + 600));
    std::string tampered = good;
    tampered[tampered.find('.') + 3] = tampered[tampered.find('.') + 3] == 'A' ? 'B' : 'A';
    const std::string none_alg = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                                 base64url_encode(claims("k_tokens", "kp_tokens", now_s + 600)) +
                                 ".";
    const std::string hs512 = base64url_encode(R"({"alg":"HS512","typ":"JWT","kid":"dev"})") +
                              good.substr(good.find('.'));
    const std::vector<std::pair<std::string, std::string>> invalid = {
        {"unsupported alg", hs512},
        {"garbage", "abc"},
        {"wrong secret",
         sign(claims("k_tokens", "kp_tokens", now_s + 600), "dev", std::string(40, 'x'))},
        {"unknown kid", sign(claims("k_tokens", "kp_tokens", now_s + 600), "other")},
        {"alg none", none_alg},
        {"tampered payload", tampered},
        {"wrong issuer", sign(claims("k_tokens", "kp_tokens", now_s + 600, "someone-else"))},
        {"wrong audience",
         sign(claims("k_tokens", "kp_tokens", now_s + 600, "moneta-dev", "other-api"))},
        {"no exp", sign(claims("k_tokens", "kp_tokens", 0))},
        {"not yet valid",
         sign(claims("k_tokens", "kp_tokens", now_s + 3600, "moneta-dev", "moneta", now_s + 1800))},
        {"sub not an id", sign(claims("k tokens!", "kp_tokens", now_s + 600))},
    };
    std::set<std::string> bodies;
    for (const auto& [what, token] : invalid) {
        const HttpReply r = list_with(token);
        EXPECT_TRUE(is_error(r, 401, "TOKEN_INVALID")) << what;
        json::object o = parse_object(r);
        o.erase("server_time_ms");
        bodies.insert(json::serialize(o));
    }
    EXPECT_EQ(bodies.size(), 1U) << "the body never says which check failed";
    // Start and progress need a profile (pid); listing sessions does not.
    const std::string no_pid = sign(claims("k_tokens", "", now_s + 600));
    EXPECT_TRUE(is_json(list_with(no_pid), 200));
    EXPECT_TRUE(is_error(start(no_pid, {.device = "tok-tv"}), 401, "TOKEN_INVALID"));
    EXPECT_TRUE(is_error(get_progress(no_pid, "c_main"), 401, "TOKEN_INVALID"));
    // Tokens never reach the logs.
    const std::string log = stack().moneta_log();
    EXPECT_FALSE(log.empty());
    EXPECT_EQ(log.find(good), std::string::npos);
    EXPECT_EQ(log.find(stack().jwt_secret()), std::string::npos);
}

TEST_F(ErrorsContract, InvalidRequestNamesTheOffendingField) {
    const std::string tok = stack().token("k_invalid", "kp_invalid");
    const json::object base = json::parse(start_body({.device = "inv-tv"})).as_object();
    using Mutation = std::function<void(json::object&)>;
    const std::vector<std::pair<std::string, Mutation>> start_cases = {
        {"content_id", [](json::object& o) { o["content_id"] = 5; }},
        {"content_id", [](json::object& o) { o.erase("content_id"); }},
        {"content_id", [](json::object& o) { o["content_id"] = "bad id!"; }},
        {"content_id", [](json::object& o) { o["content_id"] = std::string(65, 'a'); }},
        {"device", [](json::object& o) { o.erase("device"); }},
        {"device", [](json::object& o) { o["device"] = "tv"; }},
        {"device.id", [](json::object& o) { o["device"].as_object().erase("id"); }},
        {"device.type", [](json::object& o) { o["device"].as_object()["type"] = "fridge"; }},
        {"capabilities", [](json::object& o) { o.erase("capabilities"); }},
        {"capabilities.protocols",
         [](json::object& o) { o["capabilities"].as_object()["protocols"] = json::array{"rtmp"}; }},
        {"capabilities.protocols",
         [](json::object& o) { o["capabilities"].as_object()["protocols"] = json::array{}; }},
        {"capabilities.drm",
         [](json::object& o) { o["capabilities"].as_object()["drm"] = json::array{"clearkey"}; }},
        {"capabilities.video_codecs",
         [](json::object& o) {
             o["capabilities"].as_object()["video_codecs"] = json::array{"vp9"};
         }},
        {"capabilities.hdr",
         [](json::object& o) { o["capabilities"].as_object()["hdr"] = json::array{"hlg"}; }},
        {"capabilities.max_height",
         [](json::object& o) { o["capabilities"].as_object()["max_height"] = "big"; }},
        {"capabilities.max_height",
         [](json::object& o) { o["capabilities"].as_object()["max_height"] = 100000; }},
        {"resume", [](json::object& o) { o["resume"] = "sometimes"; }},
        {"replace_session_id", [](json::object& o) { o["replace_session_id"] = "x y"; }},
        {"preferred_audio_lang", [](json::object& o) { o["preferred_audio_lang"] = "english!"; }},
        {"preferred_subtitle_lang", [](json::object& o) { o["preferred_subtitle_lang"] = 7; }},
    };
    for (const auto& [field, mutate] : start_cases) {
        json::object o = base;
        mutate(o);
        EXPECT_TRUE(is_invalid_field(
            stack().call("POST", "/v1/playback/sessions", json::serialize(o), tok), field
        )) << json::serialize(o);
    }
    for (const char* body : {"{bad json", "[]", "null", "\"x\""}) {
        EXPECT_TRUE(is_error(
            stack().call("POST", "/v1/playback/sessions", body, tok), 400, "INVALID_REQUEST"
        )) << body;
    }
    const std::vector<std::pair<std::string, std::string>> heartbeat_cases = {
        {"position_sec", R"({"position_sec":-5,"state":"playing","seq":1})"},
        {"position_sec", R"({"position_sec":"abc","state":"playing","seq":1})"},
        {"position_sec", R"({"state":"playing","seq":1})"},
        {"state", R"({"position_sec":1,"state":"dancing","seq":1})"},
        {"state", R"({"position_sec":1,"seq":1})"},
        {"seq", R"({"position_sec":1,"state":"playing","seq":-1})"},
        {"seq", R"({"position_sec":1,"state":"playing","seq":"1"})"},
        {"seq", R"({"position_sec":1,"state":"playing","seq":1.5})"},
        {"seq", R"({"position_sec":1,"state":"playing"})"},
    };
    for (const auto& [field, body] : heartbeat_cases) {
        EXPECT_TRUE(is_invalid_field(
            stack().call("POST", "/v1/playback/sessions/ps_inv/heartbeat", body, tok), field
        )) << body;
    }
    EXPECT_TRUE(is_invalid_field(
        stack().call(
            "POST",
            "/v1/playback/sessions/ps_inv/stop",
            R"({"position_sec":1,"reason":"bored","seq":1})",
            tok
        ),
        "reason"
    ));
    EXPECT_TRUE(is_invalid_field(
        stack().call(
            "POST", "/v1/playback/sessions/ps_inv/stop", R"({"position_sec":1,"seq":1})", tok
        ),
        "reason"
    ));
    // Ids in the path: [A-Za-z0-9_-]{1,64}.
    const std::string long_id(65, 's');
    EXPECT_TRUE(is_invalid_field(
        stack().call("POST", "/v1/playback/sessions/bad.id/heartbeat", heartbeat_body(1, 1), tok),
        "id"
    ));
    EXPECT_TRUE(is_invalid_field(
        stack().call("POST", "/v1/playback/sessions/" + long_id + "/stop", stop_body(1, 1), tok),
        "id"
    ));
    EXPECT_TRUE(is_invalid_field(
        stack().call("POST", "/v1/playback/sessions/bad.id/refresh", "", tok), "id"
    ));
    EXPECT_TRUE(
        is_invalid_field(stack().call("DELETE", "/v1/playback/sessions/bad.id", "", tok), "id")
    );
    EXPECT_TRUE(is_invalid_field(
        stack().call("PUT", "/v1/me/progress/bad.id", progress_body(1, 10, now_ms(), 1), tok), "id"
    ));
    // Nothing above took a lease.
    EXPECT_EQ(stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_invalid")}), "0");
}

TEST_F(ErrorsContract, EntitlementAndContentChecksFollowTheDocumentedOrder) {
    struct Case {
        std::string sub, pid, content;
        HttpHeaders headers;
        int status;
        std::string code;  // "" = 201
        StartSpec caps{};
    };
    const HttpHeaders viewer_us{{"CloudFront-Viewer-Country", "US"}};
    const HttpHeaders viewer_jp{{"CloudFront-Viewer-Country", "JP"}};
    const HttpHeaders viewer_kr{{"CloudFront-Viewer-Country", "KR"}};
    const StartSpec incompatible{.protocols = {"hls"}, .drm = {"widevine"}};
    const std::vector<Case> cases = {
        // Subscription: expired, suspended, unknown; before the content is even looked at.
        {"k_expired", "kp_expired", "c_main", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"k_suspended", "kp_suspended", "c_main", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"k_nobody", "kp_nobody", "c_main", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"k_expired", "kp_expired", "c_nope", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"k_suspended", "kp_suspended", "c_gone", {}, 403, "SUBSCRIPTION_REQUIRED"},
        // Profile, before the content.
        {"k_family", "kp_basic", "c_main", {}, 403, "PROFILE_NOT_IN_ACCOUNT"},
        {"k_family", "kp_basic", "c_nope", {}, 403, "PROFILE_NOT_IN_ACCOUNT"},
        {"k_family", "kp_family", "c_nope", {}, 404, "CONTENT_NOT_FOUND"},
        // Window (half-open), before geo.
        {"k_family", "kp_family", "c_future", {}, 403, "NOT_AVAILABLE_YET"},
        {"k_family", "kp_family", "c_gone", {}, 403, "NO_LONGER_AVAILABLE"},
        {"k_family", "kp_family", "c_future_jp", {}, 403, "NOT_AVAILABLE_YET"},
        // Geo: the edge's viewer country, else the account's.
        {"k_family", "kp_family", "c_geo_jp", {}, 403, "GEO_BLOCKED"},
        {"k_us", "kp_us", "c_main", {}, 403, "GEO_BLOCKED"},
        {"k_family", "kp_family", "c_main", viewer_us, 403, "GEO_BLOCKED"},
        {"k_family", "kp_family", "c_geo_jp", viewer_jp, 201, ""},
        {"k_us", "kp_us", "c_main", viewer_kr, 201, ""},
        {"k_us", "kp_us", "c_adult", {}, 201, ""},  // geo_allow null: everywhere
        // A client-sent X-Viewer-Country is dropped by the edge: the CDN's header decides.
        {"k_us", "kp_us", "c_main", {{"X-Viewer-Country", "KR"}}, 403, "GEO_BLOCKED"},
        {"k_family",
         "kp_family",
         "c_main",
         {{"CloudFront-Viewer-Country", "US"}, {"X-Viewer-Country", "KR"}},
         403,
         "GEO_BLOCKED"},
        // Plan, after geo and before parental.
        {"k_basic", "kp_basic", "c_premium", {}, 403, "PLAN_NOT_ELIGIBLE"},
        {"k_basic", "kp_basic", "c_premium_jp", {}, 403, "GEO_BLOCKED"},
        {"k_basic", "kp_basic_kid", "c_premium_adult", {}, 403, "PLAN_NOT_ELIGIBLE"},
        // Parental, before capability negotiation.
        {"k_family", "kp_family_kid", "c_adult", {}, 403, "PARENTAL_CONTROL"},
        {"k_family", "kp_family_kid", "c_main", {}, 403, "PARENTAL_CONTROL"},
        {"k_family", "kp_family_kid", "c_adult", {}, 403, "PARENTAL_CONTROL", incompatible},
        {"k_family", "kp_family_kid", "c_clear", {}, 201, ""},
        {"k_family", "kp_family", "c_adult", {}, 201, ""},
    };
    for (const Case& c : cases) {
        StartSpec spec = c.caps;
        spec.content = c.content;
        spec.device = "order-dev";  // one device per account: successful starts replace each other
        const HttpReply r = start(stack().token(c.sub, c.pid), spec, c.headers);
        if (c.code.empty()) {
            EXPECT_TRUE(is_json(r, 201)) << c.sub << "/" << c.pid << " " << c.content;
        } else {
            EXPECT_TRUE(is_error(r, c.status, c.code)) << c.sub << "/" << c.pid << " " << c.content;
        }
    }
    // Negotiation before the lease: a full account still hears that the device cannot play.
    const std::string tok = stack().token("k_order_limit", "kp_order_limit");
    ASSERT_TRUE(is_json(start(tok, {.device = "limit-a"}), 201));
    EXPECT_TRUE(is_error(
        start(tok, {.device = "limit-b", .protocols = {"hls"}, .drm = {"widevine"}}),
        406,
        "NO_COMPATIBLE_STREAM"
    ));
    EXPECT_TRUE(is_error(start(tok, {.device = "limit-b"}), 403, "STREAM_LIMIT_REACHED"));
    // The token before everything.
    EXPECT_TRUE(is_error(
        start(stack().token("k_expired", "kp_expired", -300), {.content = "c_nope"}),
        401,
        "TOKEN_EXPIRED"
    ));
}

TEST_F(ErrorsContract, UnknownPathsAndWrongMethods) {
    const std::string tok = stack().token("k_methods", "kp_methods");
    for (const char* target :
         {"/v1/playback/nothing-here",
          "/v1/me/nothing",
          "/v1/playback/sessions/ps_x/rewind",
          "/admin",
          "/metrics",
          "/v1/playback",
          "/v2/playback/sessions"}) {
        EXPECT_TRUE(is_error(stack().call("GET", target, "", tok), 404, "NOT_FOUND")) << target;
    }
    auto allow_of = [&](const HttpReply& r) {
        std::set<std::string> methods;
        const std::string allow = r.header("Allow").value_or("");
        std::size_t pos = 0;
        while (pos < allow.size()) {
            const auto comma = allow.find(',', pos);
            std::string m =
                allow.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            m.erase(0, m.find_first_not_of(' '));
            m.erase(m.find_last_not_of(' ') + 1);
            methods.insert(m);
            pos = comma == std::string::npos ? allow.size() : comma + 1;
        }
        return methods;
    };
    struct Case {
        std::string method, target;
        std::set<std::string> must_allow;
    };
    const std::vector<Case> cases = {
        {"PUT", "/v1/playback/sessions", {"POST", "GET"}},
        {"GET", "/v1/playback/sessions/ps_x/heartbeat", {"POST"}},
        {"GET", "/v1/playback/sessions/ps_x/stop", {"POST"}},
        {"PUT", "/v1/playback/sessions/ps_x", {"DELETE"}},
        {"DELETE", "/v1/me/progress/c_main", {"PUT"}},
        {"POST", "/v1/me/continue-watching", {"GET"}},
        {"POST", "/v1/me/progress", {"GET"}},
    };
    for (const Case& c : cases) {
        const HttpReply r = stack().call(c.method, c.target, c.method == "GET" ? "" : "{}", tok);
        EXPECT_TRUE(is_error(r, 405, "METHOD_NOT_ALLOWED")) << c.method << " " << c.target;
        const auto allowed = allow_of(r);
        for (const std::string& m : c.must_allow) {
            EXPECT_TRUE(allowed.contains(m))
                << c.target << " Allow: " << r.header("Allow").value_or("(none)");
        }
        EXPECT_FALSE(allowed.contains(c.method)) << c.target;
    }
}

TEST_F(ErrorsContract, BodiesOver16KiBAndNonJsonBodiesAreRefused) {
    const std::string tok = stack().token("k_media", "kp_media");
    const std::string body = start_body({.device = "media-tv"});
    // Exactly 16 KiB (JSON allows trailing blanks) is fine; one byte more is not.
    const std::string at_limit = body + std::string(16 * 1024 - body.size(), ' ');
    EXPECT_TRUE(is_json(stack().call("POST", "/v1/playback/sessions", at_limit, tok), 201));
    EXPECT_TRUE(is_error(
        stack().call("POST", "/v1/playback/sessions", at_limit + " ", tok), 413, "PAYLOAD_TOO_LARGE"
    ));
    EXPECT_TRUE(is_error(
        stack().call("POST", "/v1/playback/sessions", std::string(64 * 1024, 'x'), tok),
        413,
        "PAYLOAD_TOO_LARGE"
    ));
    // moneta enforces the same limit without the edge.
    EXPECT_TRUE(is_error(
        stack().call_moneta("POST", "/v1/playback/sessions", at_limit + " ", tok),
        413,
        "PAYLOAD_TOO_LARGE"
    ));

    auto with_type =
        [&](std::string_view method, std::string_view target, std::string_view b, const char* type
        ) {
            HttpHeaders h{{"Authorization", "Bearer " + tok}};
            if (type != nullptr) {
                h.emplace_back("Content-Type", type);
            }
            return testing::http_call(stack().edge_port(), method, target, b, h);
        };
    const std::string sid = session_id_of(
        with_type("POST", "/v1/playback/sessions", body, "application/json; charset=utf-8")
    );
    ASSERT_FALSE(sid.empty());
    for (const char* type :
         {"text/plain",
          "application/x-www-form-urlencoded",
          "application/jsonp",
          static_cast<const char*>(nullptr)}) {
        const std::string shown = type != nullptr ? type : "(none)";
        EXPECT_TRUE(is_error(
            with_type("POST", "/v1/playback/sessions", body, type), 415, "UNSUPPORTED_MEDIA_TYPE"
        )) << shown;
        EXPECT_TRUE(is_error(
            with_type(
                "POST", "/v1/playback/sessions/" + sid + "/heartbeat", heartbeat_body(1, 1), type
            ),
            415,
            "UNSUPPORTED_MEDIA_TYPE"
        )) << shown;
        EXPECT_TRUE(is_error(
            with_type("POST", "/v1/playback/sessions/" + sid + "/stop", stop_body(1, 1), type),
            415,
            "UNSUPPORTED_MEDIA_TYPE"
        )) << shown;
        EXPECT_TRUE(is_error(
            with_type("PUT", "/v1/me/progress/c_main", progress_body(1, 10, now_ms(), 1), type),
            415,
            "UNSUPPORTED_MEDIA_TYPE"
        )) << shown;
    }
    // None of the refused calls ended the session.
    EXPECT_TRUE(is_json(heartbeat(tok, sid, 2, 2), 200));
}

TEST_F(ErrorsContract, OperationsEndpoints) {
    testing::Stack& s = stack();
    for (const char* path : {"/healthz", "/readyz"}) {
        EXPECT_EQ(testing::http_call(s.edge_port(), "GET", path).status, 200)
            << path << " through nginx";
        EXPECT_EQ(testing::http_call(s.moneta_port(), "GET", path).status, 200)
            << path << " on the main port";
        EXPECT_EQ(testing::http_call(s.admin_port(), "GET", path).status, 200)
            << path << " on the admin port";
    }
    const HttpReply metrics = testing::http_call(s.admin_port(), "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.header("Content-Type").value_or("").find("text/plain"), std::string::npos);
    EXPECT_NE(metrics.body.find("# TYPE moneta_http_requests_total counter"), std::string::npos);
    EXPECT_NE(metrics.body.find("moneta_redis_round_trips_total"), std::string::npos);
    // The edge exposes only /v1/playback/, /v1/me/, /healthz and /readyz.
    EXPECT_TRUE(is_error(testing::http_call(s.edge_port(), "GET", "/metrics"), 404, "NOT_FOUND"));
}

}  // namespace
}  // namespace moneta::contract
