#include "moneta/sshcert/krl.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cert_fixture.hpp"
#include "moneta/sshcert/certificate.hpp"

namespace moneta::sshcert {
namespace {

using testing::full_user_request;
using testing::keys;

struct Issued {
    std::string file;
};

/// Writes a certificate of @p subject by @p ca with @p serial and @p key_id to @p file.
std::string issue(const CaKey& ca, const PublicKey& subject, std::uint64_t serial, const std::string& key_id,
                  const std::string& file) {
    auto request = full_user_request();
    request.serial = serial;
    request.key_id = key_id;
    const auto cert = sign_certificate(ca, subject, request);
    EXPECT_TRUE(cert) << cert.error().message;
    keys().tool.write(file, cert->to_line(file) + "\n");
    return file;
}

/// `ssh-keygen -Q -f krl FILE`: true when it reports FILE revoked (exit 1 and "REVOKED").
bool revoked(const std::string& krl, const std::string& file) {
    keys().tool.write("krl", krl);
    const auto run = keys().tool.keygen({"-Q", "-f", "krl", file});
    const bool says_revoked = run.output.find("REVOKED") != std::string::npos;
    EXPECT_EQ(run.status, says_revoked ? 1 : 0) << run.output;
    EXPECT_TRUE(says_revoked || run.output.find(": ok") != std::string::npos) << run.output;
    return says_revoked;
}

/// `ssh-keygen -Q -l -f krl`: the KRL as OpenSSH read it, one line per entry.
std::vector<std::string> dump(const std::string& krl) {
    keys().tool.write("krl", krl);
    const auto run = keys().tool.keygen({"-Q", "-l", "-f", "krl"});
    EXPECT_EQ(run.status, 0) << run.output;
    std::vector<std::string> lines;
    std::istringstream in(run.output);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty() && l.rfind("# Generated at", 0) != 0) {
            lines.push_back(l);
        }
    }
    return lines;
}

std::string build(const KrlSpec& spec) {
    const auto krl = build_krl(spec);
    EXPECT_TRUE(krl) << krl.error().message;
    return krl ? *krl : std::string();
}

TEST(KrlTest, SshKeygenFindsCertificatesRevokedBySerialKeyIdAndKey) {
    auto& k = keys();
    const CaKey& ca = k.cas[0].key;
    const CaKey& other_ca = k.cas[1].key;
    const PublicKey& alice = k.subjects[0].key;
    const PublicKey& bob = k.subjects[1].key;
    const PublicKey& carol = k.subjects[2].key;
    const auto by_serial = issue(ca, alice, 10, "user=alice", "by-serial.pub");
    const auto by_key_id = issue(ca, alice, 11, "user=bob", "by-key-id.pub");
    const auto by_key = issue(ca, carol, 12, "user=carol", "by-key.pub");
    const auto untouched = issue(ca, bob, 13, "user=dave", "untouched.pub");
    const auto other_ca_same_serial = issue(other_ca, bob, 10, "user=erin", "other-ca.pub");
    k.tool.write("carol.pub", carol.to_line() + "\n");
    k.tool.write("bob.pub", bob.to_line() + "\n");

    KrlSpec spec;
    spec.version = 3;
    spec.generated_date = 1'764'000'000;
    spec.comment = "moneta sshca";
    spec.certificates.push_back(KrlCertificates{ca.public_key(), {10}, {"user=bob"}});
    spec.revoked_keys.push_back(carol);
    const std::string krl = build(spec);

    EXPECT_TRUE(revoked(krl, by_serial));
    EXPECT_TRUE(revoked(krl, by_key_id));
    EXPECT_TRUE(revoked(krl, by_key));  // every certificate of a revoked key
    EXPECT_TRUE(revoked(krl, "carol.pub"));
    EXPECT_FALSE(revoked(krl, untouched));
    EXPECT_FALSE(revoked(krl, other_ca_same_serial));  // serials are per CA
    EXPECT_FALSE(revoked(krl, "bob.pub"));

    const auto lines = dump(krl);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "# KRL version 3"), lines.end());
    EXPECT_NE(std::find(lines.begin(), lines.end(), "# Comment: moneta sshca"), lines.end());
    EXPECT_NE(std::find(lines.begin(), lines.end(), "serial: 10"), lines.end());
    EXPECT_NE(std::find(lines.begin(), lines.end(), "id: user=bob"), lines.end());
}

TEST(KrlTest, AnEmptyKrlRevokesNothing) {
    auto& k = keys();
    const auto cert = issue(k.cas[0].key, k.subjects[0].key, 1, "user=alice", "any.pub");
    KrlSpec spec;
    spec.version = 1;
    const std::string krl = build(spec);
    EXPECT_EQ(krl.size(), 8U + 4 + 8 + 8 + 8 + 4 + 4);  // the header alone
    EXPECT_FALSE(revoked(krl, cert));
    EXPECT_EQ(dump(krl), std::vector<std::string>{"# KRL version 1"});
}

/// The "serial: a" / "serial: a-b" lines ssh-keygen prints for @p serials (merged runs).
std::vector<std::string> expected_serial_lines(std::set<std::uint64_t> serials) {
    std::vector<std::string> lines;
    for (auto it = serials.begin(); it != serials.end();) {
        const std::uint64_t lo = *it;
        std::uint64_t hi = lo;
        while (++it != serials.end() && *it == hi + 1) {
            hi = *it;
        }
        lines.push_back("serial: " + std::to_string(lo) + (lo == hi ? "" : "-" + std::to_string(hi)));
    }
    return lines;
}

TEST(KrlTest, EverySerialEncodingReadsBackExactlyInSshKeygen) {
    auto& k = keys();
    std::mt19937_64 rng(20240601);
    std::vector<std::vector<std::uint64_t>> cases;
    cases.push_back({1});
    cases.push_back({5, 1'000'000, 1ULL << 63, ~0ULL});  // sparse: a list
    std::vector<std::uint64_t> run;
    for (std::uint64_t s = 100; s < 5000; ++s) {
        run.push_back(s);  // one long run: a range
    }
    cases.push_back(run);
    std::vector<std::uint64_t> dense;
    for (std::uint64_t s = 7; s < 2000; s += 2 + (s % 5 == 0 ? 1 : 0)) {
        dense.push_back(s);  // dense but gappy: bitmaps
    }
    cases.push_back(dense);
    for (int c = 0; c < 6; ++c) {  // mixtures
        std::vector<std::uint64_t> mix;
        for (int i = 0; i < 300; ++i) {
            const std::uint64_t base = 1 + rng() % (c < 3 ? 3000 : 100'000'000);
            for (std::uint64_t j = 0, n = rng() % 4 == 0 ? rng() % 50 : 1; j < n; ++j) {
                mix.push_back(base + j);
            }
        }
        cases.push_back(mix);
    }
    for (const auto& serials : cases) {
        SCOPED_TRACE(serials.size());
        KrlSpec spec;
        spec.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), serials, {}});
        const std::string krl = build(spec);
        std::vector<std::string> serial_lines;
        for (const auto& line : dump(krl)) {
            if (line.rfind("serial: ", 0) == 0) {
                serial_lines.push_back(line);
            }
        }
        EXPECT_EQ(serial_lines, expected_serial_lines({serials.begin(), serials.end()}));
        // Never bigger than the plain list OpenSSH could always use.
        EXPECT_LE(krl.size(), 64 + k.cas[0].key.public_key().blob().size() + 8 * serials.size());
    }
    // A long run costs one range, not a list.
    KrlSpec ranged;
    ranged.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), run, {}});
    EXPECT_LT(build(ranged).size(), 200U);
}

TEST(KrlTest, TheSameRevocationsGiveTheSameBytesInAnyOrder) {
    auto& k = keys();
    KrlSpec a;
    a.version = 9;
    a.generated_date = 1'764'000'000;
    a.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), {3, 1, 2, 50, 3}, {"b", "a", "b"}});
    a.certificates.push_back(KrlCertificates{k.cas[1].key.public_key(), {7}, {}});
    a.revoked_keys = {k.subjects[0].key, k.subjects[3].key, k.subjects[1].key};
    KrlSpec b = a;
    std::reverse(b.certificates.begin(), b.certificates.end());
    std::reverse(b.certificates.back().serials.begin(), b.certificates.back().serials.end());
    std::reverse(b.certificates.back().key_ids.begin(), b.certificates.back().key_ids.end());
    std::reverse(b.revoked_keys.begin(), b.revoked_keys.end());
    b.revoked_keys.push_back(k.subjects[0].key.with_comment("same key, other comment"));
    EXPECT_EQ(build(a), build(b));
    // Two entries for one CA are one section.
    KrlSpec split = a;
    split.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), {99}, {"c"}});
    KrlSpec merged = a;
    merged.certificates[0].serials.push_back(99);
    merged.certificates[0].key_ids.push_back("c");
    EXPECT_EQ(build(split), build(merged));
}

TEST(KrlTest, MatchesSshKeygensBytesForKeyIdsAndKeyHashes) {
    // ssh-keygen -k from a spec file; our KRL with the same version, date and entries.
    auto& k = keys();
    k.tool.write("ca.pub", k.cas[0].key.public_key().to_line() + "\n");
    std::string spec_file = "serial: 12\nid: user=zed\nid: user=amy\n";
    for (const auto& s : {k.subjects[4], k.subjects[0]}) {
        spec_file += "hash: " + s.key.fingerprint() + "\n";
    }
    k.tool.write("spec", spec_file);
    const auto made = k.tool.keygen({"-k", "-f", "ref.krl", "-s", "ca.pub", "-z", "17", "spec"});
    ASSERT_EQ(made.status, 0) << made.output;
    const std::string theirs = k.tool.read("ref.krl");
    ASSERT_GT(theirs.size(), 28U);
    std::uint64_t date = 0;
    for (int i = 20; i < 28; ++i) {
        date = (date << 8U) | static_cast<unsigned char>(theirs[static_cast<std::size_t>(i)]);
    }
    KrlSpec spec;
    spec.version = 17;
    spec.generated_date = date;
    spec.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), {12}, {"user=zed", "user=amy"}});
    spec.revoked_keys = {k.subjects[0].key, k.subjects[4].key};
    EXPECT_EQ(build(spec), theirs);
}

TEST(KrlTest, RefusesSerialZeroAndNulBytes) {
    auto& k = keys();
    const auto error_of = [](const KrlSpec& spec) {
        const auto krl = build_krl(spec);
        return krl ? Errc::kCrypto : krl.error().code;
    };
    KrlSpec zero;
    zero.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), {0}, {}});
    EXPECT_EQ(error_of(zero), Errc::kInvalidArgument);
    KrlSpec nul_id;
    nul_id.certificates.push_back(KrlCertificates{k.cas[0].key.public_key(), {}, {std::string("a\0b", 3)}});
    EXPECT_EQ(error_of(nul_id), Errc::kInvalidArgument);
    KrlSpec nul_comment;
    nul_comment.comment = std::string("a\0b", 3);
    EXPECT_EQ(error_of(nul_comment), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace moneta::sshcert
