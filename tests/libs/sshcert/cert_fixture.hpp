/// @file cert_fixture.hpp
/// @brief Keys shared by the certificate and KRL tests, made once per test binary: a subject
/// key of every accepted type (by ssh-keygen) and a CA key of every allowed kind (by us).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "moneta/sshcert/ca_key.hpp"
#include "moneta/sshcert/certificate.hpp"
#include "moneta/sshcert/public_key.hpp"
#include "openssh_tool.hpp"

namespace moneta::sshcert::testing {

struct Subject {
    std::string name;  ///< the key file in keys().tool (NAME and NAME.pub)
    PublicKey key;
};

struct Ca {
    std::string label;  ///< e.g. "rsa-sha2-256"
    CaKey key;
    std::string ssh_keygen_file;  ///< the private key as ssh-keygen -s reads it
};

struct SharedKeys {
    OpensshTool tool;
    std::vector<Subject> subjects;
    std::vector<Ca> cas;
};

/// Built on first use (the subject keys by ssh-keygen, so a missing ssh-keygen fails here).
SharedKeys& keys();

/// A user request with every kind of field set.
CertificateRequest full_user_request();

}  // namespace moneta::sshcert::testing
