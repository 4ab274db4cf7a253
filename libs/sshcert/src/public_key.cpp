#include "moneta/sshcert/public_key.hpp"

#include "key_codec.hpp"
#include "line.hpp"

namespace moneta::sshcert {

using detail::fail;

std::string_view key_type_name(KeyType type) noexcept {
    switch (type) {
        case KeyType::kEd25519: return "ssh-ed25519";
        case KeyType::kEcdsaP256: return "ecdsa-sha2-nistp256";
        case KeyType::kEcdsaP384: return "ecdsa-sha2-nistp384";
        case KeyType::kEcdsaP521: return "ecdsa-sha2-nistp521";
        case KeyType::kRsa: return "ssh-rsa";
    }
    return "unknown";
}

PublicKey::PublicKey(Parts&& parts)
    : type_(parts.type),
      bits_(parts.bits),
      blob_(std::move(parts.blob)),
      comment_(std::move(parts.comment)),
      pkey_(std::move(parts.pkey)) {}

Result<PublicKey> PublicKey::from_blob(std::string_view blob) {
    wire::Reader in(blob);
    const auto name = in.get_cstring();
    if (!name) {
        return fail(Errc::kMalformed, "key blob has no type name");
    }
    auto type = detail::key_type_from_name(*name);
    if (!type) {
        return type.error();
    }
    auto key = detail::read_key_fields(*type, in);
    if (key && !in.empty()) {
        return fail(Errc::kMalformed, "bytes after the key in its blob");
    }
    return key;
}

Result<PublicKey> PublicKey::parse_line(std::string_view line) {
    auto fields = detail::split_line(line, kMaxLineBytes);
    if (!fields) {
        return fields.error();
    }
    auto type = detail::key_type_from_name(fields->type);
    if (!type) {
        return type.error();
    }
    auto blob = detail::decode_blob(*fields);
    if (!blob) {
        return blob.error();
    }
    auto key = from_blob(*blob);
    if (!key) {
        return key.error();
    }
    if (key->type() != *type) {
        return fail(Errc::kTypeMismatch, "the line says " + std::string(key_type_name(*type)) + " but its key is " +
                                             std::string(key->type_name()));
    }
    key->comment_ = std::string(fields->comment);
    return key;
}

PublicKey PublicKey::with_comment(std::string comment) const {
    PublicKey copy = *this;
    copy.comment_ = std::move(comment);
    return copy;
}

std::string PublicKey::fingerprint() const { return detail::sha256_fingerprint(blob_); }

std::string PublicKey::fingerprint_line() const {
    std::string label;
    switch (type_) {
        case KeyType::kEd25519: label = "ED25519"; break;
        case KeyType::kRsa: label = "RSA"; break;
        default: label = "ECDSA"; break;
    }
    return std::to_string(bits_) + " " + fingerprint() + " " + (comment_.empty() ? "no comment" : comment_) + " (" +
           label + ")";
}

std::string PublicKey::to_line() const { return detail::join_line(type_name(), blob_, comment_); }

}  // namespace moneta::sshcert
