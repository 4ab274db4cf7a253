#include "identity.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <variant>

namespace moneta::sshca {

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) noexcept {
    if (!authorization || authorization->size() <= 7) {
        return std::nullopt;
    }
    const std::string_view scheme = authorization->substr(0, 7);
    constexpr std::string_view kBearer = "bearer ";
    for (std::size_t i = 0; i < kBearer.size(); ++i) {
        const char c = scheme[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kBearer[i]) {
            return std::nullopt;
        }
    }
    std::string_view token = authorization->substr(7);
    if (token.empty() || token.find(' ') != std::string_view::npos) {
        return std::nullopt;
    }
    return token;
}

FailureLimiter::Window* FailureLimiter::current(std::string_view address) {
    const auto it = windows_.find(std::string(address));
    if (it == windows_.end()) {
        return nullptr;
    }
    if (clock_.wall_ms() - it->second.start_ms >= std::chrono::duration_cast<std::chrono::milliseconds>(limit_.window).count()) {
        windows_.erase(it);
        return nullptr;
    }
    return &it->second;
}

bool FailureLimiter::limited(std::string_view address) {
    const Window* w = current(address);
    return w != nullptr && w->failures >= limit_.max_failures;
}

bool FailureLimiter::record_failure(std::string_view address) {
    Window* w = current(address);
    if (w == nullptr) {
        if (windows_.size() >= limit_.max_addresses) {
            // Full: the window that started first goes (an attacker cycling addresses only
            // forgets its own oldest ones; the table never grows past the bound).
            const auto oldest = std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
                return a.second.start_ms < b.second.start_ms;
            });
            windows_.erase(oldest);
        }
        w = &windows_.emplace(std::string(address), Window{clock_.wall_ms(), 0}).first->second;
    }
    ++w->failures;
    return w->failures == limit_.max_failures;
}

Authenticator::Authenticator(jwt::Verifier verifier, std::string host_token, FailureLimit limit,
                             const core::Clock& clock)
    : verifier_(std::move(verifier)), host_token_(std::move(host_token)), limiter_(limit, clock), clock_(clock) {}

AuthResult Authenticator::user(std::optional<std::string_view> authorization, std::string_view address) {
    AuthResult out;
    if (limiter_.limited(address)) {
        out.failure = AuthFailure::kLimited;
        out.reason = "too many failed attempts";
        return out;
    }
    const auto token = bearer_token(authorization);
    if (!token) {
        out.failure = AuthFailure::kMissing;
        out.reason = "no bearer token";
        limiter_.record_failure(address);
        return out;
    }
    auto verified = verifier_.verify(*token, clock_.wall_ms());
    if (auto* f = std::get_if<jwt::Failure>(&verified)) {
        out.failure = AuthFailure::kInvalid;
        out.reason = std::string(jwt::failure_name(*f));
        limiter_.record_failure(address);
        return out;
    }
    auto& claims = std::get<jwt::Claims>(verified);
    if (!is_valid_name(claims.sub.view())) {
        out.failure = AuthFailure::kNoSubject;
        out.reason = "sub missing or not a valid user name";
        limiter_.record_failure(address);
        return out;
    }
    Identity id;
    id.user = claims.sub.str();
    id.groups = std::move(claims.groups);
    id.method = "jwt";
    out.identity = std::move(id);
    return out;
}

bool Authenticator::is_host_token(std::optional<std::string_view> authorization) const noexcept {
    const auto token = bearer_token(authorization);
    return token && !host_token_.empty() && token->size() == host_token_.size() &&
           CRYPTO_memcmp(token->data(), host_token_.data(), host_token_.size()) == 0;
}

}  // namespace moneta::sshca
