#include "cert_fixture.hpp"

#include <gtest/gtest.h>

namespace moneta::sshcert::testing {
namespace {

std::unique_ptr<SharedKeys> make_keys() {
    auto shared = std::make_unique<SharedKeys>();
    struct SubjectSpec {
        const char* type;
        int bits;
    };
    for (const SubjectSpec& s : {SubjectSpec{"ed25519", 0}, SubjectSpec{"ecdsa", 256}, SubjectSpec{"ecdsa", 384},
                                 SubjectSpec{"ecdsa", 521}, SubjectSpec{"rsa", 3072}}) {
        const std::string name = std::string("subject_") + s.type + (s.bits > 0 ? std::to_string(s.bits) : "");
        const std::string line = shared->tool.generate_key(name, s.type, s.bits, name + "@test");
        auto key = PublicKey::parse_line(line);
        if (!key) {
            ADD_FAILURE() << name << ": " << key.error().message;
            continue;
        }
        shared->subjects.push_back(Subject{name, std::move(*key)});
    }
    auto rsa = CaKey::generate({KeyType::kRsa, 3072, RsaHash::kSha256});
    if (!rsa) {
        ADD_FAILURE() << rsa.error().message;
        return shared;
    }
    // One RSA key in both hashes: loading its PEM with the other hash.
    auto rsa512 = CaKey::from_encrypted_pem(*rsa->to_encrypted_pem(kTestPassphrase), kTestPassphrase, RsaHash::kSha512);
    std::vector<std::pair<std::string, Result<CaKey>>> cas;
    cas.emplace_back("ssh-ed25519", CaKey::generate());
    cas.emplace_back("ecdsa-sha2-nistp256", CaKey::generate({KeyType::kEcdsaP256, 0, RsaHash::kSha512}));
    cas.emplace_back("rsa-sha2-256", std::move(rsa));
    cas.emplace_back("rsa-sha2-512", std::move(rsa512));
    for (auto& [label, ca] : cas) {
        if (!ca) {
            ADD_FAILURE() << label << ": " << ca.error().message;
            continue;
        }
        const std::string file = "ca_" + label;
        shared->tool.write_private_key_for_ssh_keygen(file, *ca);
        shared->cas.push_back(Ca{label, std::move(*ca), file});
    }
    return shared;
}

}  // namespace

SharedKeys& keys() {
    static const std::unique_ptr<SharedKeys> shared = make_keys();
    return *shared;
}

CertificateRequest full_user_request() {
    CertificateRequest r;
    r.type = CertType::kUser;
    r.serial = 4242;
    r.key_id = "user=alice groups=video-prod req=7f3a ip=10.1.2.3";
    r.principals = {"zone-video-prod", "alice"};
    r.valid_after = 1'764'000'000;
    r.valid_before = 1'764'003'600;
    r.critical_options = {{"source-address", "10.0.0.0/8,2001:db8::/32"}, {"force-command", "/usr/bin/uptime"}};
    r.extensions = {"permit-pty", "permit-X11-forwarding", "permit-agent-forwarding"};
    return r;
}

}  // namespace moneta::sshcert::testing
