#include "strict.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "moneta/core/hex.hpp"
#include "moneta/core/swar.hpp"

namespace moneta::http::detail {
namespace {

constexpr HeadVerdict bad(std::string_view message) {
    return {400, "INVALID_REQUEST", message};
}

// Byte classes as tables and eight-byte words: the head is checked byte by byte (every request,
// ~450 bytes with a bearer token), and a branch per byte was a tenth of a heartbeat's user-space
// instructions (docs/performance.md, eighth round).
// 1 for a token byte (bytes, not bools: four are AND-ed at a time below).
constexpr std::array<std::uint8_t, 256> kTchar = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? 1 : 0;
    }
    for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
        t[static_cast<unsigned char>(c)] = 1;
    }
    return t;
}();

bool tchar(unsigned char c) noexcept { return kTchar[c] != 0; }

/// A field value's bytes: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5); no other control byte.
bool value_byte_ok(unsigned char c) noexcept { return (c >= 0x20 || c == '\t') && c != 0x7F; }

/// Where the first byte at or after @p i that is not a value byte stands (s.size() if none):
/// sixteen bytes at a time with SSE2 (eight with SWAR elsewhere), byte by byte through a block
/// that holds a tab or the stop. A bearer token is ~300 bytes of one value: the SWAR loop cost
/// ~800 instructions per request, the SSE2 one about a third (docs/performance.md, eleventh
/// round).
std::size_t value_run(std::string_view s, std::size_t i) noexcept {
#if defined(__SSE2__)
    if (s.size() >= 16) {
        const __m128i ctl = _mm_set1_epi8(0x1F);
        const __m128i del = _mm_set1_epi8(0x7F);
        // The control bytes and DEL of the block at @p at, from its byte @p from on: unsigned
        // v <= 0x1F is min(v, 0x1F) == v.
        const auto stops = [&](std::size_t at, unsigned from) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + at));
            const __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v), _mm_cmpeq_epi8(v, del));
            return static_cast<unsigned>(_mm_movemask_epi8(bad)) & (0xFFFFU << from);
        };
        // The first stop that is not a tab (a value byte among the control bytes): the answer,
        // straight from the block that holds it (no byte loop after it; tabs cost a bit each).
        const auto first = [&](std::size_t at, unsigned mask) {
            for (; mask != 0; mask &= mask - 1) {
                const std::size_t p = at + static_cast<std::size_t>(__builtin_ctz(mask));
                if (s[p] != '\t') {
                    return p;
                }
            }
            return s.size();
        };
        for (; i + 16 <= s.size(); i += 16) {
            if (const unsigned mask = stops(i, 0); mask != 0) {
                if (const std::size_t p = first(i, mask); p != s.size()) {
                    return p;
                }
            }
        }
        if (i < s.size()) {  // the tail: the block ending at s's end, the bytes before i masked off
            const std::size_t at = s.size() - 16;
            return first(at, stops(at, static_cast<unsigned>(i - at)));
        }
        return s.size();
    }
#endif
    while (i + 8 <= s.size()) {
        const std::uint64_t w = core::swar::load8(s.data() + i);
        if ((core::swar::any_below(w, 0x20) | core::swar::any_equal(w, 0x7F)) != 0) {
            break;
        }
        i += 8;
    }
    while (i < s.size() && value_byte_ok(static_cast<unsigned char>(s[i]))) {
        ++i;
    }
    return i;
}

bool value_ok(std::string_view v) noexcept { return value_run(v, 0) == v.size(); }

/// A header line that obeys every rule: a non-empty token, ':', value bytes, CRLF.
struct WellFormedField {
    std::string_view name;
    std::string_view raw_value;
    std::size_t next = 0;  ///< where the next line starts; 0: not such a line
};

/// One pass over the line at @p pos: the name up to the first non-token byte (which must be the
/// colon), the value eight bytes at a time up to the first control byte (which must begin the
/// CRLF). Anything else — including the empty line — returns next == 0, and the caller checks
/// the line rule by rule for its exact verdict.
WellFormedField well_formed_field(std::string_view head, std::size_t pos) noexcept {
    const auto* const h = reinterpret_cast<const unsigned char*>(head.data());
    std::size_t i = pos;
#if defined(__SSE2__)
    // Letters, digits and '-' (the names clients send) sixteen bytes at a time, up to the first
    // other byte, usually the colon; the table loops below take over from there, so any other
    // token byte is still read by the rule (four bytes per step of the table were ~55
    // instructions per name). Unsigned x in [0, n] is min(x, n) == x.
    while (i + 16 <= head.size()) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(head.data() + i));
        const __m128i letter = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        const __m128i digit = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        const __m128i plain = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(25)), letter),
                         _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
        const unsigned other = ~static_cast<unsigned>(_mm_movemask_epi8(plain)) & 0xFFFFU;
        if (other != 0) {
            i += static_cast<std::size_t>(__builtin_ctz(other));
            break;
        }
        i += 16;
    }
#endif
    // The name four bytes per step (a branch per byte was a sixth of the head check), then one;
    // not entered when the name already ended (the usual colon).
    if (i < head.size() && kTchar[h[i]] != 0) {
        while (i + 4 <= head.size() && (kTchar[h[i]] & kTchar[h[i + 1]] & kTchar[h[i + 2]] & kTchar[h[i + 3]]) != 0) {
            i += 4;
        }
        while (i < head.size() && kTchar[h[i]] != 0) {
            ++i;
        }
    }
    if (i == pos || i == head.size() || head[i] != ':') {
        return {};
    }
    const std::size_t colon = i;
    i = value_run(head, colon + 1);  // up to the CR, through any tab
    if (i + 1 >= head.size() || head[i] != '\r' || head[i + 1] != '\n') {
        return {};
    }
    return {std::string_view(head.data() + pos, colon - pos), std::string_view(head.data() + colon + 1, i - colon - 1),
            i + 2};
}

/// What one pass over a request target finds: whether its bytes are all visible ASCII
/// (0x21..0x7E), where its path ends, and whether the path holds a '%' or a '.', the only bytes
/// that can break a path rule. The query's start and the path check used to cost three more
/// passes (two memchr calls for the '?' and is_safe_path's word loop, ~300 instructions per
/// request).
struct TargetScan {
    bool ok = false;
    std::size_t path_len = 0;  ///< bytes before the first '?' (all of them without one)
    bool path_plain = false;   ///< no '%' and no '.' before the first '?'
};

TargetScan scan_target(std::string_view t) noexcept {
    std::size_t query = t.size();  // the first '?'
    std::size_t mark = t.size();   // the first '%' or '.'
#if defined(__SSE2__)
    if (t.size() >= 16) {
        const __m128i bang = _mm_set1_epi8(0x21);
        const __m128i del = _mm_set1_epi8(0x7F);
        const __m128i question = _mm_set1_epi8('?');
        const __m128i percent = _mm_set1_epi8('%');
        const __m128i dot = _mm_set1_epi8('.');
        // Sixteen bytes at a time; the last block ends at the target's end, overlapping the one
        // before, and the bytes already seen are masked off (no byte loop for the tail).
        std::size_t seen = 0;  // bytes checked so far
        while (seen < t.size()) {
            const std::size_t at = std::min(seen, t.size() - 16);
            const unsigned fresh = (0xFFFFU << (seen - at)) & 0xFFFFU;
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + at));
            // Visible: v >= 0x21 unsigned (max(v, 0x21) == v), not DEL, below 0x80 (the sign bit).
            const auto visible = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, bang), v)));
            const auto high_or_del =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, del), v)));
            if (((~visible | high_or_del) & fresh) != 0) {
                return {};
            }
            const unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, question))) & fresh;
            const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(
                                   _mm_or_si128(_mm_cmpeq_epi8(v, percent), _mm_cmpeq_epi8(v, dot)))) &
                               fresh;
            if (q != 0 && query == t.size()) {
                query = at + static_cast<std::size_t>(__builtin_ctz(q));
            }
            if (m != 0 && mark == t.size()) {
                mark = at + static_cast<std::size_t>(__builtin_ctz(m));
            }
            seen = at + 16;
        }
        return {true, query, mark >= query};
    }
#endif
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c <= 0x20 || c >= 0x7F) {
            return {};
        }
        if (c == '?' && query == t.size()) {
            query = i;
        }
        if ((c == '%' || c == '.') && mark == t.size()) {
            mark = i;
        }
    }
    return {true, query, mark >= query};
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
        if (x != b[i]) {
            return false;
        }
    }
    return true;
}

/// A header name (already checked to be token bytes) against a lower-case literal of letters,
/// digits and '-': for those, x | 0x20 folds exactly the bytes a token may hold (a byte that
/// ORs to '-' or a digit is a control byte, never in a name), eight bytes per compare.
bool name_is(std::string_view name, std::string_view lower) noexcept {
    if (name.size() != lower.size()) {
        return false;
    }
    const std::size_t n = name.size();
    constexpr std::uint64_t kFold = 0x2020202020202020ULL;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if ((core::swar::load8(name.data() + i) | kFold) != core::swar::load8(lower.data() + i)) {
            return false;
        }
    }
    if (i < n && n >= 8) {  // the last word, overlapping the one before
        return (core::swar::load8(name.data() + n - 8) | kFold) == core::swar::load8(lower.data() + n - 8);
    }
    if (n >= 4) {  // 4-7 bytes ("host"): two overlapping four-byte words
        constexpr std::uint32_t kFold4 = 0x20202020U;
        return (core::swar::load4(name.data()) | kFold4) == core::swar::load4(lower.data()) &&
               (core::swar::load4(name.data() + n - 4) | kFold4) == core::swar::load4(lower.data() + n - 4);
    }
    for (; i < n; ++i) {
        if ((name[i] | 0x20) != lower[i]) {
            return false;
        }
    }
    return true;
}

std::string_view trim_ows(std::string_view v) noexcept {
    const char* b = v.data();
    const char* e = b + v.size();
    while (b != e && (*b == ' ' || *b == '\t')) {
        ++b;
    }
    while (e != b && (e[-1] == ' ' || e[-1] == '\t')) {
        --e;
    }
    return {b, static_cast<std::size_t>(e - b)};
}

Method method_of(std::string_view m) noexcept {
    switch (m.size()) {
        case 3:
            return m == "GET" ? Method::kGet : m == "PUT" ? Method::kPut : Method::kOther;
        case 4:
            return m == "POST" ? Method::kPost : m == "HEAD" ? Method::kHead : Method::kOther;
        case 5:
            return m == "PATCH" ? Method::kPatch : Method::kOther;
        case 6:
            return m == "DELETE" ? Method::kDelete : Method::kOther;
        case 7:
            return m == "OPTIONS" ? Method::kOptions : Method::kOther;
        default:
            return Method::kOther;
    }
}

/// Does the comma-separated token list @p list (a Connection value) hold @p token (lower case)?
bool has_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = trim_ows(list.substr(0, comma));
        if (iequals(item, token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

/// Does @p s hold a '%' or a '.'?
bool has_percent_or_dot(std::string_view s) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        const std::uint64_t w = core::swar::load8(s.data() + i);
        if ((core::swar::any_equal(w, '%') | core::swar::any_equal(w, '.')) != 0) {
            return true;
        }
    }
    for (; i < s.size(); ++i) {
        if (s[i] == '%' || s[i] == '.') {
            return true;
        }
    }
    return false;
}

}  // namespace

bool is_tchar(unsigned char c) noexcept { return tchar(c); }

bool iequals_lower(std::string_view a, std::string_view lower) noexcept { return iequals(a, lower); }

bool is_safe_path(std::string_view path) noexcept {
    if (path.empty() || path.front() != '/') {
        return false;
    }
    // Only a '%' or a '.' can break a rule, and a path has neither as a rule: one word-at-a-time
    // pass says so (seven memchr calls through find cost ~250 instructions per request).
    if (!has_percent_or_dot(path)) {
        return true;
    }
    for (auto i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 1)) {
        if (i + 2 >= path.size()) {
            return false;
        }
        const int hi = core::hex_value(path[i + 1]);
        const int lo = core::hex_value(path[i + 2]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        const int byte = hi * 16 + lo;
        if (byte == '.' || byte == '/' || byte == '\\' || byte == 0) {
            return false;
        }
    }
    // Segments "." and "..".
    for (auto dot = path.find("/."); dot != std::string_view::npos; dot = path.find("/.", dot + 1)) {
        const std::string_view seg = path.substr(dot + 1, path.find('/', dot + 1) - (dot + 1));
        if (seg == "." || seg == "..") {
            return false;
        }
    }
    return true;
}

bool target_too_long(std::string_view partial_head, std::size_t uri_bytes) noexcept {
    // The same order as check_head (method, then the target's length), so a request refused
    // early, before its line ends, gets the status the whole line would get.
    const std::string_view line = partial_head.substr(0, partial_head.find("\r\n"));
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) {
        return false;
    }
    for (std::size_t i = 0; i < sp1; ++i) {
        if (line[i] < 'A' || line[i] > 'Z') {
            return false;
        }
    }
    // The target so far ends at a space, or at a CR that may begin the line's CRLF (fuzz
    // finding: a target of exactly uri_bytes whose CR arrived without its LF was 414).
    const auto sp2 = line.find_first_of(" \r\n", sp1 + 1);
    const std::size_t end = sp2 == std::string_view::npos ? line.size() : sp2;
    return end - sp1 - 1 > uri_bytes;
}

HeadVerdict check_head(std::string_view head, const HeadLimits& limits, HeadFacts* facts,
                       std::vector<Header>* fields_out, KnownHeaderIndex* known, std::size_t* head_end) {
    if (head_end != nullptr) {
        *head_end = 0;
    }
    if (fields_out != nullptr) {
        fields_out->clear();
    }
    if (known != nullptr) {
        known->reset();
    }
    // A field the server or moneta reads on every request: noted for Request::header(KnownHeader).
    const auto note = [known](KnownHeader h, std::string_view value) {
        if (known != nullptr) {
            known->note(h, value);
        }
    };
    // Request line: METHOD SP request-target SP HTTP-version CRLF
    const auto line_end = head.find("\r\n");
    if (line_end == std::string_view::npos) {
        return bad("Malformed request line.");
    }
    const std::string_view line = head.substr(0, line_end);
    // The method: capital letters up to the first space. Read as such (no search for the space)
    // when it is one; anything else is judged rule by rule below.
    std::size_t sp1 = 0;
    while (sp1 < line.size() && line[sp1] >= 'A' && line[sp1] <= 'Z') {
        ++sp1;
    }
    if (sp1 == 0 || sp1 == line.size() || line[sp1] != ' ') {
        sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || sp1 == 0) {
            return bad("Malformed request line.");
        }
        for (std::size_t i = 0; i < sp1; ++i) {
            if (line[i] < 'A' || line[i] > 'Z') {
                return bad("Malformed method.");
            }
        }
    }
    // The target's length before the rest of the line, as target_too_long judges a line that
    // has not ended yet (fuzz finding: 414 split, 400 whole).
    // The line ends in " HTTP/1.1" (or 1.0) in every request we accept, where rfind would stop
    // anyway: no reverse scan over the target then. The version compared as one word.
    const std::uint64_t http11 = core::swar::load8("HTTP/1.1");
    const std::uint64_t http10_word = core::swar::load8("HTTP/1.0");
    const std::uint64_t last_word = line.size() > sp1 + 9 ? core::swar::load8(line.data() + line.size() - 8) : 0;
    const bool usual_end = line.size() > sp1 + 9 && line[line.size() - 9] == ' ' &&
                           (last_word == http11 || last_word == http10_word);
    const auto sp2 = usual_end ? line.size() - 9 : line.rfind(' ');
    if ((sp2 == sp1 ? line.size() : sp2) - sp1 - 1 > limits.uri_bytes) {
        return {414, "URI_TOO_LONG", "The request URI is too long."};
    }
    if (sp2 == sp1) {
        return bad("Malformed request line.");
    }
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (target.empty() || target.front() != '/') {
        return bad("Only origin-form request targets are accepted.");
    }
    const TargetScan target_scan = scan_target(target);
    if (!target_scan.ok) {
        return bad("Invalid character in the request target.");
    }
    bool http10 = false;
    if (usual_end) {
        http10 = last_word == http10_word;
    } else if (version == "HTTP/1.0") {
        http10 = true;
    } else if (version != "HTTP/1.1") {
        if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
            version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
            return {505, "HTTP_VERSION_NOT_SUPPORTED", "Only HTTP/1.1 is supported."};
        }
        return bad("Malformed HTTP version.");
    }

    std::size_t fields = 0;
    int content_length = 0;
    std::uint64_t length = 0;
    int transfer_encoding = 0;
    int host = 0;
    bool connection_close = false;
    bool connection_keep_alive = false;
    std::uint64_t name_lengths = 0;
    std::size_t pos = line_end + 2;
    bool ended = false;  // the empty line was reached
    while (pos < head.size()) {
        std::string_view name;
        std::string_view raw_value;
        if (head[pos] == '\r' && pos + 1 < head.size() && head[pos + 1] == '\n') {
            ended = true;  // the empty line ending the head (no search for it)
            pos += 2;
            break;
        }
        if (const WellFormedField f = well_formed_field(head, pos); f.next != 0) {
            // The usual line, read in one pass; it passes every check below by construction.
            if (++fields > limits.header_count) {
                return {431, "HEADERS_TOO_LARGE", "Too many request headers."};
            }
            name = f.name;
            raw_value = f.raw_value;
            pos = f.next;
        } else {
            // A line that breaks a rule: checked step by step for the verdict.
            const auto end = head.find("\r\n", pos);
            if (end == std::string_view::npos) {
                return bad("Malformed header section.");
            }
            const std::string_view field = head.substr(pos, end - pos);
            pos = end + 2;
            if (++fields > limits.header_count) {
                return {431, "HEADERS_TOO_LARGE", "Too many request headers."};
            }
            if (field.front() == ' ' || field.front() == '\t') {
                return bad("Obsolete line folding is not accepted.");
            }
            const auto colon = field.find(':');
            if (colon == std::string_view::npos || colon == 0) {
                return bad("Malformed header field.");
            }
            name = field.substr(0, colon);
            for (char ch : name) {
                if (!tchar(static_cast<unsigned char>(ch))) {
                    return bad("Malformed header field name.");  // includes "Name : value"
                }
            }
            raw_value = field.substr(colon + 1);
            if (!value_ok(raw_value)) {
                return bad("Invalid character in a header value.");
            }
        }
        const std::string_view value = trim_ows(raw_value);
        if (fields_out != nullptr) {
            fields_out->push_back({name, value});
        }
        name_lengths |= name_length_bit(name.size());
        // The framing and connection fields and the known ones, recognised by length first (one
        // compare for most; never more than two).
        switch (name.size()) {
            case 14:
                if (name_is(name, "content-length")) {
                    ++content_length;
                    if (value.empty() || value.size() > 15) {
                        return bad("Invalid Content-Length.");
                    }
                    length = 0;
                    for (char ch : value) {
                        if (ch < '0' || ch > '9') {
                            return bad("Invalid Content-Length.");
                        }
                        length = length * 10 + static_cast<std::uint64_t>(ch - '0');
                    }
                }
                break;
            case 17:
                if (name_is(name, "transfer-encoding")) {
                    ++transfer_encoding;
                    if (!iequals(value, "chunked")) {
                        return {501, "NOT_IMPLEMENTED", "Unsupported Transfer-Encoding."};
                    }
                }
                break;
            case 4:
                if (name_is(name, "host")) {
                    ++host;
                }
                break;
            case 10:
                // connection, user-agent, tracestate: told apart by the first letter.
                if ((name[0] | 0x20) == 'c') {
                    if (name_is(name, "connection")) {
                        connection_close = connection_close || has_token(value, "close");
                        connection_keep_alive = connection_keep_alive || has_token(value, "keep-alive");
                    }
                } else if (name_is(name, "user-agent")) {
                    note(KnownHeader::kUserAgent, value);
                } else if (name_is(name, "tracestate")) {
                    note(KnownHeader::kTracestate, value);
                }
                break;
            case 11:
                if (name_is(name, "traceparent")) {
                    note(KnownHeader::kTraceparent, value);
                }
                break;
            case 12:
                if (name_is(name, "content-type")) {
                    note(KnownHeader::kContentType, value);
                } else if (name_is(name, "x-request-id")) {
                    note(KnownHeader::kXRequestId, value);
                }
                break;
            case 13:
                if (name_is(name, "authorization")) {
                    note(KnownHeader::kAuthorization, value);
                }
                break;
            case 20:
                if (name_is(name, "x-request-timeout-ms")) {
                    note(KnownHeader::kXRequestTimeoutMs, value);
                }
                break;
            case 23:
                if (name_is(name, "elastic-apm-traceparent")) {
                    note(KnownHeader::kElasticApmTraceparent, value);
                }
                break;
            default:
                break;
        }
    }
    if (head_end != nullptr) {
        if (!ended) {
            return bad("Malformed header section.");  // no whole head in the bytes given
        }
        *head_end = pos;
    }
    if (content_length > 1) {
        return bad("Duplicate Content-Length.");
    }
    if (transfer_encoding > 1) {
        return bad("Duplicate Transfer-Encoding.");
    }
    if (content_length == 1 && transfer_encoding == 1) {
        return bad("Content-Length together with Transfer-Encoding.");
    }
    if (transfer_encoding == 1 && http10) {
        return bad("Transfer-Encoding on HTTP/1.0.");
    }
    if (host > 1 || (!http10 && host == 0)) {
        return bad("Exactly one Host header is required.");
    }
    if (facts != nullptr) {
        facts->method = method_of(line.substr(0, sp1));
        facts->method_string = line.substr(0, sp1);
        facts->target = target;
        facts->path_len = target_scan.path_len;
        facts->path_plain = target_scan.path_plain;
        facts->version = http10 ? 10 : 11;
        // HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" (and no "close").
        facts->keep_alive = http10 ? (connection_keep_alive && !connection_close) : !connection_close;
        facts->chunked = transfer_encoding == 1;
        facts->has_content_length = content_length == 1;
        facts->content_length = length;
        facts->name_lengths = name_lengths;
    }
    return {};
}

}  // namespace moneta::http::detail
