// Fuzz target: the reference internal API's request parsing (services/internal_api/src/
// requests.cpp): the progress:batchUpsert body and the content_ids query of GET .../progress.
// The first input byte picks the parser. (The test-only PUT /_fault body is left out: fault.cpp
// is Asio-heavy, and compiling it doubled this target's build time.) Invariants:
// - accepted values are inside the documented ranges (ids [A-Za-z0-9_-]{1,64}, finite
//   non-negative positions, non-negative integers, at most 1000 items / 100 ids);
// - what was accepted, written back as JSON / a query, parses to the same values;
// - a rejection carries a reason.
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "requests.hpp"

namespace {

namespace json = boost::json;
using namespace moneta::internal_api;

bool same(const ProgressRow& a, const ProgressRow& b) {
    return a.profile_id == b.profile_id && a.content_id == b.content_id &&
           moneta::fuzz::same_double(a.position_sec, b.position_sec) &&
           moneta::fuzz::same_double(a.duration_sec, b.duration_sec) &&
           a.completed == b.completed && a.updated_at_ms == b.updated_at_ms && a.seq == b.seq;
}

void batch(std::string_view body) {
    const auto rows = parse_batch_upsert(body);
    if (!rows) {
        FUZZ_CHECK(!rows.error().empty(), "a rejection without a reason");
        return;
    }
    FUZZ_CHECK(rows->size() <= 1000, "more than 1000 items accepted");
    json::array items;
    for (const ProgressRow& r : *rows) {
        FUZZ_CHECK(valid_id(r.profile_id) && valid_id(r.content_id), "an invalid id accepted");
        FUZZ_CHECK(
            std::isfinite(r.position_sec) && r.position_sec >= 0 && std::isfinite(r.duration_sec) &&
                r.duration_sec >= 0,
            "a negative or non-finite position accepted"
        );
        FUZZ_CHECK(r.updated_at_ms >= 0 && r.seq >= 0, "a negative integer accepted");
        items.push_back(json::object{
            {"profile_id", r.profile_id},
            {"content_id", r.content_id},
            {"position_sec", r.position_sec},
            {"duration_sec", r.duration_sec},
            {"completed", r.completed},
            {"updated_at_ms", r.updated_at_ms},
            {"seq", r.seq}});
    }
    const std::string text = json::serialize(json::object{{"items", std::move(items)}});
    const auto again = parse_batch_upsert(text);
    FUZZ_CHECK(
        again.has_value() && again->size() == rows->size(),
        "the written-back batch is rejected: " + text
    );
    for (std::size_t i = 0; i < rows->size(); ++i) {
        FUZZ_CHECK(
            same((*again)[i], (*rows)[i]), "the written-back batch parses differently: " + text
        );
    }
}

void content_ids(std::string_view query) {
    const auto ids = parse_content_ids_query(query);
    if (!ids) {
        FUZZ_CHECK(!ids.error().empty(), "a rejection without a reason");
        return;
    }
    FUZZ_CHECK(ids->size() <= 100, "more than 100 ids accepted");
    FUZZ_CHECK(!ids->empty() || query.empty() || query == "content_ids=", "ids lost");
    std::string joined = ids->empty() ? std::string() : "content_ids=";
    for (std::size_t i = 0; i < ids->size(); ++i) {
        FUZZ_CHECK(valid_id((*ids)[i]), "an invalid id accepted");
        joined += (i == 0 ? "" : ",") + (*ids)[i];
    }
    const auto again = parse_content_ids_query(joined);
    FUZZ_CHECK(
        again.has_value() && *again == *ids, "the written-back query parses differently: " + joined
    );
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1U) == 0) {
        batch(rest);
    } else {
        content_ids(rest);
    }
    return 0;
}
