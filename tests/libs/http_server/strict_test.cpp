#include "strict.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace moneta::http::detail {
namespace {

const HeadLimits kLimits{2048, 64};

int status_of(const std::string& head) { return check_head(head, kLimits).status; }

TEST(StrictHeadTest, AcceptsAPlainRequest) {
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length:\t3\r\n\r\n"), 0);  // tab OWS
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nhOsT: x\r\ntRaNsFeR-eNcOdInG: ChUnKeD\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET /a HTTP/1.0\r\n\r\n"), 0);  // HTTP/1.0 needs no Host
}

TEST(StrictHeadTest, RejectsSmugglingShapes) {
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"), 400);
    for (const char* cl : {"+3", "-1", "0x10", "3 3", "3,3", "", "99999999999999999999"}) {
        EXPECT_EQ(status_of(std::string("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ") + cl + "\r\n\r\n"), 400) << cl;
    }
    for (const char* te : {"xchunked", "chunked, identity", "identity, chunked", "gzip", "chunked1"}) {
        EXPECT_EQ(status_of(std::string("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te + "\r\n\r\n"), 501) << te;
    }
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

// The framing fields are recognised in any case (their names are compared eight bytes at a time
// with the case bit folded), and a name that differs in any byte is just another field.
TEST(StrictHeadTest, FramingFieldsInAnyCaseAndNoNearMiss) {
    for (const char* cl : {"content-length", "CONTENT-LENGTH", "Content-Length", "cONTENT-lENGTH"}) {
        const std::string twice = std::string("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n") + cl + ": 3\r\n\r\n";
        EXPECT_EQ(status_of(twice), 400) << cl;  // a duplicate however it is spelled
        HeadFacts facts;
        EXPECT_EQ(check_head(std::string("POST /a HTTP/1.1\r\nHost: x\r\n") + cl + ": 12\r\n\r\n", kLimits, &facts).status, 0);
        EXPECT_TRUE(facts.has_content_length) << cl;
        EXPECT_EQ(facts.content_length, 12U) << cl;
    }
    const std::string name = "content-length";
    for (std::size_t i = 0; i < name.size(); ++i) {
        for (const char other : {'_', '~', '^', '|', '.', '0', 'x'}) {
            if (other == name[i]) {
                continue;
            }
            std::string near = name;
            near[i] = other;
            HeadFacts facts;
            EXPECT_EQ(check_head("POST /a HTTP/1.1\r\nHost: x\r\n" + near + ": 12\r\n\r\n", kLimits, &facts).status, 0)
                << near;
            EXPECT_FALSE(facts.has_content_length) << near;
        }
    }
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHOST: x\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost_: x\r\n\r\n"), 400);  // no Host
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\nHOST: y\r\n\r\n"), 400);
    HeadFacts facts;
    EXPECT_EQ(check_head("GET /a HTTP/1.1\r\nHost: x\r\nCONNECTION: Close\r\n\r\n", kLimits, &facts).status, 0);
    EXPECT_FALSE(facts.keep_alive);
    EXPECT_EQ(check_head("GET /a HTTP/1.1\r\nHost: x\r\nConnectiom: close\r\n\r\n", kLimits, &facts).status, 0);
    EXPECT_TRUE(facts.keep_alive);
    EXPECT_EQ(status_of("POST /a HTTP/1.1\r\nHost: x\r\nTRANSFER-ENCODING: gzip\r\n\r\n"), 501);
}

TEST(StrictHeadTest, RejectsMalformedHeaders) {
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n"), 400);  // obs-fold
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n"), 400);
    EXPECT_EQ(status_of(std::string("GET /a HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 34)), 400);
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\n\r\n"), 400);                      // no Host
    EXPECT_EQ(status_of("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"), 400);  // two Hosts
    std::string many = "GET /a HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 70; ++i) {
        many += "X-" + std::to_string(i) + ": v\r\n";
    }
    EXPECT_EQ(status_of(many + "\r\n"), 431);
}

// The value and target checks read eight bytes at a time: every byte value, at every position of
// a whole word and of the tail, against the byte rule (RFC 9110 §5.5: a value is VCHAR, obs-text,
// SP and HTAB; a target visible ASCII).
TEST(StrictHeadTest, EveryByteAtEveryPositionOfValuesAndTargets) {
    for (int b = 0; b < 256; ++b) {
        const auto c = static_cast<char>(b);
        const bool value_ok = (b >= 0x20 || b == '\t') && b != 0x7F && b != '\r' && b != '\n';
        const bool target_ok = b > 0x20 && b < 0x7F;
        // Values long enough for two 16-byte blocks, an 8-byte word and single bytes.
        for (std::size_t at = 0; at < 43; ++at) {
            std::string value(43, 'v');
            value[at] = c;
            const HeadVerdict v = check_head("GET /a HTTP/1.1\r\nHost: x\r\nX-V: " + value + "w\r\n\r\n", kLimits);
            EXPECT_EQ(v.status, value_ok ? 0 : 400) << "value byte " << b << " at " << at;
            if (!value_ok) {  // the one-pass line reader hands odd lines to the step-by-step checks
                EXPECT_EQ(v.message, "Invalid character in a header value.") << "value byte " << b << " at " << at;
            }
            if (at >= 19) {
                continue;
            }
            std::string target = "/" + std::string(18, 't');
            target[at == 0 ? 1 : at] = c;
            EXPECT_EQ(status_of("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"), target_ok ? 0 : 400)
                << "target byte " << b << " at " << at;
        }
    }
}

// The one pass over the target also finds where its path ends and whether the path holds a '%'
// or a '.' (parse_head runs is_safe_path only then): checked against a byte loop and find('?')
// for targets of every length 1-70 (a short one, whole 16-byte blocks and every overlapping
// tail), with each of these bytes at every position, alone and after a '?' or a '%'/'.'.
TEST(StrictHeadTest, TheTargetScanAgreesWithAByteLoopAtEveryLengthAndPosition) {
    const char bytes[] = {'?', '%', '.', '/', 'a', ' ', '\x7f', '\x80', '\x1f', '\xff', '#', '~'};
    const auto expect_agrees = [](const std::string& target) {
        bool visible = true;
        for (const char ch : target) {
            const auto b = static_cast<unsigned char>(ch);
            visible = visible && b > 0x20 && b < 0x7F;
        }
        HeadFacts facts;
        // Targets with a space split the request line differently: the verdict only, then.
        const HeadVerdict v = check_head("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", kLimits, &facts);
        ASSERT_EQ(v.status, visible ? 0 : 400) << target;
        if (!visible) {
            return;
        }
        const std::size_t q = target.find('?');
        const std::string path = target.substr(0, q);
        EXPECT_EQ(facts.path_len, path.size()) << target;
        EXPECT_EQ(facts.path_plain, path.find_first_of("%.") == std::string::npos) << target;
        if (facts.path_plain) {
            EXPECT_TRUE(is_safe_path(path)) << target;
        }
    };
    for (std::size_t len = 1; len <= 70; ++len) {
        const std::string plain = "/" + std::string(len - 1, 'p');
        expect_agrees(plain);
        for (std::size_t at = 1; at < len; ++at) {
            for (const char c : bytes) {
                std::string t = plain;
                t[at] = c;
                expect_agrees(t);
                for (const char before : {'?', '%', '.'}) {
                    if (at >= 2) {
                        std::string u = t;
                        u[at / 2] = before;
                        expect_agrees(u);
                    }
                }
            }
        }
    }
}

// Field names are read sixteen bytes at a time while they are letters, digits and '-', then by the
// token table: every byte at every position of names of many lengths, the name starting at
// different offsets of the head, must get the rule's verdict and the right name.
TEST(StrictHeadTest, EveryByteAtEveryPositionOfFieldNames) {
    for (const std::size_t offset : {0U, 1U, 7U, 13U}) {
        for (const std::size_t len : {1U, 2U, 3U, 5U, 8U, 13U, 15U, 16U, 17U, 20U, 31U, 32U, 33U, 40U}) {
            for (std::size_t at = 0; at < len; ++at) {
                for (int b = 0; b < 256; ++b) {
                    const auto c = static_cast<char>(b);
                    std::string name(len, at % 2 == 0 ? 'n' : 'N');
                    name[len / 2] = '-';
                    name[at] = c;
                    const std::string head =
                        "GET /a HTTP/1.1\r\nHost: " + std::string(offset, 'h') + "\r\n" + name + ": v\r\n\r\n";
                    HeadFacts facts;
                    std::vector<Header> fields;
                    fields.reserve(kLimits.header_count);
                    const HeadVerdict v = check_head(head, kLimits, &facts, &fields);
                    const bool colon = c == ':';
                    const bool ok = colon ? at > 0 : is_tchar(static_cast<unsigned char>(b));
                    ASSERT_EQ(v.status, ok ? 0 : 400) << "byte " << b << " at " << at << " of " << len;
                    if (ok) {
                        ASSERT_EQ(fields.size(), 2U);
                        EXPECT_EQ(fields[1].name, colon ? name.substr(0, at) : name) << b << " at " << at;
                    }
                }
            }
        }
    }
}

// Values are read sixteen bytes at a time, the last block ending at the head's end and
// overlapping the one before; a tab is a value byte among the control bytes. A value of every
// length 0-50, with tabs in it, and one byte of each class at every position, as the head's last
// field at four offsets: the rule's verdict and, when accepted, the OWS-trimmed value.
TEST(StrictHeadTest, EveryControlByteAtEveryPositionOfValuesWithTabs) {
    std::vector<int> probes{0x7F, 0x80, 0xFF, ' ', 'a', '\t', ':'};
    for (int b = 0; b < 0x20; ++b) {
        probes.push_back(b);
    }
    for (const std::size_t offset : {0U, 3U, 8U, 15U}) {
        for (std::size_t len = 0; len <= 50; ++len) {
            std::string base(len, 'v');
            for (std::size_t i = 1; i < len; i += 5) {
                base[i] = '\t';
            }
            for (std::size_t at = 0; at <= len; ++at) {
                for (const int b : probes) {
                    std::string value = base;
                    if (at < len) {
                        value[at] = static_cast<char>(b);
                    }
                    const std::string head = "GET /a HTTP/1.1\r\nHost: " + std::string(offset, 'h') + "\r\nX-V: " +
                                             value + "\r\n\r\n";
                    HeadFacts facts;
                    std::vector<Header> fields;
                    fields.reserve(kLimits.header_count);
                    const HeadVerdict v = check_head(head, kLimits, &facts, &fields);
                    bool ok = true;
                    for (const char ch : value) {
                        const auto u = static_cast<unsigned char>(ch);
                        ok = ok && (u >= 0x20 || u == '\t') && u != 0x7F;
                    }
                    ASSERT_EQ(v.status, ok ? 0 : 400) << "byte " << b << " at " << at << " of " << len;
                    if (ok) {
                        const auto first = value.find_first_not_of(" \t");
                        const std::string trimmed =
                            first == std::string::npos ? "" : value.substr(first, value.find_last_not_of(" \t") - first + 1);
                        ASSERT_EQ(fields.size(), 2U);
                        EXPECT_EQ(fields[1].value, trimmed) << "byte " << b << " at " << at << " of " << len;
                    }
                }
            }
        }
    }
}

// Each rule's own verdict, whichever reader saw the line first.
TEST(StrictHeadTest, MalformedFieldsKeepTheirMessages) {
    const auto message_of = [](const std::string& field) {
        return std::string(check_head("GET /a HTTP/1.1\r\nHost: x\r\n" + field + "\r\n", kLimits).message);
    };
    EXPECT_EQ(message_of(" X: folded\r\n"), "Obsolete line folding is not accepted.");
    EXPECT_EQ(message_of("NoColon\r\n"), "Malformed header field.");
    EXPECT_EQ(message_of(": v\r\n"), "Malformed header field.");
    EXPECT_EQ(message_of("Bad Name: v\r\n"), "Malformed header field name.");
    EXPECT_EQ(message_of("Name : v\r\n"), "Malformed header field name.");
    EXPECT_EQ(message_of("X: a\x7f\r\n"), "Invalid character in a header value.");
    EXPECT_EQ(message_of("X: tab\tis\tfine"), "");  // (the head's own CRLF ends it)
    EXPECT_EQ(check_head("GET /a HTTP/1.1\r\nHost: x\r\nX: no end", kLimits).message, "Malformed header section.");
}

TEST(StrictHeadTest, RejectsBadRequestLines) {
    EXPECT_EQ(status_of("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a\r\nHost: x\r\n\r\n"), 400);  // HTTP/0.9 form
    EXPECT_EQ(status_of("GET /a HTTP/1.2\r\nHost: x\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET /a HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET http://evil/a HTTP/1.1\r\nHost: x\r\n\r\n"), 400);  // absolute-form
    EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("get /a HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /" + std::string(3000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
}

// The method is read up to the first space without a search when it is capital letters; every
// other shape keeps its own message, and the version word gives 1.0 or 1.1.
TEST(StrictHeadTest, RequestLineShapesKeepTheirMessages) {
    const auto message_of = [](const std::string& line) {
        return std::string(check_head(line + "\r\nHost: x\r\n\r\n", kLimits).message);
    };
    EXPECT_EQ(message_of("GeT /a HTTP/1.1"), "Malformed method.");
    EXPECT_EQ(message_of("G3T /a HTTP/1.1"), "Malformed method.");
    EXPECT_EQ(message_of("GET\t/a HTTP/1.1"), "Malformed method.");
    EXPECT_EQ(message_of(" GET /a HTTP/1.1"), "Malformed request line.");
    EXPECT_EQ(message_of("GET"), "Malformed request line.");
    EXPECT_EQ(message_of("GET "), "Malformed request line.");
    EXPECT_EQ(message_of("GET /a HTTP/1.1x"), "Malformed HTTP version.");
    EXPECT_EQ(message_of("GET /a http/1.1"), "Malformed HTTP version.");
    EXPECT_EQ(message_of("GET /a  HTTP/1.1"), "Invalid character in the request target.");
    for (const auto& [line, version] : {std::pair<std::string, unsigned>{"GET /a HTTP/1.1", 11},
                                        {"GET /a HTTP/1.0", 10}, {"FOO /a?b HTTP/1.0", 10},
                                        {"PATCH / HTTP/1.1", 11}}) {
        HeadFacts facts;
        const std::string head = line + "\r\nHost: x\r\n\r\n";  // the facts' views point into it
        ASSERT_EQ(check_head(head, kLimits, &facts).status, 0) << line;
        EXPECT_EQ(facts.version, version) << line;
        EXPECT_EQ(facts.method_string, line.substr(0, line.find(' '))) << line;
    }
}

TEST(StrictHeadTest, AnEarly414AgreesWithTheWholeLine) {
    // Fuzz finding (fuzz/regressions/http_request/early-414-vs-bad-method): a long target behind
    // a bad method was 414 when the line arrived in pieces and 400 when it arrived whole. Both
    // now judge the method first, then the target's length, then the rest of the line.
    const std::string long_target = "/" + std::string(3000, 'a');
    EXPECT_FALSE(target_too_long("bad " + long_target, 2048));
    EXPECT_EQ(status_of("bad " + long_target + " HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_TRUE(target_too_long("GET " + long_target, 2048));  // the line has not ended yet
    EXPECT_EQ(status_of("GET " + long_target + "\r\nHost: x\r\n\r\n"), 414);  // nor a version
    EXPECT_FALSE(target_too_long("GET /a HTTP/1.1" + long_target, 2048));
    // A target of exactly the limit whose CR has arrived without its LF is not over it.
    const std::string at_limit = "GET /" + std::string(2047, 'a');
    EXPECT_FALSE(target_too_long(at_limit + "\r", 2048));
    EXPECT_TRUE(target_too_long(at_limit + "a", 2048));
}

TEST(StrictHeadTest, PathRules) {
    EXPECT_TRUE(is_safe_path("/v1/playback/sessions/ps_1/heartbeat"));
    EXPECT_TRUE(is_safe_path("/v1/a%20b"));
    EXPECT_TRUE(is_safe_path("/v1/a..b/.c"));
    EXPECT_TRUE(is_safe_path("/v1/.hidden/..x/x./%41%7e"));
    EXPECT_TRUE(is_safe_path("/"));
    EXPECT_TRUE(is_safe_path("/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ok"));
    for (const char* p : {"/.", "/..", "/./x", "/v1/../x", "/v1/./x", "/v1/x/..", "/v1/x/.", "/v1/x/.%2e", "/v1/%2e%2e/x", "/v1/%2E/x",
                          "/v1/a%2Fb", "/v1/a%2fb", "/v1/a%5cb", "/v1/a%00", "/v1/a%zz", "/v1/a%2",
                          "v1", "", "/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaa/..", "/v1/aaaaaaaaaaaaaaaaaaaaaaaaa%2e%2e",
                          "/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/.", "/v1/aaaaaaa/./aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
        EXPECT_FALSE(is_safe_path(p)) << p;
    }
}

}  // namespace
}  // namespace moneta::http::detail
