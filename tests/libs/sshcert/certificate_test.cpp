#include "moneta/sshcert/certificate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "cert_fixture.hpp"
#include "moneta/core/base64.hpp"
#include "wire.hpp"

namespace moneta::sshcert {
namespace {

using testing::full_user_request;
using testing::keys;

CertificateRequest host_request() {
    CertificateRequest r;
    r.type = CertType::kHost;
    r.serial = 77;
    r.key_id = "host=web-1";
    r.principals = {"web-1.internal", "10.0.0.7"};
    r.valid_after = 1'764'000'000;
    r.valid_before = 1'766'592'000;
    return r;
}

/// "ED25519", "ECDSA" or "RSA": how ssh-keygen names a key type.
std::string key_label(const PublicKey& key) {
    const std::string line = key.fingerprint_line();
    const auto open = line.rfind('(');
    return line.substr(open + 1, line.size() - open - 2);
}

Errc sign_error(const CertificateRequest& request) {
    auto& k = keys();
    const auto cert = sign_certificate(k.cas.front().key, k.subjects.front().key, request);
    EXPECT_FALSE(cert) << "issued";
    return cert ? Errc::kCrypto : cert.error().code;
}

TEST(CertificateTest, SshKeygenReadsEveryCombination) {
    auto& k = keys();
    ASSERT_EQ(k.subjects.size(), 5U);
    ASSERT_EQ(k.cas.size(), 4U);
    int checked = 0;
    for (const auto& subject : k.subjects) {
        for (const auto& ca : k.cas) {
            for (const auto& request : {full_user_request(), host_request()}) {
                const bool user = request.type == CertType::kUser;
                SCOPED_TRACE(subject.name + " by " + ca.label + (user ? " user" : " host"));
                const auto cert = sign_certificate(ca.key, subject.key, request);
                ASSERT_TRUE(cert) << cert.error().message;
                EXPECT_EQ(cert->signature_algorithm, ca.label);
                EXPECT_EQ(cert->nonce.size(), kNonceBytes);
                k.tool.write("cert.pub", cert->to_line("test cert") + "\n");
                const auto listed = k.tool.keygen({"-L", "-f", "cert.pub"});
                ASSERT_EQ(listed.status, 0) << listed.output;
                const std::string type_line =
                    "Type: " + cert->type_name() + (user ? " user certificate" : " host certificate");
                EXPECT_NE(listed.output.find(type_line), std::string::npos) << listed.output;
                const std::string signing_ca = "Signing CA: " + key_label(ca.key.public_key()) + " " +
                                               ca.key.public_key().fingerprint() + " (using " + ca.label + ")";
                EXPECT_NE(listed.output.find(signing_ca), std::string::npos) << listed.output;
                EXPECT_NE(listed.output.find("Serial: " + std::to_string(request.serial)), std::string::npos);
                EXPECT_NE(listed.output.find(request.principals[1]), std::string::npos);
                if (user) {
                    EXPECT_NE(listed.output.find("force-command /usr/bin/uptime"), std::string::npos) << listed.output;
                    EXPECT_NE(listed.output.find("source-address 10.0.0.0/8,2001:db8::/32"), std::string::npos);
                    EXPECT_NE(listed.output.find("permit-X11-forwarding"), std::string::npos);
                }
                // And our parser reads back what we wrote.
                const auto parsed = Certificate::parse_line(cert->to_line("test cert"));
                ASSERT_TRUE(parsed) << parsed.error().message;
                EXPECT_EQ(parsed->blob, cert->blob);
                EXPECT_EQ(parsed->comment, "test cert");
                EXPECT_EQ(parsed->key, subject.key);
                EXPECT_EQ(parsed->signature_key, ca.key.public_key());
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 40);
}

TEST(CertificateTest, ACorruptedCertificateFailsSshKeygenAndOurParser) {
    auto& k = keys();
    for (const auto& ca : k.cas) {
        SCOPED_TRACE(ca.label);
        const auto cert = sign_certificate(ca.key, k.subjects.front().key, full_user_request());
        ASSERT_TRUE(cert);
        // The signature's last byte, and a byte of the signed key id.
        const std::size_t key_id_at = cert->blob.find("user=alice");
        for (std::size_t at : {cert->blob.size() - 1, key_id_at}) {
            std::string blob = cert->blob;
            blob[at] = static_cast<char>(blob[at] ^ 0x04);
            const std::string line = cert->type_name() + " " + core::base64_encode(blob) + " corrupted";
            k.tool.write("bad-cert.pub", line + "\n");
            const auto listed = k.tool.keygen({"-L", "-f", "bad-cert.pub"});
            EXPECT_NE(listed.status, 0) << "ssh-keygen accepted a corrupted certificate:\n" << listed.output;
            const auto parsed = Certificate::parse_line(line);
            ASSERT_FALSE(parsed);
            EXPECT_EQ(parsed.error().code, Errc::kBadSignature) << parsed.error().message;
        }
        // The untouched certificate passes the same two checks (so the failures above are the flips).
        k.tool.write("good-cert.pub", cert->to_line() + "\n");
        EXPECT_EQ(k.tool.keygen({"-L", "-f", "good-cert.pub"}).status, 0);
        EXPECT_TRUE(Certificate::parse_line(cert->to_line()));
    }
}

TEST(CertificateTest, OptionsAndExtensionsAreSortedByNameWithOpensshEncodings) {
    auto& k = keys();
    const auto cert = sign_certificate(k.cas.front().key, k.subjects.front().key, full_user_request());
    ASSERT_TRUE(cert);
    ASSERT_EQ(cert->critical_options.size(), 2U);
    EXPECT_EQ(cert->critical_options[0].name, "force-command");
    EXPECT_EQ(cert->critical_options[1].name, "source-address");
    // A critical option's data is a string holding the value.
    EXPECT_EQ(cert->critical_options[0].data, std::string("\0\0\0\x0f/usr/bin/uptime", 19));
    EXPECT_EQ(cert->critical_option("source-address"), "10.0.0.0/8,2001:db8::/32");
    EXPECT_EQ(cert->critical_option("no-such"), std::nullopt);
    ASSERT_EQ(cert->extensions.size(), 3U);
    EXPECT_EQ(cert->extensions[0].name, "permit-X11-forwarding");  // 'X' sorts before 'a'
    EXPECT_EQ(cert->extensions[1].name, "permit-agent-forwarding");
    EXPECT_EQ(cert->extensions[2].name, "permit-pty");
    EXPECT_EQ(cert->extensions[0].data, "");
    EXPECT_TRUE(cert->has_extension("permit-pty"));
    EXPECT_FALSE(cert->has_extension("permit-user-rc"));
}

TEST(CertificateTest, TheNonceIsFreshUnlessInjected) {
    auto& k = keys();
    const auto a = sign_certificate(k.cas.front().key, k.subjects.front().key, full_user_request());
    const auto b = sign_certificate(k.cas.front().key, k.subjects.front().key, full_user_request());
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->nonce, b->nonce);
    auto request = full_user_request();
    request.nonce.emplace();
    request.nonce->fill(0xAB);
    const auto c = sign_certificate(k.cas.front().key, k.subjects.front().key, request);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->nonce, std::string(32, '\xAB'));
}

TEST(CertificateTest, RefusesAnEmptyPrincipalList) {
    auto request = full_user_request();
    request.principals.clear();
    EXPECT_EQ(sign_error(request), Errc::kEmptyPrincipals);
    auto host = host_request();
    host.principals.clear();
    EXPECT_EQ(sign_error(host), Errc::kEmptyPrincipals);
}

TEST(CertificateTest, RefusesBadPrincipalsAndKeyIds) {
    for (const std::string& bad : {std::string(), std::string("a,b"), std::string("a b"), std::string("a\0b", 3),
                                  std::string("a\nb"), std::string(1025, 'p')}) {
        auto request = full_user_request();
        request.principals.push_back(bad);
        EXPECT_EQ(sign_error(request), Errc::kInvalidPrincipal) << bad;
    }
    auto many = full_user_request();
    many.principals.assign(kMaxPrincipals + 1, "p");
    EXPECT_EQ(sign_error(many), Errc::kTooLarge);
    many.principals.resize(kMaxPrincipals);  // at the bound: issued, and ssh-keygen reads it
    auto& k = keys();
    const auto cert = sign_certificate(k.cas.front().key, k.subjects.front().key, many);
    ASSERT_TRUE(cert) << cert.error().message;
    k.tool.write("many.pub", cert->to_line() + "\n");
    EXPECT_EQ(k.tool.keygen({"-L", "-f", "many.pub"}).status, 0);
    auto key_id = full_user_request();
    key_id.key_id = std::string("a\0b", 3);
    EXPECT_EQ(sign_error(key_id), Errc::kInvalidArgument);
}

TEST(CertificateTest, RefusesAnEmptyOrReversedValidity) {
    auto request = full_user_request();
    request.valid_before = request.valid_after;
    EXPECT_EQ(sign_error(request), Errc::kInvalidValidity);
    request.valid_before = request.valid_after - 1;
    EXPECT_EQ(sign_error(request), Errc::kInvalidValidity);
}

TEST(CertificateTest, RefusesUnknownOptionsAndExtensions) {
    for (const char* name : {"verify-required", "no-touch-required", "force-command@example.com", ""}) {
        auto request = full_user_request();
        request.critical_options[name] = "x";
        EXPECT_EQ(sign_error(request), Errc::kUnknownOption) << name;
    }
    for (const char* name : {"no-touch-required", "permit-everything", "PERMIT-PTY", ""}) {
        auto request = full_user_request();
        request.extensions.insert(name);
        EXPECT_EQ(sign_error(request), Errc::kUnknownExtension) << name;
    }
    // Hosts have neither.
    auto host = host_request();
    host.critical_options["force-command"] = "true";
    EXPECT_EQ(sign_error(host), Errc::kUnknownOption);
    host = host_request();
    host.extensions.insert("permit-pty");
    EXPECT_EQ(sign_error(host), Errc::kUnknownExtension);
}

TEST(CertificateTest, ChecksSourceAddressAsSshdReadsIt) {
    for (const char* good : {"10.0.0.0/8", "192.168.1.7", "192.168.1.7/32", "0.0.0.0/0", "2001:db8::/32", "::1",
                             "10.0.0.0/8,172.16.0.0/12,fe80::/10"}) {
        EXPECT_TRUE(validate_cidr_list(good)) << good;
    }
    for (const char* bad : {"", "10.0.0.0/33", "10.1.2.3/8", "10.0.0.0/", "10.0.0.0/8,", ",10.0.0.0/8", "foo",
                            "10.0.0", "::1/129", "2001:db8::1/32", "10.0.0.0/8 ", "10.0.0.0/+8", "*"}) {
        auto request = full_user_request();
        request.critical_options["source-address"] = bad;
        EXPECT_EQ(sign_error(request), Errc::kInvalidOptionValue) << bad;
        EXPECT_FALSE(validate_cidr_list(bad)) << bad;
    }
    auto empty_command = full_user_request();
    empty_command.critical_options["force-command"] = "";
    EXPECT_EQ(sign_error(empty_command), Errc::kInvalidOptionValue);
}

TEST(CertificateTest, TheParserRefusesWhatIsNotAWholeSignedCertificate) {
    auto& k = keys();
    const auto cert = sign_certificate(k.cas.front().key, k.subjects.front().key, full_user_request());
    ASSERT_TRUE(cert);
    const auto error_of = [](std::string_view blob) {
        const auto parsed = Certificate::from_blob(blob);
        return parsed ? Errc::kCrypto : parsed.error().code;
    };
    EXPECT_EQ(error_of(cert->blob.substr(0, cert->blob.size() - 1)), Errc::kMalformed);
    EXPECT_EQ(error_of(cert->blob + std::string(1, '\0')), Errc::kMalformed);
    EXPECT_EQ(error_of(k.subjects.front().key.blob()), Errc::kMalformed);  // a plain key
    EXPECT_EQ(Certificate::parse_line(k.subjects.front().key.to_line()).error().code, Errc::kMalformed);
    // A line whose type is another certificate type than its blob's.
    const auto mismatched = Certificate::parse_line("ssh-rsa-cert-v01@openssh.com " + core::base64_encode(cert->blob));
    ASSERT_FALSE(mismatched);
    EXPECT_EQ(mismatched.error().code, Errc::kTypeMismatch);
}

}  // namespace
}  // namespace moneta::sshcert
