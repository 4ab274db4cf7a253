// Fuzz target: moneta's decoders of documents that come from the internal API or back from Redis
// (services/moneta/src/domain): the account and content codec, the cache envelope, the progress
// value, the internal API's progress list and the session info. The first input byte picks the
// decoder. Invariants:
// - decoding is deterministic;
// - where an encoder exists, decode∘encode is the identity on what was decoded (cache envelope,
//   progress value, session info);
// - accepted values are inside the ranges the writers can produce (finite, non-negative
//   positions; ids that match [A-Za-z0-9_-]{1,64}; non-negative fetch times).
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"
#include "domain/lease.hpp"
#include "domain/progress.hpp"
#include "domain/requests.hpp"

namespace {

using namespace moneta::domain;

void account(std::string_view text) {
    const auto a = decode_account(text);
    FUZZ_CHECK(
        a.has_value() == decode_account(text).has_value(), "decode_account is not deterministic"
    );
    if (!a) {
        return;
    }
    FUZZ_CHECK(a->plan.max_streams >= 0, "negative max_streams accepted");
    for (const Profile& p : a->profiles) {
        const Profile* found = a->find_profile(p.id);
        FUZZ_CHECK(found != nullptr && found->id == p.id, "find_profile misses a decoded profile");
    }
}

void content(std::string_view text) {
    const auto c = decode_content(text);
    FUZZ_CHECK(
        c.has_value() == decode_content(text).has_value(), "decode_content is not deterministic"
    );
    if (!c) {
        return;
    }
    FUZZ_CHECK(
        std::isfinite(c->duration_sec) && c->duration_sec >= 0,
        "a negative or non-finite duration accepted"
    );
    FUZZ_CHECK(
        !c->credits_start_sec ||
            (std::isfinite(*c->credits_start_sec) && *c->credits_start_sec >= 0),
        "a negative or non-finite credits_start accepted"
    );
}

void envelope(std::string_view stored) {
    if (const auto doc = decode_cached(stored)) {
        FUZZ_CHECK(doc->fetched_at_ms >= 0, "a negative fetch time accepted");
        FUZZ_CHECK(
            doc->json.data() + doc->json.size() == stored.data() + stored.size(),
            "the document is not the tail of the stored value"
        );
        const std::string again = encode_cached(doc->fetched_at_ms, doc->json);
        const auto re = decode_cached(again);
        FUZZ_CHECK(
            re && re->fetched_at_ms == doc->fetched_at_ms && re->json == doc->json,
            "decode(encode(decoded)) differs"
        );
    }
    // Any document under any valid time comes back exactly.
    const std::int64_t t =
        stored.empty() ? 0 : static_cast<std::int64_t>(std::hash<std::string_view>{}(stored) >> 1);
    const std::string enc = encode_cached(t, stored);
    const auto dec = decode_cached(enc);
    FUZZ_CHECK(
        dec && dec->fetched_at_ms == t && dec->json == stored, "encode_cached does not round-trip"
    );
}

bool same(const ProgressRecord& a, const ProgressRecord& b) {
    return a.content_id == b.content_id && a.position_sec == b.position_sec &&
           a.duration_sec == b.duration_sec && a.updated_at_ms == b.updated_at_ms &&
           a.seq == b.seq && a.completed == b.completed;
}

void progress_value(std::string_view v) {
    const auto r = decode_progress_value("c1", v);
    if (!r) {
        return;
    }
    FUZZ_CHECK(
        std::isfinite(r->position_sec) && r->position_sec >= 0 && std::isfinite(r->duration_sec) &&
            r->duration_sec >= 0,
        "a position or duration no write produces (negative, inf or nan) decoded"
    );
    FUZZ_CHECK(r->seq >= 0 && r->updated_at_ms >= 0, "a negative seq or updated_at_ms decoded");
    const auto session = v.substr(v.rfind('|') + 1);
    const auto again = decode_progress_value("c1", encode_progress_value(*r, session));
    FUZZ_CHECK(again && same(*again, *r), "decode(encode(decoded)) differs");
}

void upstream_progress(std::string_view body) {
    const auto items = decode_upstream_progress(body);
    if (!items) {
        return;
    }
    for (const ProgressRecord& r : *items) {
        FUZZ_CHECK(is_valid_id(r.content_id), "an invalid content id accepted");
        FUZZ_CHECK(
            std::isfinite(r.position_sec) && r.position_sec >= 0 && std::isfinite(r.duration_sec) &&
                r.duration_sec >= 0,
            "a negative or non-finite position accepted"
        );
        FUZZ_CHECK(r.seq >= 0 && r.updated_at_ms >= 0, "a negative seq or updated_at_ms accepted");
        // What the store writes to Redis from it decodes back to the same record.
        const auto again = decode_progress_value(r.content_id, encode_progress_value(r, ""));
        FUZZ_CHECK(
            again && same(*again, r), "an upstream record does not survive the Redis value codec"
        );
    }
}

void session_info(std::string_view json) {
    const SessionInfo s = decode_session_info(json);
    const SessionInfo again = decode_session_info(encode_session_info(s));
    FUZZ_CHECK(
        again.session_id == s.session_id && again.device_id == s.device_id &&
            again.device_type == s.device_type && again.device_name == s.device_name &&
            again.content_id == s.content_id && again.profile_id == s.profile_id &&
            again.started_at_ms == s.started_at_ms,
        "session info does not round-trip through its encoder"
    );
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0:
            account(rest);
            break;
        case 1:
            content(rest);
            break;
        case 2:
            envelope(rest);
            break;
        case 3:
            progress_value(rest);
            break;
        case 4:
            upstream_progress(rest);
            break;
        default:
            session_info(rest);
            break;
    }
    return 0;
}
