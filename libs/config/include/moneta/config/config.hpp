/// @file moneta/config/config.hpp
/// @brief One strict JSON config file per service → typed structs. Unknown keys are rejected,
/// every error names the full key path, environment variables override keys, and secrets come
/// from the environment or a file (never inline, never printed).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moneta::config {

/// Thrown inside readers only; load() turns it into an error message.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A secret value: reachable only through reveal(); prints as [REDACTED].
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string v) : value_(std::move(v)) {}
    const std::string& reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }
    friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "[REDACTED]"; }

private:
    std::string value_;
};

/// Reads the keys of one JSON object; remembers which were read so finish() can reject the rest.
class Reader {
public:
    Reader(const boost::json::object& object, std::string path);

    std::string string(std::string_view key, std::string fallback);
    std::string required_string(std::string_view key);
    bool boolean(std::string_view key, bool fallback);
    std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max);
    /// A JSON number (integer or fraction) in [min, max]; NaN/infinity cannot occur in JSON.
    double number(std::string_view key, double fallback, double min, double max);
    std::uint16_t port(std::string_view key, std::uint16_t fallback);
    std::chrono::milliseconds millis(std::string_view key, std::chrono::milliseconds fallback);
    std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback);
    std::optional<std::string> optional_string(std::string_view key);
    std::map<std::string, std::int64_t, std::less<>> integer_map(std::string_view key,
                                                                 std::map<std::string, std::int64_t, std::less<>> fallback);
    /// `{"env":"NAME"}` or `{"file":"/path"}`; a plain string is refused. Empty env = missing.
    Secret secret(std::string_view key, bool required);
    /// A nested object (empty object when absent).
    Reader child(std::string_view key);
    /// An array of objects.
    std::vector<Reader> children(std::string_view key);
    /// An object whose members are objects under names the config chooses (e.g. a policy's
    /// groups): (name, reader) pairs in the file's order. Each name is read as given.
    std::vector<std::pair<std::string, Reader>> named_children(std::string_view key);

    /// Throws for the first key that was never read: "<path>.<key>: unknown key".
    void finish() const;
    const std::string& path() const noexcept { return path_; }

private:
    const boost::json::value* find(std::string_view key);
    [[noreturn]] void fail(std::string_view key, std::string_view what) const;
    std::string key_path(std::string_view key) const;

    const boost::json::object* object_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
    static const boost::json::object kEmpty;
};

/// Parses @p file; syntax errors name the file, line and column.
boost::system::result<boost::json::value, std::string> load_file(const std::filesystem::path& file);

/// load_file's parse of the text already read (@p name goes into the messages): a JSON object,
/// or "<name>:<line>:<col>: invalid JSON (...)" / "<name>: the top level must be an object".
boost::system::result<boost::json::value, std::string> parse_text(std::string_view text, std::string_view name);

/// kStringList: a comma-separated list ("a,b,c") written as a JSON array of strings; an empty
/// item ("a,,b", a trailing comma) is refused rather than guessed at.
enum class EnvType : std::uint8_t { kInteger, kString, kBoolean, kStringList };

struct EnvOverride {
    std::string_view env;   ///< e.g. "MONETA_PORT"
    std::string_view path;  ///< dotted key, e.g. "server.port"
    EnvType type;
};

/// Writes each set (non-empty) variable into @p root at its path, type-checked.
boost::system::result<void, std::string> apply_env(boost::json::value& root,
                                                   std::span<const EnvOverride> overrides);

/// A service's config as it runs: load_file of @p file, then apply_env of @p overrides.
boost::system::result<boost::json::value, std::string> load_file(const std::filesystem::path& file,
                                                                 std::span<const EnvOverride> overrides);

}  // namespace moneta::config
