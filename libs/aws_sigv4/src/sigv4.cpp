#include "moneta/aws_sigv4/sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "moneta/core/hex.hpp"

namespace moneta::aws_sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

std::array<unsigned char, 32> hmac(std::string_view key, std::string_view message) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), out.data(), &len);
    return out;
}

std::string_view as_view(const std::array<unsigned char, 32>& a) noexcept {
    return {reinterpret_cast<const char*>(a.data()), a.size()};
}

/// A header value as SigV4 canonicalizes it: trimmed, runs of spaces collapsed to one.
std::string trim_all(std::string_view v) {
    std::string out;
    bool space = false;
    for (const char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        const int hi = core::hex_value(s[i + 1]);
        const int lo = core::hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<std::string> canonical_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty()) {
            continue;
        }
        const auto eq = part.find('=');
        auto key = percent_decode(part.substr(0, eq));
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
        if (!key || !value) {
            return std::nullopt;
        }
        params.emplace_back(uri_encode(*key, false), uri_encode(*value, false));
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty()) {
            out += '&';
        }
        out += k;
        out += '=';
        out += v;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        const auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        s = s.substr(at + 1);
    }
}

std::string signature_hex(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service, std::string_view to_sign) {
    const auto key = signing_key(secret, date, region, service);
    const auto sig = hmac(as_view(key), to_sign);
    return core::to_hex(sig);
}

}  // namespace

const Header* Request::header(std::string_view name) const noexcept {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return &h;
        }
    }
    return nullptr;
}

std::string amz_date(std::int64_t epoch_s) {
    using namespace std::chrono;
    const sys_seconds t{seconds(epoch_s)};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::optional<std::int64_t> parse_amz_date(std::string_view text) {
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
        return std::nullopt;
    }
    int v[6] = {};
    constexpr int kPos[6][2] = {{0, 4}, {4, 2}, {6, 2}, {9, 2}, {11, 2}, {13, 2}};
    for (int f = 0; f < 6; ++f) {
        for (int i = 0; i < kPos[f][1]; ++i) {
            const char c = text[static_cast<std::size_t>(kPos[f][0] + i)];
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            v[f] = v[f] * 10 + (c - '0');
        }
    }
    using namespace std::chrono;
    const year_month_day ymd{year(v[0]), month(static_cast<unsigned>(v[1])), day(static_cast<unsigned>(v[2]))};
    if (!ymd.ok() || v[3] > 23 || v[4] > 59 || v[5] > 59) {
        return std::nullopt;
    }
    return sys_days(ymd).time_since_epoch().count() * 86400LL + v[3] * 3600 + v[4] * 60 + v[5];
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    return core::to_hex(digest);
}

std::array<unsigned char, 32> signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                          std::string_view service) {
    std::string first = "AWS4";
    first += secret;
    auto k = hmac(first, date);
    OPENSSL_cleanse(first.data(), first.size());
    k = hmac(as_view(k), region);
    k = hmac(as_view(k), service);
    return hmac(as_view(k), kTerminator);
}

std::string uri_encode(std::string_view bytes, bool keep_slash) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size());
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (c == '/' && keep_slash)) {
            out += ch;
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 0xf];
        }
    }
    return out;
}

std::optional<std::string> canonical_request(const Request& request, std::string_view signed_headers) {
    auto query = canonical_query(request.query);
    if (!query) {
        return std::nullopt;
    }
    std::string out = request.method;
    out += '\n';
    out += uri_encode(request.path.empty() ? "/" : request.path, true);
    out += '\n';
    out += *query;
    out += '\n';
    for (const std::string_view name : split(signed_headers, ';')) {
        std::string value;
        bool found = false;
        for (const auto& h : request.headers) {
            if (iequals(h.name, name)) {
                if (found) {
                    value += ',';
                }
                value += trim_all(h.value);
                found = true;
            }
        }
        if (!found || name.empty()) {
            return std::nullopt;
        }
        out += name;
        out += ':';
        out += value;
        out += '\n';
    }
    out += '\n';
    out += signed_headers;
    out += '\n';
    out += sha256_hex(request.body);
    return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
    std::string out(kAlgorithm);
    out += '\n';
    out += amz_date;
    out += '\n';
    out += scope;
    out += '\n';
    out += sha256_hex(canonical_request);
    return out;
}

Signed sign(Request& request, const Credentials& credentials, std::string_view region, std::string_view service,
            std::int64_t epoch_s) {
    const std::string date_time = amz_date(epoch_s);
    auto set = [&request](std::string_view name, std::string value) {
        std::erase_if(request.headers, [name](const Header& h) { return iequals(h.name, name); });
        request.headers.push_back(Header{std::string(name), std::move(value)});
    };
    std::erase_if(request.headers, [](const Header& h) { return iequals(h.name, "authorization"); });
    set("X-Amz-Date", date_time);
    if (!credentials.session_token.empty()) {
        set("X-Amz-Security-Token", credentials.session_token);
    }
    std::vector<std::string> names;
    for (const auto& h : request.headers) {
        names.push_back(to_lower(h.name));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    Signed out;
    for (const auto& n : names) {
        if (!out.signed_headers.empty()) {
            out.signed_headers += ';';
        }
        out.signed_headers += n;
    }
    const std::string date = date_time.substr(0, 8);
    const std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/" + std::string(kTerminator);
    // A malformed query signs as if empty: AWS refuses the request, which is the caller's bug.
    out.canonical_request = canonical_request(request, out.signed_headers).value_or("");
    out.string_to_sign = string_to_sign(date_time, scope, out.canonical_request);
    out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
                        ", SignedHeaders=" + out.signed_headers + ", Signature=" +
                        signature_hex(credentials.secret_access_key, date, region, service, out.string_to_sign);
    request.headers.push_back(Header{"Authorization", out.authorization});
    return out;
}

std::string_view verify_error_name(VerifyError e) noexcept {
    switch (e) {
        case VerifyError::kMissing: return "missing";
        case VerifyError::kMalformed: return "malformed";
        case VerifyError::kUnknownKey: return "unknown_key";
        case VerifyError::kScope: return "scope";
        case VerifyError::kExpired: return "expired";
        case VerifyError::kUnsignedHeader: return "unsigned_header";
        case VerifyError::kSignatureMismatch: return "signature_mismatch";
    }
    return "unknown";
}

boost::system::result<Verified, VerifyError> verify(const Request& request, const SecretLookup& secrets,
                                                   std::int64_t now_s, const VerifyOptions& options) {
    const Header* authz = request.header("authorization");
    const Header* date_header = request.header("x-amz-date");
    if (authz == nullptr || date_header == nullptr) {
        return VerifyError::kMissing;
    }
    std::string_view a = authz->value;
    if (!a.starts_with(kAlgorithm) || a.size() == kAlgorithm.size() || a[kAlgorithm.size()] != ' ') {
        return VerifyError::kMalformed;
    }
    a.remove_prefix(kAlgorithm.size() + 1);
    std::optional<std::string_view> credential;
    std::optional<std::string_view> signed_headers;
    std::optional<std::string_view> signature;
    for (std::string_view part : split(a, ',')) {
        while (part.starts_with(' ')) {
            part.remove_prefix(1);
        }
        const auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            return VerifyError::kMalformed;
        }
        const std::string_view key = part.substr(0, eq);
        const std::string_view value = part.substr(eq + 1);
        std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                                : key == "SignedHeaders" ? &signed_headers
                                                : key == "Signature"     ? &signature
                                                                         : nullptr;
        if (slot == nullptr || slot->has_value()) {
            return VerifyError::kMalformed;
        }
        *slot = value;
    }
    if (!credential || !signed_headers || !signature || signature->size() != 64 ||
        !std::all_of(signature->begin(), signature->end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
        return VerifyError::kMalformed;
    }
    const auto scope = split(*credential, '/');
    if (scope.size() != 5 || scope[0].empty()) {
        return VerifyError::kMalformed;
    }
    // Signed header names: lower-case, sorted, unique (as AWS requires them).
    const auto names = split(*signed_headers, ';');
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].empty() || to_lower(names[i]) != names[i] || (i > 0 && names[i - 1] >= names[i])) {
            return VerifyError::kMalformed;
        }
    }
    const auto is_signed = [&names](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    if (!is_signed("host") || !is_signed("x-amz-date") ||
        (request.header("x-amz-security-token") != nullptr && !is_signed("x-amz-security-token"))) {
        return VerifyError::kUnsignedHeader;
    }
    const auto at = parse_amz_date(date_header->value);
    if (!at) {
        return VerifyError::kMalformed;
    }
    if (scope[1] != std::string_view(date_header->value).substr(0, 8) || scope[2] != options.region ||
        scope[3] != options.service || scope[4] != kTerminator) {
        return VerifyError::kScope;
    }
    if (*at > now_s + options.max_skew_s || *at < now_s - options.max_skew_s) {
        return VerifyError::kExpired;
    }
    auto secret = secrets(scope[0]);
    if (!secret) {
        return VerifyError::kUnknownKey;
    }
    const auto canonical = canonical_request(request, *signed_headers);
    if (!canonical) {
        return VerifyError::kMalformed;
    }
    const std::string credential_scope = std::string(*credential).substr(scope[0].size() + 1);
    const std::string expected = signature_hex(*secret, scope[1], scope[2], scope[3],
                                               string_to_sign(date_header->value, credential_scope, *canonical));
    OPENSSL_cleanse(secret->data(), secret->size());
    if (CRYPTO_memcmp(expected.data(), signature->data(), expected.size()) != 0) {
        return VerifyError::kSignatureMismatch;
    }
    Verified v;
    v.access_key_id = std::string(scope[0]);
    v.region = std::string(scope[2]);
    v.service = std::string(scope[3]);
    if (const Header* t = request.header("x-amz-security-token")) {
        v.session_token = t->value;
    }
    return v;
}

}  // namespace moneta::aws_sigv4
