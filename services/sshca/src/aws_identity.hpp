/// @file services/sshca/src/aws_identity.hpp
/// @brief AWS IAM identity (issue 14, docs/sshca.md "AWS IAM identity"): the CLI signs an
/// `sts:GetCallerIdentity` request with the engineer's AWS keys and sends it, unsent, as
/// `Authorization: AWS4-STS <base64 JSON {method, url, headers, body}>`. The CA checks it is
/// exactly a GetCallerIdentity POST to the configured STS endpoint (so it never forwards any
/// other signed request), sends it there, reads the caller's ARN, requires an IAM user (and an
/// allowed account), and lists the user's groups with `iam:ListGroupsForUser` signed with the
/// CA's own keys. The pure parts (the forwarded request, the XML answers, the ARN) are separate
/// functions for the unit tests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "aws_http.hpp"
#include "moneta/aws_sigv4/sigv4.hpp"
#include "policy.hpp"

namespace moneta::sshca {

struct AwsSettings {
    bool enabled = false;
    std::string sts_endpoint = "https://sts.amazonaws.com";
    std::string iam_endpoint = "https://iam.amazonaws.com";
    std::string region = "us-east-1";             ///< the scope of the CA's IAM calls (IAM is global)
    std::vector<std::string> allowed_accounts;    ///< empty: any account
    aws_sigv4::Credentials credentials;           ///< the CA's own keys (iam:ListGroupsForUser)
    std::chrono::milliseconds timeout{2000};      ///< per AWS call (the CA has one worker)
    int max_group_pages = 10;                     ///< IAM allows 10 groups per user: one page
};

/// The signed request the CLI sends, checked: what the CA forwards (to its configured endpoint).
struct ForwardedRequest {
    std::vector<std::pair<std::string, std::string>> headers;  ///< Authorization, X-Amz-*, Content-Type
};

/// Reads and checks @p credential (the base64 after "AWS4-STS "): method POST, url the STS
/// endpoint @p sts, body exactly kGetCallerIdentityBody, headers only host (= the endpoint's),
/// authorization (SigV4, service sts), x-amz-date, x-amz-security-token, content-type (form).
boost::system::result<ForwardedRequest, std::string> parse_forwarded(std::string_view credential,
                                                                     const AwsEndpoint& sts);

struct CallerIdentity {
    std::string arn;
    std::string user_id;
    std::string account;
};
/// A 200 GetCallerIdentityResponse (its namespace, Arn, UserId, Account once each, 12-digit account).
boost::system::result<CallerIdentity, std::string> parse_caller_identity(std::string_view xml);

struct AwsError {
    std::string type;
    std::string code;
    std::string message;
};
/// An `<ErrorResponse><Error><Type/><Code/><Message/></Error>…` body; nullopt when not one.
std::optional<AwsError> parse_aws_error(std::string_view xml);

struct GroupsPage {
    std::vector<std::string> groups;
    std::optional<std::string> marker;  ///< set when IsTruncated
};
/// A 200 ListGroupsForUserResponse.
boost::system::result<GroupsPage, std::string> parse_groups_page(std::string_view xml);

/// The user name of an IAM user ARN `arn:<partition>:iam::<account>:user/[path/]<name>` whose
/// account is @p account; nullopt for anything else (assumed roles, federated users, root).
std::optional<std::string> iam_user_name(std::string_view arn, std::string_view account);

/// The credential of `Authorization: AWS4-STS <credential>`; nullopt for another scheme.
std::optional<std::string_view> aws_sts_credential(std::optional<std::string_view> authorization) noexcept;

struct AwsOutcome {
    std::optional<Identity> identity;
    int status = 401;        ///< when refused: 400, 401, 403, or 503 (AWS unreachable)
    std::string code;        ///< the error body's code
    std::string message;     ///< client-safe
    std::string reason;      ///< for the audit log (never a key or signature)
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (const after construction).
class AwsIdentity {
public:
    static boost::system::result<AwsIdentity, std::string> create(AwsSettings settings);

    /// Who signed @p credential, asked of STS and IAM on the calling coroutine's executor.
    boost::asio::awaitable<AwsOutcome> async_identify(std::string_view credential, std::int64_t now_s) const;

private:
    AwsIdentity(AwsSettings settings, AwsEndpoint sts, AwsEndpoint iam)
        : settings_(std::move(settings)), sts_(std::move(sts)), iam_(std::move(iam)) {}
    AwsSettings settings_;
    AwsEndpoint sts_;
    AwsEndpoint iam_;
};

}  // namespace moneta::sshca
