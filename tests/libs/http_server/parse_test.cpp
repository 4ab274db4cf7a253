// The one-pass head parser (parse_head: facts and field slots) and the in-place chunked decoder.
// The byte-level rejections shared with check_head are in strict_test.cpp.
#include "parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>
#include <optional>
#include <list>
#include <string>
#include <vector>

namespace moneta::http::detail {
namespace {

ServerLimits small_limits() {
    ServerLimits l;
    l.body_bytes = 100;
    l.header_count = 8;
    return l;
}

struct Parsed {
    HeadVerdict verdict;
    HeadFacts facts;
    std::vector<Header> fields;
};

/// The views point into the head, so every head parsed here is kept for the test's life.
Parsed parse(const std::string& head, const ServerLimits& l = small_limits()) {
    static std::list<std::string> heads;
    const std::string& kept = heads.emplace_back(head);
    Parsed p;
    p.fields.reserve(l.header_count);
    p.verdict = parse_head(kept, l, p.facts, p.fields);
    return p;
}

TEST(ParseHeadTest, FillsTheRequestLineAndTheFieldSlotsInOnePass) {
    const std::string head =
        "POST /v1/playback/sessions/ps_1/heartbeat?x=1 HTTP/1.1\r\nHost: moneta\r\n"
        "Content-Length:\t12 \r\nX-Request-Id: abc\r\n\r\n";
    const Parsed p = parse(head);
    ASSERT_EQ(p.verdict.status, 0) << p.verdict.message;
    EXPECT_EQ(p.facts.method, Method::kPost);
    EXPECT_EQ(p.facts.method_string, "POST");
    EXPECT_EQ(p.facts.target, "/v1/playback/sessions/ps_1/heartbeat?x=1");
    EXPECT_EQ(p.facts.version, 11U);
    EXPECT_TRUE(p.facts.keep_alive);
    EXPECT_FALSE(p.facts.chunked);
    EXPECT_TRUE(p.facts.has_content_length);
    EXPECT_EQ(p.facts.content_length, 12U);
    ASSERT_EQ(p.fields.size(), 3U);
    EXPECT_EQ(p.fields[0].name, "Host");
    EXPECT_EQ(p.fields[1].value, "12");  // OWS trimmed on both sides
    EXPECT_EQ(p.fields[2].name, "X-Request-Id");
    EXPECT_EQ(p.fields[2].value, "abc");
    // Views into the head, not copies.
    EXPECT_EQ(std::string_view(p.fields[2].value.data() - 14, 14), "X-Request-Id: ");
}

TEST(ParseHeadTest, NotesTheLengthOfEveryFieldName) {
    // What lets the server skip the edge-trust scan: every name's length, including names the
    // parse reads through the slow path (a tab in the value) and names of 63 bytes or more.
    const std::string long_name(70, 'n');
    const Parsed p = parse("GET /a HTTP/1.1\r\nHost: x\r\nX-Edge-Auth: t\r\nA: b\tc\r\n" + long_name +
                           ": v\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");
    ASSERT_EQ(p.verdict.status, 0) << p.verdict.message;
    std::uint64_t mask = 0;
    for (const Header& h : p.fields) {
        mask |= name_length_bit(h.name.size());
    }
    EXPECT_EQ(p.facts.name_lengths, mask);
    EXPECT_EQ(p.facts.name_lengths, name_length_bit(4) | name_length_bit(11) | name_length_bit(1) |
                                        name_length_bit(63) | name_length_bit(15));
    EXPECT_EQ(parse("GET /a HTTP/1.0\r\n\r\n").facts.name_lengths, 0U);
}

bool same_view(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }

/// parse_whole_head over @p data against the long way the server takes without it: scan_head,
/// the header_bytes limit, parse_head over exactly the head. Whenever the one pass accepts, the
/// long way must end the head at the same byte, accept it and fill the same facts, slots and
/// index (views into the same bytes); and whenever the long way accepts a head at the start of
/// the data (no leading CRLF to skip), the one pass must too.
void expect_whole_head_agrees(std::string_view data, const ServerLimits& l) {
    HeadFacts facts;
    std::vector<Header> fields;
    fields.reserve(l.header_count);
    KnownHeaderIndex known;
    const std::size_t whole = parse_whole_head(data, l, facts, fields, &known);

    std::size_t searched = 0;
    const HeadScan scan = scan_head(data, searched);
    HeadFacts f;
    std::vector<Header> slots;
    slots.reserve(l.header_count);
    KnownHeaderIndex k;
    const bool long_way = scan.skip == 0 && scan.head_len != 0 && scan.head_len <= l.header_bytes &&
                          parse_head(data.substr(0, scan.head_len), l, f, slots, &k).status == 0;
    ASSERT_EQ(whole != 0, long_way) << testing::PrintToString(std::string(data));
    if (whole == 0) {
        return;
    }
    EXPECT_EQ(whole, scan.head_len);
    EXPECT_EQ(facts.method, f.method);
    EXPECT_TRUE(same_view(facts.method_string, f.method_string));
    EXPECT_TRUE(same_view(facts.target, f.target));
    EXPECT_EQ(facts.version, f.version);
    EXPECT_EQ(facts.keep_alive, f.keep_alive);
    EXPECT_EQ(facts.chunked, f.chunked);
    EXPECT_EQ(facts.has_content_length, f.has_content_length);
    EXPECT_EQ(facts.content_length, f.content_length);
    EXPECT_EQ(facts.path_len, f.path_len);
    EXPECT_EQ(facts.path_plain, f.path_plain);
    EXPECT_EQ(facts.name_lengths, f.name_lengths);
    ASSERT_EQ(fields.size(), slots.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        EXPECT_TRUE(same_view(fields[i].name, slots[i].name)) << i;
        EXPECT_TRUE(same_view(fields[i].value, slots[i].value)) << i;
    }
    for (std::size_t i = 0; i < KnownHeaderIndex::kSize; ++i) {
        const auto a = known.get(static_cast<KnownHeader>(i));
        const auto b = k.get(static_cast<KnownHeader>(i));
        ASSERT_EQ(a.has_value(), b.has_value()) << i;
        if (a) {
            EXPECT_TRUE(same_view(*a, *b)) << i;
        }
    }
}

TEST(ParseHeadTest, AWholeHeadParsedInOnePassAgreesWithTheLongWay) {
    ServerLimits l = small_limits();
    l.header_bytes = 400;
    l.uri_bytes = 64;
    const std::vector<std::string> heads{
        "POST /v1/playback/sessions/ps_1/heartbeat HTTP/1.1\r\nHost: moneta\r\nAuthorization: Bearer "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n",
        "GET /a?b=%2e HTTP/1.1\r\nHost: x\r\nX-A:\tv\tw \r\nConnection: close\r\n\r\n",
        "GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nhost: y\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: y\r\nContent-Length: 1000\r\n\r\n",
        "GET /" + std::string(70, 'u') + " HTTP/1.1\r\nHost: y\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: y\r\nX-Long: " + std::string(420, 'v') + "\r\n\r\n",
        "\r\nGET /a HTTP/1.1\r\nHost: y\r\n\r\n",
    };
    const std::vector<std::string> after{"", "{\"a\":1}", "\r\n\r\n", "GET /b HTTP/1.1\r\nHost: z\r\n\r\n", "\r", "\n"};
    const char swaps[] = {'\r', '\n', ' ', ':', '\t', '\0', 'a', '\x7f', '\x80', '?', '%', '.'};
    int accepted = 0;
    for (const std::string& head : heads) {
        for (const std::string& rest : after) {
            const std::string data = head + rest;
            // Every prefix: a head that has not fully arrived yet.
            for (std::size_t n = 0; n <= data.size(); ++n) {
                expect_whole_head_agrees(std::string_view(data).substr(0, n), l);
            }
            // Every byte of the head changed to one that matters to some rule.
            for (std::size_t i = 0; i < head.size(); ++i) {
                for (const char c : swaps) {
                    std::string changed = data;
                    changed[i] = c;
                    expect_whole_head_agrees(changed, l);
                    if (HasFatalFailure()) {
                        return;
                    }
                }
            }
            HeadFacts facts;
            std::vector<Header> fields;
            fields.reserve(l.header_count);
            accepted += parse_whole_head(data, l, facts, fields) != 0 ? 1 : 0;
        }
    }
    EXPECT_GE(accepted, 24);  // the acceptable heads, with each suffix
}

TEST(ParseHeadTest, MapsMethodsAndKeepsUnknownOnesForTheRouter) {
    const std::pair<const char*, Method> cases[] = {
        {"GET", Method::kGet},       {"HEAD", Method::kHead},       {"POST", Method::kPost},
        {"PUT", Method::kPut},       {"DELETE", Method::kDelete},   {"PATCH", Method::kPatch},
        {"OPTIONS", Method::kOptions}, {"FOO", Method::kOther},     {"GETS", Method::kOther}};
    for (const auto& [name, m] : cases) {
        const Parsed p = parse(std::string(name) + " /a HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_EQ(p.verdict.status, 0) << name;
        EXPECT_EQ(p.facts.method, m) << name;
        EXPECT_EQ(p.facts.method_string, name);
    }
}

TEST(ParseHeadTest, KeepAliveFollowsTheVersionAndConnectionTokens) {
    EXPECT_TRUE(parse("GET /a HTTP/1.1\r\nHost: x\r\n\r\n").facts.keep_alive);
    EXPECT_FALSE(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").facts.keep_alive);
    EXPECT_FALSE(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade , CLOSE\r\n\r\n").facts.keep_alive);
    EXPECT_FALSE(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: te\r\nConnection: close\r\n\r\n").facts.keep_alive);
    EXPECT_TRUE(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n").facts.keep_alive);
    EXPECT_FALSE(parse("GET /a HTTP/1.0\r\n\r\n").facts.keep_alive);
    const Parsed ka = parse("GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    EXPECT_EQ(ka.facts.version, 10U);
    EXPECT_TRUE(ka.facts.keep_alive);
    EXPECT_FALSE(parse("GET /a HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").facts.keep_alive);
}

TEST(ParseHeadTest, ABodyOverTheLimitIs413BeforeAnyBodyByte) {
    EXPECT_EQ(parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").verdict.status, 0);
    const Parsed big = parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
    EXPECT_EQ(big.verdict.status, 413);
    EXPECT_EQ(big.verdict.code, "PAYLOAD_TOO_LARGE");
    // The strict rules come first: a doubled length is 400, not 413.
    EXPECT_EQ(parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\nContent-Length: 999\r\n\r\n").verdict.status, 400);
    EXPECT_TRUE(parse("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").facts.chunked);
}

TEST(ParseHeadTest, UnsafePathsAndTooManyFieldsAreRefused) {
    EXPECT_EQ(parse("GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n").verdict.status, 400);
    EXPECT_EQ(parse("GET /a/%2e%2e/b?q HTTP/1.1\r\nHost: x\r\n\r\n").verdict.status, 400);
    EXPECT_EQ(parse("GET /a?x=/../ HTTP/1.1\r\nHost: x\r\n\r\n").verdict.status, 0);  // the query is not a path
    std::string many = "GET /a HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 8; ++i) {
        many += "X-" + std::to_string(i) + ": v\r\n";
    }
    const Parsed p = parse(many + "\r\n");
    EXPECT_EQ(p.verdict.status, 431);
    EXPECT_LE(p.fields.size(), 8U);  // never more slots than the limit
}

TEST(ParseHeadTest, TheFieldSlotsAreReusedWithoutReallocating) {
    std::vector<Header> fields;
    fields.reserve(8);
    const Header* slots = fields.data();
    HeadFacts facts;
    for (int i = 0; i < 3; ++i) {
        const std::string head = "GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n\r\n";
        ASSERT_EQ(parse_head(head, small_limits(), facts, fields).status, 0);
        EXPECT_EQ(fields.size(), 8U);
        EXPECT_EQ(fields.data(), slots);
    }
}

// --- the known headers (Request::header(KnownHeader)) ---

/// parse_head with the index of the known headers; the head is kept like parse()'s.
struct Indexed {
    HeadVerdict verdict;
    std::vector<Header> fields;
    KnownHeaderIndex known;
};

Indexed parse_indexed(const std::string& head, KnownHeaderIndex known = {}) {
    static std::list<std::string> heads;
    const std::string& kept = heads.emplace_back(head);
    ServerLimits l;
    Indexed p;
    p.known = known;
    p.fields.reserve(l.header_count);
    HeadFacts facts;
    p.verdict = parse_head(kept, l, facts, p.fields, &p.known);
    return p;
}

/// What Request::header(std::string_view) answers: the first field of that name, any case.
std::optional<std::string_view> scan(const std::vector<Header>& fields, std::string_view name) {
    for (const Header& h : fields) {
        if (h.name.size() == name.size() &&
            std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            return h.value;
        }
    }
    return std::nullopt;
}

constexpr KnownHeader kEveryKnown[] = {KnownHeader::kAuthorization, KnownHeader::kContentType,
                                       KnownHeader::kUserAgent,     KnownHeader::kXRequestId,
                                       KnownHeader::kTraceparent,   KnownHeader::kElasticApmTraceparent,
                                       KnownHeader::kTracestate,    KnownHeader::kXRequestTimeoutMs};

TEST(ParseHeadTest, EveryKnownHeaderIsNotedWithItsOwnValueInAnyCase) {
    static_assert(std::size(kEveryKnown) == KnownHeaderIndex::kSize, "a test row per known header");
    for (const KnownHeader k : kEveryKnown) {
        const std::string lower(known_header_name(k));
        std::string upper = lower;
        std::string mixed = lower;
        for (std::size_t i = 0; i < lower.size(); ++i) {
            upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(lower[i])));
            mixed[i] = i % 2 == 0 ? upper[i] : lower[i];
        }
        for (const std::string& name : {lower, upper, mixed}) {
            // Every other known header is sent too, each with its own value: a slot filled from the
            // wrong field shows as the wrong value.
            std::string head = "POST /a HTTP/1.1\r\nHost: x\r\n";
            for (const KnownHeader other : kEveryKnown) {
                if (other != k) {
                    head += std::string(known_header_name(other)) + ": v-" +
                            std::string(known_header_name(other)) + "\r\n";
                }
            }
            head += name + ":  \tthe-value \t\r\n\r\n";
            const Indexed p = parse_indexed(head);
            ASSERT_EQ(p.verdict.status, 0) << name;
            EXPECT_EQ(p.known.get(k), std::optional<std::string_view>("the-value")) << name << ": OWS trimmed";
            for (const KnownHeader other : kEveryKnown) {
                if (other != k) {
                    EXPECT_EQ(p.known.get(other), "v-" + std::string(known_header_name(other))) << name;
                }
            }
        }
    }
}

TEST(ParseHeadTest, AKnownHeaderIsItsFirstOccurrenceAsAScanFindsIt) {
    const Indexed p = parse_indexed(
        "POST /a HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer first\r\nX-Request-Id: r1\r\nAUTHORIZATION: Bearer second\r\n"
        "x-request-id: r2\r\nContent-Type:\r\nContent-Type: application/json\r\n"
        // Near misses of known names: same length or one byte off, never noted.
        "Authorizatioo: no\r\nUser-Agent2: no\r\nUser_Agent: no\r\nTraceparents: no\r\n"
        "X-Request-Timeout-Mss: no\r\nElastic-Apm-Traceparen: no\r\nTracestatf: no\r\n\r\n");
    ASSERT_EQ(p.verdict.status, 0) << p.verdict.message;
    EXPECT_EQ(p.known.get(KnownHeader::kAuthorization), "Bearer first");
    EXPECT_EQ(p.known.get(KnownHeader::kXRequestId), "r1");
    // Present with an empty value is not absent: the first Content-Type is the empty one.
    ASSERT_TRUE(p.known.get(KnownHeader::kContentType).has_value());
    EXPECT_EQ(p.known.get(KnownHeader::kContentType), "");
    for (const KnownHeader k : {KnownHeader::kUserAgent, KnownHeader::kTraceparent, KnownHeader::kTracestate,
                                KnownHeader::kXRequestTimeoutMs, KnownHeader::kElasticApmTraceparent}) {
        EXPECT_FALSE(p.known.get(k).has_value()) << known_header_name(k);
    }
    // The index answers what a scan of the fields answers, for every known header.
    for (const KnownHeader k : kEveryKnown) {
        EXPECT_EQ(p.known.get(k), scan(p.fields, known_header_name(k))) << known_header_name(k);
    }
}

TEST(ParseHeadTest, TheKnownHeaderIndexStartsEmptyForEachHead) {
    // An index that held the previous request's headers (the connection's Request is reused).
    const Indexed first = parse_indexed("GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: old\r\nTraceparent: t\r\n\r\n");
    ASSERT_EQ(first.known.get(KnownHeader::kUserAgent), "old");
    const Indexed second = parse_indexed("GET /a HTTP/1.1\r\nHost: x\r\nTracestate: s\r\n\r\n", first.known);
    ASSERT_EQ(second.verdict.status, 0);
    EXPECT_FALSE(second.known.get(KnownHeader::kUserAgent).has_value());
    EXPECT_FALSE(second.known.get(KnownHeader::kTraceparent).has_value());
    EXPECT_EQ(second.known.get(KnownHeader::kTracestate), "s");
}

// --- chunked ---

struct Decoded {
    ChunkedDecoder::Status status;
    std::string body;
    std::string rest;  ///< bytes after the body (the next request)
};

/// Feeds @p encoded in pieces of @p piece bytes, as reads would deliver them.
Decoded decode(const std::string& encoded, std::size_t piece = SIZE_MAX, std::size_t limit = 100) {
    ChunkedDecoder d(limit);
    std::string buf(encoded.size(), '\0');
    std::size_t len = 0;
    std::size_t fed = 0;
    ChunkedDecoder::Status st = ChunkedDecoder::Status::kNeedMore;
    while (st == ChunkedDecoder::Status::kNeedMore && fed < encoded.size()) {
        const std::size_t n = std::min(piece, encoded.size() - fed);
        std::memcpy(buf.data() + len, encoded.data() + fed, n);
        len += n;
        fed += n;
        st = d.feed(buf.data(), len);
    }
    return {st, buf.substr(0, d.decoded()), buf.substr(d.decoded(), len - d.decoded()) + encoded.substr(fed)};
}

TEST(ChunkedDecoderTest, DecodesInPlaceAndKeepsThePipelinedRest) {
    const std::string enc = "3\r\none\r\nA;name=value;q=\"a \\\" b\"\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    for (std::size_t piece : {SIZE_MAX, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        const Decoded d = decode(enc, piece);
        EXPECT_EQ(d.status, ChunkedDecoder::Status::kDone) << piece;
        EXPECT_EQ(d.body, "one0123456789") << piece;
        EXPECT_EQ(d.rest, "GET / HTTP/1.1\r\n") << piece;
    }
    EXPECT_EQ(decode("0\r\n\r\n").body, "");
    EXPECT_EQ(decode("000\r\n\r\n").status, ChunkedDecoder::Status::kDone);
    EXPECT_EQ(decode("5 ; ext\r\nhello\r\n0\r\n\r\n").body, "hello");  // BWS around ';'
    EXPECT_EQ(decode("3\r\none\r\n").status, ChunkedDecoder::Status::kNeedMore);
}

TEST(ChunkedDecoderTest, RefusesMalformedFraming) {
    for (const char* bad : {
             "zz\r\nabc\r\n0\r\n\r\n",            // no hex digits
             "\r\nabc\r\n0\r\n\r\n",              // empty size
             "3\nabc\r\n0\r\n\r\n",               // bare LF
             "3 \r\nabc\r\n0\r\n\r\n",            // whitespace before CRLF
             "3;\r\nabc\r\n0\r\n\r\n",            // extension without a name
             "3;a=\r\nabc\r\n0\r\n\r\n",          // extension without a value
             "3;a=\"x\r\nabc\r\n0\r\n\r\n",       // unterminated quoted string
             "3;a b\r\nabc\r\n0\r\n\r\n",         // junk after an extension
             "3\r\nabcX\r\n0\r\n\r\n",            // data longer than its size
             "3\r\nabc\rX0\r\n\r\n",              // CR without LF after the data
             "0\r\nHost: y\r\n\r\n",              // trailer field (a second Host)
             "0\r\nAuthorization: Bearer t\r\n\r\n",
             "0\r\n\n",                           // bare LF ending the body
             "-1\r\n",
             "0x3\r\nabc\r\n0\r\n\r\n",
         }) {
        EXPECT_EQ(decode(bad).status, ChunkedDecoder::Status::kMalformed) << bad;
        EXPECT_EQ(decode(bad, 1).status, ChunkedDecoder::Status::kMalformed) << bad << " (byte by byte)";
    }
    // A chunk line that never ends is refused at kMaxLine, not buffered forever.
    const std::string endless = "1;" + std::string(ChunkedDecoder::kMaxLine + 10, 'a');
    EXPECT_EQ(decode(endless).status, ChunkedDecoder::Status::kMalformed);
}

TEST(ChunkedDecoderTest, TheBodyLimitCountsDecodedBytes) {
    std::string at_limit;
    for (int i = 0; i < 10; ++i) {
        at_limit += "a\r\n" + std::string(10, 'x') + "\r\n";
    }
    EXPECT_EQ(decode(at_limit + "0\r\n\r\n").status, ChunkedDecoder::Status::kDone);
    EXPECT_EQ(decode(at_limit + "1\r\nx\r\n0\r\n\r\n").status, ChunkedDecoder::Status::kTooLarge);
    EXPECT_EQ(decode("65\r\n").status, ChunkedDecoder::Status::kTooLarge);  // 101 > 100, before any data
    EXPECT_EQ(decode("ffffffffffffffffffffffff\r\n").status, ChunkedDecoder::Status::kTooLarge);  // no overflow
    EXPECT_EQ(decode("00000000000000000000000000001\r\nx\r\n0\r\n\r\n").body, "x");
}

}  // namespace
}  // namespace moneta::http::detail
