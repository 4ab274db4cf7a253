// The policy file and the pure decisions made from it (services/sshca/src/policy.hpp): plain
// values in, a certificate's principals, lifetime, extensions and critical options (or the
// refusal) out.
#include "policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sshca_fixture.hpp"

namespace moneta::sshca {
namespace {

Policy demo() {
    auto p = Policy::parse(testing::kTestPolicy, "policy.json");
    EXPECT_TRUE(p) << (p ? "" : p.error());
    return p ? *p : Policy{};
}

Identity who(std::vector<std::string> groups) { return Identity{"alice", std::move(groups), "jwt"}; }

/// The error of parsing @p text (fails the test when it parses).
std::string parse_error(std::string_view text) {
    auto p = Policy::parse(text, "policy.json");
    EXPECT_FALSE(p) << text;
    return p ? "" : p.error();
}

std::string group(std::string_view body) {
    return R"({"groups":{"g":)" + std::string(body) + "}}";
}

TEST(SshcaPolicyParse, TheDemoPolicyParsesSortedWithDefaults) {
    const Policy p = demo();
    EXPECT_EQ(p.default_ttl_s, 3600);
    EXPECT_EQ(p.backdate_s, 60);
    ASSERT_EQ(p.groups.size(), 5U);
    EXPECT_EQ(p.groups.front().name, "deploy-bot");
    ASSERT_NE(p.group("sec-admin"), nullptr);
    EXPECT_TRUE(p.group("sec-admin")->admin);
    EXPECT_EQ(p.group("nope"), nullptr);
    EXPECT_EQ(p.group("web-eng")->extensions, std::set<std::string>{"permit-pty"}) << "default extensions";
    // The shipped demo policy parses too.
    EXPECT_TRUE(Policy::load(std::filesystem::path(MONETA_SOURCE_DIR) / "deploy/sshca/policy.json"));
}

TEST(SshcaPolicyParse, ErrorsNameTheKey) {
    struct Case {
        std::string text;
        std::string names;
    };
    const std::vector<Case> cases{
        {R"({"groups":{},"colour":"red"})", "colour"},
        {group(R"({"principals":["a"],"colour":"red"})"), "colour"},
        {group(R"({"principals":["has space"]})"), "principals"},
        {group(R"({"principals":["a,b"]})"), "principals"},
        {group(R"({"principals":[""]})"), "principals"},
        {group(R"({"extensions":["permit-everything"]})"), "extensions"},
        {group(R"({"source_address":"10.0.0.0/33"})"), "source_address"},
        {group(R"({"source_address":"not-an-address"})"), "source_address"},
        {group(R"({"max_ttl_s":59})"), "max_ttl_s"},
        {group(R"({"max_ttl_s":604801})"), "max_ttl_s"},
        {R"({"default_ttl_s":10,"groups":{}})", "default_ttl_s"},
        {R"({"backdate_s":601,"groups":{}})", "backdate_s"},
        {R"({"groups":{"g":"video"}})", "g"},
        {R"({"groups":{"g":["a"]}})", "g"},
        {R"({"groups":{"bad name":{}}})", "group name"},
        {group(R"({"force_command":""})"), "force_command"},
        {group(R"({"admin":"yes"})"), "admin"},
    };
    for (const auto& c : cases) {
        const std::string e = parse_error(c.text);
        EXPECT_NE(e.find(c.names), std::string::npos) << c.text << " -> " << e;
        EXPECT_EQ(e.rfind("policy.json: ", 0), 0U) << e;
    }
    EXPECT_FALSE(Policy::parse("{not json", "policy.json"));
}

TEST(SshcaPolicyDecide, RequestedPrincipalsMustAllBeGranted) {
    const Policy p = demo();
    UserCertOptions o;
    o.principals = std::vector<std::string>{"zone-video-prod"};
    auto d = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->principals, std::vector<std::string>{"zone-video-prod"});
    EXPECT_EQ(d->groups, std::vector<std::string>{"video-eng"});

    o.principals = std::vector<std::string>{"zone-video-prod", "root-everywhere", "zone-x"};
    auto refused = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().why, Refusal::kNotAllowed);
    EXPECT_NE(refused.error().message.find("root-everywhere,zone-x"), std::string::npos) << refused.error().message;
    EXPECT_EQ(refused.error().message.find("zone-video-prod"), std::string::npos) << "only the refused ones";

    // None asked: every principal the groups grant, sorted and unique.
    auto all = decide_user_certificate(p, who({"video-eng", "oncall"}), {});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->principals, (std::vector<std::string>{"root-everywhere", "zone-video-dev", "zone-video-prod"}));
    EXPECT_EQ(all->groups, (std::vector<std::string>{"oncall", "video-eng"}));

    o.principals = std::vector<std::string>{"bad name"};
    auto invalid = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error().why, Refusal::kInvalid);
}

TEST(SshcaPolicyDecide, NoPrincipalsIsEmptyPrincipals) {
    const Policy p = demo();
    auto admin = decide_user_certificate(p, who({"sec-admin"}), {});
    ASSERT_FALSE(admin);
    EXPECT_EQ(admin.error().why, Refusal::kEmptyPrincipals);
    UserCertOptions o;
    o.principals = std::vector<std::string>{};
    auto empty = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().why, Refusal::kEmptyPrincipals);
}

TEST(SshcaPolicyDecide, UnknownGroupsAreIgnored) {
    const Policy p = demo();
    auto none = decide_user_certificate(p, who({"marketing"}), {});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().why, Refusal::kNotAllowed);
    auto mixed = decide_user_certificate(p, who({"marketing", "web-eng"}), {});
    ASSERT_TRUE(mixed);
    EXPECT_EQ(mixed->groups, std::vector<std::string>{"web-eng"});
    const Grant g = grant_for(p, who({"marketing", "web-eng", "sec-admin"}));
    EXPECT_EQ(g.groups, (std::vector<std::string>{"sec-admin", "web-eng"}));
    EXPECT_EQ(g.principals, std::vector<std::string>{"zone-web-prod"});
    EXPECT_EQ(g.max_ttl_s, 7200);
    EXPECT_TRUE(g.admin);
    EXPECT_FALSE(grant_for(p, who({"video-eng"})).admin);
}

TEST(SshcaPolicyDecide, LifetimeIsBoundByEveryPrincipalsLongestGrant) {
    const Policy p = demo();
    UserCertOptions o;
    // zone-video-prod: video-eng 8 h, oncall 24 h → 24 h; root-everywhere only oncall → 24 h.
    o.principals = std::vector<std::string>{"zone-video-prod"};
    o.ttl_s = 86400;
    EXPECT_TRUE(decide_user_certificate(p, who({"video-eng", "oncall"}), o));
    o.ttl_s = 86401;
    auto over = decide_user_certificate(p, who({"video-eng", "oncall"}), o);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().why, Refusal::kNotAllowed);
    EXPECT_NE(over.error().message.find("86400"), std::string::npos);
    // zone-video-dev is only video-eng's: 8 h for a certificate that carries it.
    o.principals = std::vector<std::string>{"zone-video-prod", "zone-video-dev"};
    o.ttl_s = 28801;
    auto dev = decide_user_certificate(p, who({"video-eng", "oncall"}), o);
    ASSERT_FALSE(dev);
    EXPECT_NE(dev.error().message.find("28800"), std::string::npos) << dev.error().message;
    o.ttl_s = 59;
    auto tiny = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(tiny);
    EXPECT_EQ(tiny.error().why, Refusal::kInvalid);
}

TEST(SshcaPolicyDecide, DefaultLifetimeIsTheSmallerOfDefaultAndMax) {
    Policy p = demo();
    auto d = decide_user_certificate(p, who({"video-eng"}), {});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ttl_s, 3600);
    p.default_ttl_s = 86400;
    auto capped = decide_user_certificate(p, who({"web-eng"}), {});
    ASSERT_TRUE(capped);
    EXPECT_EQ(capped->ttl_s, 7200);
}

TEST(SshcaPolicyDecide, ExtensionsDefaultToPermitPtyOnlyWhenAllowed) {
    const Policy p = demo();
    auto d = decide_user_certificate(p, who({"video-eng"}), {});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->extensions, std::set<std::string>{"permit-pty"});
    auto bot = decide_user_certificate(p, who({"deploy-bot"}), {});
    ASSERT_TRUE(bot);
    EXPECT_TRUE(bot->extensions.empty()) << "deploy-bot allows none";

    UserCertOptions o;
    o.extensions = std::vector<std::string>{"permit-port-forwarding"};
    auto fwd = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_TRUE(fwd);
    EXPECT_EQ(fwd->extensions, std::set<std::string>{"permit-port-forwarding"}) << "only what was asked";
    o.extensions = std::vector<std::string>{"permit-agent-forwarding"};
    auto agent = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(agent);
    EXPECT_EQ(agent.error().why, Refusal::kNotAllowed);
    EXPECT_NE(agent.error().message.find("permit-agent-forwarding"), std::string::npos);
    o.extensions = std::vector<std::string>{"permit-everything"};
    auto unknown = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().why, Refusal::kInvalid);
    // Extensions must be allowed for every principal: root-everywhere (oncall) has no
    // port forwarding even though video-eng grants it for zone-video-prod.
    o.extensions = std::vector<std::string>{"permit-port-forwarding"};
    o.principals = std::vector<std::string>{"zone-video-prod", "root-everywhere"};
    EXPECT_FALSE(decide_user_certificate(p, who({"video-eng", "oncall"}), o));
    o.principals = std::vector<std::string>{"zone-video-prod"};
    EXPECT_TRUE(decide_user_certificate(p, who({"video-eng", "oncall"}), o));
}

TEST(SshcaPolicyDecide, BoundGroupsCarryTheirSourceAddressAndForceCommand) {
    const Policy p = demo();
    auto bot = decide_user_certificate(p, who({"deploy-bot"}), {});
    ASSERT_TRUE(bot);
    EXPECT_EQ(bot->critical_options.at("source-address"), "127.0.0.0/8,10.0.0.0/8");
    EXPECT_EQ(bot->critical_options.at("force-command"), "/usr/local/bin/deploy");

    UserCertOptions o;
    o.source_address = "192.0.2.0/24";
    auto moved = decide_user_certificate(p, who({"deploy-bot"}), o);
    ASSERT_FALSE(moved);
    EXPECT_EQ(moved.error().why, Refusal::kNotAllowed);
    o.source_address = "127.0.0.0/8,10.0.0.0/8";
    EXPECT_TRUE(decide_user_certificate(p, who({"deploy-bot"}), o)) << "the same value is no change";

    // Where the policy sets none, the client may add one (checked).
    o.source_address = "192.0.2.0/24";
    auto own = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_TRUE(own);
    EXPECT_EQ(own->critical_options.at("source-address"), "192.0.2.0/24");
    EXPECT_FALSE(own->critical_options.contains("force-command"));
    o.source_address = "192.0.2.0/99";
    auto bad = decide_user_certificate(p, who({"video-eng"}), o);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().why, Refusal::kInvalid);
    EXPECT_TRUE(decide_user_certificate(p, who({"video-eng"}), {})->critical_options.empty());
}

TEST(SshcaPolicyDecide, DifferentlyBoundPrincipalsCannotShareACertificate) {
    auto p = Policy::parse(R"({"groups":{
        "a":{"principals":["pa","shared"],"source_address":"10.0.0.0/8","force_command":"/bin/a"},
        "b":{"principals":["pb","shared"],"source_address":"192.168.0.0/16","force_command":"/bin/a"},
        "c":{"principals":["pc"],"force_command":"/bin/c"},
        "free":{"principals":["pf","shared"]}}})",
                           "policy.json");
    ASSERT_TRUE(p) << p.error();
    UserCertOptions o;
    o.principals = std::vector<std::string>{"pa", "pb"};
    auto conflict = decide_user_certificate(*p, who({"a", "b"}), o);
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().why, Refusal::kNotAllowed);
    EXPECT_NE(conflict.error().message.find("source-address"), std::string::npos) << conflict.error().message;
    o.principals = std::vector<std::string>{"pa", "pc"};
    auto commands = decide_user_certificate(*p, who({"a", "c"}), o);
    ASSERT_FALSE(commands);
    EXPECT_NE(commands.error().message.find("force-command"), std::string::npos) << commands.error().message;
    // Separately, each is fine.
    o.principals = std::vector<std::string>{"pa"};
    EXPECT_TRUE(decide_user_certificate(*p, who({"a", "b"}), o));
    // A principal two groups bind differently is itself in conflict; one unbound grant frees it.
    o.principals = std::vector<std::string>{"shared"};
    EXPECT_FALSE(decide_user_certificate(*p, who({"a", "b"}), o));
    auto freed = decide_user_certificate(*p, who({"a", "free"}), o);
    ASSERT_TRUE(freed);
    EXPECT_TRUE(freed->critical_options.empty());
}

TEST(SshcaPolicy, UserKeyIdFormatAndNames) {
    EXPECT_EQ(user_key_id("alice", {"oncall", "video-eng"}, "req-1", "10.1.2.3"),
              "user=alice groups=oncall,video-eng req=req-1 ip=10.1.2.3");
    EXPECT_EQ(user_key_id("bob", {}, "r", "::1"), "user=bob groups= req=r ip=::1");
    EXPECT_TRUE(is_valid_name("a.b_c-d@e+f=g"));
    EXPECT_FALSE(is_valid_name(""));
    EXPECT_FALSE(is_valid_name(std::string(129, 'a')));
    EXPECT_TRUE(is_valid_name(std::string(128, 'a')));
    for (const char* bad : {"a b", "a,b", "a\nb", "a/b", "é"}) {
        EXPECT_FALSE(is_valid_name(bad)) << bad;
    }
}

}  // namespace
}  // namespace moneta::sshca
