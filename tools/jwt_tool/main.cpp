// jwt_tool: dev tokens for the local stack (./dev token), tests and benchmarks.
//   jwt_tool sign --secret-env MONETA_JWT_SECRET --sub a_1 --pid p_1 --ttl 3600 [--iss I] [--aud A]
//   jwt_tool sign-bulk --secret-env ... [--ttl --iss --aud] < "account profile ..." lines
//     prints "<token> <the input line>" per line: the bench's 100,000 tokens in one process.
// The secret is read from an environment variable or a file, never from the command line
// (which other users of the machine can read in /proc).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "moneta/jwt/verifier.hpp"

int main(int argc, char** argv) {
    CLI::App app{"jwt_tool: sign dev tokens"};
    app.require_subcommand(1);
    auto* sign = app.add_subcommand("sign", "print a signed token");
    auto* bulk = app.add_subcommand("sign-bulk", "sign one token per 'account profile ...' line of stdin");
    std::string secret_env;
    std::string secret_file;
    std::string key_file;
    std::string alg = "HS256";
    std::string kid = "dev";
    std::string sub;
    std::string pid;
    std::string iss;
    std::string aud;
    std::vector<std::string> groups;
    long ttl = 3600;
    sign->add_option("--secret-env", secret_env, "env var holding the HS256 secret");
    sign->add_option("--secret-file", secret_file, "file holding the HS256 secret");
    sign->add_option("--key-file", key_file, "PEM private key (RS256/ES256)");
    sign->add_option("--alg", alg, "HS256 | RS256 | ES256");
    sign->add_option("--kid", kid, "key id");
    sign->add_option("--sub", sub, "account id")->required();
    sign->add_option("--pid", pid, "profile id");
    sign->add_option("--iss", iss, "issuer");
    sign->add_option("--aud", aud, "audience");
    sign->add_option("--groups", groups, "groups claim (the SSH CA's identity), comma-separated")->delimiter(',');
    sign->add_option("--ttl", ttl, "seconds until exp")->check(CLI::Range(1L, 31L * 24 * 3600));
    bulk->add_option("--secret-env", secret_env, "env var holding the HS256 secret");
    bulk->add_option("--secret-file", secret_file, "file holding the HS256 secret");
    bulk->add_option("--kid", kid, "key id");
    bulk->add_option("--iss", iss, "issuer");
    bulk->add_option("--aud", aud, "audience");
    bulk->add_option("--ttl", ttl, "seconds until exp")->check(CLI::Range(1L, 31L * 24 * 3600));
    CLI11_PARSE(app, argc, argv);

    auto read = [](const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string s = ss.str();
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
            s.pop_back();
        }
        return s;
    };
    boost::system::result<moneta::jwt::Signer, std::string> signer = std::string("no key given");
    if (alg == "HS256") {
        std::string secret;
        if (!secret_env.empty() && std::getenv(secret_env.c_str()) != nullptr) {
            secret = std::getenv(secret_env.c_str());
        } else if (!secret_file.empty()) {
            secret = read(secret_file);
        }
        signer = moneta::jwt::Signer::hs256(kid, secret);
    } else {
        signer = moneta::jwt::Signer::from_private_pem(alg, kid, read(key_file));
    }
    if (!signer) {
        std::fprintf(stderr, "jwt_tool: %s\n", signer.error().c_str());
        return 2;
    }
    const long now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // Ids are [A-Za-z0-9_-], so no JSON escaping is needed; anything else is refused.
    auto valid = [](const std::string& v) {
        for (char c : v) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
        }
        return true;
    };
    auto payload_of = [&](const std::string& account, const std::string& profile) {
        std::string payload = "{\"sub\":\"" + account + "\"";
        if (!profile.empty()) payload += ",\"pid\":\"" + profile + "\"";
        if (!iss.empty()) payload += ",\"iss\":\"" + iss + "\"";
        if (!aud.empty()) payload += ",\"aud\":\"" + aud + "\"";
        if (!groups.empty()) {
            payload += ",\"groups\":[";
            for (std::size_t i = 0; i < groups.size(); ++i) {
                payload += (i == 0 ? "\"" : ",\"") + groups[i] + "\"";
            }
            payload += "]";
        }
        payload += ",\"iat\":" + std::to_string(now) + ",\"exp\":" + std::to_string(now + ttl) + "}";
        return payload;
    };
    std::vector<const std::string*> checked{&sub, &pid, &iss, &aud, &kid};
    for (const auto& g : groups) {
        checked.push_back(&g);
    }
    for (const std::string* v : checked) {
        if (!valid(*v)) {
            std::fprintf(stderr, "jwt_tool: invalid character in an id\n");
            return 2;
        }
    }
    if (bulk->parsed()) {
        std::string line;
        std::size_t number = 0;
        while (std::getline(std::cin, line)) {
            ++number;
            if (line.empty()) continue;
            std::istringstream fields(line);
            std::string account;
            std::string profile;
            fields >> account >> profile;
            if (account.empty() || !valid(account) || !valid(profile)) {
                std::fprintf(stderr, "jwt_tool: line %zu: expected 'account profile ...' ids\n", number);
                return 2;
            }
            std::cout << signer->sign(payload_of(account, profile)) << ' ' << line << '\n';
        }
        return std::cout.good() ? 0 : 1;
    }
    std::printf("%s\n", signer->sign(payload_of(sub, pid)).c_str());
    return 0;
}
