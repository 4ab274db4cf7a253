#include "openssh_tool.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "moneta/core/base64.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "wire.hpp"

namespace moneta::sshcert::testing {
namespace {

/// OpenSSH's private key format (PROTOCOL.key), unencrypted, for one Ed25519 key.
std::string openssh_ed25519_private(EVP_PKEY* pkey) {
    std::string seed(32, '\0');
    std::string pk(32, '\0');
    std::size_t seed_len = seed.size();
    std::size_t pk_len = pk.size();
    EXPECT_EQ(EVP_PKEY_get_raw_private_key(pkey, reinterpret_cast<unsigned char*>(seed.data()), &seed_len), 1);
    EXPECT_EQ(EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pk.data()), &pk_len), 1);
    wire::Writer public_blob;
    public_blob.put_string("ssh-ed25519");
    public_blob.put_string(pk);
    wire::Writer secret;
    secret.put_u32(0x4d6f6e65);  // the two check words must match
    secret.put_u32(0x4d6f6e65);
    secret.put_string("ssh-ed25519");
    secret.put_string(pk);
    secret.put_string(seed + pk);
    secret.put_string("test ca");
    for (std::uint8_t pad = 1; secret.bytes().size() % 8 != 0; ++pad) {
        secret.put_u8(pad);
    }
    wire::Writer file;
    file.put_raw(std::string_view("openssh-key-v1\0", 15));
    file.put_string("none");
    file.put_string("none");
    file.put_string("");
    file.put_u32(1);
    file.put_string(public_blob.bytes());
    file.put_string(secret.bytes());
    const std::string b64 = core::base64_encode(file.bytes());
    std::string out = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 70) {
        out += b64.substr(i, 70) + "\n";
    }
    return out + "-----END OPENSSH PRIVATE KEY-----\n";
}

}  // namespace

OpensshTool::OpensshTool() : dir_("sshcert-test-") {}

std::string OpensshTool::ssh_keygen() { return moneta::testing::find_program("ssh-keygen"); }

RunResult OpensshTool::keygen(const std::vector<std::string>& args,
                              const std::vector<std::pair<std::string, std::string>>& env) {
    RunResult result;
    const std::string program = ssh_keygen();
    if (program.empty()) {
        ADD_FAILURE() << "ssh-keygen not found: install openssh-client (MONETA_PACKAGES in scripts/lib.sh)";
        return result;
    }
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto log = dir_.file("run-" + std::to_string(++runs_) + ".log");
    auto process = moneta::testing::Process::spawn(argv, env, log, dir_.path());
    if (!process) {
        ADD_FAILURE() << "cannot start " << program;
        return result;
    }
    const auto status = process->wait_exit(std::chrono::seconds(60));
    if (!status) {
        ADD_FAILURE() << "ssh-keygen did not exit within 60 s";
        process->stop();
        return result;
    }
    result.status = *status;
    result.output = process->read_log();
    return result;
}

std::string OpensshTool::generate_key(std::string_view name, std::string_view type, int bits, std::string_view comment) {
    std::vector<std::string> args{"-q", "-t", std::string(type), "-N", "", "-C", std::string(comment), "-f",
                                  std::string(name)};
    if (bits > 0) {
        args.insert(args.end(), {"-b", std::to_string(bits)});
    }
    const auto run = keygen(args);
    EXPECT_EQ(run.status, 0) << run.output;
    return read(std::string(name) + ".pub");
}

std::filesystem::path OpensshTool::write(std::string_view name, std::string_view content, unsigned mode) const {
    const auto path = dir_.file(name);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    ::chmod(path.c_str(), mode);
    return path;
}

std::string OpensshTool::read(std::string_view name) const {
    std::ifstream in(dir_.file(name), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::filesystem::path OpensshTool::write_private_key_for_ssh_keygen(std::string_view name, const CaKey& ca) const {
    const auto pem = ca.to_encrypted_pem(kTestPassphrase);
    EXPECT_TRUE(pem) << pem.error().message;
    BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, const_cast<char*>(kTestPassphrase.data()));
    BIO_free(bio);
    EXPECT_NE(pkey, nullptr) << "OpenSSL cannot read the library's encrypted PEM";
    std::string text;
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        text = openssh_ed25519_private(pkey);
    } else {
        BIO* out = BIO_new(BIO_s_mem());
        EXPECT_EQ(PEM_write_bio_PrivateKey(out, pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
        char* data = nullptr;
        const long n = BIO_get_mem_data(out, &data);
        text.assign(data, static_cast<std::size_t>(n));
        BIO_free(out);
    }
    EVP_PKEY_free(pkey);
    return write(name, text, 0600);
}

}  // namespace moneta::sshcert::testing
