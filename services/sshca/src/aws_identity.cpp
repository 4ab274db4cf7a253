#include "aws_identity.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "aws_xml.hpp"
#include "moneta/core/base64.hpp"

namespace moneta::sshca {
namespace {

namespace json = boost::json;
using boost::asio::awaitable;

constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr std::string_view kIamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/";
constexpr std::size_t kMaxCredential = 12 * 1024;  // base64; a session token is up to a few KiB
constexpr std::size_t kMaxHeaderValue = 4096;
constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    return out;
}

boost::system::result<ForwardedRequest, std::string> refuse(std::string why) {
    return {boost::system::in_place_error, std::move(why)};
}

/// The service of a SigV4 Authorization value's credential scope ("" when not SigV4).
std::string_view sigv4_service(std::string_view authorization) {
    constexpr std::string_view kPrefix = "AWS4-HMAC-SHA256 Credential=";
    if (!authorization.starts_with(kPrefix)) {
        return {};
    }
    std::string_view cred = authorization.substr(kPrefix.size());
    cred = cred.substr(0, cred.find(','));
    // AKID/date/region/service/aws4_request
    std::size_t slashes[4];
    std::size_t at = 0;
    for (auto& s : slashes) {
        at = cred.find('/', at);
        if (at == std::string_view::npos) {
            return {};
        }
        s = at++;
    }
    if (cred.substr(slashes[3] + 1) != "aws4_request") {
        return {};
    }
    return cred.substr(slashes[2] + 1, slashes[3] - slashes[2] - 1);
}

AwsOutcome refused(int status, std::string code, std::string message, std::string reason) {
    AwsOutcome o;
    o.status = status;
    o.code = std::move(code);
    o.message = std::move(message);
    o.reason = std::move(reason);
    return o;
}

/// AWS's text in one of our messages: printable ASCII, bounded.
std::string printable(std::string_view s) {
    std::string out;
    for (const char c : s.substr(0, 300)) {
        out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    return out;
}

const XmlElement* response_root(const std::optional<XmlElement>& doc, std::string_view name, std::string_view ns) {
    if (!doc || doc->name != name || doc->xmlns != ns || doc->only("ResponseMetadata") == nullptr) {
        return nullptr;
    }
    return &*doc;
}

}  // namespace

boost::system::result<ForwardedRequest, std::string> parse_forwarded(std::string_view credential,
                                                                     const AwsEndpoint& sts) {
    if (credential.size() > kMaxCredential) {
        return refuse("the AWS4-STS credential is too long");
    }
    const auto decoded = core::base64_decode(credential);
    if (!decoded) {
        return refuse("the AWS4-STS credential is not base64");
    }
    boost::system::error_code ec;
    const json::value v = json::parse(*decoded, ec);
    if (ec || !v.is_object() || v.get_object().size() != 4) {
        return refuse("the AWS4-STS credential must be a JSON object {method, url, headers, body}");
    }
    const auto& o = v.get_object();
    const auto* method = o.if_contains("method");
    const auto* url = o.if_contains("url");
    const auto* headers = o.if_contains("headers");
    const auto* body = o.if_contains("body");
    if (method == nullptr || url == nullptr || headers == nullptr || body == nullptr || !method->is_string() ||
        !url->is_string() || !headers->is_object() || !body->is_string()) {
        return refuse("the AWS4-STS credential must be a JSON object {method, url, headers, body}");
    }
    const auto target = AwsEndpoint::parse(url->get_string());
    if (method->get_string() != "POST" || !target || target->url != sts.url) {
        return refuse("the signed request must be a POST to " + sts.url);
    }
    if (body->get_string() != kGetCallerIdentityBody) {
        return refuse("the signed request must be exactly sts:GetCallerIdentity (body \"" +
                      std::string(kGetCallerIdentityBody) + "\")");
    }
    ForwardedRequest out;
    bool host = false;
    bool authorization = false;
    bool date = false;
    bool content_type = false;
    for (const auto& kv : headers->get_object()) {
        if (!kv.value().is_string()) {
            return refuse("signed request headers must be strings");
        }
        const std::string_view value = kv.value().get_string();
        if (value.size() > kMaxHeaderValue ||
            std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
            return refuse("a signed request header value is too long or has control characters");
        }
        const std::string name = lower(kv.key());
        bool* seen = nullptr;
        std::string canonical;
        if (name == "host") {
            seen = &host;
            if (value != sts.host_header()) {
                return refuse("the signed request's Host must be " + sts.host_header());
            }
        } else if (name == "authorization") {
            seen = &authorization;
            canonical = "Authorization";
            if (sigv4_service(value) != "sts") {
                return refuse("the signed request's Authorization must be SigV4 for the sts service");
            }
        } else if (name == "x-amz-date") {
            seen = &date;
            canonical = "X-Amz-Date";
        } else if (name == "content-type") {
            seen = &content_type;
            canonical = "Content-Type";
            if (value != kFormType && value != kFormType.substr(0, kFormType.find(';'))) {
                return refuse("the signed request's Content-Type must be application/x-www-form-urlencoded");
            }
        } else if (name == "x-amz-security-token") {
            canonical = "X-Amz-Security-Token";
            if (std::any_of(out.headers.begin(), out.headers.end(), [&](const auto& h) { return h.first == canonical; })) {
                return refuse("a signed request header is repeated");
            }
        } else {
            return refuse("the signed request may only carry Host, Authorization, X-Amz-Date, X-Amz-Security-Token "
                          "and Content-Type (not \"" + printable(kv.key()) + "\")");
        }
        if (seen != nullptr) {
            if (*seen) {
                return refuse("a signed request header is repeated");
            }
            *seen = true;
        }
        if (!canonical.empty()) {
            out.headers.emplace_back(std::move(canonical), std::string(value));
        }
    }
    if (!host || !authorization || !date || !content_type) {
        return refuse("the signed request needs Host, Authorization, X-Amz-Date and Content-Type");
    }
    return out;
}

boost::system::result<CallerIdentity, std::string> parse_caller_identity(std::string_view xml) {
    const auto doc = parse_xml(xml);
    const XmlElement* root = response_root(doc, "GetCallerIdentityResponse", kStsNamespace);
    const XmlElement* result = root != nullptr ? root->only("GetCallerIdentityResult") : nullptr;
    if (result == nullptr) {
        return {boost::system::in_place_error, "not a GetCallerIdentityResponse"};
    }
    auto arn = result->leaf("Arn");
    auto user_id = result->leaf("UserId");
    auto account = result->leaf("Account");
    if (!arn || !user_id || !account || arn->empty() || user_id->empty() || account->size() != 12 ||
        account->find_first_not_of("0123456789") != std::string::npos) {
        return {boost::system::in_place_error, "GetCallerIdentityResult needs one Arn, UserId and 12-digit Account"};
    }
    return CallerIdentity{std::move(*arn), std::move(*user_id), std::move(*account)};
}

std::optional<AwsError> parse_aws_error(std::string_view xml) {
    const auto doc = parse_xml(xml);
    if (!doc || doc->name != "ErrorResponse") {
        return std::nullopt;
    }
    const XmlElement* error = doc->only("Error");
    if (error == nullptr) {
        return std::nullopt;
    }
    auto code = error->leaf("Code");
    if (!code || code->empty()) {
        return std::nullopt;
    }
    return AwsError{error->leaf("Type").value_or(""), std::move(*code), error->leaf("Message").value_or("")};
}

boost::system::result<GroupsPage, std::string> parse_groups_page(std::string_view xml) {
    const auto doc = parse_xml(xml);
    const XmlElement* root = response_root(doc, "ListGroupsForUserResponse", kIamNamespace);
    const XmlElement* result = root != nullptr ? root->only("ListGroupsForUserResult") : nullptr;
    const XmlElement* groups = result != nullptr ? result->only("Groups") : nullptr;
    const auto truncated = result != nullptr ? result->leaf("IsTruncated") : std::nullopt;
    if (groups == nullptr || !truncated || (*truncated != "true" && *truncated != "false")) {
        return {boost::system::in_place_error, "not a ListGroupsForUserResponse"};
    }
    GroupsPage page;
    for (const auto& m : groups->children) {
        auto name = m.name == "member" ? m.leaf("GroupName") : std::nullopt;
        if (!name || name->empty()) {
            return {boost::system::in_place_error, "a Groups member without one GroupName"};
        }
        page.groups.push_back(std::move(*name));
    }
    if (*truncated == "true") {
        page.marker = result->leaf("Marker");
        if (!page.marker || page.marker->empty()) {
            return {boost::system::in_place_error, "IsTruncated without a Marker"};
        }
    }
    return page;
}

std::optional<std::string> iam_user_name(std::string_view arn, std::string_view account) {
    if (!arn.starts_with("arn:")) {
        return std::nullopt;
    }
    arn.remove_prefix(4);
    const auto colon = arn.find(':');
    const std::string_view partition = arn.substr(0, colon);
    if (colon == std::string_view::npos || partition.empty() ||
        partition.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != std::string_view::npos) {
        return std::nullopt;
    }
    arn.remove_prefix(colon + 1);
    const std::string prefix = "iam::" + std::string(account) + ":user/";
    if (!arn.starts_with(prefix)) {
        return std::nullopt;
    }
    arn.remove_prefix(prefix.size());
    const std::string_view name = arn.substr(arn.rfind('/') == std::string_view::npos ? 0 : arn.rfind('/') + 1);
    if (name.empty()) {
        return std::nullopt;
    }
    return std::string(name);
}

std::optional<std::string_view> aws_sts_credential(std::optional<std::string_view> authorization) noexcept {
    constexpr std::string_view kScheme = "AWS4-STS ";
    if (!authorization || !authorization->starts_with(kScheme) || authorization->size() == kScheme.size()) {
        return std::nullopt;
    }
    return authorization->substr(kScheme.size());
}

boost::system::result<AwsIdentity, std::string> AwsIdentity::create(AwsSettings settings) {
    auto sts = AwsEndpoint::parse(settings.sts_endpoint);
    if (!sts) {
        return {boost::system::in_place_error, "auth.aws.sts_endpoint: " + sts.error()};
    }
    auto iam = AwsEndpoint::parse(settings.iam_endpoint);
    if (!iam) {
        return {boost::system::in_place_error, "auth.aws.iam_endpoint: " + iam.error()};
    }
    if (settings.credentials.access_key_id.empty() || settings.credentials.secret_access_key.empty()) {
        return {boost::system::in_place_error,
                "auth.aws: access_key_id and secret_access_key are required (for iam:ListGroupsForUser)"};
    }
    return AwsIdentity(std::move(settings), std::move(*sts), std::move(*iam));
}

awaitable<AwsOutcome> AwsIdentity::async_identify(std::string_view credential, std::int64_t now_s) const {
    auto forwarded = parse_forwarded(credential, sts_);
    if (!forwarded) {
        co_return refused(400, "INVALID_REQUEST", forwarded.error(), "aws: " + forwarded.error());
    }
    auto sts_reply = co_await async_aws_post(sts_, forwarded->headers, std::string(kGetCallerIdentityBody),
                                             settings_.timeout);
    if (!sts_reply) {
        co_return refused(503, "UNAVAILABLE", "AWS STS did not answer; try again.", "aws: sts: " + sts_reply.error());
    }
    if (sts_reply->status != 200) {
        const auto e = parse_aws_error(sts_reply->body);
        if (sts_reply->status >= 400 && sts_reply->status < 500) {
            const std::string what = e ? printable(e->code) + ": " + printable(e->message)
                                       : "HTTP " + std::to_string(sts_reply->status);
            co_return refused(401, "UNAUTHENTICATED", "AWS STS refused the signed GetCallerIdentity (" + what + ").",
                              "aws: sts: " + (e ? printable(e->code) : what));
        }
        co_return refused(503, "UNAVAILABLE", "AWS STS failed; try again.",
                          "aws: sts: HTTP " + std::to_string(sts_reply->status) + (e ? " " + printable(e->code) : ""));
    }
    auto caller = parse_caller_identity(sts_reply->body);
    if (!caller) {
        co_return refused(503, "UNAVAILABLE", "AWS STS answered something unexpected.", "aws: sts: " + caller.error());
    }
    const auto name = iam_user_name(caller->arn, caller->account);
    if (!name) {
        co_return refused(403, "FORBIDDEN",
                          "Only IAM users may get certificates (" + printable(caller->arn) +
                              " is not one: assumed roles and federated sessions are refused).",
                          "aws: not an IAM user: " + printable(caller->arn));
    }
    if (!is_valid_name(*name)) {
        co_return refused(403, "FORBIDDEN", "The IAM user name is not a valid sshca user name.",
                          "aws: bad user name: " + printable(caller->arn));
    }
    const auto& allowed = settings_.allowed_accounts;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), caller->account) == allowed.end()) {
        co_return refused(403, "FORBIDDEN", "AWS account " + caller->account + " is not allowed here.",
                          "aws: account not allowed: " + printable(caller->arn));
    }
    Identity id;
    id.user = *name;
    id.method = "aws";
    std::optional<std::string> marker;
    for (int page = 0;; ++page) {
        if (page == settings_.max_group_pages) {
            co_return refused(503, "UNAVAILABLE", "Too many IAM groups to list.", "aws: iam: too many group pages");
        }
        aws_sigv4::Request req;
        req.method = "POST";
        req.headers = {{"Host", iam_.host_header()}, {"Content-Type", std::string(kFormType)}};
        req.body = "Action=ListGroupsForUser&UserName=" + aws_sigv4::uri_encode(*name, false) +
                   (marker ? "&Marker=" + aws_sigv4::uri_encode(*marker, false) : "") + "&Version=2010-05-08";
        aws_sigv4::sign(req, settings_.credentials, settings_.region, "iam", now_s);
        std::vector<std::pair<std::string, std::string>> headers;
        for (auto& h : req.headers) {
            if (h.name != "Host") {
                headers.emplace_back(std::move(h.name), std::move(h.value));
            }
        }
        auto reply = co_await async_aws_post(iam_, headers, std::move(req.body), settings_.timeout);
        if (!reply) {
            co_return refused(503, "UNAVAILABLE", "AWS IAM did not answer; try again.", "aws: iam: " + reply.error());
        }
        if (reply->status != 200) {
            const auto e = parse_aws_error(reply->body);
            co_return refused(503, "UNAVAILABLE", "The CA cannot list your IAM groups; try again or tell its operators.",
                              "aws: iam: HTTP " + std::to_string(reply->status) + (e ? " " + printable(e->code) : ""));
        }
        auto groups = parse_groups_page(reply->body);
        if (!groups) {
            co_return refused(503, "UNAVAILABLE", "AWS IAM answered something unexpected.", "aws: iam: " + groups.error());
        }
        for (auto& g : groups->groups) {
            id.groups.push_back(std::move(g));
        }
        if (!groups->marker) {
            break;
        }
        marker = std::move(groups->marker);
    }
    AwsOutcome out;
    out.identity = std::move(id);
    co_return out;
}

}  // namespace moneta::sshca
