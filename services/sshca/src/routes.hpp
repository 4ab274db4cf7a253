/// @file services/sshca/src/routes.hpp
/// @brief The HTTP API of docs/sshca.md on libs/http_server's router: authenticate, parse the
/// body strictly (unknown members refused), call the Authority, render the outcome.
#pragma once

#include "authority.hpp"
#include "aws_identity.hpp"
#include "identity.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"

namespace moneta::sshca {

/// Counters for /metrics (one worker: plain integers).
struct CaStats {
    std::uint64_t issued_user = 0;
    std::uint64_t issued_host = 0;
    std::uint64_t denied = 0;
    std::uint64_t revocations = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t rate_limited = 0;
};

/// Adds every route to @p router. The references must outlive it; @p aws is null when AWS IAM
/// identity is off (an `AWS4-STS` credential is then refused like a bad token).
void add_routes(http::Router& router, Authority& authority, Authenticator& auth, const AwsIdentity* aws,
                CaStats& stats, const core::Clock& clock);

}  // namespace moneta::sshca
