// Request::header(KnownHeader): the indexed lookup answers exactly as the scanning one, for
// every known name in any case, first field wins, and edits through mutable_headers() or a new
// request line are seen.
#include "moneta/http/request.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace moneta::http {
namespace {

constexpr KnownHeader kAll[] = {
    KnownHeader::kAccept,      KnownHeader::kAuthorization, KnownHeader::kContentType,
    KnownHeader::kElasticApmTraceparent, KnownHeader::kIfNoneMatch, KnownHeader::kTraceparent,
    KnownHeader::kTracestate,  KnownHeader::kUserAgent,     KnownHeader::kXRequestId,
    KnownHeader::kXRequestTimeoutMs,
};
static_assert(std::size(kAll) == kKnownHeaders);

TEST(RequestHeaderTest, EveryKnownHeaderIsFoundInAnyCaseAndTheFirstFieldWins) {
    for (const KnownHeader h : kAll) {
        const std::string lower(known_header_name(h));
        std::string upper = lower;
        for (char& c : upper) {
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        }
        Request req;
        req.mutable_headers() = {{"Host", "x"}, {upper, "first"}, {lower, "second"}};
        EXPECT_EQ(req.header(h), std::optional<std::string_view>("first")) << lower;
        EXPECT_EQ(req.header(h), req.header(std::string_view(lower))) << lower;
        for (const KnownHeader other : kAll) {
            if (other != h) {
                EXPECT_FALSE(req.header(other).has_value()) << lower << " answered for " << known_header_name(other);
            }
        }
    }
}

TEST(RequestHeaderTest, NamesOfTheSameLengthOrAPrefixAreNotTakenForAKnownOne) {
    Request req;
    req.mutable_headers() = {{"user-agenx", "1"}, {"tracestatE2", "2"}, {"x-request-ie", "3"},
                             {"authorizatioN ", "4"}, {"accep", "5"}, {"x-request-timeout-m", "6"}};
    for (const KnownHeader h : kAll) {
        EXPECT_FALSE(req.header(h).has_value()) << known_header_name(h);
    }
}

TEST(RequestHeaderTest, EditsAndANewRequestLineAreSeen) {
    Request req;
    req.mutable_headers() = {{"Authorization", "Bearer a"}};
    req.set_line(Method::kGet, "GET", "/");
    EXPECT_EQ(req.header(KnownHeader::kAuthorization), std::optional<std::string_view>("Bearer a"));
    // Edge trust removes fields through mutable_headers(): the index must not point past them.
    req.mutable_headers().clear();
    EXPECT_FALSE(req.header(KnownHeader::kAuthorization).has_value());
    req.mutable_headers().push_back({"x-request-id", "r1"});
    req.mutable_headers().insert(req.mutable_headers().begin(), {"X-Request-Id", "r0"});
    EXPECT_EQ(req.header(KnownHeader::kXRequestId), std::optional<std::string_view>("r0"));
    // The next request on the connection refills the same vector, then sets its line.
    auto& fields = req.mutable_headers();
    fields = {{"Content-Type", "application/json"}};
    req.set_line(Method::kPost, "POST", "/v1");
    EXPECT_FALSE(req.header(KnownHeader::kXRequestId).has_value());
    EXPECT_EQ(req.header(KnownHeader::kContentType), std::optional<std::string_view>("application/json"));
}

TEST(RequestHeaderTest, AgreesWithTheScanOnRandomFieldLists) {
    std::vector<std::string> names;
    for (const KnownHeader h : kAll) {
        names.emplace_back(known_header_name(h));
    }
    for (const char* other : {"host", "content-length", "idempotency-key", "x-viewer-country", "accept-encoding"}) {
        names.emplace_back(other);
    }
    std::mt19937 rng(7);
    std::vector<std::string> storage;
    for (int round = 0; round < 2000; ++round) {
        storage.clear();
        const int n = static_cast<int>(rng() % 12);
        for (int i = 0; i < n; ++i) {
            std::string name = names[rng() % names.size()];
            for (char& c : name) {
                if (rng() % 2 == 0 && c >= 'a' && c <= 'z') {
                    c = static_cast<char>(c - 32);
                }
            }
            storage.push_back(name);
            storage.push_back("v" + std::to_string(i));
        }
        Request req;
        auto& fields = req.mutable_headers();
        for (std::size_t i = 0; i + 1 < storage.size(); i += 2) {
            fields.push_back({storage[i], storage[i + 1]});
        }
        for (const KnownHeader h : kAll) {
            ASSERT_EQ(req.header(h), req.header(known_header_name(h))) << round << " " << known_header_name(h);
        }
    }
}

}  // namespace
}  // namespace moneta::http
