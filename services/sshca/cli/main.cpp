// sshca: the SSH CA's command line (docs/sshca.md "CLI"). main only parses and dispatches.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "aws_credential.hpp"
#include "commands.hpp"

namespace {

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::optional<std::string>(v) : std::nullopt;
}

std::optional<std::string> token_from_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    std::string t = s.str();
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) {
        t.pop_back();
    }
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    namespace cli = moneta::sshca::cli;
    CLI::App app{"sshca: short-lived SSH certificates from the CA (docs/sshca.md)"};
    app.require_subcommand(1);
    std::string token_file;
    bool no_agent = false;
    bool aws = false;
    app.add_flag("--aws", aws, "prove who you are with your AWS IAM keys (as SSHCA_AUTH=aws)");
    app.add_option("--token-file", token_file, "identity token (user commands) or host token (host renew)");

    cli::LoginArgs login_args;
    std::string ttl;
    std::string principals;
    auto* login = app.add_subcommand("login", "get a certificate for a fresh key; add both to the agent");
    login->add_option("--ttl", ttl, "lifetime: 90m, 1h, 8h, 1d (default: the policy's)");
    login->add_option("--principals", principals, "ask for these principals only (comma-separated)");
    login->add_flag("--no-agent", no_agent, "do not touch ssh-agent");
    auto* status = app.add_subcommand("status", "the certificate we hold: principals, validity, agent");
    auto* logout = app.add_subcommand("logout", "remove our key and certificate (files and agent)");
    bool quiet = false;
    auto* ensure = app.add_subcommand("ensure", "log in again when the certificate is missing or expiring");
    ensure->add_flag("--quiet", quiet, "no message when renewing");
    auto* ssh = app.add_subcommand("ssh", "ensure a valid certificate, then run ssh with it (ssh's arguments follow)");
    ssh->prefix_command();  // everything after `ssh` is ssh's, untouched (remaining())
    auto* config = app.add_subcommand("config", "print the ssh_config and known_hosts lines");

    auto* host = app.add_subcommand("host", "for servers: trust the CA, certify the host key, sync the KRL");
    host->require_subcommand(1);
    std::string dir;
    auto* setup = host->add_subcommand("setup", "write user_ca.pub and revoked.krl; print the sshd_config lines");
    setup->add_option("--dir", dir, "directory for the files")->required();
    std::string key;
    std::vector<std::string> hostnames;
    std::string host_ttl;
    auto* renew = host->add_subcommand("renew", "certify a host key (SSHCA_HOST_TOKEN)");
    renew->add_option("--key", key, "the host's public key file")->required();
    renew->add_option("--hostname", hostnames, "a name the certificate is valid for (repeatable)")->required();
    renew->add_option("--ttl", host_ttl, "lifetime (default: the CA's)");
    std::string krl_out;
    auto* krl = host->add_subcommand("krl-sync", "fetch the KRL when it changed; replace the file atomically");
    krl->add_option("--out", krl_out, "the RevokedKeys file")->required();

    auto* admin = app.add_subcommand("admin", "for CA admins: revoke, list certificates, read the audit log");
    admin->require_subcommand(1);
    cli::RevokeArgs revoke_args;
    std::uint64_t serial = 0;
    std::string key_id;
    std::string user;
    std::string pubkey;
    auto* revoke = admin->add_subcommand("revoke", "revoke by serial, key id, user or public key");
    auto* by_serial = revoke->add_option("--serial", serial, "a certificate's serial");
    auto* by_key_id = revoke->add_option("--key-id", key_id, "a certificate's key id");
    auto* by_user = revoke->add_option("--user", user, "every unexpired certificate of a user, and their keys");
    auto* by_key = revoke->add_option("--pubkey", pubkey, "a public key file: the key and all its certificates");
    by_serial->excludes(by_key_id, by_user, by_key);
    by_key_id->excludes(by_user, by_key);
    by_user->excludes(by_key);
    revoke->add_option("--reason", revoke_args.reason, "recorded in the audit log");
    std::string certs_user;
    bool active = false;
    auto* certs = admin->add_subcommand("certs", "issued certificates");
    certs->add_option("--user", certs_user, "one user's");
    certs->add_flag("--active", active, "unexpired and unrevoked only");
    std::string since;
    auto* audit = admin->add_subcommand("audit", "issuances, denials, revocations, failed identities");
    audit->add_option("--since", since, "30m, 2h, 1d ago, or seconds since the epoch");
    CLI11_PARSE(app, argc, argv);

    cli::Context c;
    const std::string url = env("SSHCA_URL").value_or("http://127.0.0.1:" + env("SSHCA_PORT").value_or("8083"));
    auto endpoint = cli::Endpoint::parse(url);
    if (!endpoint) {
        std::fprintf(stderr, "sshca: %s\n", endpoint.error().c_str());
        return 2;
    }
    c.ca = std::move(*endpoint);
    const std::optional<std::string> from_file = token_file.empty() ? std::nullopt : token_from_file(token_file);
    if (!token_file.empty() && !from_file) {
        std::fprintf(stderr, "sshca: cannot read --token-file %s\n", token_file.c_str());
        return 2;
    }
    c.token = from_file ? from_file : env("SSHCA_TOKEN");
    c.host_token = from_file ? from_file : env("SSHCA_HOST_TOKEN");
    if (aws || env("SSHCA_AUTH") == std::optional<std::string>("aws")) {
        // AWS IAM identity (docs/sshca.md): GetCallerIdentity signed with the engineer's keys,
        // sent to the CA unsent; the CA forwards it to STS. Valid for AWS's 15 minutes.
        moneta::aws_sigv4::Credentials creds;
        creds.access_key_id = env("AWS_ACCESS_KEY_ID").value_or("");
        creds.secret_access_key = env("AWS_SECRET_ACCESS_KEY").value_or("");
        creds.session_token = env("AWS_SESSION_TOKEN").value_or("");
        if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
            std::fprintf(stderr, "sshca: SSHCA_AUTH=aws needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
            return 2;
        }
        const auto sts = moneta::sshca::AwsEndpoint::parse(env("SSHCA_STS_ENDPOINT").value_or("https://sts.amazonaws.com"));
        if (!sts) {
            std::fprintf(stderr, "sshca: SSHCA_STS_ENDPOINT: %s\n", sts.error().c_str());
            return 2;
        }
        // STS's global endpoint signs in us-east-1 whatever AWS_REGION says; a regional one needs its region.
        const auto region = env("SSHCA_STS_REGION").value_or("us-east-1");
        c.token = moneta::sshca::make_sts_credential(creds, region, *sts, static_cast<std::int64_t>(std::time(nullptr)));
        c.token_scheme = "AWS4-STS";
    }
    const auto home = env("SSHCA_HOME");
    const auto user_home = env("HOME");
    if (!home && !user_home) {
        std::fprintf(stderr, "sshca: set SSHCA_HOME or HOME\n");
        return 2;
    }
    c.home = home ? std::filesystem::path(*home) : std::filesystem::path(*user_home) / ".sshca";
    c.agent = !no_agent && env("SSH_AUTH_SOCK").has_value();

    if (login->parsed()) {
        if (!ttl.empty()) {
            login_args.ttl_s = cli::parse_duration(ttl);
            if (!login_args.ttl_s) {
                std::fprintf(stderr, "sshca: --ttl: a duration such as 90m, 1h or 1d\n");
                return 2;
            }
        }
        std::stringstream list(principals);
        for (std::string p; std::getline(list, p, ',');) {
            if (!p.empty()) {
                login_args.principals.push_back(p);
            }
        }
        return cli::login(c, login_args);
    }
    if (status->parsed()) return cli::status(c);
    if (logout->parsed()) return cli::logout(c);
    if (ensure->parsed()) return cli::ensure(c, quiet);
    if (ssh->parsed()) return cli::ssh(c, ssh->remaining());
    if (config->parsed()) return cli::config(c);
    if (setup->parsed()) return cli::host_setup(c, dir);
    if (renew->parsed()) {
        std::optional<std::int64_t> t;
        if (!host_ttl.empty() && !(t = cli::parse_duration(host_ttl))) {
            std::fprintf(stderr, "sshca: --ttl: a duration such as 30d\n");
            return 2;
        }
        return cli::host_renew(c, key, hostnames, t);
    }
    if (krl->parsed()) return cli::host_krl_sync(c, krl_out);
    if (revoke->parsed()) {
        if (*by_serial) revoke_args.serial = serial;
        if (*by_key_id) revoke_args.key_id = key_id;
        if (*by_user) revoke_args.user = user;
        if (*by_key) revoke_args.pubkey = pubkey;
        if (!revoke_args.serial && !revoke_args.key_id && !revoke_args.user && !revoke_args.pubkey) {
            std::fprintf(stderr, "sshca: admin revoke: one of --serial, --key-id, --user, --pubkey\n");
            return 2;
        }
        return cli::admin_revoke(c, revoke_args);
    }
    if (certs->parsed()) return cli::admin_certs(c, certs_user.empty() ? std::nullopt : std::optional(certs_user), active);
    if (audit->parsed()) return cli::admin_audit(c, since.empty() ? std::nullopt : std::optional(since));
    return 2;
}
