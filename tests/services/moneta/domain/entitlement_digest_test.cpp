// The entitlement digest judges exactly as check_entitlement does on the account it was made of.
#include "domain/entitlement_digest.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "domain/playability.hpp"

namespace moneta::domain {
namespace {

constexpr std::int64_t kNow = 1'764'000'000'000;

Account account(std::string status, std::int64_t paid_until, std::vector<std::string> profiles) {
    Account a;
    a.id = "a_1";
    a.status = std::move(status);
    a.paid_until_ms = paid_until;
    for (auto& p : profiles) {
        a.profiles.push_back(Profile{std::move(p), "name", 18});
    }
    return a;
}

TEST(EntitlementDigest, JudgesLikeCheckEntitlementForEveryCase) {
    const std::vector<Account> accounts = {
        account("active", kNow + 1000, {"p_1", "p_2"}),
        account("active", kNow, {"p_1"}),                 // paid until now: ended
        account("cancelled", kNow + 1000, {"p_1"}),
        account("active", kNow + 1000, {}),
        account("active", kNow + 1000, {"p|1", "12:x", ""}),  // ids with separators or empty
    };
    for (const Account& a : accounts) {
        const std::string stored = encode_entitlement_digest(a, 123);
        const auto d = decode_entitlement_digest(stored);
        ASSERT_TRUE(d.has_value()) << stored;
        EXPECT_EQ(d->fetched_at_ms, 123);
        for (const std::string pid : {"p_1", "p_2", "p", "p|1", "12:x", "", "x"}) {
            EXPECT_EQ(check_entitlement(*d, pid, kNow), check_entitlement(a, pid, kNow)) << stored << " " << pid;
        }
    }
}

TEST(EntitlementDigest, RefusesWhatItDidNotWrite) {
    for (const char* bad : {"", "123", "123|", "x|1|", "123|456", "123|456|3:p_", "123|456|-1:", "123|456|2p_1",
                            "123|456|99999999999999999999:x", "1.5|456|"}) {
        EXPECT_FALSE(decode_entitlement_digest(bad).has_value()) << bad;
    }
    EXPECT_TRUE(decode_entitlement_digest("123|456|").has_value());  // no profiles
}

// The decoder before its integers were read without std::from_chars: the reference for the test
// below.
bool reference_take_int(std::string_view& s, char stop, std::int64_t& out) {
    const auto end = s.find(stop);
    if (end == std::string_view::npos || end == 0) {
        return false;
    }
    const auto r = std::from_chars(s.data(), s.data() + end, out);
    if (r.ec != std::errc() || r.ptr != s.data() + end) {
        return false;
    }
    s.remove_prefix(end + 1);
    return true;
}

std::optional<EntitlementDigest> reference_decode(std::string_view stored) {
    EntitlementDigest d;
    if (!reference_take_int(stored, '|', d.fetched_at_ms) || !reference_take_int(stored, '|', d.playable_until_ms)) {
        return std::nullopt;
    }
    std::string_view rest = stored;
    while (!rest.empty()) {
        std::int64_t len = 0;
        if (!reference_take_int(rest, ':', len) || len < 0 || static_cast<std::uint64_t>(len) > rest.size()) {
            return std::nullopt;
        }
        rest.remove_prefix(static_cast<std::size_t>(len));
    }
    d.profiles = stored;
    return d;
}

TEST(EntitlementDigest, DecodesExactlyLikeFromChars) {
    std::vector<std::string> inputs = {
        "9223372036854775807|-9223372036854775808|",  // the int64 limits
        "9223372036854775808|1|",                       // one past
        "-9223372036854775809|1|",
        "18446744073709551616|1|",  // past uint64 too
        "000000000000000000000000001|-0|1:x",
        "+1|2|", "-|2|", "1|2|-0:", "1|2|00002:ab", "1|2|2:ab3:cde", "1|2|3:ab",
    };
    // Digests as encode writes them (numbers of any length and sign, profile lengths right or
    // off by one), a byte changed in some.
    std::mt19937_64 rng(11);
    const auto number = [&rng] {
        std::string n = rng() % 4 == 0 ? "-" : "";
        const std::size_t digits = 1 + rng() % 21;
        for (std::size_t i = 0; i < digits; ++i) {
            n.push_back(static_cast<char>('0' + rng() % 10));
        }
        return n;
    };
    const std::string_view alphabet = "0123456789-|:+x";
    for (int i = 0; i < 200'000; ++i) {
        std::string s = number() + "|" + number() + "|";
        for (std::size_t p = rng() % 3; p > 0; --p) {
            const std::size_t len = rng() % 4;
            const std::size_t said = len + (rng() % 8 == 0 ? 1 : 0);
            s += std::to_string(said) + ":" + std::string(len, alphabet[rng() % alphabet.size()]);
        }
        if (rng() % 3 == 0) {
            s[rng() % s.size()] = alphabet[rng() % alphabet.size()];
        }
        inputs.push_back(std::move(s));
    }
    int decoded = 0;
    for (const std::string& in : inputs) {
        const auto got = decode_entitlement_digest(in);
        const auto want = reference_decode(in);
        ASSERT_EQ(got.has_value(), want.has_value()) << in;
        if (got) {
            ++decoded;
            EXPECT_EQ(got->fetched_at_ms, want->fetched_at_ms) << in;
            EXPECT_EQ(got->playable_until_ms, want->playable_until_ms) << in;
            EXPECT_EQ(got->profiles, want->profiles) << in;
            for (const std::string_view pid : {"", "x", "ab", "p_1"}) {
                EXPECT_EQ(check_entitlement(*got, pid, 5), check_entitlement(*want, pid, 5)) << in;
            }
        }
    }
    EXPECT_GT(decoded, 20'000);  // the random inputs reach the accepting paths too
}

// The times are read as two eight-byte loads when nine to fifteen digits are there, anything
// else a digit at a time: every byte value at every position of digests whose numbers straddle
// the eight-byte chunks (13 digits as stored, 8, 16,
// 19 and 20 digits, signs, leading zeros) must be refused or read exactly as from_chars reads it.
TEST(EntitlementDigest, EveryByteAtEveryPositionDecodesLikeFromChars) {
    const std::vector<std::string> bases = {
        "1733612345678|4102444800000|9:p_00001_19:p_00001_2",
        "12345678|87654321|1:x",
        "1234567812345678|-1234567812345678|3:abc",
        "9223372036854775807|-9223372036854775808|",
        "00000000000000000009223372036854775807|0000000000000000000000001|2:ab",
        "18446744073709551615|1|",
        "-0|0|10:0123456789",
    };
    int compared = 0;
    for (const std::string& base : bases) {
        for (std::size_t at = 0; at < base.size(); ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string in = base;
                in[at] = static_cast<char>(b);
                const auto got = decode_entitlement_digest(in);
                const auto want = reference_decode(in);
                ASSERT_EQ(got.has_value(), want.has_value()) << at << " " << b << " " << in;
                if (got) {
                    ASSERT_EQ(got->fetched_at_ms, want->fetched_at_ms) << in;
                    ASSERT_EQ(got->playable_until_ms, want->playable_until_ms) << in;
                    ASSERT_EQ(got->profiles, want->profiles) << in;
                }
                ++compared;
            }
        }
        // Every prefix too: a number cut short at each length, with and without its stop.
        for (std::size_t n = 0; n <= base.size(); ++n) {
            const std::string in = base.substr(0, n);
            ASSERT_EQ(decode_entitlement_digest(in).has_value(), reference_decode(in).has_value()) << in;
        }
    }
    EXPECT_GT(compared, 50'000);
}

// The int64 edges and every length of a run of digits (1-40, so every split into chunks and
// tail), as fetched_at with a valid rest, against from_chars.
TEST(EntitlementDigest, EveryDigitRunLengthDecodesLikeFromChars) {
    std::mt19937_64 rng(12);
    for (std::size_t len = 1; len <= 40; ++len) {
        for (int i = 0; i < 200; ++i) {
            std::string n;
            for (std::size_t k = 0; k < len; ++k) {
                n.push_back(static_cast<char>('0' + rng() % 10));
            }
            if (i % 4 == 0) {
                n[0] = '0';  // leading zeros
            }
            for (const std::string& sign : {std::string(), std::string("-")}) {
                const std::string in = sign + n + "|" + n + "|";
                const auto got = decode_entitlement_digest(in);
                const auto want = reference_decode(in);
                ASSERT_EQ(got.has_value(), want.has_value()) << in;
                if (got) {
                    ASSERT_EQ(got->fetched_at_ms, want->fetched_at_ms) << in;
                    ASSERT_EQ(got->playable_until_ms, want->playable_until_ms) << in;
                }
            }
        }
    }
    for (const char* edge : {"9223372036854775807", "9223372036854775808", "-9223372036854775808",
                             "-9223372036854775809", "18446744073709551615", "18446744073709551616",
                             "99999999999999999999", "0", "-0", "00000000"}) {
        const std::string in = std::string(edge) + "|" + edge + "|";
        const auto got = decode_entitlement_digest(in);
        const auto want = reference_decode(in);
        ASSERT_EQ(got.has_value(), want.has_value()) << in;
        if (got) {
            EXPECT_EQ(got->fetched_at_ms, want->fetched_at_ms) << in;
        }
    }
}

}  // namespace
}  // namespace moneta::domain
