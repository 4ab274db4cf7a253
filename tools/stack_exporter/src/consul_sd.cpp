#include "consul_sd.hpp"

#include <optional>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace moneta::stack_exporter {
namespace {

namespace bj = boost::json;

/// Prometheus strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes '_'.
std::string sanitize_label_name(std::string_view key) {
    std::string out(key);
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            c = '_';
        }
    }
    return out;
}

/// A string member, "" when absent; nullopt when present with another type.
std::optional<std::string> optional_string(const bj::object& o, std::string_view key) {
    const bj::value* v = o.if_contains(key);
    if (v == nullptr) {
        return std::string();
    }
    if (!v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->as_string());
}

}  // namespace

boost::system::result<std::string, std::string> registrations_to_http_sd(
    std::string_view registrations, const SdNode& node, const std::map<std::string, std::string, std::less<>>* health) {
    boost::system::error_code ec;
    const bj::value doc = bj::parse(registrations, ec);
    if (ec) {
        return {boost::system::in_place_error, "registrations: not JSON (" + ec.message() + ")"};
    }
    if (!doc.is_array()) {
        return {boost::system::in_place_error, "registrations: expected a JSON array"};
    }
    bj::array groups;
    std::set<std::string, std::less<>> ids;
    std::size_t index = 0;
    for (const bj::value& entry : doc.as_array()) {
        const std::string where = "registrations[" + std::to_string(index++) + "]";
        if (!entry.is_object()) {
            return {boost::system::in_place_error, where + ": expected an object"};
        }
        const bj::object& r = entry.as_object();
        const auto name = optional_string(r, "Name");
        const auto id = optional_string(r, "ID");
        const auto address = optional_string(r, "Address");
        if (!name || name->empty() || !id || !address) {
            return {boost::system::in_place_error, where + ": Name (a non-empty string), ID and Address must be strings"};
        }
        const bj::value* port = r.if_contains("Port");
        if (port == nullptr || !port->is_int64() || port->as_int64() < 1 || port->as_int64() > 65535) {
            return {boost::system::in_place_error, where + ": Port must be an integer 1..65535"};
        }
        const std::string service_id = id->empty() ? *name : *id;  // Consul: ID defaults to Name
        if (!ids.insert(service_id).second) {
            return {boost::system::in_place_error, where + ": duplicate ID " + service_id};
        }
        // Consul SD joins the tags with its separator and puts one at both ends, so a relabel
        // regex ".*,prometheus,.*" matches a whole tag only.
        std::string tags = ",";
        if (const bj::value* t = r.if_contains("Tags"); t != nullptr) {
            if (!t->is_array()) {
                return {boost::system::in_place_error, where + ": Tags must be an array of strings"};
            }
            for (const bj::value& tag : t->as_array()) {
                if (!tag.is_string()) {
                    return {boost::system::in_place_error, where + ": Tags must be an array of strings"};
                }
                tags.append(tag.as_string().data(), tag.as_string().size()).push_back(',');
            }
        }
        const std::string port_text = std::to_string(port->as_int64());
        bj::object labels;
        labels["__meta_consul_service"] = *name;
        labels["__meta_consul_service_id"] = service_id;
        labels["__meta_consul_service_address"] = *address;
        labels["__meta_consul_service_port"] = port_text;
        labels["__meta_consul_tags"] = tags;
        labels["__meta_consul_node"] = node.name;
        labels["__meta_consul_dc"] = node.datacenter;
        labels["__meta_consul_address"] = node.address;
        // The static file has no checks to run: what is listed is what is up (Prometheus's own
        // `up` then says whether it answers). Live registrations carry their TTL check's state.
        std::string state = "passing";
        if (health != nullptr) {
            if (const auto h = health->find(service_id); h != health->end()) {
                state = h->second;
            }
        }
        labels["__meta_consul_health"] = state;
        if (const bj::value* m = r.if_contains("Meta"); m != nullptr) {
            if (!m->is_object()) {
                return {boost::system::in_place_error, where + ": Meta must be an object of strings"};
            }
            for (const auto& kv : m->as_object()) {
                if (!kv.value().is_string()) {
                    return {boost::system::in_place_error, where + ": Meta must be an object of strings"};
                }
                labels["__meta_consul_service_metadata_" + sanitize_label_name(kv.key())] = kv.value().as_string();
            }
        }
        bj::object group;
        group["targets"] = bj::array{bj::value((address->empty() ? node.address : *address) + ":" + port_text)};
        group["labels"] = std::move(labels);
        groups.push_back(std::move(group));
    }
    return {boost::system::in_place_value, bj::serialize(groups)};
}

}  // namespace moneta::stack_exporter
