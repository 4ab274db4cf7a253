/// @file moneta/jwt/claims.hpp
/// @brief The verified claims of a token, in storage that copies without a heap allocation when
/// every string claim is short (ids, kids and issuers are): a cached token's claims are handed
/// to each request by copy, and the request path allocates nothing (docs/jwt.md "Token cache").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/small_copy.hpp"

namespace moneta::jwt {

/// A string claim: inline up to kInline bytes, on the heap beyond (a long `iss` or `jti` still
/// works, it only costs an allocation per copy). Reads as a std::string_view.
class ClaimString {
public:
    static constexpr std::size_t kInline = 64;  ///< moneta's ids are at most 64 bytes
    static constexpr std::size_t kSsoBytes = 15;  ///< libstdc++'s in-object std::string capacity

    ClaimString() noexcept = default;
    ClaimString(std::string_view s) { assign(s); }  // NOLINT(google-explicit-constructor): a string
    ClaimString(const ClaimString& o) { assign(o.view()); }
    ClaimString& operator=(const ClaimString& o) {
        if (this != &o) {
            assign(o.view());
        }
        return *this;
    }
    ClaimString& operator=(std::string_view s) {
        assign(s);
        return *this;
    }

    void assign(std::string_view s) {
        size_ = s.size();
        if (s.size() <= kInline) {
            core::put_bytes(inline_, s);  // ids of a few bytes, copied on every request: no libc call
        } else {
            heap_.assign(s.data(), s.size());
        }
    }
    void clear() noexcept { size_ = 0; }

    std::string_view view() const noexcept {
        return size_ <= kInline ? std::string_view(inline_, size_) : std::string_view(heap_);
    }
    operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as a string
    const char* data() const noexcept { return view().data(); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string str() const { return std::string(view()); }
    /// Heap bytes held (beyond the inline storage), for a cache's byte budget.
    std::size_t heap_bytes() const noexcept { return heap_.capacity() > kSsoBytes ? heap_.capacity() : 0; }

    friend bool operator==(const ClaimString& a, std::string_view b) noexcept { return a.view() == b; }
    friend bool operator==(const ClaimString& a, const ClaimString& b) noexcept { return a.view() == b.view(); }
    friend bool operator==(const ClaimString& a, const std::string& b) noexcept { return a.view() == b; }
    friend bool operator==(const ClaimString& a, const char* b) noexcept { return a.view() == b; }
    friend std::ostream& operator<<(std::ostream& os, const ClaimString& s) { return os << s.view(); }

private:
    std::string heap_;  // used only above kInline; keeps its capacity when reassigned
    std::size_t size_ = 0;
    char inline_[kInline];
};

/// `aud` as a short list: up to kInline values inline, more on the heap.
class Audiences {
public:
    static constexpr std::size_t kInline = 2;

    void push_back(std::string_view s) {
        if (size_ < kInline) {
            inline_[size_] = s;
        } else {
            more_.emplace_back(s);
        }
        ++size_;
    }
    void clear() noexcept {
        size_ = 0;
        more_.clear();
    }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view operator[](std::size_t i) const noexcept {
        return i < kInline ? inline_[i].view() : std::string_view(more_[i - kInline]);
    }
    std::size_t heap_bytes() const noexcept {
        std::size_t n = more_.capacity() * sizeof(std::string);
        for (const auto& s : inline_) {
            n += s.heap_bytes();
        }
        for (const auto& s : more_) {
            n += s.capacity() > ClaimString::kSsoBytes ? s.capacity() : 0;
        }
        return n;
    }
    bool contains(std::string_view s) const noexcept {
        for (std::size_t i = 0; i < size_; ++i) {
            if ((*this)[i] == s) {
                return true;
            }
        }
        return false;
    }

private:
    ClaimString inline_[kInline];
    std::vector<std::string> more_;  // empty (no allocation) unless a token names 3+ audiences
    std::size_t size_ = 0;
};

/// What a verified token says. Copying it allocates nothing unless a string claim is longer
/// than ClaimString::kInline or there are more than Audiences::kInline audiences.
struct Claims {
    ClaimString sub;
    ClaimString pid;
    ClaimString iss;
    ClaimString jti;
    ClaimString kid;
    std::int64_t exp_s = 0;
    std::optional<std::int64_t> iat_s;
    std::optional<std::int64_t> nbf_s;
    Audiences aud;
    /// `groups` (an array of strings, as identity providers send them): what the SSH CA maps to
    /// principals. Empty (no allocation) for tokens without it, which is every playback token.
    /// At most kMaxGroups of at most kMaxGroupBytes each; a token with more is malformed.
    std::vector<std::string> groups;
    static constexpr std::size_t kMaxGroups = 64;
    static constexpr std::size_t kMaxGroupBytes = 256;

    /// Heap bytes held by the claims (0 when every string fits inline), for a cache's budget.
    std::size_t heap_bytes() const noexcept {
        std::size_t n = sub.heap_bytes() + pid.heap_bytes() + iss.heap_bytes() + jti.heap_bytes() + kid.heap_bytes() +
                        aud.heap_bytes() + groups.capacity() * sizeof(std::string);
        for (const auto& g : groups) {
            n += g.capacity() > ClaimString::kSsoBytes ? g.capacity() : 0;
        }
        return n;
    }
};

}  // namespace moneta::jwt
