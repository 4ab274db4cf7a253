#include "cert_fields.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "key_codec.hpp"
#include "wire.hpp"

namespace moneta::sshcert {
namespace {

using detail::fail;

bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7F;
    });
}

/// One `address[/prefix]` entry of a source-address list.
bool valid_cidr(std::string_view entry) {
    const auto slash = entry.find('/');
    const std::string address(entry.substr(0, slash));
    std::array<unsigned char, 16> bytes{};
    unsigned width = 0;
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
        width = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
        width = 128;
    } else {
        return false;
    }
    unsigned prefix = width;
    if (slash != std::string_view::npos) {
        const std::string_view digits = entry.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return false;
        }
        prefix = 0;
        for (char c : digits) {
            prefix = prefix * 10 + static_cast<unsigned>(c - '0');
        }
        if (prefix > width) {
            return false;
        }
    }
    // sshd refuses a network whose host bits are set (addr_pton_cidr): "10.1.2.3/8" is a typo.
    for (unsigned bit = prefix; bit < width; ++bit) {
        if ((bytes[bit / 8] & (0x80U >> (bit % 8))) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

Result<void> validate_cidr_list(std::string_view list) {
    if (list.empty()) {
        return fail(Errc::kInvalidOptionValue, "source-address is empty");
    }
    if (list.size() > kMaxFieldBytes) {
        return fail(Errc::kInvalidOptionValue, "source-address is too long");
    }
    std::size_t start = 0;
    while (true) {
        const auto comma = list.find(',', start);
        const std::string_view entry = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
        if (!valid_cidr(entry)) {
            return fail(Errc::kInvalidOptionValue,
                        "source-address entry '" + std::string(has_control(entry) ? "?" : entry) +
                            "' is not an address or a CIDR network (host bits zero)");
        }
        if (comma == std::string_view::npos) {
            return {};
        }
        start = comma + 1;
    }
}

namespace detail {

Result<void> check_request(const CertificateRequest& request) {
    if (request.principals.empty()) {
        return fail(Errc::kEmptyPrincipals, "a certificate without principals would be valid for anyone");
    }
    if (request.principals.size() > kMaxPrincipals) {
        return fail(Errc::kTooLarge, "more than " + std::to_string(kMaxPrincipals) + " principals");
    }
    for (const auto& p : request.principals) {
        const bool bad_char = std::any_of(p.begin(), p.end(), [](char c) { return c == ',' || c == ' '; });
        if (p.empty() || p.size() > kMaxFieldBytes || has_control(p) || bad_char) {
            return fail(Errc::kInvalidPrincipal,
                        "a principal is non-empty, at most 1024 bytes, without spaces, commas or control characters");
        }
    }
    if (request.key_id.size() > kMaxFieldBytes || request.key_id.find('\0') != std::string::npos) {
        return fail(Errc::kInvalidArgument, "the key id is at most 1024 bytes, without NUL");
    }
    if (request.valid_after >= request.valid_before) {
        return fail(Errc::kInvalidValidity, "valid_after must be before valid_before");
    }
    if (request.type == CertType::kHost && !request.critical_options.empty()) {
        return fail(Errc::kUnknownOption, "host certificates carry no critical options");
    }
    if (request.type == CertType::kHost && !request.extensions.empty()) {
        return fail(Errc::kUnknownExtension, "host certificates carry no extensions");
    }
    for (const auto& [name, value] : request.critical_options) {
        if (name == kSourceAddress) {
            if (auto ok = validate_cidr_list(value); !ok) {
                return ok;
            }
        } else if (name == kForceCommand) {
            if (value.empty() || value.size() > kMaxFieldBytes || value.find('\0') != std::string::npos) {
                return fail(Errc::kInvalidOptionValue, "force-command is non-empty, at most 1024 bytes, without NUL");
            }
        } else {
            return fail(Errc::kUnknownOption, "unknown critical option (known: force-command, source-address)");
        }
    }
    for (const auto& name : request.extensions) {
        if (std::find(kKnownExtensions.begin(), kKnownExtensions.end(), name) == kKnownExtensions.end()) {
            return fail(Errc::kUnknownExtension,
                        "unknown extension (known: permit-X11-forwarding, permit-agent-forwarding, "
                        "permit-port-forwarding, permit-pty, permit-user-rc)");
        }
    }
    return {};
}

std::string encode_principals(const std::vector<std::string>& principals) {
    wire::Writer out;
    for (const auto& p : principals) {
        out.put_string(p);
    }
    return std::move(out).take();
}

// std::map and std::set order std::string by char_traits<char>::compare, which compares as
// unsigned char: strcmp's order, the one OpenSSH sorts by.
std::string encode_critical_options(const std::map<std::string, std::string>& options) {
    wire::Writer out;
    for (const auto& [name, value] : options) {
        wire::Writer data;
        data.put_string(value);
        out.put_string(name);
        out.put_string(data.bytes());
    }
    return std::move(out).take();
}

std::string encode_extensions(const std::set<std::string>& extensions) {
    wire::Writer out;
    for (const auto& name : extensions) {
        out.put_string(name);
        out.put_string("");
    }
    return std::move(out).take();
}

Result<std::vector<CertField>> decode_fields(std::string_view body, std::string_view what) {
    std::vector<CertField> out;
    wire::Reader in(body);
    while (!in.empty()) {
        const auto name = in.get_cstring();
        const auto data = name ? in.get_string() : std::nullopt;
        if (!data) {
            return fail(Errc::kMalformed, std::string(what) + " do not parse");
        }
        if (!out.empty() && !(out.back().name < *name)) {
            return fail(Errc::kMalformed, std::string(what) + " are not sorted by name or repeat one");
        }
        out.push_back(CertField{std::string(*name), std::string(*data)});
    }
    return out;
}

Result<std::vector<std::string>> decode_principals(std::string_view body) {
    std::vector<std::string> out;
    wire::Reader in(body);
    while (!in.empty()) {
        const auto p = in.get_cstring();
        if (!p) {
            return fail(Errc::kMalformed, "principals do not parse");
        }
        if (out.size() == kMaxPrincipals) {
            return fail(Errc::kTooLarge, "more than " + std::to_string(kMaxPrincipals) + " principals");
        }
        out.emplace_back(*p);
    }
    return out;
}

}  // namespace detail
}  // namespace moneta::sshcert
