#include "settings.hpp"

#include "moneta/config/config.hpp"

namespace moneta::sshca {

boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file) {
    static constexpr config::EnvOverride kEnv[] = {
        {"SSHCA_ADDRESS", "server.address", config::EnvType::kString},
        {"SSHCA_PORT", "server.port", config::EnvType::kInteger},
        {"SSHCA_DB", "db", config::EnvType::kString},
        {"SSHCA_POLICY", "policy", config::EnvType::kString},
        {"SSHCA_CA_DIR", "ca.dir", config::EnvType::kString},
    };
    auto doc = config::load_file(file, kEnv);
    if (!doc) {
        return {boost::system::in_place_error, doc.error()};
    }
    try {
        Settings s;
        config::Reader root(doc->get_object(), "");
        auto server = root.child("server");
        s.address = server.string("address", s.address);
        s.port = server.port("port", s.port);
        server.finish();
        s.db = root.string("db", s.db.string());
        s.policy = root.string("policy", s.policy.string());
        auto ca = root.child("ca");
        s.ca.dir = ca.required_string("dir");
        s.ca.passphrase = ca.secret("passphrase", true).reveal();
        s.ca.generate_missing = ca.boolean("generate_missing", false);
        const std::string type = ca.string("key_type", "ed25519");
        if (type == "ed25519") {
            s.ca.spec.type = sshcert::KeyType::kEd25519;
        } else if (type == "ecdsa-p256") {
            s.ca.spec.type = sshcert::KeyType::kEcdsaP256;
        } else if (type == "rsa") {
            s.ca.spec.type = sshcert::KeyType::kRsa;
            s.ca.spec.rsa_bits = static_cast<unsigned>(ca.integer("rsa_bits", 4096, 3072, 4096));
        } else {
            throw config::ConfigError("ca.key_type: ed25519, ecdsa-p256 or rsa");
        }
        ca.finish();
        auto host = root.child("host");
        s.host.default_ttl_s = host.integer("default_ttl_s", s.host.default_ttl_s, 60, 365 * 86400);
        s.host.max_ttl_s = host.integer("max_ttl_s", s.host.max_ttl_s, 60, 365 * 86400);
        s.host.known_hosts_pattern = host.string("known_hosts_pattern", s.host.known_hosts_pattern);
        s.host_token = host.secret("token", false).reveal();
        host.finish();
        auto auth = root.child("auth");
        s.jwt_secret = auth.secret("jwt_secret", true).reveal();
        s.jwt_issuer = auth.string("issuer", "");
        s.failures.max_failures = static_cast<int>(auth.integer("max_failures_per_window", 10, 1, 10'000));
        s.failures.window = std::chrono::seconds(auth.integer("failure_window_s", 60, 1, 86400));
        auto aws = auth.child("aws");
        s.aws.enabled = aws.boolean("enabled", false);
        s.aws.sts_endpoint = aws.string("sts_endpoint", s.aws.sts_endpoint);
        s.aws.iam_endpoint = aws.string("iam_endpoint", s.aws.iam_endpoint);
        s.aws.region = aws.string("region", s.aws.region);
        s.aws.allowed_accounts = aws.strings("allowed_accounts", {});
        s.aws.timeout = std::chrono::milliseconds(aws.integer("timeout_ms", 2000, 100, 10'000));
        s.aws.credentials.access_key_id = aws.secret("access_key_id", s.aws.enabled).reveal();
        s.aws.credentials.secret_access_key = aws.secret("secret_access_key", s.aws.enabled).reveal();
        s.aws.credentials.session_token = aws.secret("session_token", false).reveal();
        aws.finish();
        for (const auto& a : s.aws.allowed_accounts) {
            if (a.size() != 12 || a.find_first_not_of("0123456789") != std::string::npos) {
                throw config::ConfigError("auth.aws.allowed_accounts: 12-digit AWS account ids");
            }
        }
        if (s.aws.enabled) {
            for (const auto* url : {&s.aws.sts_endpoint, &s.aws.iam_endpoint}) {
                if (auto e = AwsEndpoint::parse(*url); !e) {
                    throw config::ConfigError("auth.aws endpoint " + *url + ": " + e.error());
                }
            }
        }
        auth.finish();
        root.finish();
        if (s.ca.passphrase.size() < 12) {
            throw config::ConfigError("ca.passphrase: at least 12 characters");
        }
        if (s.jwt_secret.size() < 32) {
            throw config::ConfigError("auth.jwt_secret: at least 32 bytes");
        }
        if (!s.host_token.empty() && s.host_token.size() < 16) {
            throw config::ConfigError("host.token: at least 16 characters");
        }
        if (s.host.default_ttl_s > s.host.max_ttl_s) {
            throw config::ConfigError("host.default_ttl_s: above host.max_ttl_s");
        }
        return s;
    } catch (const config::ConfigError& e) {
        return {boost::system::in_place_error, file.filename().string() + ": " + e.what()};
    }
}

}  // namespace moneta::sshca
