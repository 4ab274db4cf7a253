#include "moneta/consul/registration.hpp"

#include <charconv>
#include <fstream>

#include "moneta/core/json_escape.hpp"

namespace moneta::consul {

std::string go_duration(std::chrono::milliseconds d) {
    const std::int64_t ms = d.count();
    if (ms % 3'600'000 == 0 && ms != 0) {
        return std::to_string(ms / 3'600'000) + "h";
    }
    if (ms % 60'000 == 0 && ms != 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string encode_register_body(const ServiceRegistration& r) {
    std::string out;
    out.reserve(256);
    const auto key = [&out](std::string_view k) {
        core::append_json_string(out, k);
        out += ':';
    };
    out += '{';
    key("ID");
    core::append_json_string(out, r.id);
    out += ',';
    key("Name");
    core::append_json_string(out, r.name);
    if (!r.address.empty()) {
        out += ',';
        key("Address");
        core::append_json_string(out, r.address);
    }
    out += ',';
    key("Port");
    out += std::to_string(r.port);
    out += ',';
    key("Tags");
    out += '[';
    for (std::size_t i = 0; i < r.tags.size(); ++i) {
        if (i != 0) {
            out += ',';
        }
        core::append_json_string(out, r.tags[i]);
    }
    out += "],";
    key("Meta");
    out += '{';
    bool first = true;
    for (const auto& [k, v] : r.meta) {
        if (!first) {
            out += ',';
        }
        first = false;
        core::append_json_string(out, k);
        out += ':';
        core::append_json_string(out, v);
    }
    out += "},";
    key("Check");
    out += '{';
    key("CheckID");
    core::append_json_string(out, r.check_id());
    out += ',';
    key("Name");
    core::append_json_string(out, r.name + " TTL");
    out += ',';
    key("TTL");
    core::append_json_string(out, go_duration(r.ttl));
    out += ',';
    key("DeregisterCriticalServiceAfter");
    core::append_json_string(out, go_duration(r.deregister_critical_after));
    out += "}}";
    return out;
}

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~' || c == ':' || c == '@';
        if (keep) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    return out;
}

std::string pass_path(std::string_view check_id, std::string_view note) {
    std::string out = "/v1/agent/check/pass/" + percent_encode(check_id);
    if (!note.empty()) {
        out += "?note=" + percent_encode(note);
    }
    return out;
}

std::string deregister_path(std::string_view service_id) {
    return "/v1/agent/service/deregister/" + percent_encode(service_id);
}

namespace {

bool host_char_ok(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

boost::system::result<AgentConfig, std::string> parse_agent_address(std::string_view addr) {
    const auto fail = [&](std::string_view why) {
        return boost::system::result<AgentConfig, std::string>(
            boost::system::in_place_error, "CONSUL_HTTP_ADDR=" + std::string(addr) + ": " + std::string(why));
    };
    std::string_view rest = addr;
    if (rest.starts_with("https://")) {
        return fail("https is not supported (reach the local agent over http on loopback; docs/consul.md)");
    }
    if (rest.starts_with("unix://")) {
        return fail("unix sockets are not supported (use host:port)");
    }
    if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
    } else if (rest.find("://") != std::string_view::npos) {
        return fail("unknown scheme (expected host:port or http://host:port)");
    }
    if (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    if (rest.empty()) {
        return fail("no host");
    }
    AgentConfig out;
    std::string_view port_text;
    if (rest.front() == '[') {  // [v6]:port
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close == 1) {
            return fail("bad IPv6 literal");
        }
        out.host = std::string(rest.substr(1, close - 1));
        for (const char c : out.host) {
            if (!(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return fail("bad IPv6 literal");
            }
        }
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return fail("expected :port after the IPv6 literal");
            }
            port_text = rest.substr(1);
            if (port_text.empty()) {
                return fail("empty port");
            }
        }
    } else {
        const auto colon = rest.find(':');
        out.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
            if (port_text.empty()) {
                return fail("empty port");
            }
        }
        if (out.host.empty()) {
            return fail("no host");
        }
        for (const char c : out.host) {
            if (!host_char_ok(c)) {
                return fail("bad host (a path, user info or query is not allowed)");
            }
        }
    }
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
            return fail("bad port");
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

boost::system::result<std::optional<AgentConfig>, std::string> agent_from_environment(const Getenv& getenv) {
    const char* addr = getenv("CONSUL_HTTP_ADDR");
    if (addr == nullptr || *addr == '\0') {
        return std::optional<AgentConfig>{};
    }
    auto agent = parse_agent_address(addr);
    if (!agent) {
        return {boost::system::in_place_error, agent.error()};
    }
    if (const char* token = getenv("CONSUL_HTTP_TOKEN"); token != nullptr && *token != '\0') {
        agent->token = token;
    } else if (const char* file = getenv("CONSUL_HTTP_TOKEN_FILE"); file != nullptr && *file != '\0') {
        std::ifstream in(file);
        std::string line;
        if (!in || !std::getline(in, line)) {
            return {boost::system::in_place_error, std::string("CONSUL_HTTP_TOKEN_FILE: cannot read ") + file};
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.pop_back();
        }
        if (line.empty()) {
            return {boost::system::in_place_error, std::string("CONSUL_HTTP_TOKEN_FILE: empty token in ") + file};
        }
        agent->token = std::move(line);
    }
    // A token with control characters would split the header (request smuggling into the agent).
    for (const char c : agent->token) {
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F) {
            return {boost::system::in_place_error, "CONSUL_HTTP_TOKEN: contains a space or control character"};
        }
    }
    return std::optional<AgentConfig>{std::move(*agent)};
}

}  // namespace moneta::consul
