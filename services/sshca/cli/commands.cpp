#include "commands.hpp"

#include <sys/stat.h>

#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "moneta/sshcert/certificate.hpp"
#include "name_list.hpp"
#include "run.hpp"

namespace moneta::sshca::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::int64_t kRenewBeforeS = 120;  // re-login within 2 minutes of expiry
constexpr std::int64_t kSkewWarnS = 30;

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int fail(const std::string& message) {
    std::fprintf(stderr, "sshca: %s\n", message.c_str());
    return 1;
}

fs::path key_path(const Context& c) { return c.home / "id_ed25519"; }
fs::path cert_path(const Context& c) { return c.home / "id_ed25519-cert.pub"; }

std::optional<std::string> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Writes @p data to a temporary file beside @p path and renames it over: a reader (sshd, ssh)
/// sees the old file or the new one, never half of one.
bool write_atomically(const fs::path& path, const std::string& data, fs::perms perms) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out || !(out << data) || !out.flush()) {
            return false;
        }
    }
    std::error_code ec;
    fs::permissions(tmp, perms, fs::perm_options::replace, ec);
    fs::rename(tmp, path, ec);
    return !ec;
}

std::string when(std::int64_t t) {
    char buf[32];
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string span(std::int64_t seconds) {
    if (seconds < 120) {
        return std::to_string(seconds) + "s";
    }
    if (seconds < 2 * 3600) {
        return std::to_string(seconds / 60) + "m";
    }
    return std::to_string(seconds / 3600) + "h" + std::to_string(seconds % 3600 / 60) + "m";
}

/// The CA's error message from its JSON body, or the raw status.
std::string ca_error(const HttpReply& r) {
    boost::system::error_code ec;
    const json::value v = json::parse(r.body, ec);
    if (!ec && v.is_object()) {
        if (const auto* e = v.get_object().if_contains("error"); e != nullptr && e->is_object()) {
            if (const auto* m = e->get_object().if_contains("message"); m != nullptr && m->is_string()) {
                return std::string(m->get_string()) + " (HTTP " + std::to_string(r.status) + ")";
            }
        }
    }
    return "HTTP " + std::to_string(r.status);
}

boost::system::result<HttpReply, std::string> call(const Context& c, std::string_view method, std::string_view target,
                                                   std::string_view body, const std::optional<std::string>& token) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (token) {
        // The user identity goes with the user's scheme; the host token is always a bearer.
        const bool user = &token == &c.token;
        headers.emplace_back("Authorization", (user ? c.token_scheme : std::string("Bearer")) + " " + *token);
    }
    return http_request(c.ca, method, target, body, headers);
}

/// The certificate we hold, parsed (and its CA signature checked), or nullopt.
std::optional<sshcert::Certificate> our_certificate(const Context& c) {
    const auto text = read_file(cert_path(c));
    if (!text) {
        return std::nullopt;
    }
    auto cert = sshcert::Certificate::parse_line(*text);
    return cert ? std::optional<sshcert::Certificate>(std::move(*cert)) : std::nullopt;
}

/// Percent-encodes a query value (user names may hold '+', '=' and '@').
std::string query_value(std::string_view v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : v) {
        const auto u = static_cast<unsigned char>(ch);
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
            ch == '_') {
            out += ch;
        } else {
            out += '%';
            out += kHex[u >> 4U];
            out += kHex[u & 15U];
        }
    }
    return out;
}

void agent_forget(const Context& c) {
    if (c.agent && fs::exists(key_path(c))) {
        const auto removed = run({"ssh-add", "-d", key_path(c).string()});  // the key and its certificate
        if (removed.status != 0) {
            std::fprintf(stderr, "sshca: note: the old identity may still be in the agent (%s)\n", removed.output.c_str());
        }
    }
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    std::int64_t unit = 1;
    switch (text.back()) {
        case 's': unit = 1; text.remove_suffix(1); break;
        case 'm': unit = 60; text.remove_suffix(1); break;
        case 'h': unit = 3600; text.remove_suffix(1); break;
        case 'd': unit = 86400; text.remove_suffix(1); break;
        default: break;
    }
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v <= 0 || v > 365 * 86400 / unit) {
        return std::nullopt;
    }
    return v * unit;
}

int login(const Context& c, const LoginArgs& a) {
    if (!c.token) {
        return fail("no identity: set SSHCA_TOKEN or pass --token-file FILE (a token from your IdP), or "
                    "SSHCA_AUTH=aws with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    std::error_code ec;
    fs::create_directories(c.home, ec);
    fs::permissions(c.home, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
        return fail(c.home.string() + ": " + ec.message());
    }
    // A fresh key every login (ephemeral): made beside the old one, then moved over it.
    const fs::path fresh = c.home / "id_ed25519.new";
    fs::remove(fresh, ec);
    fs::remove(fresh.string() + ".pub", ec);
    const auto made = run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sshca", "-f", fresh.string()});
    if (made.status != 0) {
        return fail("ssh-keygen failed: " + made.output);
    }
    const auto pub = read_file(fresh.string() + ".pub");
    json::object body{{"public_key", pub ? *pub : ""}};
    if (a.ttl_s) {
        body["ttl_s"] = *a.ttl_s;
    }
    if (!a.principals.empty()) {
        json::array p;
        for (const auto& s : a.principals) {
            p.emplace_back(s);
        }
        body["principals"] = std::move(p);
    }
    auto reply = call(c, "POST", "/v1/certs/user", json::serialize(body), c.token);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->status != 201) {
        fs::remove(fresh, ec);
        fs::remove(fresh.string() + ".pub", ec);
        const std::string why = ca_error(*reply);
        switch (reply->status) {
            case 401: return fail("the CA does not accept your identity token (expired? get a new one): " + why);
            case 403: return fail("denied: " + why + "; see what you may have with `sshca status`");
            case 422: return fail("denied: " + why + "; ask for principals your groups grant");
            default: return fail("the CA refused: " + why);
        }
    }
    boost::system::error_code jec;
    const json::value v = json::parse(reply->body, jec);
    const json::object* o = (!jec && v.is_object()) ? &v.get_object() : nullptr;
    const json::value* cert = o != nullptr ? o->if_contains("certificate") : nullptr;
    if (cert == nullptr || !cert->is_string()) {
        return fail("the CA's answer has no certificate");
    }
    agent_forget(c);  // the old key and certificate leave the agent with the old files
    fs::rename(fresh, key_path(c), ec);
    if (!ec) {
        fs::rename(fresh.string() + ".pub", key_path(c).string() + ".pub", ec);
    }
    if (ec || !write_atomically(cert_path(c), std::string(cert->get_string()) + "\n",
                                fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                    fs::perms::others_read)) {
        return fail("cannot write the key and certificate in " + c.home.string());
    }
    const std::int64_t valid_before = o->contains("valid_before") ? o->at("valid_before").to_number<std::int64_t>() : 0;
    if (const auto* t = o->if_contains("server_time"); t != nullptr && t->is_int64()) {
        const std::int64_t skew = now_s() - t->get_int64();
        if (skew > kSkewWarnS || skew < -kSkewWarnS) {
            std::fprintf(stderr,
                         "sshca: warning: this machine's clock is %llds %s the CA's; hosts check the certificate "
                         "against their own clocks (fix NTP)\n",
                         static_cast<long long>(skew < 0 ? -skew : skew), skew > 0 ? "ahead of" : "behind");
        }
    }
    if (c.agent) {
        const std::int64_t remaining = valid_before - now_s();
        const auto added = run({"ssh-add", "-q", "-t", std::to_string(remaining > 1 ? remaining : 1), key_path(c).string()});
        if (added.status != 0) {
            std::fprintf(stderr, "sshca: note: not added to the agent (%s)\n", added.output.c_str());
        }
    }
    std::vector<std::string> names;
    if (const auto* p = o->if_contains("principals"); p != nullptr && p->is_array()) {
        for (const auto& s : p->get_array()) {
            names.emplace_back(s.is_string() ? s.get_string() : "");
        }
    }
    const std::string principals = join_names(names);
    std::printf("logged in: principals %s, valid until %s (in %s)\n  key %s\n  certificate %s\n", principals.c_str(),
                when(valid_before).c_str(), span(valid_before - now_s()).c_str(), key_path(c).c_str(),
                cert_path(c).c_str());
    return 0;
}

int status(const Context& c) {
    const auto cert = our_certificate(c);
    if (!cert) {
        std::printf("not logged in (no valid certificate in %s): run `sshca login`\n", c.home.c_str());
        return 1;
    }
    const std::string principals = join_names(cert->principals);
    const std::int64_t left = static_cast<std::int64_t>(cert->valid_before) - now_s();
    std::printf("certificate %s\n  key id     %s\n  serial     %llu\n  principals %s\n", cert_path(c).c_str(),
                cert->key_id.c_str(), static_cast<unsigned long long>(cert->serial), principals.c_str());
    if (left > 0) {
        std::printf("  valid until %s (in %s)\n", when(static_cast<std::int64_t>(cert->valid_before)).c_str(),
                    span(left).c_str());
    } else {
        std::printf("  EXPIRED %s ago: run `sshca login`\n", span(-left).c_str());
    }
    if (c.agent) {
        const auto listed = run({"ssh-add", "-l"});
        const bool in_agent = listed.output.find(cert->key.fingerprint()) != std::string::npos;
        std::printf("  agent      %s\n", in_agent ? "loaded" : "not loaded");
    }
    return left > 0 ? 0 : 1;
}

int logout(const Context& c) {
    agent_forget(c);
    std::error_code ec;
    for (const fs::path& p : {key_path(c), fs::path(key_path(c).string() + ".pub"), cert_path(c)}) {
        fs::remove(p, ec);
    }
    std::printf("logged out: key and certificate removed from %s%s\n", c.home.c_str(), c.agent ? " and the agent" : "");
    return 0;
}

int ensure(const Context& c, bool quiet) {
    const auto cert = our_certificate(c);
    if (cert && static_cast<std::int64_t>(cert->valid_before) - now_s() > kRenewBeforeS && fs::exists(key_path(c))) {
        return 0;
    }
    if (!c.token) {
        return fail(cert ? "the certificate expires within 2 minutes and there is no SSHCA_TOKEN to renew it: run "
                           "`sshca login`"
                         : "no valid certificate: run `sshca login`");
    }
    if (!quiet) {
        std::fprintf(stderr, "sshca: certificate %s: logging in again\n", cert ? "about to expire" : "missing or expired");
    }
    return login(c, LoginArgs{});
}

int ssh(const Context& c, const std::vector<std::string>& args) {
    if (const int e = ensure(c, false); e != 0) {
        return e;
    }
    std::vector<std::string> argv{"ssh", "-i", key_path(c).string(), "-o", "CertificateFile=" + cert_path(c).string(),
                                  "-o", "IdentitiesOnly=yes"};
    argv.insert(argv.end(), args.begin(), args.end());
    return exec(argv);
}

int config(const Context& c) {
    auto host_ca = call(c, "GET", "/v1/ca/host.pub", {}, std::nullopt);
    if (!host_ca || host_ca->status != 200) {
        return fail("cannot read the host CA: " + (host_ca ? ca_error(*host_ca) : host_ca.error()));
    }
    std::printf("# ~/.ssh/config: renew before connecting, then use the CA's certificate\n"
                "Match exec \"sshca ensure --quiet\"\n"
                "    IdentityFile %s\n"
                "    CertificateFile %s\n"
                "    IdentitiesOnly yes\n\n"
                "# ~/.ssh/known_hosts: trust hosts the CA certified (no prompt)\n%s",
                key_path(c).c_str(), cert_path(c).c_str(), host_ca->body.c_str());
    return 0;
}

int host_setup(const Context& c, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto users = call(c, "GET", "/v1/ca/user.pub", {}, std::nullopt);
    if (!users || users->status != 200) {
        return fail("cannot read the user CA keys: " + (users ? ca_error(*users) : users.error()));
    }
    const auto perms = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
    if (!write_atomically(dir / "user_ca.pub", users->body, perms)) {
        return fail("cannot write " + (dir / "user_ca.pub").string());
    }
    if (const int e = host_krl_sync(c, dir / "revoked.krl"); e != 0) {
        return e;
    }
    std::printf("wrote %s and %s\n\n# /etc/ssh/sshd_config\n"
                "TrustedUserCAKeys %s\n"
                "AuthorizedPrincipalsFile /etc/ssh/auth_principals/%%u\n"
                "RevokedKeys %s\n"
                "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n\n"
                "# then: one principal (zone) per line in /etc/ssh/auth_principals/<user>;\n"
                "# `sshca host renew --key /etc/ssh/ssh_host_ed25519_key.pub --hostname $(hostname -f)` for the host "
                "certificate;\n# `sshca host krl-sync --out %s` every minute (cron or a systemd timer)\n",
                (dir / "user_ca.pub").c_str(), (dir / "revoked.krl").c_str(), (dir / "user_ca.pub").c_str(),
                (dir / "revoked.krl").c_str(), (dir / "revoked.krl").c_str());
    return 0;
}

int host_renew(const Context& c, const fs::path& key, const std::vector<std::string>& hostnames,
               std::optional<std::int64_t> ttl_s) {
    if (!c.host_token) {
        return fail("no host token: set SSHCA_HOST_TOKEN or pass --token-file FILE");
    }
    const auto pub = read_file(key);
    if (!pub) {
        return fail("cannot read " + key.string());
    }
    json::array names;
    for (const auto& h : hostnames) {
        names.emplace_back(h);
    }
    json::object body{{"public_key", *pub}, {"hostnames", std::move(names)}};
    if (ttl_s) {
        body["ttl_s"] = *ttl_s;
    }
    auto reply = call(c, "POST", "/v1/certs/host", json::serialize(body), c.host_token);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->status != 201) {
        return fail("the CA refused: " + ca_error(*reply));
    }
    boost::system::error_code jec;
    const json::value v = json::parse(reply->body, jec);
    const json::value* cert = (!jec && v.is_object()) ? v.get_object().if_contains("certificate") : nullptr;
    if (cert == nullptr || !cert->is_string()) {
        return fail("the CA's answer has no certificate");
    }
    std::string out = key.string();
    if (out.ends_with(".pub")) {
        out.resize(out.size() - 4);
    }
    out += "-cert.pub";
    if (!write_atomically(out, std::string(cert->get_string()) + "\n",
                          fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read)) {
        return fail("cannot write " + out);
    }
    std::printf("wrote %s (valid until %s); sshd reads it at its next start or reload (HostCertificate)\n", out.c_str(),
                when(v.get_object().at("valid_before").to_number<std::int64_t>()).c_str());
    return 0;
}

int host_krl_sync(const Context& c, const fs::path& out) {
    const fs::path etag_file = out.string() + ".etag";
    std::vector<std::pair<std::string, std::string>> headers;
    const auto etag = read_file(etag_file);
    if (etag && fs::exists(out)) {
        headers.emplace_back("If-None-Match", *etag);
    }
    auto reply = http_request(c.ca, "GET", "/v1/krl", {}, headers);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->status == 304) {
        return 0;  // unchanged
    }
    if (reply->status != 200) {
        return fail("the CA refused: " + ca_error(*reply));
    }
    const auto perms = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
    if (!write_atomically(out, reply->body, perms)) {
        return fail("cannot write " + out.string());
    }
    if (const auto tag = reply->header("etag")) {
        (void)write_atomically(etag_file, *tag, perms);
    }
    std::printf("%s updated (KRL version %s)\n", out.c_str(), reply->header("etag").value_or("?").c_str());
    return 0;
}

int admin_revoke(const Context& c, const RevokeArgs& a) {
    json::object body{{"reason", a.reason}};
    if (a.serial) {
        body["serial"] = *a.serial;
    } else if (a.key_id) {
        body["key_id"] = *a.key_id;
    } else if (a.user) {
        body["user"] = *a.user;
    } else if (a.pubkey) {
        const auto pub = read_file(*a.pubkey);
        if (!pub) {
            return fail("cannot read " + a.pubkey->string());
        }
        body["public_key"] = *pub;
    }
    auto reply = call(c, "POST", "/v1/revocations", json::serialize(body), c.token);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->status != 201) {
        return fail("not revoked: " + ca_error(*reply));
    }
    std::printf("%s\n", reply->body.c_str());
    return 0;
}

namespace {

/// An admin listing: the CA's JSON as it came, or its refusal.
int print_listing(const Context& c, const std::string& target) {
    auto reply = call(c, "GET", target, {}, c.token);
    if (!reply) {
        return fail(reply.error());
    }
    if (reply->status != 200) {
        return fail(ca_error(*reply));
    }
    std::printf("%s\n", reply->body.c_str());
    return 0;
}

}  // namespace

int admin_certs(const Context& c, const std::optional<std::string>& user, bool active) {
    std::string target = "/v1/certs?active=" + std::string(active ? "1" : "0");
    if (user) {
        target += "&user=" + query_value(*user);
    }
    return print_listing(c, target);
}

int admin_audit(const Context& c, const std::optional<std::string>& since) {
    std::string target = "/v1/audit";
    if (since) {
        // "1h", "2d": that long ago; a bare number: seconds since the epoch.
        const bool relative = !since->empty() && std::string_view("smhd").find(since->back()) != std::string_view::npos;
        const auto d = relative ? parse_duration(*since) : std::nullopt;
        if (relative && !d) {
            return fail("--since: a duration (30m, 2h, 1d) or seconds since the epoch");
        }
        target += "?since=" + (relative ? std::to_string(now_s() - *d) : query_value(*since));
    }
    return print_listing(c, target);
}

}  // namespace moneta::sshca::cli
