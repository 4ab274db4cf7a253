#include "contract_support.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdlib>
#include <memory>

#include "moneta/testing/paths.hpp"

namespace moneta::contract {

namespace json = boost::json;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}


std::filesystem::path contract_fixtures() {
    return testing::source_dir() / "tests/contract/fixtures.json";
}

namespace {

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

::testing::AssertionResult fail_with(const HttpReply& r, std::string_view what) {
    return ::testing::AssertionFailure()
           << what << " (status " << r.status << ", body " << r.body
           << (r.error.empty() ? "" : ", transport error " + r.error) << ")";
}

}  // namespace

std::string start_body(const StartSpec& spec) {
    json::object caps{
        {"protocols", strings(spec.protocols)},
        {"drm", strings(spec.drm)},
        {"video_codecs", strings(spec.codecs)},
        {"hdr", strings(spec.hdr)},
        {"max_height", spec.max_height}};
    json::object body{
        {"content_id", spec.content},
        {"device",
         {{"id", spec.device}, {"type", spec.type}, {"name", spec.name}, {"app_version", "5.2.0"}}},
        {"capabilities", std::move(caps)}};
    if (!spec.resume.empty()) {
        body["resume"] = spec.resume;
    }
    if (!spec.replace.empty()) {
        body["replace_session_id"] = spec.replace;
    }
    if (!spec.audio.empty()) {
        body["preferred_audio_lang"] = spec.audio;
    }
    if (!spec.subtitle.empty()) {
        body["preferred_subtitle_lang"] = spec.subtitle;
    }
    return json::serialize(body);
}

std::string heartbeat_body(double position_sec, std::int64_t seq, std::string_view state) {
    return json::serialize(json::object{
        {"position_sec", position_sec}, {"state", state}, {"seq", seq}});
}

std::string stop_body(double position_sec, std::int64_t seq, std::string_view reason) {
    return json::serialize(json::object{
        {"position_sec", position_sec}, {"reason", reason}, {"seq", seq}});
}

std::string progress_body(
    double position_sec, double duration_sec, std::int64_t updated_at_ms, std::int64_t seq
) {
    return json::serialize(json::object{
        {"position_sec", position_sec},
        {"duration_sec", duration_sec},
        {"updated_at_ms", updated_at_ms},
        {"seq", seq}});
}

json::object parse_object(const HttpReply& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) {
        return {};
    }
    return std::move(v.get_object());
}

::testing::AssertionResult has_server_time(const json::object& o) {
    const json::value* t = o.if_contains("server_time_ms");
    if (t == nullptr || !t->is_int64()) {
        return ::testing::AssertionFailure()
               << "no integer server_time_ms in " << json::serialize(o);
    }
    // Same machine: a minute covers any scheduling delay and still catches seconds-vs-ms mix-ups.
    if (std::llabs(t->get_int64() - now_ms()) > 60'000) {
        return ::testing::AssertionFailure()
               << "server_time_ms " << t->get_int64() << " is not now (" << now_ms() << ")";
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_json(const HttpReply& r, int status) {
    if (r.status != status) {
        return fail_with(r, "expected status " + std::to_string(status));
    }
    const auto ct = r.header("Content-Type");
    if (!ct || ct->rfind("application/json", 0) != 0) {
        return fail_with(r, "Content-Type is not application/json: " + ct.value_or("(none)"));
    }
    const json::object o = parse_object(r);
    if (o.empty()) {
        return fail_with(r, "body is not a JSON object");
    }
    if (auto t = has_server_time(o); !t) {
        return t;
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_error(const HttpReply& r, int status, std::string_view code) {
    if (auto ok = is_json(r, status); !ok) {
        return ok;
    }
    const json::object o = parse_object(r);
    if (o.size() != 2 || !o.contains("error")) {
        return fail_with(r, "an error body has exactly \"error\" and \"server_time_ms\"");
    }
    const json::value& e = o.at("error");
    if (!e.is_object()) {
        return fail_with(r, "\"error\" is not an object");
    }
    const json::object& eo = e.get_object();
    const json::value* c = eo.if_contains("code");
    const json::value* m = eo.if_contains("message");
    const json::value* rt = eo.if_contains("retryable");
    const json::value* d = eo.if_contains("details");
    if (c == nullptr || !c->is_string() || m == nullptr || !m->is_string() ||
        m->get_string().empty() || rt == nullptr || !rt->is_bool() || d == nullptr ||
        !d->is_object()) {
        return fail_with(
            r,
            "error needs code (string), message (non-empty string), retryable (bool), details "
            "(object)"
        );
    }
    if (c->get_string() != code) {
        return fail_with(r, "expected code " + std::string(code));
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_invalid_field(const HttpReply& r, std::string_view field) {
    if (auto ok = is_error(r, 400, "INVALID_REQUEST"); !ok) {
        return ok;
    }
    const json::object o = parse_object(r);
    const json::value* f = o.at("error").at("details").as_object().if_contains("field");
    if (f == nullptr || !f->is_string() || f->get_string() != field) {
        return fail_with(r, "details.field should name " + std::string(field));
    }
    return ::testing::AssertionSuccess();
}

std::string session_id_of(const HttpReply& r) {
    const json::object o = parse_object(r);
    const json::value* sid = o.if_contains("session_id");
    if (r.status != 201 || sid == nullptr || !sid->is_string()) {
        ADD_FAILURE() << "not a started session: " << r.status << " " << r.body;
        return {};
    }
    return std::string(sid->get_string());
}

std::map<std::string, std::string, std::less<>> query_params(std::string_view url) {
    std::map<std::string, std::string, std::less<>> out;
    const auto q = url.find('?');
    if (q == std::string_view::npos) {
        return out;
    }
    std::string_view rest = url.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        out[std::string(pair.substr(0, eq))] =
            eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    }
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out = base64_encode(bytes);
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (char& c : out) {
        c = c == '+' ? '-' : (c == '/' ? '_' : c);
    }
    return out;
}

std::string sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(md), len);
}

::testing::AssertionResult rsa_sha1_verifies(
    const std::filesystem::path& key_pem, std::string_view data, std::string_view signature
) {
    const std::string pem = testing::read_file(key_pem);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free
    );
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
        &EVP_PKEY_free
    );
    if (!key) {
        return ::testing::AssertionFailure() << "cannot read the CDN key " << key_pem;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha1(), nullptr, key.get()) != 1) {
        return ::testing::AssertionFailure() << "EVP_DigestVerifyInit failed";
    }
    const int ok = EVP_DigestVerify(
        ctx.get(),
        reinterpret_cast<const unsigned char*>(signature.data()),
        signature.size(),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size()
    );
    if (ok != 1) {
        return ::testing::AssertionFailure() << "RSA-SHA1 signature does not verify over " << data;
    }
    return ::testing::AssertionSuccess();
}

std::string cloudfront_policy(std::string_view resource, std::int64_t expires_s) {
    return R"({"Statement":[{"Resource":")" + std::string(resource) +
           R"(","Condition":{"DateLessThan":{"AWS:EpochTime":)" + std::to_string(expires_s) +
           "}}}]}";
}

void ContractTest::boot(testing::StackOptions options) {
    if (options.fixtures.empty()) {
        options.fixtures = contract_fixtures();
    }
    // contract_cluster_test: the same suite with two moneta instances behind nginx on a real
    // Redis Cluster. The node timeout is longer than any pause the suite makes (every node is
    // paused together; a failover mid-suite is cluster_failover_test's business, not this one's).
    if (const char* n = std::getenv("MONETA_CONTRACT_INSTANCES"); n != nullptr && std::string_view(n) == "2") {
        options.moneta_instances = 2;
    }
    if (const char* r = std::getenv("MONETA_CONTRACT_REDIS"); r != nullptr && std::string_view(r) == "cluster") {
        options.redis_cluster = true;
        options.cluster_node_timeout = std::chrono::seconds(5);
    }
    stack_ = new testing::Stack(std::move(options));
    if (const auto ok = stack_->start(); !ok) {
        delete stack_;
        stack_ = nullptr;
        FAIL() << ok.message();
    }
}

void ContractTest::shutdown() {
    delete stack_;
    stack_ = nullptr;
}

void ContractTest::SetUp() { ASSERT_NE(stack_, nullptr) << "the stack did not start"; }

HttpReply ContractTest::start(const std::string& token, const StartSpec& spec, HttpHeaders extra) {
    return stack_->call("POST", "/v1/playback/sessions", start_body(spec), token, std::move(extra));
}

HttpReply ContractTest::heartbeat(
    const std::string& token,
    std::string_view sid,
    double position_sec,
    std::int64_t seq,
    std::string_view state
) {
    return stack_->call(
        "POST",
        "/v1/playback/sessions/" + std::string(sid) + "/heartbeat",
        heartbeat_body(position_sec, seq, state),
        token
    );
}

HttpReply ContractTest::stop(
    const std::string& token,
    std::string_view sid,
    double position_sec,
    std::int64_t seq,
    std::string_view reason
) {
    return stack_->call(
        "POST",
        "/v1/playback/sessions/" + std::string(sid) + "/stop",
        stop_body(position_sec, seq, reason),
        token
    );
}

HttpReply ContractTest::refresh(const std::string& token, std::string_view sid) {
    return stack_->call(
        "POST", "/v1/playback/sessions/" + std::string(sid) + "/refresh", "", token
    );
}

HttpReply ContractTest::list(const std::string& token) {
    return stack_->call("GET", "/v1/playback/sessions", "", token);
}

HttpReply ContractTest::kick(const std::string& token, std::string_view sid) {
    return stack_->call("DELETE", "/v1/playback/sessions/" + std::string(sid), "", token);
}

HttpReply ContractTest::get_progress(const std::string& token, std::string_view content_ids) {
    return stack_->call(
        "GET", "/v1/me/progress?content_ids=" + std::string(content_ids), "", token
    );
}

HttpReply ContractTest::put_progress(
    const std::string& token,
    std::string_view content_id,
    double position_sec,
    double duration_sec,
    std::int64_t updated_at_ms,
    std::int64_t seq
) {
    return stack_->call(
        "PUT",
        "/v1/me/progress/" + std::string(content_id),
        progress_body(position_sec, duration_sec, updated_at_ms, seq),
        token
    );
}

HttpReply ContractTest::continue_watching(const std::string& token, std::string_view query) {
    return stack_->call(
        "GET",
        "/v1/me/continue-watching" + std::string(query.empty() ? "" : "?") + std::string(query),
        "",
        token
    );
}

json::object ContractTest::progress_item(const std::string& token, std::string_view content_id) {
    const HttpReply r = get_progress(token, content_id);
    EXPECT_TRUE(is_json(r, 200));
    const json::object o = parse_object(r);
    const json::value* items = o.if_contains("items");
    if (items == nullptr || !items->is_array()) {
        ADD_FAILURE() << "no items array: " << r.body;
        return {};
    }
    for (const json::value& it : items->get_array()) {
        if (it.is_object() && it.get_object().contains("content_id") &&
            it.get_object().at("content_id") == json::value(content_id)) {
            return it.get_object();
        }
    }
    return {};
}

double ContractTest::read_path_internal_calls() {
    return stack_->internal_api_calls("account") + stack_->internal_api_calls("content") +
           stack_->internal_api_calls("progress_read");
}

}  // namespace moneta::contract
