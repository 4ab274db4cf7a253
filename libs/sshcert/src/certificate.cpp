#include "moneta/sshcert/certificate.hpp"

#include <algorithm>

#include "cert_fields.hpp"
#include "key_codec.hpp"
#include "line.hpp"
#include "moneta/core/random.hpp"
#include "signer.hpp"
#include "wire.hpp"

namespace moneta::sshcert {

using detail::fail;

namespace {

constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";
/// A certificate line is a key line plus a few KiB of names: the same bound as keys, doubled.
constexpr std::size_t kMaxCertLineBytes = 2 * PublicKey::kMaxLineBytes;

std::string cert_type_name(KeyType type) { return std::string(key_type_name(type)) + std::string(kCertSuffix); }

}  // namespace

std::string Certificate::type_name() const { return cert_type_name(key.type()); }

std::string Certificate::to_line(std::string_view line_comment) const {
    return detail::join_line(type_name(), blob, line_comment);
}

std::optional<std::string> Certificate::critical_option(std::string_view name) const {
    for (const auto& option : critical_options) {
        if (option.name == name) {
            wire::Reader in(option.data);
            const auto value = in.get_string();
            if (value && in.empty()) {
                return std::string(*value);
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

bool Certificate::has_extension(std::string_view name) const {
    return std::any_of(extensions.begin(), extensions.end(), [&](const CertField& e) { return e.name == name; });
}

Result<Certificate> Certificate::from_blob(std::string_view blob) {
    wire::Reader in(blob);
    const auto name = in.get_cstring();
    if (!name) {
        return fail(Errc::kMalformed, "certificate has no type name");
    }
    if (name->size() <= kCertSuffix.size() || name->substr(name->size() - kCertSuffix.size()) != kCertSuffix) {
        return fail(Errc::kMalformed, "not an OpenSSH certificate (type must end in -cert-v01@openssh.com)");
    }
    auto key_type = detail::key_type_from_name(name->substr(0, name->size() - kCertSuffix.size()));
    if (!key_type) {
        return key_type.error();
    }
    const auto nonce = in.get_string();
    if (!nonce) {
        return fail(Errc::kMalformed, "truncated certificate");
    }
    auto key = detail::read_key_fields(*key_type, in);
    if (!key) {
        return key.error();
    }
    const auto serial = in.get_u64();
    const auto type = serial ? in.get_u32() : std::nullopt;
    const auto key_id = type ? in.get_cstring() : std::nullopt;
    const auto principals = key_id ? in.get_string() : std::nullopt;
    const auto valid_after = principals ? in.get_u64() : std::nullopt;
    const auto valid_before = valid_after ? in.get_u64() : std::nullopt;
    const auto critical = valid_before ? in.get_string() : std::nullopt;
    const auto extensions = critical ? in.get_string() : std::nullopt;
    const auto reserved = extensions ? in.get_string() : std::nullopt;
    const auto signature_key = reserved ? in.get_string() : std::nullopt;
    const std::size_t signed_bytes = blob.size() - in.remaining();
    const auto signature = signature_key ? in.get_string() : std::nullopt;
    if (!signature) {
        return fail(Errc::kMalformed, "truncated certificate");
    }
    if (!in.empty()) {
        return fail(Errc::kMalformed, "bytes after the certificate's signature");
    }
    if (*type != static_cast<std::uint32_t>(CertType::kUser) && *type != static_cast<std::uint32_t>(CertType::kHost)) {
        return fail(Errc::kMalformed, "certificate type is neither user (1) nor host (2)");
    }
    auto principal_list = detail::decode_principals(*principals);
    auto critical_list = principal_list ? detail::decode_fields(*critical, "critical options")
                                        : Result<std::vector<CertField>>(principal_list.error());
    auto extension_list =
        critical_list ? detail::decode_fields(*extensions, "extensions") : Result<std::vector<CertField>>(critical_list.error());
    if (!extension_list) {
        return extension_list.error();
    }
    auto ca = PublicKey::from_blob(*signature_key);
    if (!ca) {
        return Error{ca.error().code, "CA key: " + ca.error().message};
    }
    auto algorithm = detail::verify(*ca, *signature, blob.substr(0, signed_bytes));
    if (!algorithm) {
        return algorithm.error();
    }
    return Certificate{
        .blob = std::string(blob),
        .nonce = std::string(*nonce),
        .key = std::move(*key),
        .serial = *serial,
        .type = static_cast<CertType>(*type),
        .key_id = std::string(*key_id),
        .principals = std::move(*principal_list),
        .valid_after = *valid_after,
        .valid_before = *valid_before,
        .critical_options = std::move(*critical_list),
        .extensions = std::move(*extension_list),
        .signature_key = std::move(*ca),
        .signature_algorithm = std::move(*algorithm),
        .signature = std::string(*signature),
        .comment = {},
    };
}

Result<Certificate> Certificate::parse_line(std::string_view line) {
    auto fields = detail::split_line(line, kMaxCertLineBytes);
    if (!fields) {
        return fields.error();
    }
    auto blob = detail::decode_blob(*fields);
    if (!blob) {
        return blob.error();
    }
    auto cert = from_blob(*blob);
    if (!cert) {
        return cert.error();
    }
    if (fields->type != cert->type_name()) {
        return fail(Errc::kTypeMismatch, "the line's type differs from its certificate's");
    }
    cert->comment = std::string(fields->comment);
    return cert;
}

Result<Certificate> sign_certificate(const CaKey& ca, const PublicKey& subject, const CertificateRequest& request) {
    if (auto ok = detail::check_request(request); !ok) {
        return ok.error();
    }
    std::array<std::uint8_t, kNonceBytes> nonce{};
    if (request.nonce) {
        nonce = *request.nonce;
    } else {
        core::secure_random_bytes(nonce);
    }
    wire::Writer out;
    out.put_string(cert_type_name(subject.type()));
    out.put_string(std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
    out.put_raw(detail::key_fields(subject));
    out.put_u64(request.serial);
    out.put_u32(static_cast<std::uint32_t>(request.type));
    out.put_string(request.key_id);
    out.put_string(detail::encode_principals(request.principals));
    out.put_u64(request.valid_after);
    out.put_u64(request.valid_before);
    out.put_string(detail::encode_critical_options(request.critical_options));
    out.put_string(detail::encode_extensions(request.extensions));
    out.put_string("");  // reserved
    out.put_string(ca.public_key().blob());
    auto signature = detail::sign(ca, out.bytes());
    if (!signature) {
        return signature.error();
    }
    out.put_string(*signature);
    // Read back through the parser: one way to build a Certificate, and the signature is checked
    // before anything is handed out.
    return Certificate::from_blob(std::move(out).take());
}

}  // namespace moneta::sshcert
