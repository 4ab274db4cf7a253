/// @file contract_support.hpp
/// @brief Shared pieces of the api.md contract suite: one real stack per suite (nginx + moneta +
/// redis + internal_api on free ports, loaded with tests/contract/fixtures.json), request
/// builders, and assertions on the documented body shapes.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/testing/base64.hpp"
#include "moneta/testing/stack.hpp"

namespace moneta::contract {

using testing::HttpHeaders;
using testing::HttpReply;

/// Wall clock in epoch milliseconds (the test's view of "now").
std::int64_t now_ms();

/// tests/contract/fixtures.json in the source tree.
std::filesystem::path contract_fixtures();

/// The pieces of a start request (api.md §5.1) a test varies; empty strings are left out.
struct StartSpec {
    std::string content = "c_main";
    std::string device = "dev-1";
    std::string type = "tv";
    std::string name = "Living room TV";
    std::vector<std::string> protocols{"dash"};
    std::vector<std::string> drm{"widevine"};
    std::vector<std::string> codecs{"avc"};
    std::vector<std::string> hdr{};
    int max_height = 1080;
    std::string resume;
    std::string replace;
    std::string audio;
    std::string subtitle;
};

std::string start_body(const StartSpec& spec);
std::string heartbeat_body(
    double position_sec, std::int64_t seq, std::string_view state = "playing"
);
std::string stop_body(double position_sec, std::int64_t seq, std::string_view reason = "user");
std::string progress_body(
    double position_sec, double duration_sec, std::int64_t updated_at_ms, std::int64_t seq
);

/// The body as a JSON object; an empty object when it is not one.
boost::json::object parse_object(const HttpReply& r);

/// `server_time_ms` is an integer within a minute of the test's clock.
::testing::AssertionResult has_server_time(const boost::json::object& o);
/// @p status, `Content-Type: application/json`, a JSON object carrying server_time_ms.
::testing::AssertionResult is_json(const HttpReply& r, int status);
/// The api.md §4 error model exactly:
/// {"error":{code,message,retryable,details{}},"server_time_ms"}.
::testing::AssertionResult is_error(const HttpReply& r, int status, std::string_view code);
/// is_error() plus `details.field` naming @p field.
::testing::AssertionResult is_invalid_field(const HttpReply& r, std::string_view field);

/// `session_id` of a 201 start, or "" (with a test failure) when there is none.
std::string session_id_of(const HttpReply& r);

/// Query parameters of a URL (no percent-decoding: the signed values use URL-safe alphabets).
std::map<std::string, std::string, std::less<>> query_params(std::string_view url);
using testing::base64_decode;  // standard and CloudFront base64: moneta/testing/base64.hpp
using testing::base64_encode;
using testing::cloudfront_base64_decode;
/// base64url without padding (JWT segments).
std::string base64url_encode(std::string_view bytes);
/// SHA-256 of @p data (raw bytes).
std::string sha256(std::string_view data);
/// RSA-SHA1 (PKCS#1 v1.5) check of @p signature over @p data with the public half of the PEM
/// private key at @p key_pem (the stack's CDN signing key).
::testing::AssertionResult rsa_sha1_verifies(
    const std::filesystem::path& key_pem, std::string_view data, std::string_view signature
);
/// CloudFront's canned/custom policy document for @p resource expiring at @p expires_s.
std::string cloudfront_policy(std::string_view resource, std::int64_t expires_s);


/// Base of every contract suite: one Stack per suite, shared by its tests (each test uses its
/// own account from fixtures.json, so tests do not depend on each other).
class ContractTest : public ::testing::Test {
public:
    /// The stack's CDN signing key (PEM), to verify signed URLs and cookies.
    static std::filesystem::path cdn_key_file() { return stack_->dir() / "cdn_key.pem"; }

protected:
    /// Starts the stack with @p options (fixtures default to contract_fixtures()).
    static void boot(testing::StackOptions options = {});
    static void shutdown();
    void SetUp() override;

    static testing::Stack& stack() { return *stack_; }

    // Calls through nginx, as a client makes them.
    static HttpReply start(const std::string& token, const StartSpec& spec, HttpHeaders extra = {});
    static HttpReply heartbeat(
        const std::string& token,
        std::string_view sid,
        double position_sec,
        std::int64_t seq,
        std::string_view state = "playing"
    );
    static HttpReply stop(
        const std::string& token,
        std::string_view sid,
        double position_sec,
        std::int64_t seq,
        std::string_view reason = "user"
    );
    static HttpReply refresh(const std::string& token, std::string_view sid);
    static HttpReply list(const std::string& token);
    static HttpReply kick(const std::string& token, std::string_view sid);
    static HttpReply get_progress(const std::string& token, std::string_view content_ids);
    static HttpReply put_progress(
        const std::string& token,
        std::string_view content_id,
        double position_sec,
        double duration_sec,
        std::int64_t updated_at_ms,
        std::int64_t seq
    );
    static HttpReply continue_watching(const std::string& token, std::string_view query = "");

    /// The one item of GET /v1/me/progress for @p content_id; empty when there is none.
    static boost::json::object progress_item(const std::string& token, std::string_view content_id);
    /// Internal-API calls that a start can make (accounts, contents, progress reads); the
    /// write-behind's batch upserts run on their own schedule and are left out.
    static double read_path_internal_calls();

private:
    inline static testing::Stack* stack_ = nullptr;
};

}  // namespace moneta::contract
