#include "aws_credential.hpp"

#include <boost/json.hpp>

#include "moneta/core/base64.hpp"

namespace moneta::sshca {
namespace {

bool is_loopback(std::string_view host) {
    return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

}  // namespace

std::string AwsEndpoint::host_header() const {
    return (tls && port == "443") || (!tls && port == "80") ? host : host + ":" + port;
}

boost::system::result<AwsEndpoint, std::string> AwsEndpoint::parse(std::string_view url) {
    AwsEndpoint e;
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        e.tls = false;
        rest = url.substr(7);
    } else {
        return {boost::system::in_place_error, "expected https://host[:port]"};
    }
    if (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
        return {boost::system::in_place_error, "expected scheme://host[:port] with no path, query or user"};
    }
    std::size_t colon = std::string_view::npos;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || (close + 1 < rest.size() && rest[close + 1] != ':')) {
            return {boost::system::in_place_error, "bad IPv6 host"};
        }
        colon = close + 1 < rest.size() ? close + 1 : std::string_view::npos;
    } else {
        colon = rest.find(':');
    }
    const bool has_port = colon != std::string_view::npos;
    if (has_port) {
        e.host = std::string(rest.substr(0, colon));
        e.port = std::string(rest.substr(colon + 1));
        if (e.port.empty() || e.port.size() > 5 || e.port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(e.port) == 0 || std::stoi(e.port) > 65535) {
            return {boost::system::in_place_error, "bad port"};
        }
    } else {
        e.host = std::string(rest);
        e.port = e.tls ? "443" : "80";
    }
    if (e.host.empty()) {
        return {boost::system::in_place_error, "no host"};
    }
    if (!e.tls && !is_loopback(e.host)) {
        return {boost::system::in_place_error, "http:// only for a loopback address (tests); AWS is https"};
    }
    e.url = (e.tls ? "https://" : "http://") + e.host_header() + "/";
    return e;
}

std::string make_sts_credential(const aws_sigv4::Credentials& credentials, std::string_view region,
                                const AwsEndpoint& sts, std::int64_t now_s) {
    aws_sigv4::Request req;
    req.method = "POST";
    req.headers = {{"Host", sts.host_header()},
                   {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    req.body = std::string(kGetCallerIdentityBody);
    aws_sigv4::sign(req, credentials, region, "sts", now_s);
    boost::json::object headers;
    for (const auto& h : req.headers) {
        headers[h.name] = h.value;
    }
    const boost::json::object o{{"method", req.method}, {"url", sts.url}, {"headers", std::move(headers)},
                                {"body", req.body}};
    return core::base64_encode(boost::json::serialize(o));
}

}  // namespace moneta::sshca
