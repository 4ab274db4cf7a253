#include "manifest_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "settings.hpp"

namespace moneta::testing::deploy {

bj::value read_json(const std::filesystem::path& path) {
    const std::string text = read_file(path);
    boost::system::error_code ec;
    bj::value v = bj::parse(text, ec);
    EXPECT_FALSE(ec) << path << ": " << ec.message();
    return v;
}

std::vector<bj::value> parse_json_stream(std::string_view text) {
    std::vector<bj::value> out;
    while (true) {
        const auto start = text.find_first_not_of(" \t\r\n");
        if (start == std::string_view::npos) {
            break;
        }
        text.remove_prefix(start);
        bj::stream_parser p;
        boost::system::error_code ec;
        const std::size_t used = p.write_some(text.data(), text.size(), ec);
        if (ec || !p.done()) {
            ADD_FAILURE() << "bad JSON stream at: " << text.substr(0, 200);
            break;
        }
        out.push_back(p.release());
        text.remove_prefix(used);
    }
    return out;
}

const bj::value* find(const bj::value& v, std::string_view path) {
    const bj::value* cur = &v;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string key(path.substr(0, dot));
        const auto* obj = cur->if_object();
        if (obj == nullptr) {
            return nullptr;
        }
        cur = obj->if_contains(key);
        if (cur == nullptr) {
            return nullptr;
        }
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return cur;
}

std::int64_t integer_at(const bj::value& v, std::string_view path) {
    const auto* p = find(v, path);
    return p != nullptr && p->is_int64() ? p->as_int64() : 0;
}

std::string string_at(const bj::value& v, std::string_view path) {
    const auto* p = find(v, path);
    return p != nullptr && p->is_string() ? std::string(p->as_string()) : std::string{};
}

namespace {
void collect_env_refs(const bj::value& v, std::set<std::string>& out) {
    if (const auto* o = v.if_object()) {
        if (o->size() == 1 && o->contains("env") && o->at("env").is_string()) {
            out.emplace(o->at("env").as_string());
            return;
        }
        for (const auto& kv : *o) {
            collect_env_refs(kv.value(), out);
        }
    } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a) {
            collect_env_refs(e, out);
        }
    }
}
}  // namespace

std::set<std::string> secret_env_refs(const bj::value& config) {
    std::set<std::string> out;
    collect_env_refs(config, out);
    return out;
}

bool secret_looking(std::string_view name) {
    static const std::regex re("TOKEN|SECRET|PASSWORD|PASSWD|KEY|HEADERS|CREDENTIAL",
                               std::regex::icase);
    return std::regex_search(name.begin(), name.end(), re);
}

std::string load_with_moneta(const std::string& config_text) {
    boost::system::error_code ec;
    const bj::value doc = bj::parse(config_text, ec);
    if (ec) {
        return "not JSON: " + ec.message();
    }
    const auto vars = secret_env_refs(doc);
    for (const auto& name : vars) {
        // 32 hex characters: long enough for every secret's rule (JWT >= 32 bytes, the DRM keys
        // exactly 32, tokens >= 16) and valid hex for the Akamai key.
        ::setenv(name.c_str(), std::string(32, 'a').c_str(), 1);
    }
    TempDir dir("moneta-deploy-");
    const auto path = dir.file("moneta.json");
    std::ofstream(path) << config_text;
    const auto settings = load_settings(path);
    for (const auto& name : vars) {
        ::unsetenv(name.c_str());
    }
    return settings ? std::string{} : settings.error();
}

double shutdown_seconds(const bj::value& config) {
    return static_cast<double>(integer_at(config, "server.drain_ms") +
                               integer_at(config, "server.default_deadline_ms") +
                               integer_at(config, "progress.shutdown_flush_ms")) /
           1000.0;
}

EdgeTemplatePorts edge_template_ports() {
    const std::string conf = read_file(source_dir() / "deploy/nginx/nginx.conf.template");
    EdgeTemplatePorts out;
    std::smatch m;
    // The edge server's listen line (the status listener's is STATUS_PORT).
    static const std::regex listen_re(R"(listen\s+[0-9.]*:?@([A-Z_]+)@\s+default_server)");
    if (std::regex_search(conf, m, listen_re)) {
        out.listen_placeholder = m[1];
    }
    // The upstream's server lines are one placeholder; the host they name is the one
    // scripts/stack.sh's upstream_servers writes (and deploy/docker/edge-start.sh replaces).
    static const std::regex upstream_re(R"(upstream moneta \{[^}]*?@([A-Z_]+)@)");
    if (std::regex_search(conf, m, upstream_re)) {
        out.upstream_placeholder = m[1];
    }
    const std::string stack = read_file(source_dir() / "scripts/stack.sh");
    static const std::regex host_re(R"re(out\+="server ([^:;\s"]+):\$p )re");
    if (std::regex_search(stack, m, host_re)) {
        out.upstream_host = m[1];
    }
    return out;
}

std::set<std::string> edge_exact_locations() {
    const std::string conf = read_file(source_dir() / "deploy/nginx/nginx.conf.template");
    std::set<std::string> out;
    static const std::regex re(R"(location = (/[^\s{]*))");
    for (std::sregex_iterator it(conf.begin(), conf.end(), re), end; it != end; ++it) {
        out.insert((*it)[1]);
    }
    return out;
}

std::optional<std::string> shell(const std::string& command, std::string* error) {
    TempDir dir("moneta-shell-");
    const auto out = dir.file("stdout");
    auto proc = Process::spawn({"/bin/sh", "-c", command + " >'" + out.string() + "'"}, {},
                               dir.file("stderr"));
    if (!proc) {
        if (error != nullptr) {
            *error = "cannot start /bin/sh";
        }
        return std::nullopt;
    }
    const auto status = proc->wait_exit(std::chrono::seconds(90));
    if (status != 0) {
        if (error != nullptr) {
            *error = "exit " + (status ? std::to_string(*status) : std::string("timeout")) + ": " +
                     proc->read_log();
        }
        return std::nullopt;
    }
    return read_file(out);
}

}  // namespace moneta::testing::deploy
