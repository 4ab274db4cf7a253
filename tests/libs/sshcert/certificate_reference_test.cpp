// Field-by-field and byte-for-byte equality with certificates ssh-keygen -s makes from the same
// inputs and the same CA key: the reference for "byte-exact to OpenSSH 9.2".
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cert_fixture.hpp"
#include "moneta/sshcert/certificate.hpp"

namespace moneta::sshcert {
namespace {

using testing::full_user_request;
using testing::keys;

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

/// ssh-keygen -s's arguments for @p request.
std::vector<std::string> ssh_keygen_sign_args(const testing::Ca& ca, const CertificateRequest& request) {
    std::vector<std::string> args{"-q", "-s", ca.ssh_keygen_file, "-I", request.key_id};
    if (ca.key.public_key().type() == KeyType::kRsa) {
        args.insert(args.end(), {"-t", ca.label});
    }
    std::string principals;
    for (const auto& p : request.principals) {
        principals += (principals.empty() ? "" : ",") + p;
    }
    args.insert(args.end(), {"-n", principals, "-V", hex(request.valid_after) + ":" + hex(request.valid_before), "-z",
                             std::to_string(request.serial)});
    if (request.type == CertType::kHost) {
        args.emplace_back("-h");
    }
    args.insert(args.end(), {"-O", "clear"});
    for (const auto& [name, value] : request.critical_options) {
        args.insert(args.end(), {"-O", name + "=" + value});
    }
    for (const auto& name : request.extensions) {
        args.insert(args.end(), {"-O", name});
    }
    args.emplace_back("ref.pub");
    return args;
}

/// ssh-keygen -L's lines for @p line, without the first (the file name).
std::vector<std::string> listing(const std::string& line) {
    auto& k = keys();
    k.tool.write("listed.pub", line + "\n");
    const auto run = k.tool.keygen({"-L", "-f", "listed.pub"});
    EXPECT_EQ(run.status, 0) << run.output;
    std::vector<std::string> lines;
    std::istringstream in(run.output);
    for (std::string l; std::getline(in, l);) {
        lines.push_back(l);
    }
    if (!lines.empty()) {
        lines.erase(lines.begin());
    }
    return lines;
}

TEST(CertificateReferenceTest, EqualsSshKeygensCertificateFromTheSameInputs) {
    auto& k = keys();
    ASSERT_EQ(k.cas.size(), 4U);
    CertificateRequest host;
    host.type = CertType::kHost;
    host.serial = 9'000'000'001;
    host.key_id = "host=db-2";
    host.principals = {"db-2.internal", "db-2"};
    host.valid_after = 1'700'000'000;
    host.valid_before = 1'800'000'000;
    int compared = 0;
    for (const auto& ca : k.cas) {
        for (const auto* subject : {&k.subjects.front(), &k.subjects.back()}) {  // Ed25519 and RSA
            for (const auto& request : {full_user_request(), host}) {
                SCOPED_TRACE(subject->name + " by " + ca.label + (request.type == CertType::kUser ? " user" : " host"));
                k.tool.write("ref.pub", subject->key.to_line() + "\n");
                const auto made = k.tool.keygen(ssh_keygen_sign_args(ca, request));
                ASSERT_EQ(made.status, 0) << made.output;
                // ssh-keygen's certificate passes our parser (its signature verifies)...
                const auto theirs = Certificate::parse_line(k.tool.read("ref-cert.pub"));
                ASSERT_TRUE(theirs) << theirs.error().message;
                // ...and ours, with their nonce, has every field equal.
                auto same_nonce = request;
                same_nonce.nonce.emplace();
                std::copy(theirs->nonce.begin(), theirs->nonce.end(), same_nonce.nonce->begin());
                const auto ours = sign_certificate(ca.key, subject->key, same_nonce);
                ASSERT_TRUE(ours) << ours.error().message;
                EXPECT_EQ(ours->type_name(), theirs->type_name());
                EXPECT_EQ(ours->key, theirs->key);
                EXPECT_EQ(ours->serial, theirs->serial);
                EXPECT_EQ(ours->type, theirs->type);
                EXPECT_EQ(ours->key_id, theirs->key_id);
                EXPECT_EQ(ours->principals, theirs->principals);
                EXPECT_EQ(ours->valid_after, theirs->valid_after);
                EXPECT_EQ(ours->valid_before, theirs->valid_before);
                EXPECT_EQ(ours->critical_options, theirs->critical_options);
                EXPECT_EQ(ours->extensions, theirs->extensions);
                EXPECT_EQ(ours->signature_key, theirs->signature_key);
                EXPECT_EQ(ours->signature_algorithm, theirs->signature_algorithm);
                EXPECT_EQ(theirs->comment, subject->key.comment());  // ssh-keygen keeps the key's comment
                // Byte for byte up to the signature; Ed25519 and RSA PKCS#1 v1.5 signatures are
                // deterministic, so there the whole certificate is identical.
                const auto signed_part = [](const Certificate& c) {
                    return c.blob.substr(0, c.blob.size() - 4 - c.signature.size());
                };
                EXPECT_EQ(signed_part(*ours), signed_part(*theirs));
                if (ca.key.public_key().type() != KeyType::kEcdsaP256) {
                    EXPECT_EQ(ours->blob, theirs->blob);
                }
                EXPECT_EQ(listing(ours->to_line()), listing(theirs->to_line()));
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, 16);
}

}  // namespace
}  // namespace moneta::sshcert
