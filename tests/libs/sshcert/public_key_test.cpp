#include "moneta/sshcert/public_key.hpp"

#include <gtest/gtest.h>

#include <string>

#include "moneta/core/base64.hpp"
#include "openssh_tool.hpp"
#include "wire.hpp"

namespace moneta::sshcert {
namespace {

using testing::OpensshTool;

std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

/// The base64 field of a key line, decoded.
std::string blob_of(const std::string& line) {
    const auto first = line.find(' ');
    const auto second = line.find(' ', first + 1);
    return *core::base64_decode(line.substr(first + 1, second - first - 1));
}

std::string line_of(std::string_view type, std::string_view blob, std::string_view comment = "c") {
    return std::string(type) + " " + core::base64_encode(blob) + " " + std::string(comment);
}

Errc parse_error(std::string_view line) {
    const auto key = PublicKey::parse_line(line);
    EXPECT_FALSE(key) << "accepted: " << line.substr(0, 80);
    return key ? Errc::kCrypto : key.error().code;
}

struct Accepted {
    const char* ssh_keygen_type;
    int bits;
    KeyType type;
    const char* label;
};

TEST(PublicKeyTest, ReadsEveryAcceptedTypeAsSshKeygenWritesIt) {
    OpensshTool tool;
    for (const Accepted& a : {Accepted{"ed25519", 0, KeyType::kEd25519, "ED25519"},
                              Accepted{"ecdsa", 256, KeyType::kEcdsaP256, "ECDSA"},
                              Accepted{"ecdsa", 384, KeyType::kEcdsaP384, "ECDSA"},
                              Accepted{"ecdsa", 521, KeyType::kEcdsaP521, "ECDSA"},
                              Accepted{"rsa", 3072, KeyType::kRsa, "RSA"}}) {
        SCOPED_TRACE(std::string(a.ssh_keygen_type) + " " + std::to_string(a.bits));
        const std::string name = std::string("k_") + a.ssh_keygen_type + std::to_string(a.bits);
        const std::string line = tool.generate_key(name, a.ssh_keygen_type, a.bits, "alice@laptop key");
        const auto key = PublicKey::parse_line(line);
        ASSERT_TRUE(key) << key.error().message;
        EXPECT_EQ(key->type(), a.type);
        EXPECT_EQ(key->comment(), "alice@laptop key");
        EXPECT_EQ(key->to_line(), trim_newline(line));
        EXPECT_EQ(key->blob(), blob_of(line));
        EXPECT_EQ(key->bits(), a.bits == 0 ? 256U : static_cast<unsigned>(a.bits));
        // `ssh-keygen -l` is the reference for both the fingerprint and its line.
        const auto listed = tool.keygen({"-l", "-f", name + ".pub"});
        ASSERT_EQ(listed.status, 0) << listed.output;
        EXPECT_EQ(key->fingerprint_line(), trim_newline(listed.output));
        EXPECT_EQ(key->fingerprint().substr(0, 7), "SHA256:");
        EXPECT_EQ(key->fingerprint().size(), 7U + 43U);  // 32 bytes, unpadded base64
        // The blob alone gives the same key, and the comment is not part of it.
        const auto again = PublicKey::from_blob(key->blob());
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, *key);
        EXPECT_EQ(again->comment(), "");
        EXPECT_EQ(again->fingerprint_line().find("no comment") != std::string::npos, true);
    }
}

TEST(PublicKeyTest, AcceptsTheLineForms) {
    OpensshTool tool;
    const std::string line = trim_newline(tool.generate_key("k", "ed25519", 0, "c"));
    const std::string bare = line.substr(0, line.rfind(' '));
    EXPECT_TRUE(PublicKey::parse_line(line + "\n"));
    EXPECT_TRUE(PublicKey::parse_line(line + "\r\n"));
    EXPECT_TRUE(PublicKey::parse_line(bare));
    EXPECT_EQ(PublicKey::parse_line(bare)->comment(), "");
    EXPECT_EQ(PublicKey::parse_line(bare)->to_line(), bare);
    EXPECT_EQ(PublicKey::parse_line(bare + "  two  words ")->comment(), "two  words");
}

TEST(PublicKeyTest, RefusesDsaSecurityKeysAndUnknownTypes) {
    wire::Writer dsa;
    dsa.put_string("ssh-dss");
    for (int i = 0; i < 4; ++i) {
        dsa.put_mpint(std::string(128, '\x5a'));
    }
    EXPECT_EQ(parse_error(line_of("ssh-dss", dsa.bytes())), Errc::kUnsupportedKeyType);
    wire::Writer sk;
    sk.put_string("sk-ssh-ed25519@openssh.com");
    sk.put_string(std::string(32, 'k'));
    sk.put_string("ssh:");
    EXPECT_EQ(parse_error(line_of("sk-ssh-ed25519@openssh.com", sk.bytes())), Errc::kUnsupportedKeyType);
    EXPECT_EQ(parse_error("ssh-foo AAAA c"), Errc::kUnsupportedKeyType);
    // An authorized_keys line with options is not a public key line.
    EXPECT_EQ(parse_error("from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== c"), Errc::kUnsupportedKeyType);
}

TEST(PublicKeyTest, RefusesRsaBelow3072Bits) {
    OpensshTool tool;
    for (int bits : {1024, 2048, 3071}) {  // ssh-keygen's "3071" is a 3070-bit modulus
        SCOPED_TRACE(bits);
        const std::string line = tool.generate_key("rsa" + std::to_string(bits), "rsa", bits, "small");
        const auto key = PublicKey::parse_line(line);
        ASSERT_FALSE(key);
        EXPECT_EQ(key.error().code, Errc::kKeyTooSmall);
        EXPECT_NE(key.error().message.find("at least 3072"), std::string::npos) << key.error().message;
    }
}

TEST(PublicKeyTest, RefusesCertificatesAsKeys) {
    OpensshTool tool;
    tool.generate_key("ca", "ed25519", 0, "ca");
    tool.generate_key("user", "ed25519", 0, "user");
    ASSERT_EQ(tool.keygen({"-q", "-s", "ca", "-I", "id", "-n", "p", "user.pub"}).status, 0);
    EXPECT_EQ(parse_error(tool.read("user-cert.pub")), Errc::kCertificateAsKey);
    // The same blob under a plain type name: the blob's own name decides.
    const std::string cert = tool.read("user-cert.pub");
    EXPECT_EQ(parse_error(line_of("ssh-ed25519", blob_of(cert))), Errc::kCertificateAsKey);
}

TEST(PublicKeyTest, RefusesMalformedEncodings) {
    OpensshTool tool;
    const std::string line = tool.generate_key("k", "ed25519", 0, "c");
    const std::string blob = blob_of(line);
    EXPECT_EQ(parse_error("ssh-ed25519 AAAA!!!! c"), Errc::kMalformed);            // not base64
    EXPECT_EQ(parse_error("ssh-ed25519 " + core::base64_encode(blob).substr(1) + " c"), Errc::kMalformed);
    EXPECT_EQ(parse_error(line_of("ssh-ed25519", blob.substr(0, blob.size() - 1))), Errc::kMalformed);  // truncated
    EXPECT_EQ(parse_error(line_of("ssh-ed25519", blob + std::string(1, '\0'))), Errc::kMalformed);    // trailing
    EXPECT_EQ(parse_error(""), Errc::kMalformed);
    EXPECT_EQ(parse_error("ssh-ed25519"), Errc::kMalformed);
    EXPECT_EQ(parse_error(trim_newline(line) + "\x01"), Errc::kMalformed);  // control character
    wire::Writer short_key;
    short_key.put_string("ssh-ed25519");
    short_key.put_string(std::string(31, 'k'));
    EXPECT_EQ(parse_error(line_of("ssh-ed25519", short_key.bytes())), Errc::kInvalidKey);
}

TEST(PublicKeyTest, RefusesALineWhoseTypeIsNotItsBlobs) {
    OpensshTool tool;
    const std::string ed = tool.generate_key("ed", "ed25519", 0, "c");
    EXPECT_EQ(parse_error(line_of("ecdsa-sha2-nistp256", blob_of(ed))), Errc::kTypeMismatch);
    EXPECT_EQ(parse_error(line_of("ssh-rsa", blob_of(ed))), Errc::kTypeMismatch);
}

TEST(PublicKeyTest, RefusesEcPointsOffTheirCurve) {
    OpensshTool tool;
    const std::string blob = blob_of(tool.generate_key("ec", "ecdsa", 256, "c"));
    std::string off_curve = blob;
    off_curve.back() = static_cast<char>(off_curve.back() ^ 0x01);  // y changed: not on P-256
    EXPECT_EQ(parse_error(line_of("ecdsa-sha2-nistp256", off_curve)), Errc::kInvalidKey);
    // The curve named inside differs from the type.
    wire::Reader in(blob);
    in.get_string();
    in.get_string();
    const auto point = *in.get_string();
    wire::Writer wrong_curve;
    wrong_curve.put_string("ecdsa-sha2-nistp256");
    wrong_curve.put_string("nistp384");
    wrong_curve.put_string(point);
    EXPECT_EQ(parse_error(line_of("ecdsa-sha2-nistp256", wrong_curve.bytes())), Errc::kInvalidKey);
    // Compressed points are not OpenSSH's encoding.
    wire::Writer compressed;
    compressed.put_string("ecdsa-sha2-nistp256");
    compressed.put_string("nistp256");
    compressed.put_string(std::string(1, static_cast<char>(0x02 + (point.back() & 1))) + std::string(point.substr(1, 32)));
    EXPECT_EQ(parse_error(line_of("ecdsa-sha2-nistp256", compressed.bytes())), Errc::kInvalidKey);
}

TEST(PublicKeyTest, RefusesNonCanonicalRsaIntegers) {
    OpensshTool tool;
    const std::string blob = blob_of(tool.generate_key("rsa", "rsa", 3072, "c"));
    wire::Reader in(blob);
    in.get_string();
    const auto e = *in.get_mpint();
    const auto n = *in.get_mpint();
    wire::Writer padded;  // e with a superfluous leading zero byte
    padded.put_string("ssh-rsa");
    padded.put_string(std::string(1, '\0') + std::string(e));
    padded.put_mpint(n);
    EXPECT_EQ(parse_error(line_of("ssh-rsa", padded.bytes())), Errc::kMalformed);
    wire::Writer even;  // an even exponent
    even.put_string("ssh-rsa");
    even.put_mpint("\x02");
    even.put_mpint(n);
    EXPECT_EQ(parse_error(line_of("ssh-rsa", even.bytes())), Errc::kInvalidKey);
}

TEST(PublicKeyTest, RefusesLinesOver16KiB) {
    OpensshTool tool;
    const std::string line = trim_newline(tool.generate_key("k", "ed25519", 0, "c"));
    const std::string padded = line + std::string(PublicKey::kMaxLineBytes - line.size(), 'x');
    EXPECT_TRUE(PublicKey::parse_line(padded));  // exactly at the bound: a long comment
    EXPECT_EQ(parse_error(padded + "x"), Errc::kTooLarge);
}

}  // namespace
}  // namespace moneta::sshcert
