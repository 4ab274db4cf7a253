/// @file manifest_support.hpp
/// @brief What tests/deploy/aws and tests/deploy/k8s share: JSON reading, moneta's config as the
/// deployments carry it (its secret variables, loaded by moneta's own load_settings), the edge
/// template's ports, and running a shell pipeline.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::testing::deploy {

namespace bj = boost::json;

/// Parses @p path (aborts the test with a message on a syntax error).
bj::value read_json(const std::filesystem::path& path);

/// Parses a stream of concatenated JSON documents (kubectl -o json on several objects).
std::vector<bj::value> parse_json_stream(std::string_view text);

/// The value at a dotted @p path ("server.drain_ms"), or nullptr.
const bj::value* find(const bj::value& v, std::string_view path);

/// find() as an integer; 0 when absent or not a number (the caller's EXPECT then fails).
std::int64_t integer_at(const bj::value& v, std::string_view path);

/// find() as a string; "" when absent.
std::string string_at(const bj::value& v, std::string_view path);

/// The environment variables a moneta config reads secrets from (every {"env": NAME}).
std::set<std::string> secret_env_refs(const bj::value& config);

/// True for names that look like they hold a secret (TOKEN, SECRET, PASSWORD, PASSWD, KEY,
/// HEADERS, CREDENTIAL), so they must never be plain environment values.
bool secret_looking(std::string_view name);

/// Loads @p config_text with moneta's own load_settings (services/moneta/src/settings.cpp), each
/// secret variable set to a dummy of the right shape. @return "" when it loads, else the error.
std::string load_with_moneta(const std::string& config_text);

/// The seconds moneta may take after SIGTERM: drain + the longest request deadline + the final
/// flush (docs/moneta.md "Shutdown"), from @p config.
double shutdown_seconds(const bj::value& config);

/// The edge template's two ports as placeholders: what `listen` and `upstream moneta` use.
struct EdgeTemplatePorts {
    std::string listen_placeholder;    ///< e.g. "EDGE_PORT" (filled from MONETA_EDGE_PORT)
    std::string upstream_host;         ///< e.g. "127.0.0.1" (as scripts/stack.sh renders the servers)
    std::string upstream_placeholder;  ///< e.g. "MONETA_SERVERS"
};
EdgeTemplatePorts edge_template_ports();

/// Which location blocks of the edge template are exact matches (`location = /readyz`).
std::set<std::string> edge_exact_locations();

/// Runs `/bin/sh -c @p command`; @return stdout, or nullopt (stderr in @p error) on failure.
std::optional<std::string> shell(const std::string& command, std::string* error = nullptr);

}  // namespace moneta::testing::deploy
