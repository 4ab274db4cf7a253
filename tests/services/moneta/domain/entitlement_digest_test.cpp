// The entitlement digest judges exactly as check_entitlement does on the account it was made of.
#include "domain/entitlement_digest.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace moneta::domain
