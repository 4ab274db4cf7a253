// Fuzz target: libs/config — parse_text (load_file's parser) and the strict Reader, driven by a
// schema that uses every reader method the services use (string, required_string, boolean,
// integer, number, port, millis, strings, optional_string, integer_map, secret, child,
// children, finish). Invariants:
// - nothing but ConfigError ever leaves a reader (anything else is an uncaught exception:
//   libFuzzer reports it as a crash);
// - an accepted document has no key the schema does not read (unknown keys are refused), and
//   every value read is inside its range;
// - a rejection names a key path, and never contains a secret's value;
// - a syntax error's line:column lies inside the text.
// Inputs naming a secret file ({"file": ...} anywhere) are skipped: the reader would read it,
// and a fuzz target does no I/O.
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "check.hpp"
#include "moneta/config/config.hpp"

namespace {

namespace json = boost::json;
using moneta::config::ConfigError;
using moneta::config::Reader;

constexpr const char* kSecretEnv = "MONETA_FUZZ_SECRET";
constexpr const char* kSecretValue = "fuzz-secret-value-7f3a";

bool names_a_file(const json::value& v) {
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            if (kv.key() == "file" || names_a_file(kv.value())) {
                return true;
            }
        }
    } else if (v.is_array()) {
        for (const auto& e : v.get_array()) {
            if (names_a_file(e)) {
                return true;
            }
        }
    }
    return false;
}

bool only_keys(const json::value* v, std::initializer_list<std::string_view> keys) {
    if (v == nullptr || !v->is_object()) {
        return true;
    }
    for (const auto& kv : v->get_object()) {
        bool known = false;
        for (std::string_view k : keys) {
            known = known || kv.key() == k;
        }
        if (!known) {
            return false;
        }
    }
    return true;
}

struct Settings {
    std::int64_t threads = 0;
    double ratio = 0;
    std::uint16_t port = 0;
    std::chrono::milliseconds timeout{0};
    std::map<std::string, std::int64_t, std::less<>> ranks;
    std::size_t keys = 0;
};

Settings read(Reader& root) {
    Settings s;
    (void)root.string("name", "moneta");
    (void)root.required_string("host");
    (void)root.boolean("enabled", true);
    s.threads = root.integer("threads", 0, 0, 256);
    s.ratio = root.number("ratio", 0.5, 0, 1);
    s.port = root.port("port", 8080);
    s.timeout = root.millis("timeout_ms", std::chrono::milliseconds(500));
    (void)root.strings("algorithms", {"HS256"});
    (void)root.optional_string("issuer");
    s.ranks = root.integer_map("plan_ranks", {{"basic", 1}});
    (void)root.secret("token", false);
    {
        auto server = root.child("server");
        (void)server.string("address", "127.0.0.1");
        (void)server.port("admin_port", 9091);
        server.finish();
    }
    for (auto& k : root.children("keys")) {
        (void)k.string("kid", "");
        const auto secret = k.secret("secret", true);
        FUZZ_CHECK(!secret.empty(), "a required secret is empty");
        k.finish();
        ++s.keys;
    }
    root.finish();
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setenv(kSecretEnv, kSecretValue, 1);  // {"env":"MONETA_FUZZ_SECRET"} resolves
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = moneta::config::parse_text(text, "f.json");
    if (!doc) {
        const std::string& e = doc.error();
        FUZZ_CHECK(e.starts_with("f.json:"), "a parse error without the file name");
        if (e.find("invalid JSON") != std::string::npos) {
            const auto a = e.find(':');
            const auto b = e.find(':', a + 1);
            const std::size_t line = std::stoul(e.substr(a + 1, b - a - 1));
            const std::size_t col = std::stoul(e.substr(b + 1));
            std::size_t lines = 1;
            for (char c : text) {
                lines += c == '\n' ? 1 : 0;
            }
            FUZZ_CHECK(
                line >= 1 && line <= lines && col >= 1 && col <= size + 1,
                "line:column outside the text"
            );
        }
        return 0;
    }
    FUZZ_CHECK(doc->is_object(), "parse_text accepted a non-object");
    if (names_a_file(*doc)) {
        return 0;
    }
    const json::object& o = doc->get_object();
    try {
        Reader root(o, "");
        const Settings s = read(root);
        // Accepted: no unknown key anywhere the schema looked, values in range.
        FUZZ_CHECK(
            only_keys(
                &*doc,
                {"name",
                 "host",
                 "enabled",
                 "threads",
                 "ratio",
                 "port",
                 "timeout_ms",
                 "algorithms",
                 "issuer",
                 "plan_ranks",
                 "token",
                 "server",
                 "keys"}
            ),
            "an unknown top-level key was accepted"
        );
        FUZZ_CHECK(
            only_keys(o.if_contains("server"), {"address", "admin_port"}),
            "an unknown server key accepted"
        );
        if (const json::value* keys = o.if_contains("keys"); keys != nullptr && keys->is_array()) {
            for (const auto& k : keys->get_array()) {
                FUZZ_CHECK(only_keys(&k, {"kid", "secret"}), "an unknown keys[] key accepted");
            }
        }
        FUZZ_CHECK(o.contains("host") && !o.at("host").is_null(), "the required host is missing");
        FUZZ_CHECK(s.threads >= 0 && s.threads <= 256, "threads out of range");
        FUZZ_CHECK(s.ratio >= 0 && s.ratio <= 1, "ratio out of range");
        FUZZ_CHECK(
            s.timeout.count() >= 0 && s.timeout.count() <= 86'400'000LL * 365, "millis out of range"
        );
    } catch (const ConfigError& e) {
        const std::string_view what = e.what();
        FUZZ_CHECK(
            what.size() > 2 && what.find(": ", 1) != std::string_view::npos,
            "an error without a key path"
        );
        // (unless the document itself spells the value out, e.g. as a key)
        FUZZ_CHECK(
            what.find(kSecretValue) == std::string_view::npos ||
                text.find(kSecretValue) != std::string_view::npos,
            "a secret's value in an error message"
        );
    }
    return 0;
}
