// Request::header(KnownHeader): the server's index when it filled the fields in its one pass
// (indexed_fields()), a scan like header(name) when they were set by hand (mutable_headers()).
// The end hook: run exactly once, by end() or at the latest by the Request's destructor.
#include "moneta/http/request.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace moneta::http {
namespace {

TEST(RequestTest, KnownHeaderNamesAreLowerCaseAndDistinct) {
    std::set<std::string_view> names;
    for (std::size_t k = 0; k < KnownHeaderIndex::kSize; ++k) {
        const std::string_view name = known_header_name(static_cast<KnownHeader>(k));
        ASSERT_FALSE(name.empty()) << k;
        for (const char c : name) {
            EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
        }
        names.insert(name);
    }
    EXPECT_EQ(names.size(), KnownHeaderIndex::kSize);
    EXPECT_EQ(known_header_name(KnownHeader::kCount), "");
}

TEST(RequestTest, SetLineWithThePathLengthCutsAsASearchForTheQuestionMarkDoes) {
    for (const std::string_view target : {"/", "/a", "/a?", "/a?b", "/?", "/a/b?c?d", "/a?b/c", "/??"}) {
        Request searched;
        searched.set_line(Method::kGet, "GET", target);
        const auto q = target.find('?');
        Request told;
        told.set_line(Method::kGet, "GET", target, q == std::string_view::npos ? target.size() : q);
        EXPECT_EQ(told.path(), searched.path()) << target;
        EXPECT_EQ(told.query(), searched.query()) << target;
        EXPECT_EQ(told.target(), target);
        EXPECT_EQ(told.path().data(), target.data());
        if (q != std::string_view::npos) {
            EXPECT_EQ(told.query().data(), target.data() + q + 1) << target;
        }
    }
}

TEST(RequestTest, FieldsSetByHandAreScannedForAKnownHeader) {
    Request req;
    req.mutable_headers() = {{"USER-AGENT", "first"}, {"Authorization", "Bearer a"}, {"user-agent", "second"}};
    EXPECT_EQ(req.header(KnownHeader::kUserAgent), "first");
    EXPECT_EQ(req.header(KnownHeader::kAuthorization), "Bearer a");
    EXPECT_FALSE(req.header(KnownHeader::kContentType).has_value());
}

TEST(RequestTest, IndexedFieldsAreReadFromTheIndexUntilSetByHandAgain) {
    Request req;
    const Request::IndexedFields f = req.indexed_fields();
    f.fields = {{"Content-Type", "application/json"}};
    f.known.reset();
    f.known.note(KnownHeader::kContentType, "application/json");
    f.known.note(KnownHeader::kContentType, "text/plain");  // a second occurrence: ignored
    EXPECT_EQ(req.header(KnownHeader::kContentType), "application/json");
    // The edge-trust step removes a field and forgets it in the index.
    f.fields.clear();
    f.known.forget(KnownHeaderIndex::bit(KnownHeader::kContentType));
    EXPECT_FALSE(req.header(KnownHeader::kContentType).has_value());
    // Set by hand: the index no longer counts.
    req.mutable_headers() = {{"content-type", "text/plain"}};
    EXPECT_EQ(req.header(KnownHeader::kContentType), "text/plain");
}

/// Each run of the hook: (word, status).
using Ends = std::vector<std::pair<std::int64_t, int>>;

EndHook record_into(Ends& ends, std::int64_t word) {
    return {[](void* owner, std::int64_t w, int status) noexcept {
                static_cast<Ends*>(owner)->emplace_back(w, status);
            },
            &ends, word};
}

TEST(RequestTest, TheEndHookRunsOnceWithTheStatusTheServerEndsWith) {
    Ends ends;
    Request req;
    req.end(200);  // nothing pending: nothing runs
    req.set_end_hook(record_into(ends, 7));
    req.end(503);
    req.end(200);  // already ended
    EXPECT_EQ(ends, (Ends{{7, 503}}));
}

TEST(RequestTest, AnEndHookStillPendingRunsWithStatus0WhenTheRequestGoes) {
    Ends ends;
    {
        Request req;
        req.set_end_hook(record_into(ends, 1));
        // Moved: the hook goes with the request, and runs once.
        Request moved = std::move(req);
        EXPECT_TRUE(ends.empty());
        // A second hook ends the first (0) before it is kept.
        moved.set_end_hook(record_into(ends, 2));
        EXPECT_EQ(ends, (Ends{{1, 0}}));
    }
    EXPECT_EQ(ends, (Ends{{1, 0}, {2, 0}}));
}

}  // namespace
}  // namespace moneta::http
