#include "moneta/sshcert/ca_key.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <type_traits>

#include "openssh_tool.hpp"

namespace moneta::sshcert {
namespace {

using testing::kTestPassphrase;
using testing::OpensshTool;

// One owner of the secret, and no way to copy it out.
static_assert(!std::is_copy_constructible_v<CaKey>);
static_assert(!std::is_copy_assignable_v<CaKey>);

struct Spec {
    CaKeySpec spec;
    std::string_view algorithm;
};

const Spec kSpecs[] = {
    {{KeyType::kEd25519, 0, RsaHash::kSha512}, "ssh-ed25519"},
    {{KeyType::kEcdsaP256, 0, RsaHash::kSha512}, "ecdsa-sha2-nistp256"},
    {{KeyType::kRsa, 3072, RsaHash::kSha256}, "rsa-sha2-256"},
    {{KeyType::kRsa, 4096, RsaHash::kSha512}, "rsa-sha2-512"},
};

/// An OpenSSL-made PEM of @p pkey: encrypted with @p passphrase, or plain when it is empty.
std::string openssl_pem(EVP_PKEY* pkey, std::string_view passphrase) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (passphrase.empty()) {
        PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
        PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), passphrase.data(),
                                      static_cast<int>(passphrase.size()), nullptr, nullptr);
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return pem;
}

TEST(CaKeyTest, EveryCaTypeRoundTripsThroughItsEncryptedPem) {
    for (const auto& s : kSpecs) {
        SCOPED_TRACE(s.algorithm);
        auto ca = CaKey::generate(s.spec);
        ASSERT_TRUE(ca) << ca.error().message;
        EXPECT_EQ(ca->public_key().type(), s.spec.type);
        EXPECT_EQ(ca->signature_algorithm(), s.algorithm);
        if (s.spec.type == KeyType::kRsa) {
            EXPECT_EQ(ca->public_key().bits(), s.spec.rsa_bits);
        }
        const auto pem = ca->to_encrypted_pem(kTestPassphrase);
        ASSERT_TRUE(pem);
        EXPECT_EQ(pem->rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0), 0U);
        const auto loaded = CaKey::from_encrypted_pem(*pem, kTestPassphrase, s.spec.rsa_hash);
        ASSERT_TRUE(loaded) << loaded.error().message;
        EXPECT_EQ(loaded->public_key(), ca->public_key());
        EXPECT_EQ(loaded->signature_algorithm(), s.algorithm);
        // A fresh salt each time: two encryptions of one key differ.
        EXPECT_NE(*ca->to_encrypted_pem(kTestPassphrase), *pem);
    }
}

TEST(CaKeyTest, SaveWritesAMode0600FileThatLoadReads) {
    OpensshTool tool;
    auto ca = CaKey::generate();
    ASSERT_TRUE(ca);
    const auto path = tool.file("ca.pem");
    ASSERT_TRUE(ca->save(path, kTestPassphrase));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    const auto loaded = CaKey::load(path, kTestPassphrase);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->public_key(), ca->public_key());
    // Overwriting a looser file tightens it.
    tool.write("ca.pem", "old", 0644);
    ASSERT_TRUE(ca->save(path, kTestPassphrase));
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    const auto missing = CaKey::load(tool.file("nope.pem"), kTestPassphrase);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kIo);
}

TEST(CaKeyTest, AWrongPassphraseIsATypedError) {
    for (const auto& s : kSpecs) {
        SCOPED_TRACE(s.algorithm);
        auto ca = CaKey::generate(s.spec);
        ASSERT_TRUE(ca);
        const auto pem = *ca->to_encrypted_pem(kTestPassphrase);
        for (std::string_view wrong : {"", "correct horse battery stapler", "x"}) {
            const auto loaded = CaKey::from_encrypted_pem(pem, wrong);
            ASSERT_FALSE(loaded);
            EXPECT_EQ(loaded.error().code, Errc::kBadPassphrase);
        }
    }
}

TEST(CaKeyTest, RefusesPlaintextKeysEmptyPassphrasesAndGarbage) {
    auto ca = CaKey::generate();
    ASSERT_TRUE(ca);
    const auto empty = ca->to_encrypted_pem("");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
    const auto plain = CaKey::from_encrypted_pem(openssl_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), ""), "x");
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().code, Errc::kInvalidArgument);
    const auto garbage = CaKey::from_encrypted_pem(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "x");
    ASSERT_FALSE(garbage);
    EXPECT_EQ(garbage.error().code, Errc::kMalformed);
    const auto huge = CaKey::from_encrypted_pem(std::string(65 * 1024, 'A'), "x");
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error().code, Errc::kTooLarge);
}

TEST(CaKeyTest, ReadsOpensslPemsOfAllowedTypesOnly) {
    // PBKDF2 (OpenSSL's default PKCS#8 encryption) is read as well as our scrypt.
    const auto p256 = CaKey::from_encrypted_pem(
        openssl_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "pw"), "pw");
    ASSERT_TRUE(p256) << p256.error().message;
    EXPECT_EQ(p256->public_key().type(), KeyType::kEcdsaP256);
    const auto p384 = CaKey::from_encrypted_pem(
        openssl_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), "pw"), "pw");
    ASSERT_FALSE(p384);
    EXPECT_EQ(p384.error().code, Errc::kUnsupportedKeyType);
    const auto rsa2048 = CaKey::from_encrypted_pem(
        openssl_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}), "pw"), "pw");
    ASSERT_FALSE(rsa2048);
    EXPECT_EQ(rsa2048.error().code, Errc::kKeyTooSmall);
    for (const CaKeySpec& bad : {CaKeySpec{KeyType::kEcdsaP384, 0, RsaHash::kSha512},
                                 CaKeySpec{KeyType::kRsa, 2048, RsaHash::kSha512}}) {
        const auto generated = CaKey::generate(bad);
        ASSERT_FALSE(generated);
        EXPECT_EQ(generated.error().code, Errc::kInvalidArgument);
    }
}

TEST(CaKeyTest, SshKeygenDerivesTheSamePublicKey) {
    OpensshTool tool;
    for (const auto& s : kSpecs) {
        SCOPED_TRACE(s.algorithm);
        auto ca = CaKey::generate(s.spec);
        ASSERT_TRUE(ca);
        tool.write_private_key_for_ssh_keygen("ca_key", *ca);
        const auto derived = tool.keygen({"-y", "-f", "ca_key"});
        ASSERT_EQ(derived.status, 0) << derived.output;
        const std::string expected = ca->public_key().to_line();
        EXPECT_EQ(derived.output.substr(0, expected.size()), expected);
    }
}

TEST(CaKeyTest, SshKeygenOpensTheEncryptedFileWithThePassphrase) {
    // OpenSSH 9.2 reads PKCS#8 PEM for ECDSA and RSA (not Ed25519): the saved file itself, with
    // the passphrase given through SSH_ASKPASS.
    OpensshTool tool;
    const auto askpass = tool.write("askpass.sh", std::string("#!/bin/sh\necho '") + std::string(kTestPassphrase) + "'\n", 0700);
    for (const auto& s : {kSpecs[1], kSpecs[2]}) {
        SCOPED_TRACE(s.algorithm);
        auto ca = CaKey::generate(s.spec);
        ASSERT_TRUE(ca);
        ASSERT_TRUE(ca->save(tool.file("ca.pem"), kTestPassphrase));
        const auto derived = tool.keygen({"-y", "-f", "ca.pem"},
                                         {{"SSH_ASKPASS", askpass.string()}, {"SSH_ASKPASS_REQUIRE", "force"},
                                          {"DISPLAY", ":0"}});
        ASSERT_EQ(derived.status, 0) << derived.output;
        EXPECT_NE(derived.output.find(ca->public_key().to_line()), std::string::npos) << derived.output;
    }
}

}  // namespace
}  // namespace moneta::sshcert
