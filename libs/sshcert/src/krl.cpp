#include "moneta/sshcert/krl.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>

#include "key_codec.hpp"
#include "krl_serials.hpp"
#include "wire.hpp"

namespace moneta::sshcert {

using detail::fail;

namespace {

constexpr std::string_view kMagic{"SSHKRL\n\0", 8};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint8_t kSectionCertificates = 1;
constexpr std::uint8_t kSectionFingerprintSha256 = 5;
constexpr std::uint8_t kCertSectionKeyId = 0x23;

/// Every revocation of one CA, merged and sorted.
struct CaRevocations {
    std::set<std::uint64_t> serials;
    std::set<std::string> key_ids;
};

std::string certificates_section(const std::string& ca_blob, const CaRevocations& revoked) {
    wire::Writer out;
    out.put_string(ca_blob);
    out.put_string("");  // reserved
    detail::write_serial_sections({revoked.serials.begin(), revoked.serials.end()}, out);
    if (!revoked.key_ids.empty()) {
        wire::Writer ids;
        for (const auto& id : revoked.key_ids) {
            ids.put_string(id);
        }
        out.put_u8(kCertSectionKeyId);
        out.put_string(ids.bytes());
    }
    return std::move(out).take();
}

}  // namespace

Result<std::string> build_krl(const KrlSpec& spec) {
    if (spec.comment.find('\0') != std::string::npos) {
        return fail(Errc::kInvalidArgument, "the KRL comment holds a NUL byte");
    }
    // Keyed by the CA's blob: std::string's order is memcmp's, then shorter first, as krl.c sorts.
    std::map<std::string, CaRevocations> by_ca;
    for (const auto& entry : spec.certificates) {
        auto& revoked = by_ca[entry.ca_key.blob()];
        for (auto serial : entry.serials) {
            if (serial == 0) {
                return fail(Errc::kInvalidArgument, "serial 0 cannot be revoked (OpenSSH ignores it)");
            }
            revoked.serials.insert(serial);
        }
        for (const auto& id : entry.key_ids) {
            if (id.find('\0') != std::string::npos) {
                return fail(Errc::kInvalidArgument, "a revoked key id holds a NUL byte");
            }
            revoked.key_ids.insert(id);
        }
    }
    // Hashes in numeric order (PROTOCOL.krl §4): as 32 big-endian bytes, the strings' order.
    std::set<std::string> hashes;
    for (const auto& key : spec.revoked_keys) {
        std::string digest(SHA256_DIGEST_LENGTH, '\0');
        SHA256(reinterpret_cast<const unsigned char*>(key.blob().data()), key.blob().size(),
               reinterpret_cast<unsigned char*>(digest.data()));
        hashes.insert(std::move(digest));
    }

    wire::Writer out;
    out.put_raw(kMagic);
    out.put_u32(kFormatVersion);
    out.put_u64(spec.version);
    out.put_u64(spec.generated_date);
    out.put_u64(0);      // flags: none defined
    out.put_string("");  // reserved
    out.put_string(spec.comment);
    for (const auto& [ca_blob, revoked] : by_ca) {
        if (revoked.serials.empty() && revoked.key_ids.empty()) {
            continue;
        }
        out.put_u8(kSectionCertificates);
        out.put_string(certificates_section(ca_blob, revoked));
    }
    if (!hashes.empty()) {
        wire::Writer section;
        for (const auto& h : hashes) {
            section.put_string(h);
        }
        out.put_u8(kSectionFingerprintSha256);
        out.put_string(section.bytes());
    }
    return std::move(out).take();
}

}  // namespace moneta::sshcert
