// Fuzz target: the HTTP/1.1 request path of libs/http_server, byte for byte as server.cpp runs it
// on one connection: the connection's ReadBuffer, scan_head and the early 414 between reads,
// parse_head (the one strict pass into the Request's slots), the body (Content-Length from the
// buffer, or the in-place ChunkedDecoder between reads), then pipelined requests while the
// connection stays open. The socket is replaced by the input, delivered in reads of a given
// size. Invariants (ops.md §7.3):
// - split invariance: the same outcomes (verdict, method, target, fields, body, end offset) when
//   the bytes arrive whole or in chunks of 1 and of k bytes;
// - an accepted request never has both Content-Length and Transfer-Encoding, has exactly one
//   Host on HTTP/1.1, tchar field names, no control bytes in values, a body within the limit and
//   of the declared length, an origin-form safe path, and ends within the input;
// - the Request view the handlers see (path, query, header lookup) agrees with the message, and
//   the request-context headers parse consistently (traceparent round trip, a tracestate passed
//   on is bounded printable ASCII, timeout range).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/trace_context.hpp"
#include "moneta/http/request.hpp"
#include "parse.hpp"

namespace {

using moneta::http::ServerLimits;
using moneta::http::detail::ChunkedDecoder;
using moneta::http::detail::HeadFacts;
using moneta::http::detail::HeadScan;
using moneta::http::detail::ReadBuffer;

// Small limits, so the fuzzer reaches every one of them.
ServerLimits limits() {
    ServerLimits l;
    l.header_bytes = 1024;
    l.body_bytes = 512;
    l.header_count = 16;
    l.uri_bytes = 256;
    return l;
}

/// The client side of the socket: the input, at most @p chunk bytes per read.
class Wire {
public:
    Wire(std::string_view bytes, std::size_t chunk) : bytes_(bytes), chunk_(chunk) {}
    /// 0 = end of stream.
    std::size_t read_some(void* dst, std::size_t n) {
        const std::size_t k = std::min({n, chunk_, bytes_.size() - pos_});
        std::memcpy(dst, bytes_.data() + pos_, k);
        pos_ += k;
        return k;
    }
    std::size_t delivered() const { return pos_; }

private:
    std::string_view bytes_;
    std::size_t chunk_;
    std::size_t pos_ = 0;
};

enum class Kind : std::uint8_t { kAccepted, kHeadError, kBodyError, kClosed };

struct Outcome {
    Kind kind = Kind::kClosed;
    int status = 0;
    std::string code;
    std::string method;
    std::string target;
    unsigned version = 0;
    bool keep_alive = false;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    std::size_t end = 0;  ///< stream offset where this request ended (bytes consumed so far)

    bool operator==(const Outcome&) const = default;
};

bool is_tchar(unsigned char c) {
    return std::isalnum(c) != 0 || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

void check_request_context(const moneta::http::Request& req) {
    for (const char* name : {"traceparent", "elastic-apm-traceparent"}) {
        const auto tp = req.header(name);
        if (!tp) {
            continue;
        }
        if (const auto ctx = moneta::core::TraceContext::parse(*tp)) {
            const std::string again = ctx->to_traceparent();
            FUZZ_CHECK(
                again.size() == 55 && tp->substr(3, 49) == std::string_view(again).substr(3, 49),
                "traceparent ids do not round-trip"
            );
            const auto reparsed = moneta::core::TraceContext::parse(again);
            FUZZ_CHECK(
                reparsed && reparsed->trace_id == ctx->trace_id &&
                    reparsed->span_id == ctx->span_id && reparsed->flags == ctx->flags,
                "a formatted traceparent does not parse back"
            );
        }
    }
    if (const auto ts = req.header("tracestate"); ts && moneta::core::TraceContext::valid_tracestate(*ts)) {
        // What is passed on unchanged: bounded, printable ASCII, every member key=value.
        FUZZ_CHECK(ts->size() <= moneta::core::TraceContext::kMaxTracestate, "tracestate over its bound passed on");
        FUZZ_CHECK(std::all_of(ts->begin(), ts->end(), [](char c) { return c == '\t' || (c >= 0x20 && c <= 0x7e); }),
                   "tracestate with a control or non-ASCII byte passed on");
    }
    if (const auto t = req.header("x-request-timeout-ms")) {
        if (const auto ms = moneta::core::parse_timeout_ms(*t)) {
            FUZZ_CHECK(
                ms->count() >= 1 && ms->count() <= 600000, "X-Request-Timeout-Ms out of range"
            );
            FUZZ_CHECK(
                std::to_string(ms->count()).size() <= t->size(), "timeout longer than its text"
            );
        }
    }
    if (const auto id = req.header("x-request-id"); id && moneta::core::is_valid_request_id(*id)) {
        FUZZ_CHECK(id->size() <= 128, "request id too long");
        for (char c : *id) {
            FUZZ_CHECK(
                std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                    std::strchr("-_.:", c) != nullptr,
                "request id with a character that is not safe to log"
            );
        }
    }
}

bool same_view(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }

/// parse_whole_head accepted the head at the start of @p data: the long way (scan_head, then
/// parse_head on exactly the head) must find the same end, accept it and fill the same facts,
/// slots and index.
void check_whole_head(std::string_view data, std::size_t head_len, const HeadFacts& facts,
                      const std::vector<moneta::http::Header>& fields, const moneta::http::KnownHeaderIndex& known) {
    const ServerLimits l = limits();
    std::size_t searched = 0;
    const HeadScan scan = moneta::http::detail::scan_head(data, searched);
    FUZZ_CHECK(scan.skip == 0 && scan.head_len == head_len, "the whole-head pass ends the head elsewhere");
    FUZZ_CHECK(head_len <= l.header_bytes, "the whole-head pass accepted a head over header_bytes");
    HeadFacts f;
    std::vector<moneta::http::Header> slots;
    slots.reserve(l.header_count);
    moneta::http::KnownHeaderIndex k;
    const auto verdict = moneta::http::detail::parse_head(data.substr(0, head_len), l, f, slots, &k);
    FUZZ_CHECK(verdict.status == 0, "the whole-head pass accepted what parse_head refuses");
    FUZZ_CHECK(f.method == facts.method && same_view(f.method_string, facts.method_string) &&
                   same_view(f.target, facts.target) && f.version == facts.version &&
                   f.keep_alive == facts.keep_alive && f.chunked == facts.chunked &&
                   f.has_content_length == facts.has_content_length && f.content_length == facts.content_length &&
                   f.path_len == facts.path_len && f.path_plain == facts.path_plain &&
                   f.name_lengths == facts.name_lengths,
               "the whole-head pass and parse_head disagree on the facts");
    FUZZ_CHECK(slots.size() == fields.size(), "the whole-head pass and parse_head disagree on the fields");
    for (std::size_t i = 0; i < slots.size(); ++i) {
        FUZZ_CHECK(same_view(slots[i].name, fields[i].name) && same_view(slots[i].value, fields[i].value),
                   "the whole-head pass and parse_head disagree on a field");
    }
    for (std::size_t i = 0; i < moneta::http::KnownHeaderIndex::kSize; ++i) {
        const auto h = static_cast<moneta::http::KnownHeader>(i);
        const auto a = k.get(h);
        const auto b = known.get(h);
        FUZZ_CHECK(a.has_value() == b.has_value() && (!a || same_view(*a, *b)),
                   "the whole-head pass and parse_head disagree on a known header");
    }
}

void check_accepted(const Outcome& o, std::size_t input_size) {
    const ServerLimits l = limits();
    FUZZ_CHECK(o.end <= input_size, "a request ends beyond the input");
    FUZZ_CHECK(!o.method.empty(), "empty method");
    for (char c : o.method) {
        FUZZ_CHECK(c >= 'A' && c <= 'Z', "method with a byte outside A-Z");
    }
    FUZZ_CHECK(
        !o.target.empty() && o.target.front() == '/' && o.target.size() <= l.uri_bytes,
        "target not origin-form or over the URI limit"
    );
    FUZZ_CHECK(
        moneta::http::detail::is_safe_path(std::string_view(o.target).substr(0, o.target.find('?'))
        ),
        "an unsafe path was accepted"
    );
    FUZZ_CHECK(o.version == 10 || o.version == 11, "version other than HTTP/1.0 or 1.1");
    FUZZ_CHECK(o.body.size() <= l.body_bytes, "body over the limit");
    int content_length = 0;
    int transfer_encoding = 0;
    int host = 0;
    for (const auto& [name, value] : o.fields) {
        FUZZ_CHECK(!name.empty(), "empty field name");
        for (char c : name) {
            FUZZ_CHECK(is_tchar(static_cast<unsigned char>(c)), "field name with a non-tchar byte");
        }
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(!((u < 0x20 && u != '\t') || u == 0x7F), "control byte in a field value");
        }
        if (iequals(name, "content-length")) {
            ++content_length;
            std::uint64_t declared = 0;
            const auto r = std::from_chars(value.data(), value.data() + value.size(), declared);
            FUZZ_CHECK(
                r.ec == std::errc{} && r.ptr == value.data() + value.size() &&
                    declared == o.body.size(),
                "body length differs from Content-Length"
            );
        } else if (iequals(name, "transfer-encoding")) {
            ++transfer_encoding;
            FUZZ_CHECK(
                iequals(value, "chunked"), "a Transfer-Encoding other than chunked was accepted"
            );
        } else if (iequals(name, "host")) {
            ++host;
        }
    }
    FUZZ_CHECK(content_length <= 1 && transfer_encoding <= 1, "duplicate framing header accepted");
    FUZZ_CHECK(
        !(content_length == 1 && transfer_encoding == 1),
        "Content-Length together with Transfer-Encoding"
    );
    FUZZ_CHECK(o.version == 10 ? host <= 1 : host == 1, "not exactly one Host on HTTP/1.1");
    FUZZ_CHECK(o.fields.size() <= l.header_count, "more fields than the header-count limit");
    // Keep-alive as RFC 9112 §9.3 defines it, recomputed from the fields.
    bool close = false;
    bool keep = false;
    for (const auto& [name, value] : o.fields) {
        if (!iequals(name, "connection")) {
            continue;
        }
        std::string_view list = value;
        while (true) {
            const auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            close = close || iequals(item, "close");
            keep = keep || iequals(item, "keep-alive");
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    FUZZ_CHECK(o.keep_alive == (o.version == 10 ? keep && !close : !close), "keep-alive rule broken");

    // What a handler sees: the server's Request over the same message.
    moneta::http::Request req;
    req.set_line(moneta::http::Method::kOther, o.method, o.target);
    for (const auto& [name, value] : o.fields) {
        req.mutable_headers().push_back({name, value});
    }
    const auto q = o.target.find('?');
    FUZZ_CHECK(req.path() == std::string_view(o.target).substr(0, q), "Request::path disagrees");
    FUZZ_CHECK(
        q == std::string::npos ? req.query().empty()
                               : req.query() == std::string_view(o.target).substr(q + 1),
        "Request::query disagrees"
    );
    for (const auto& field : o.fields) {
        const auto found = req.header(field.first);
        FUZZ_CHECK(found.has_value(), "Request::header misses a field");
        const auto first = std::find_if(o.fields.begin(), o.fields.end(), [&](const auto& f) {
            return iequals(f.first, field.first);
        });
        FUZZ_CHECK(*found == first->second, "Request::header is not the first field of that name");
    }
    check_request_context(req);
}

/// One connection as server.cpp's session() serves it, with @p chunk bytes per socket read.
std::vector<Outcome> serve(std::string_view input, std::size_t chunk) {
    const ServerLimits l = limits();
    Wire wire(input, chunk);
    ReadBuffer in(moneta::http::detail::read_buffer_initial(l), moneta::http::detail::read_buffer_max(l));
    std::vector<moneta::http::Header> fields;
    fields.reserve(l.header_count);
    moneta::http::KnownHeaderIndex known;
    std::vector<Outcome> out;
    auto read_more = [&] {
        const std::size_t n = wire.read_some(in.room(), in.room_size());
        in.commit(n);
        return n;
    };
    for (std::size_t request = 0; request < 64; ++request) {
        Outcome o;
        // 1. The head.
        in.compact(l.header_bytes + moneta::http::detail::kReadSlack);
        std::size_t head_len = 0;
        std::size_t searched = 0;
        bool closed = false;
        HeadFacts facts;
        bool parsed = false;
        bool try_whole = true;
        for (;;) {
            const std::string_view data = in.view();
            // As server.cpp: the whole head in one pass, once per request.
            if (try_whole && !data.empty()) {
                try_whole = false;
                head_len = moneta::http::detail::parse_whole_head(data, l, facts, fields, &known);
                if (head_len != 0) {
                    check_whole_head(data, head_len, facts, fields, known);
                    parsed = true;
                    break;
                }
            }
            const HeadScan scan = moneta::http::detail::scan_head(data, searched);
            FUZZ_CHECK(
                scan.skip <= data.size() && scan.head_len <= data.size(), "scan beyond the buffer"
            );
            if (scan.skip > 0) {
                in.consume(scan.skip);
                searched = 0;
                continue;
            }
            if (scan.head_len != 0) {
                FUZZ_CHECK(
                    data.substr(scan.head_len - 4, 4) == "\r\n\r\n", "head does not end in CRLFCRLF"
                );
                head_len = scan.head_len;
                break;
            }
            if (data.size() > l.header_bytes) {
                break;
            }
            // As server.cpp: before every wait for more bytes.
            if (moneta::http::detail::target_too_long(data, l.uri_bytes)) {
                break;
            }
            FUZZ_CHECK(in.room_size() > 0, "no room to read the head");
            if (read_more() == 0) {
                closed = true;
                break;
            }
        }
        if (closed) {
            o.kind = Kind::kClosed;
            o.end = wire.delivered() - in.size();
            out.push_back(std::move(o));
            break;
        }
        if (head_len == 0 || head_len > l.header_bytes) {
            // What the server answers here (server.cpp, before the strict pass): the same codes
            // the strict pass gives, so a 414 found early and one found by the strict pass compare
            // equal.
            o.kind = Kind::kHeadError;
            const bool long_target = moneta::http::detail::target_too_long(in.view(), l.uri_bytes);
            o.status = long_target ? 414 : 431;
            o.code = long_target ? "URI_TOO_LONG" : "HEADERS_TOO_LARGE";
            out.push_back(std::move(o));
            break;
        }
        // 2. The one strict pass (done already when the head was parsed whole).
        auto parse = [&] {
            return moneta::http::detail::parse_head(in.view().substr(0, head_len), l, facts, fields, &known);
        };
        const auto verdict = parsed ? moneta::http::detail::HeadVerdict{} : parse();
        if (verdict.status != 0) {
            FUZZ_CHECK(
                verdict.status >= 400 && verdict.status <= 505 && !verdict.code.empty(),
                "an error verdict without a 4xx/5xx status and code"
            );
            o.kind = Kind::kHeadError;
            o.status = verdict.status;
            o.code = std::string(verdict.code);
            out.push_back(std::move(o));
            break;
        }
        FUZZ_CHECK(fields.capacity() == l.header_count, "the header slots were reallocated");
        // The index of the known headers, noted in the same pass, answers what a scan answers.
        for (std::size_t k = 0; k < moneta::http::KnownHeaderIndex::kSize; ++k) {
            const auto h = static_cast<moneta::http::KnownHeader>(k);
            const auto first = std::find_if(fields.begin(), fields.end(), [&](const moneta::http::Header& f) {
                return iequals(f.name, moneta::http::known_header_name(h));
            });
            const auto noted = known.get(h);
            FUZZ_CHECK(
                first == fields.end() ? !noted.has_value()
                                      : noted.has_value() && noted->data() == first->value.data() &&
                                            noted->size() == first->value.size(),
                "the known-header index disagrees with a scan of the fields"
            );
        }
        // The facts the same pass found for later steps: the path's end, whether the path needs
        // is_safe_path's rules at all, and the lengths of the field names (the edge-trust skip).
        const auto question = facts.target.find('?');
        FUZZ_CHECK(facts.path_len == (question == std::string_view::npos ? facts.target.size() : question),
                   "the path length disagrees with a search for '?'");
        FUZZ_CHECK(facts.path_plain == (facts.target.substr(0, facts.path_len).find_first_of("%.") ==
                                        std::string_view::npos),
                   "path_plain disagrees with a search for '%' and '.'");
        std::uint64_t name_lengths = 0;
        for (const moneta::http::Header& f : fields) {
            name_lengths |= moneta::http::name_length_bit(f.name.size());
        }
        FUZZ_CHECK(facts.name_lengths == name_lengths, "the name-length mask disagrees with the fields");
        // 3. The body.
        std::string_view body;
        std::size_t request_len = head_len;
        int body_status = 0;
        if (facts.chunked) {
            ChunkedDecoder decoder(l.body_bytes);
            for (;;) {
                std::size_t len = in.size() - head_len;
                const std::size_t before = len;
                const auto st = decoder.feed(in.data() + head_len, len);
                FUZZ_CHECK(len <= before && decoder.decoded() <= len, "the decoder grew the bytes");
                FUZZ_CHECK(decoder.decoded() <= l.body_bytes, "decoded past the body limit");
                in.resize(head_len + len);
                if (st == ChunkedDecoder::Status::kDone) {
                    break;
                }
                if (st != ChunkedDecoder::Status::kNeedMore) {
                    body_status = st == ChunkedDecoder::Status::kTooLarge ? 413 : 400;
                    break;
                }
                if (in.room_size() == 0) {
                    const std::size_t want = std::min(in.size() + moneta::http::detail::kReadSlack,
                                                      moneta::http::detail::read_buffer_max(l));
                    const auto rs = want > in.size() ? in.reserve(want) : ReadBuffer::Reserve::kTooLarge;
                    if (rs == ReadBuffer::Reserve::kTooLarge) {
                        body_status = 400;
                        break;
                    }
                    if (rs == ReadBuffer::Reserve::kMoved) {
                        FUZZ_CHECK(parse().status == 0, "the head parses differently after a move");
                    }
                }
                if (read_more() == 0) {
                    body_status = 400;
                    break;
                }
            }
            body = {in.data() + head_len, decoder.decoded()};
            request_len = head_len + decoder.decoded();
        } else if (facts.has_content_length && facts.content_length > 0) {
            const std::size_t need = head_len + facts.content_length;
            if (in.size() < need &&
                in.reserve(need) == ReadBuffer::Reserve::kMoved) {
                FUZZ_CHECK(parse().status == 0, "the head parses differently after a move");
            }
            while (in.size() < need) {
                FUZZ_CHECK(in.room_size() > 0, "no room for a body within the limit");
                if (read_more() == 0) {
                    body_status = 400;
                    break;
                }
            }
            body = in.view().substr(head_len, need - head_len);
            request_len = need;
        }
        if (body_status != 0) {
            o.kind = Kind::kBodyError;
            o.status = body_status;
            out.push_back(std::move(o));
            break;
        }
        // 4. Accepted: what the server hands to the handler.
        o.kind = Kind::kAccepted;
        o.method = std::string(facts.method_string);
        o.target = std::string(facts.target);
        o.version = facts.version;
        o.keep_alive = facts.keep_alive;
        for (const auto& f : fields) {
            o.fields.emplace_back(std::string(f.name), std::string(f.value));
        }
        o.body = std::string(body);
        in.consume(request_len);
        o.end = wire.delivered() - in.size();
        FUZZ_CHECK(out.empty() || o.end > out.back().end, "a request consumed no bytes");
        check_accepted(o, input.size());
        const bool keep_alive = o.keep_alive;
        out.push_back(std::move(o));
        if (!keep_alive) {
            break;
        }
    }
    return out;
}

std::string describe(const std::vector<Outcome>& v) {
    std::string s;
    for (const Outcome& o : v) {
        s += "[kind=" + std::to_string(static_cast<int>(o.kind)) +
             " status=" + std::to_string(o.status) + " " + o.code + " " + o.method +
             " " + o.target + " fields=" + std::to_string(o.fields.size()) +
             " body=" + std::to_string(o.body.size()) + " end=" + std::to_string(o.end) + "] ";
    }
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto whole = serve(input, SIZE_MAX);
    // libtorrent's split fuzzer feeds chunks of 1..69 bytes: one byte at a time, plus one other
    // size chosen by the input's length so the corpus covers them all.
    for (const std::size_t chunk : {std::size_t{1}, 2 + size % 68}) {
        const auto split = serve(input, chunk);
        FUZZ_CHECK(
            split == whole,
            "chunk " + std::to_string(chunk) + " gave " + describe(split) + "\n  whole gave " +
                describe(whole)
        );
    }
    return 0;
}
