// CA keys on disk (services/sshca/src/ca_keys): made once and encrypted, refused with a wrong
// passphrase, and the user CA's rotation: the next key published before it signs, the previous
// one still published after.
#include "ca_keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "moneta/testing/temp_dir.hpp"

namespace moneta::sshca {
namespace {

namespace fs = std::filesystem;

CaKeySettings settings(const fs::path& dir, bool generate = true) {
    CaKeySettings s;
    s.dir = dir;
    s.passphrase = "rotation test passphrase";
    s.generate_missing = generate;
    return s;
}

std::vector<std::string> fingerprints(const CaKeys& keys) {
    std::vector<std::string> out;
    for (const auto& k : keys.published_user_keys()) {
        out.push_back(k.fingerprint());
    }
    return out;
}

TEST(CaKeysTest, MadeOnceEncryptedAndNeverWithAnotherPassphrase) {
    moneta::testing::TempDir dir("sshca-keys-");
    EXPECT_FALSE(CaKeys::load(settings(dir.path(), false))) << "no keys and no --init must not start";
    auto first = CaKeys::load(settings(dir.path()));
    ASSERT_TRUE(first) << first.error();
    EXPECT_NE(first->user().public_key(), first->host().public_key());
    auto again = CaKeys::load(settings(dir.path(), false));
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(again->user().public_key(), first->user().public_key()) << "a restart must not make a new CA";
    std::ifstream in(dir.path() / "user_ca.key");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str().rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----", 0), 0U);
    auto wrong = settings(dir.path(), false);
    wrong.passphrase = "not the passphrase";
    const auto refused = CaKeys::load(wrong);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().find(wrong.passphrase), std::string::npos) << "the passphrase was echoed";
}

TEST(CaKeysTest, RotationPublishesTheNextKeyFirstAndKeepsThePreviousOne) {
    moneta::testing::TempDir dir("sshca-keys-");
    auto before = CaKeys::load(settings(dir.path()));
    ASSERT_TRUE(before) << before.error();
    const std::string old_key = before->user().public_key().fingerprint();
    EXPECT_FALSE(CaKeys::commit_rotation(settings(dir.path()))) << "commit without prepare";

    ASSERT_TRUE(CaKeys::prepare_rotation(settings(dir.path())));
    EXPECT_FALSE(CaKeys::prepare_rotation(settings(dir.path()))) << "a second prepare would replace the published key";
    auto prepared = CaKeys::load(settings(dir.path(), false));
    ASSERT_TRUE(prepared) << prepared.error();
    EXPECT_EQ(prepared->user().public_key().fingerprint(), old_key) << "the next key must not sign yet";
    const auto published = fingerprints(*prepared);
    ASSERT_EQ(published.size(), 2U);
    EXPECT_EQ(published[0], old_key);
    const std::string next_key = published[1];

    ASSERT_TRUE(CaKeys::commit_rotation(settings(dir.path())));
    auto rotated = CaKeys::load(settings(dir.path(), false));
    ASSERT_TRUE(rotated) << rotated.error();
    EXPECT_EQ(rotated->user().public_key().fingerprint(), next_key);
    EXPECT_EQ(fingerprints(*rotated), (std::vector<std::string>{next_key, old_key}));
    EXPECT_EQ(rotated->host().public_key(), before->host().public_key()) << "the host CA does not rotate with it";
}

}  // namespace
}  // namespace moneta::sshca
