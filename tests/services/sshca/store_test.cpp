// The CA's SQLite records (services/sshca/src/store.hpp) in a temp directory: serials, the
// all-or-nothing issue, each revocation selector, the KRL version and the append-only audit log
// (tried with a second, plain sqlite3 connection).
#include "store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "moneta/testing/temp_dir.hpp"

namespace moneta::sshca {
namespace {

constexpr std::int64_t kNowS = 1'764'000'000;
constexpr std::string_view kCaFp = "SHA256:ca";

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = Store::open(dir_.file("sshca.db"));
        ASSERT_TRUE(s) << s.error();
        store_.emplace(std::move(*s));
        ASSERT_TRUE(store_->remember_ca("user", kCaFp, "ssh-ed25519 AAAAca"));
        ASSERT_TRUE(store_->remember_ca("user", kCaFp, "ssh-ed25519 AAAAca")) << "idempotent";
    }

    static NewCert cert(std::string subject, std::string key, std::int64_t valid_before = kNowS + 3600) {
        NewCert c;
        c.subject = subject;
        c.key_id = "user=" + subject + " key=" + key;
        c.principals = {"zone-a", "zone-b"};
        c.valid_after = kNowS - 60;
        c.valid_before = valid_before;
        c.key_fingerprint = "SHA256:" + key;
        c.public_key = "ssh-ed25519 AAAA" + key;
        c.ca_fingerprint = std::string(kCaFp);
        c.issued_at_ms = kNowS * 1000;
        return c;
    }

    std::uint64_t issue(const NewCert& c) {
        auto s = store_->issue(c, [](std::uint64_t) -> boost::system::result<void, std::string> { return {}; });
        EXPECT_TRUE(s) << (s ? "" : s.error());
        return s ? *s : 0;
    }

    std::uint64_t version() {
        auto st = store_->revocation_state();
        EXPECT_TRUE(st);
        return st ? st->version : 0;
    }

    moneta::testing::TempDir dir_{"sshca-store-test-"};
    std::optional<Store> store_;
};

TEST_F(StoreTest, SerialsStartAtOneAndGrow) {
    std::uint64_t seen = 0;
    auto s = store_->issue(cert("alice", "k1"), [&](std::uint64_t serial) -> boost::system::result<void, std::string> {
        seen = serial;
        return {};
    });
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(*s, 1U);
    EXPECT_EQ(seen, 1U) << "sign sees the serial it will be stored under";
    EXPECT_EQ(issue(cert("alice", "k2")), 2U);
    EXPECT_EQ(issue(cert("bob", "k3")), 3U);
    const auto rows = store_->certs(std::nullopt, false, kNowS, 10);
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].serial, 3U) << "newest first";
    EXPECT_EQ(rows[2].cert.principals, (std::vector<std::string>{"zone-a", "zone-b"}));
    EXPECT_EQ(store_->certs("alice", false, kNowS, 10).size(), 2U);
    EXPECT_EQ(store_->certs(std::nullopt, false, kNowS, 2).size(), 2U) << "limit";
}

TEST_F(StoreTest, AFailingSignLeavesNoRowAndSerialsStillGrow) {
    EXPECT_EQ(issue(cert("alice", "k1")), 1U);
    auto refused = store_->issue(cert("alice", "k2"), [](std::uint64_t) -> boost::system::result<void, std::string> {
        return {boost::system::in_place_error, "no"};
    });
    EXPECT_FALSE(refused);
    ASSERT_EQ(store_->certs(std::nullopt, false, kNowS, 10).size(), 1U);
    EXPECT_GT(issue(cert("alice", "k3")), 1U) << "a serial is never reused";
}

TEST_F(StoreTest, SerialsSurviveReopening) {
    EXPECT_EQ(issue(cert("alice", "k1")), 1U);
    store_.reset();
    auto again = Store::open(dir_.file("sshca.db"));
    ASSERT_TRUE(again) << again.error();
    store_.emplace(std::move(*again));
    EXPECT_EQ(issue(cert("alice", "k2")), 2U);
}

TEST_F(StoreTest, RevokesBySerialAndKeyId) {
    const auto s1 = issue(cert("alice", "k1"));
    const auto s2 = issue(cert("alice", "k2"));
    EXPECT_EQ(version(), 0U);
    auto unknown = store_->revoke_serial(99, "r", "root", kNowS * 1000);
    ASSERT_TRUE(unknown);
    EXPECT_FALSE(*unknown);
    EXPECT_EQ(version(), 0U) << "nothing changes for an unknown serial";

    auto r = store_->revoke_serial(s1, "lost", "root", kNowS * 1000);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->serials, std::vector<std::uint64_t>{s1});
    EXPECT_EQ((*r)->krl_version, 1U);
    EXPECT_EQ(version(), 1U);

    auto no_key_id = store_->revoke_key_id("user=nobody", "r", "root", kNowS * 1000);
    ASSERT_TRUE(no_key_id);
    EXPECT_FALSE(*no_key_id);
    auto by_id = store_->revoke_key_id("user=alice key=k2", "r", "root", kNowS * 1000);
    ASSERT_TRUE(by_id && *by_id);
    EXPECT_EQ((*by_id)->serials, std::vector<std::uint64_t>{s2});
    EXPECT_EQ(version(), 2U);

    const auto st = store_->revocation_state();
    ASSERT_TRUE(st);
    ASSERT_EQ(st->serials.size(), 1U);
    EXPECT_EQ(st->serials[0].ca_public_key, "ssh-ed25519 AAAAca");
    EXPECT_EQ(st->serials[0].serials, std::vector<std::uint64_t>{s1});
    EXPECT_EQ(st->key_ids, std::vector<std::string>{"user=alice key=k2"});
    EXPECT_EQ(st->generated_s, kNowS);
    const auto rows = store_->certs("alice", false, kNowS, 10);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_TRUE(rows[0].revoked_at_ms && rows[1].revoked_at_ms);
    EXPECT_TRUE(store_->certs("alice", true, kNowS, 10).empty()) << "active leaves out revoked ones";
}

TEST_F(StoreTest, RevokesAPublicKeyAndEveryCertificateOfIt) {
    const auto s1 = issue(cert("alice", "k1"));
    const auto s2 = issue(cert("alice", "k1"));
    issue(cert("alice", "k2"));
    auto r = store_->revoke_public_key("ssh-ed25519 AAAAk1", "SHA256:k1", "r", "root", kNowS * 1000);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->serials, (std::vector<std::uint64_t>{s1, s2}));
    // A key never certified can be revoked too.
    auto never = store_->revoke_public_key("ssh-ed25519 AAAAzz", "SHA256:zz", "r", "root", kNowS * 1000);
    ASSERT_TRUE(never);
    EXPECT_TRUE(never->serials.empty());
    const auto st = store_->revocation_state();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->public_keys, (std::vector<std::string>{"ssh-ed25519 AAAAk1", "ssh-ed25519 AAAAzz"}));
    EXPECT_EQ(st->version, 2U);
    EXPECT_EQ(store_->certs("alice", true, kNowS, 10).size(), 1U);
}

TEST_F(StoreTest, RevokesAUsersUnexpiredCertificatesOnly) {
    const auto expired = issue(cert("alice", "k1", kNowS - 1));
    const auto live = issue(cert("alice", "k2"));
    issue(cert("bob", "k3"));
    auto r = store_->revoke_user("alice", "left", "root", kNowS * 1000);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->serials, std::vector<std::uint64_t>{live});
    const auto rows = store_->certs("alice", false, kNowS, 10);
    for (const auto& row : rows) {
        EXPECT_EQ(row.revoked_at_ms.has_value(), row.serial == live) << row.serial;
    }
    (void)expired;
    const auto st = store_->revocation_state();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->public_keys, std::vector<std::string>{"ssh-ed25519 AAAAk2"}) << "and its public key";
    EXPECT_EQ(store_->certs("bob", true, kNowS, 10).size(), 1U);
}

TEST_F(StoreTest, TheAuditLogIsAppendOnly) {
    ASSERT_TRUE(store_->audit(AuditEvent{0, 1000, "issued", "alice", "10.0.0.1", "req-1", R"({"serial":1})"}));
    ASSERT_TRUE(store_->audit(AuditEvent{0, 2000, "denied", "bob", "10.0.0.2", "req-2", "{}"}));
    const auto events = store_->audit_since(0, 10);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0].event, "issued");
    EXPECT_EQ(events[1].actor, "bob");
    EXPECT_EQ(store_->audit_since(1500, 10).size(), 1U);

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("sshca.db").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"UPDATE audit SET actor = 'mallory'", "DELETE FROM audit",
                            "DELETE FROM audit WHERE id = 1", "UPDATE audit SET detail = '{}' WHERE id = 2"}) {
        char* err = nullptr;
        EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << sql;
        EXPECT_NE(std::string(err != nullptr ? err : "").find("append-only"), std::string::npos) << sql;
        sqlite3_free(err);
    }
    EXPECT_EQ(sqlite3_exec(db, "INSERT INTO audit (at_ms, event, actor, ip, request_id, detail) "
                               "VALUES (3000, 'x', '', '', '', '{}')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << "appending is allowed";
    sqlite3_close(db);
    const auto after = store_->audit_since(0, 10);
    ASSERT_EQ(after.size(), 3U);
    EXPECT_EQ(after[0].actor, "alice");
    EXPECT_EQ(after[1].detail, "{}");
}

}  // namespace
}  // namespace moneta::sshca
