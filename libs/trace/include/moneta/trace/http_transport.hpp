/// @file moneta/trace/http_transport.hpp
/// @brief OTLP/HTTP transport: one blocking HTTP/1.1 POST per batch on the exporter's own
/// thread (never a worker's), `Content-Type: application/x-protobuf`, bounded by the export
/// timeout (connect, write and read together).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/trace/exporter.hpp"

namespace moneta::trace {

/// An `http://host[:port][/path]` endpoint (https is not spoken here: point it at a local
/// collector or an APM Server with a plain-HTTP intake; docs/tracing.md).
struct Endpoint {
    std::string host;
    std::uint16_t port = 80;
    std::string path = "/v1/traces";
};

/// Parses @p url; nullopt for anything but http://host[:port][/path].
std::optional<Endpoint> parse_endpoint(std::string_view url);

/// Parses `MONETA_OTLP_HEADERS` (the OTel `key=value,key2=value2` form, e.g.
/// `Authorization=Bearer abc`). Names must be tokens, values printable without CR/LF.
/// nullopt when malformed (the caller refuses to start; the value is never logged).
std::optional<std::vector<std::pair<std::string, std::string>>> parse_headers(std::string_view spec);

class HttpTransport final : public Transport {
public:
    HttpTransport(Endpoint endpoint, std::vector<std::pair<std::string, std::string>> headers);
    PostResult post(std::string_view body, core::Duration timeout) override;

private:
    Endpoint endpoint_;
    std::string head_prefix_;  ///< request line, Host, Content-Type and the extra headers
    std::string request_;      ///< reused across posts
};

}  // namespace moneta::trace
