/// @file tests/services/sshca/fake_aws.hpp
/// @brief A protocol-exact fake of the two AWS query APIs the CA uses, on a loopback port:
/// `sts:GetCallerIdentity` and `iam:ListGroupsForUser` (POST / with a form body, as the SDKs
/// send them). Every request's SigV4 signature is verified with libs/aws_sigv4 against a table
/// of access keys (region us-east-1, services sts and iam, 15 minutes of skew, the session token
/// when the key has one); answers are AWS's XML shapes (namespaces, ResponseMetadata/RequestId)
/// and errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` with
/// AWS's codes and statuses (SignatureDoesNotMatch, InvalidClientTokenId, IncompleteSignature,
/// MissingAuthenticationToken, AccessDenied, NoSuchEntity, InvalidAction). Every call is recorded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/server.hpp"

namespace moneta::sshca::testing {

struct FakeAwsKey {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;         ///< required on requests when set
    std::string arn;                   ///< what GetCallerIdentity answers
    std::string user_id;
    std::string account = "123456789012";
    bool may_list_groups = false;      ///< iam:ListGroupsForUser allowed (the CA's own key)
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (the table and calls are locked).
class FakeAws {
public:
    struct Call {
        std::string action;     ///< the Action parameter ("" when none)
        std::string host;       ///< the Host header
        int status = 0;
        std::string code;       ///< the error code answered ("" on success)
    };

    explicit FakeAws(const core::Clock& clock);
    ~FakeAws();
    FakeAws(const FakeAws&) = delete;
    FakeAws& operator=(const FakeAws&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void add_key(FakeAwsKey key);
    /// IAM: @p user's groups (the user exists once listed here, even with none).
    void set_groups(const std::string& user, std::vector<std::string> groups);
    /// ListGroupsForUser pages: at most this many groups per answer (IsTruncated + Marker).
    void set_page_size(std::size_t n);
    /// Answers every call with @p status (500 InternalFailure, 503 ServiceUnavailable) until cleared.
    void fail_all(std::optional<int> status);

    std::vector<Call> calls() const;

private:
    http::Response answer(const http::Request& r);

    const core::Clock& clock_;
    mutable std::mutex mu_;
    std::map<std::string, FakeAwsKey> keys_;                    // guarded by mu_
    std::map<std::string, std::vector<std::string>> groups_;    // guarded by mu_
    std::size_t page_size_ = 100;                              // guarded by mu_
    std::optional<int> fail_all_;                               // guarded by mu_
    std::vector<Call> calls_;                                   // guarded by mu_
    std::uint64_t request_ids_ = 0;                             // guarded by mu_
    std::unique_ptr<http::Server> server_;
    std::uint16_t port_ = 0;
};

}  // namespace moneta::sshca::testing
