#include "consul_agent.hpp"

#include "consul_sd.hpp"

#include <cctype>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace moneta::stack_exporter {
namespace {

namespace bj = boost::json;

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

AgentAnswer bad_request(std::string text) { return {400, std::move(text)}; }

}  // namespace

std::optional<core::Duration> parse_go_duration(std::string_view text) {
    if (text == "0") {
        return core::Duration{0};
    }
    if (text.empty()) {
        return std::nullopt;
    }
    double total_ns = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        double value = 0;
        try {
            std::size_t used = 0;
            const std::string number(text.substr(start, i - start));
            value = std::stod(number, &used);
            if (used != number.size()) {
                return std::nullopt;
            }
        } catch (...) {
            return std::nullopt;
        }
        const std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale = 0;
        if (unit == "ns") {
            scale = 1;
        } else if (unit == "us") {
            scale = 1e3;
        } else if (unit == "ms") {
            scale = 1e6;
        } else if (unit == "s") {
            scale = 1e9;
        } else if (unit == "m") {
            scale = 60e9;
        } else if (unit == "h") {
            scale = 3600e9;
        } else {
            return std::nullopt;  // a missing unit is an error in Go too ("15")
        }
        total_ns += value * scale;
    }
    if (!std::isfinite(total_ns) || total_ns > 1e18) {
        return std::nullopt;
    }
    return core::Duration{static_cast<std::int64_t>(total_ns)};
}

AgentAnswer LocalAgent::register_service(std::string_view body) {
    boost::system::error_code ec;
    const bj::value doc = bj::parse(body, ec);
    if (ec || !doc.is_object()) {
        return bad_request("Request decode failed: " + (ec ? ec.message() : std::string("expected a JSON object")));
    }
    const bj::object& o = doc.as_object();
    const bj::value* name = o.if_contains("Name");
    if (name == nullptr || !name->is_string() || name->as_string().empty()) {
        return bad_request("Missing service name");
    }
    const bj::value* id = o.if_contains("ID");
    if (id != nullptr && !id->is_string()) {
        return bad_request("Request decode failed: ID must be a string");
    }
    const bj::value* port = o.if_contains("Port");
    if (port == nullptr || !port->is_int64() || port->as_int64() < 1 || port->as_int64() > 65535) {
        // A real agent takes Port 0 too; /sd cannot scrape it, so the dev agent refuses it.
        return bad_request("Invalid Port: this dev agent needs 1..65535");
    }
    Service s;
    const std::string service_id =
        id != nullptr && !id->as_string().empty() ? std::string(id->as_string()) : std::string(name->as_string());
    s.check_id = "service:" + service_id;
    if (const bj::value* check = o.if_contains("Check"); check != nullptr && !check->is_null()) {
        if (!check->is_object()) {
            return bad_request("Request decode failed: Check must be an object");
        }
        const bj::object& c = check->as_object();
        if (const bj::value* cid = c.if_contains("CheckID"); cid != nullptr) {
            if (!cid->is_string()) {
                return bad_request("Request decode failed: CheckID must be a string");
            }
            if (!cid->as_string().empty()) {
                s.check_id = std::string(cid->as_string());
            }
        }
        const bj::value* ttl = c.if_contains("TTL");
        if (ttl == nullptr || !ttl->is_string()) {
            return bad_request("Check is not valid: this dev agent runs TTL checks only");
        }
        const auto d = parse_go_duration(ttl->as_string());
        if (!d || *d <= core::Duration::zero()) {
            return bad_request("Request decode failed: invalid TTL \"" + std::string(ttl->as_string()) + "\"");
        }
        s.ttl = *d;
        if (const bj::value* after = c.if_contains("DeregisterCriticalServiceAfter"); after != nullptr) {
            const auto a = after->is_string() ? parse_go_duration(after->as_string()) : std::nullopt;
            if (!a) {
                return bad_request("Request decode failed: invalid DeregisterCriticalServiceAfter");
            }
            // Consul's floor: a minute.
            s.deregister_after = std::max<core::Duration>(*a, std::chrono::minutes(1));
        }
    }
    // What /sd will serve must map: a bad Tags/Meta/Address is refused now, not at every refresh.
    if (auto sd = registrations_to_http_sd("[" + std::string(body) + "]", SdNode{}); !sd) {
        return bad_request("Request decode failed: " + sd.error());
    }
    // Re-registering replaces the service; its check starts critical again (as the agent does).
    s.body = std::string(body);
    s.critical_since = clock_.steady_now();
    services_[service_id] = std::move(s);
    return {};
}

AgentAnswer LocalAgent::pass(std::string_view check_id) {
    const std::string id = percent_decode(check_id);
    for (auto& [sid, s] : services_) {
        if (s.check_id == id) {
            s.last_pass = clock_.steady_now();
            return {};
        }
    }
    return {404, "Unknown check ID \"" + id + "\". Ensure that the check ID is passed, not the check name."};
}

AgentAnswer LocalAgent::deregister(std::string_view service_id) {
    const std::string id = percent_decode(service_id);
    if (services_.erase(id) == 0) {
        return {404, "Unknown service ID \"" + id + "\". Ensure that the service ID is passed, not the service name."};
    }
    return {};
}

bool LocalAgent::passing(const Service& s, core::SteadyTime now) const {
    if (s.ttl == core::Duration::zero()) {
        return true;
    }
    return s.last_pass && now - *s.last_pass <= s.ttl;
}

void LocalAgent::reap(core::SteadyTime now) {
    for (auto it = services_.begin(); it != services_.end();) {
        Service& s = it->second;
        if (s.deregister_after > core::Duration::zero() && !passing(s, now)) {
            const core::SteadyTime since = s.last_pass ? std::max(*s.last_pass + s.ttl, s.critical_since) : s.critical_since;
            if (now - since >= s.deregister_after) {
                it = services_.erase(it);
                continue;
            }
        }
        ++it;
    }
}

void LocalAgent::collect(bj::array& out, std::map<std::string, std::string, std::less<>>& health) {
    const core::SteadyTime now = clock_.steady_now();
    reap(now);
    for (const auto& [id, s] : services_) {
        out.push_back(bj::parse(s.body));
        health[id] = passing(s, now) ? "passing" : "critical";
    }
}

std::string LocalAgent::services_json() {
    reap(clock_.steady_now());
    bj::object out;
    for (const auto& [id, s] : services_) {
        const bj::object r = bj::parse(s.body).as_object();
        bj::object svc;
        svc["ID"] = id;
        svc["Service"] = r.at("Name");
        svc["Tags"] = r.contains("Tags") ? r.at("Tags") : bj::value(bj::array{});
        svc["Meta"] = r.contains("Meta") ? r.at("Meta") : bj::value(bj::object{});
        svc["Port"] = r.at("Port");
        svc["Address"] = r.contains("Address") ? r.at("Address") : bj::value("");
        out[id] = std::move(svc);
    }
    return bj::serialize(out);
}

}  // namespace moneta::stack_exporter
