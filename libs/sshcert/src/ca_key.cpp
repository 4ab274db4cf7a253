#include "moneta/sshcert/ca_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <fstream>
#include <utility>
#include <iterator>

#include "key_codec.hpp"
#include "openssl_ptr.hpp"

namespace moneta::sshcert {

using detail::fail;

namespace {

constexpr std::string_view kEncryptedPemHeader = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
constexpr std::size_t kMaxPemBytes = 64 * 1024;
// OpenSSL's scrypt defaults (`openssl pkcs8 -scrypt`): 16 MiB, under the 32 MiB OpenSSL allows
// a reader by default, so OpenSSH's PEM loader reads it too.
constexpr std::uint64_t kScryptN = 1U << 14U;
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;

/// Never prompts: OpenSSL calls this when a PEM wants a passphrase we did not give.
int no_prompt(char*, int, int, void*) { return -1; }

bool ca_type_allowed(KeyType type) noexcept {
    return type == KeyType::kEd25519 || type == KeyType::kEcdsaP256 || type == KeyType::kRsa;
}

}  // namespace

CaKey::CaKey(evp_pkey_st* pkey, PublicKey public_key, RsaHash rsa_hash) noexcept
    : pkey_(pkey), public_key_(std::move(public_key)), rsa_hash_(rsa_hash) {}

CaKey::CaKey(CaKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), public_key_(other.public_key_), rsa_hash_(other.rsa_hash_) {}

CaKey& CaKey::operator=(CaKey&& other) noexcept {
    if (this != &other) {
        EVP_PKEY_free(pkey_);
        pkey_ = std::exchange(other.pkey_, nullptr);
        public_key_ = other.public_key_;
        rsa_hash_ = other.rsa_hash_;
    }
    return *this;
}

CaKey::~CaKey() { EVP_PKEY_free(pkey_); }

Result<CaKey> CaKey::adopt(evp_pkey_st* raw, RsaHash rsa_hash) {
    detail::EvpPkeyPtr pkey(raw);
    auto public_key = detail::public_key_of(pkey.get());
    if (!public_key) {
        return public_key.error();
    }
    if (!ca_type_allowed(public_key->type())) {
        return fail(Errc::kUnsupportedKeyType, "a CA key is Ed25519, ECDSA P-256 or RSA");
    }
    return CaKey(pkey.release(), std::move(*public_key), rsa_hash);
}

Result<CaKey> CaKey::generate(const CaKeySpec& spec) {
    EVP_PKEY* raw = nullptr;
    switch (spec.type) {
        case KeyType::kEd25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
        case KeyType::kEcdsaP256: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
        case KeyType::kRsa:
            if (spec.rsa_bits != 3072 && spec.rsa_bits != 4096) {
                return fail(Errc::kInvalidArgument, "an RSA CA key is 3072 or 4096 bits");
            }
            raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(spec.rsa_bits));
            break;
        default: return fail(Errc::kInvalidArgument, "a CA key is Ed25519, ECDSA P-256 or RSA");
    }
    if (raw == nullptr) {
        ERR_clear_error();
        return fail(Errc::kCrypto, "key generation failed");
    }
    return adopt(raw, spec.rsa_hash);
}

Result<CaKey> CaKey::from_encrypted_pem(std::string_view pem, std::string_view passphrase, RsaHash rsa_hash) {
    if (pem.size() > kMaxPemBytes) {
        return fail(Errc::kTooLarge, "PEM over 64 KiB");
    }
    if (pem.find(kEncryptedPemHeader) == std::string_view::npos) {
        return fail(Errc::kInvalidArgument, "not an encrypted PKCS#8 key: the CA key is never stored in plaintext");
    }
    detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    detail::X509SigPtr encrypted(bio ? PEM_read_bio_PKCS8(bio.get(), nullptr, no_prompt, nullptr) : nullptr);
    if (!encrypted) {
        ERR_clear_error();
        return fail(Errc::kMalformed, "not an encrypted PKCS#8 PEM key");
    }
    // Decryption is the step a wrong passphrase fails (bad padding, or DER that does not parse).
    detail::P8InfoPtr info(
        PKCS8_decrypt(encrypted.get(), passphrase.data(), static_cast<int>(passphrase.size())));
    if (!info) {
        ERR_clear_error();
        return fail(Errc::kBadPassphrase, "the passphrase does not decrypt the CA key");
    }
    EVP_PKEY* raw = EVP_PKCS82PKEY(info.get());
    if (raw == nullptr) {
        ERR_clear_error();
        return fail(Errc::kMalformed, "the decrypted key is not a private key OpenSSL reads");
    }
    return adopt(raw, rsa_hash);
}

Result<CaKey> CaKey::load(const std::filesystem::path& path, std::string_view passphrase, RsaHash rsa_hash) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(Errc::kIo, "cannot open " + path.string());
    }
    std::string pem(kMaxPemBytes + 1, '\0');
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    if (in.bad()) {
        return fail(Errc::kIo, "cannot read " + path.string());
    }
    pem.resize(static_cast<std::size_t>(in.gcount()));
    auto key = from_encrypted_pem(pem, passphrase, rsa_hash);
    OPENSSL_cleanse(pem.data(), pem.size());
    return key;
}

Result<std::string> CaKey::to_encrypted_pem(std::string_view passphrase) const {
    if (passphrase.empty()) {
        return fail(Errc::kInvalidArgument, "an empty passphrase would store the CA key in plaintext");
    }
    detail::P8InfoPtr info(EVP_PKEY2PKCS8(pkey_));
    detail::X509AlgorPtr pbe(
        PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, kScryptN, kScryptR, kScryptP));
    if (!info || !pbe) {
        ERR_clear_error();
        return fail(Errc::kCrypto, "cannot set up PKCS#8 encryption");
    }
    // PKCS8_set0_pbe takes the algorithm on success only.
    detail::X509SigPtr encrypted(
        PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), info.get(), pbe.get()));
    if (!encrypted) {
        ERR_clear_error();
        return fail(Errc::kCrypto, "PKCS#8 encryption failed");
    }
    pbe.release();
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8(bio.get(), encrypted.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::kCrypto, "PEM encoding failed");
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Result<void> CaKey::save(const std::filesystem::path& path, std::string_view passphrase) const {
    auto pem = to_encrypted_pem(passphrase);
    if (!pem) {
        return pem.error();
    }
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return fail(Errc::kIo, "cannot create " + tmp.string());
    }
    // The mode of a file that already existed is not changed by open(2).
    bool ok = ::fchmod(fd, 0600) == 0;
    std::string_view rest = *pem;
    while (ok && !rest.empty()) {
        const ssize_t n = ::write(fd, rest.data(), rest.size());
        ok = n > 0;
        if (ok) {
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    ok = ok && ::fsync(fd) == 0;
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return fail(Errc::kIo, "cannot write " + path.string());
    }
    return {};
}

std::string_view CaKey::signature_algorithm() const noexcept {
    if (public_key_.type() == KeyType::kRsa) {
        return rsa_hash_ == RsaHash::kSha256 ? "rsa-sha2-256" : "rsa-sha2-512";
    }
    return public_key_.type_name();
}

}  // namespace moneta::sshcert
