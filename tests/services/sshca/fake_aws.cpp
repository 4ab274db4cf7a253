#include "fake_aws.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "aws_xml.hpp"
#include "moneta/aws_sigv4/sigv4.hpp"
#include "moneta/core/hex.hpp"
#include "moneta/http/router.hpp"

namespace moneta::sshca::testing {
namespace {

constexpr std::string_view kStsNs = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr std::string_view kIamNs = "https://iam.amazonaws.com/doc/2010-05-08/";

/// application/x-www-form-urlencoded → name/value pairs ('+' is a space); nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    auto decode = [](std::string_view s) -> std::optional<std::string> {
        std::string o;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+') {
                o += ' ';
            } else if (s[i] == '%') {
                if (i + 2 >= s.size() || core::hex_value(s[i + 1]) < 0 || core::hex_value(s[i + 2]) < 0) {
                    return std::nullopt;
                }
                o += static_cast<char>(core::hex_value(s[i + 1]) * 16 + core::hex_value(s[i + 2]));
                i += 2;
            } else {
                o += s[i];
            }
        }
        return o;
    };
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view part = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        const auto eq = part.find('=');
        auto k = decode(part.substr(0, eq));
        auto v = decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
        if (!k || !v) {
            return std::nullopt;
        }
        out.emplace_back(std::move(*k), std::move(*v));
    }
    return out;
}

}  // namespace

FakeAws::FakeAws(const core::Clock& clock) : clock_(clock) {
    http::ServerConfig cfg;
    cfg.address = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    server_ = std::make_unique<http::Server>(cfg, clock, [this](boost::asio::io_context&, std::size_t) {
        auto router = std::make_shared<http::Router>(clock_);
        for (const auto m : {http::Method::kPost, http::Method::kGet}) {
            router->add(m, "/", [this](http::Request& r) -> boost::asio::awaitable<http::Response> {
                co_return answer(r);
            });
        }
        http::WorkerHooks hooks;
        hooks.handler = [router](http::Request& r) { return router->async_dispatch(r); };
        return hooks;
    });
    auto port = server_->listen();
    if (!port) {
        ADD_FAILURE() << "FakeAws listen: " << port.error().message();
        return;
    }
    port_ = *port;
    server_->start();
}

FakeAws::~FakeAws() {
    if (port_ != 0) {
        server_->request_stop(std::chrono::seconds(1));
        server_->wait();
    }
}

void FakeAws::add_key(FakeAwsKey key) {
    std::lock_guard lock(mu_);
    keys_[key.access_key_id] = std::move(key);
}

void FakeAws::set_groups(const std::string& user, std::vector<std::string> groups) {
    std::lock_guard lock(mu_);
    groups_[user] = std::move(groups);
}

void FakeAws::set_page_size(std::size_t n) {
    std::lock_guard lock(mu_);
    page_size_ = n;
}

void FakeAws::fail_all(std::optional<int> status) {
    std::lock_guard lock(mu_);
    fail_all_ = status;
}

std::vector<FakeAws::Call> FakeAws::calls() const {
    std::lock_guard lock(mu_);
    return calls_;
}

http::Response FakeAws::answer(const http::Request& r) {
    std::lock_guard lock(mu_);
    char request_id[40];
    std::snprintf(request_id, sizeof request_id, "c0ffee00-0000-4000-8000-%012llx",
                  static_cast<unsigned long long>(++request_ids_));
    Call call;
    call.host = std::string(r.header("host").value_or(""));
    std::string_view ns = kStsNs;
    auto reply = [&](int status, std::string body) {
        http::Response resp;
        resp.status = status;
        resp.content_type = "text/xml";
        resp.body = std::move(body);
        resp.headers.emplace_back("x-amzn-RequestId", request_id);
        call.status = status;
        calls_.push_back(call);
        return resp;
    };
    auto error = [&](int status, std::string_view type, std::string_view code, std::string_view message) {
        call.code = std::string(code);
        return reply(status, "<ErrorResponse xmlns=\"" + std::string(ns) + "\">\n  <Error>\n    <Type>" +
                                 std::string(type) + "</Type>\n    <Code>" + std::string(code) + "</Code>\n    <Message>" +
                                 xml_escape(message) + "</Message>\n  </Error>\n  <RequestId>" + request_id +
                                 "</RequestId>\n</ErrorResponse>\n");
    };
    // Parameters: the query, and a form body (as the SDKs POST them).
    std::string params_text(r.query());
    const bool form_body = r.header("content-type").value_or("").starts_with("application/x-www-form-urlencoded");
    if (form_body && !r.body().empty()) {
        params_text += (params_text.empty() ? "" : "&") + std::string(r.body());
    }
    const auto params = form(params_text);
    std::map<std::string, std::string> p;
    if (params) {
        for (const auto& [k, v] : *params) {
            p.emplace(k, v);
        }
    }
    call.action = p.count("Action") != 0 ? p["Action"] : "";
    const bool iam = call.action == "ListGroupsForUser";
    ns = iam ? kIamNs : kStsNs;
    if (fail_all_) {
        return *fail_all_ == 503 ? error(503, "Receiver", "ServiceUnavailable", "Service is unavailable.")
                                 : error(*fail_all_, "Receiver", "InternalFailure", "Internal failure.");
    }
    aws_sigv4::Request req;
    req.method = std::string(r.method_string());
    req.path = std::string(r.path());
    req.query = std::string(r.query());
    req.body = std::string(r.body());
    for (const auto& h : r.headers()) {
        req.headers.push_back({std::string(h.name), std::string(h.value)});
    }
    const auto verified = aws_sigv4::verify(
        req,
        [this](std::string_view id) -> std::optional<std::string> {
            const auto it = keys_.find(std::string(id));
            return it == keys_.end() ? std::nullopt : std::optional<std::string>(it->second.secret_access_key);
        },
        clock_.wall_ms() / 1000, aws_sigv4::VerifyOptions{"us-east-1", iam ? "iam" : "sts"});
    if (!verified) {
        switch (verified.error()) {
            case aws_sigv4::VerifyError::kMissing:
                return error(403, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token");
            case aws_sigv4::VerifyError::kMalformed:
            case aws_sigv4::VerifyError::kUnsignedHeader:
                return error(400, "Sender", "IncompleteSignature",
                             "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters; "
                             "host, x-amz-date and x-amz-security-token must be signed.");
            case aws_sigv4::VerifyError::kUnknownKey:
                return error(403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.");
            case aws_sigv4::VerifyError::kScope:
                return error(403, "Sender", "SignatureDoesNotMatch",
                             std::string("Credential should be scoped to a valid region and service '") +
                                 (iam ? "iam" : "sts") + "'.");
            case aws_sigv4::VerifyError::kExpired:
                return error(403, "Sender", "SignatureDoesNotMatch",
                             "Signature expired: " + std::string(r.header("x-amz-date").value_or("")) +
                                 " is now earlier than the allowed 15 minutes.");
            case aws_sigv4::VerifyError::kSignatureMismatch:
                return error(403, "Sender", "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you provided. Check "
                             "your AWS Secret Access Key and signing method. Consult the service documentation for "
                             "details.");
        }
    }
    const FakeAwsKey& key = keys_.at(verified->access_key_id);
    if (key.session_token != verified->session_token) {
        return error(403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.");
    }
    if (!params) {
        return error(400, "Sender", "MalformedQueryString", "The query string is malformed.");
    }
    auto only = [&p](std::initializer_list<std::string_view> names) {
        for (const auto& [k, v] : p) {
            if (std::find(names.begin(), names.end(), k) == names.end()) {
                return false;
            }
        }
        return true;
    };
    if (call.action == "GetCallerIdentity" && p["Version"] == "2011-06-15" && only({"Action", "Version"})) {
        return reply(200, "<GetCallerIdentityResponse xmlns=\"" + std::string(kStsNs) +
                              "\">\n  <GetCallerIdentityResult>\n    <Arn>" + xml_escape(key.arn) +
                              "</Arn>\n    <UserId>" + xml_escape(key.user_id) + "</UserId>\n    <Account>" +
                              key.account + "</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n"
                              "    <RequestId>" + request_id + "</RequestId>\n  </ResponseMetadata>\n"
                              "</GetCallerIdentityResponse>\n");
    }
    if (iam && p["Version"] == "2010-05-08" && only({"Action", "Version", "UserName", "Marker", "MaxItems"})) {
        const std::string user = p["UserName"];
        if (!key.may_list_groups) {
            return error(403, "Sender", "AccessDenied",
                         "User: " + key.arn + " is not authorized to perform: iam:ListGroupsForUser on resource: user " +
                             user);
        }
        const auto it = groups_.find(user);
        if (it == groups_.end()) {
            return error(404, "Sender", "NoSuchEntity", "The user with name " + user + " cannot be found.");
        }
        std::size_t start = 0;
        if (p.count("Marker") != 0) {
            start = std::stoul(p["Marker"].substr(1));  // our markers: "m<index>"
        }
        const std::size_t end = std::min(it->second.size(), start + page_size_);
        std::string members;
        for (std::size_t i = start; i < end; ++i) {
            const std::string& g = it->second[i];
            members += "      <member>\n        <Path>/</Path>\n        <GroupName>" + xml_escape(g) +
                       "</GroupName>\n        <GroupId>AGPA" + std::to_string(1000 + i) + "EXAMPLE</GroupId>\n"
                       "        <Arn>arn:aws:iam::" + key.account + ":group/" + xml_escape(g) + "</Arn>\n"
                       "        <CreateDate>2024-02-02T18:20:00Z</CreateDate>\n      </member>\n";
        }
        const bool truncated = end < it->second.size();
        return reply(200, "<ListGroupsForUserResponse xmlns=\"" + std::string(kIamNs) +
                              "\">\n  <ListGroupsForUserResult>\n    <Groups>\n" + members + "    </Groups>\n" +
                              "    <IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>\n" +
                              (truncated ? "    <Marker>m" + std::to_string(end) + "</Marker>\n" : "") +
                              "  </ListGroupsForUserResult>\n  <ResponseMetadata>\n    <RequestId>" + request_id +
                              "</RequestId>\n  </ResponseMetadata>\n</ListGroupsForUserResponse>\n");
    }
    return error(400, "Sender", "InvalidAction",
                 "Could not find operation " + call.action + " for version " + p["Version"]);
}

}  // namespace moneta::sshca::testing
