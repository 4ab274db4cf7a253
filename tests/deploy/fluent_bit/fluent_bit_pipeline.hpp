/// @file fluent_bit_pipeline.hpp
/// @brief A strict reader of Fluent Bit's classic config format and a reimplementation of exactly
/// the parts deploy/fluent-bit uses (tail, the json parser, rewrite_tag, modify, es routing), to
/// test that config against moneta's real log lines. Debian 12 ships no fluent-bit, so this is
/// NOT Fluent Bit: it is our reading of its documented behaviour for these few rules.
///
/// NOTE: deliberate simplifications, each refused rather than guessed when the config uses it:
/// - classic format only: `[SECTION]` at column 0, entries indented by exactly 4 spaces, `#`
///   comment lines; no `@INCLUDE`, `@SET`, tabs or YAML;
/// - `${VAR}` expands from the map given (unset → empty, as Fluent Bit does); no other `$` form
///   outside rewrite_tag rules;
/// - tail: one file (no glob), whole lines; a line longer than Buffer_Max_Size is skipped and
///   counted (Skip_Long_Lines On) or stops the file (Off); a last line without `\n` is pending;
/// - parser: `Format json` only, Time_Format made of %Y %m %d %H %M %S %L and literal bytes, UTC;
/// - rewrite_tag: `$key` of a top-level key (no `['sub']`), a regex of `[A-Za-z0-9_.\^$-]`
///   only (so ECMAScript and Onigmo read it alike), a literal new tag, true/false;
/// - modify: `Add` and `Set` only;
/// - es: the record is the document, plus Time_Key from the record's time in
///   Time_Key_Format + `.mmmZ`; nothing is sent.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::testing::flb {

/// Anything the reader or the pipeline does not understand.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Entry {
    std::string key;    ///< as written
    std::string value;  ///< as written, before ${VAR} expansion
    int line = 0;
};

struct Section {
    std::string name;  ///< upper-case: SERVICE, INPUT, FILTER, OUTPUT, PARSER
    int line = 0;
    std::vector<Entry> entries;
};

/// Reads the classic format strictly; throws ConfigError("<file>:<line>: why").
std::vector<Section> read_classic(std::string_view text, std::string_view file);

using Env = std::map<std::string, std::string>;

/// One record as it reaches an output.
struct Delivered {
    std::string tag;          ///< the tag it was routed on
    std::string index;        ///< the es output's Index
    boost::json::object doc;  ///< the document es would index (Time_Key added)
    std::string source_line;  ///< the log line it came from
    bool parsed = false;      ///< the parser read the line (false: kept whole under "log")
    bool time_from_line = false;
};

struct RunResult {
    std::vector<Delivered> delivered;
    std::size_t lines = 0;          ///< complete lines read
    std::size_t skipped_long = 0;   ///< over Buffer_Max_Size, skipped (Fluent Bit logs a warning)
    std::size_t pending_bytes = 0;  ///< a last line without '\n', not read yet
    std::size_t unrouted = 0;       ///< records no output matched: Fluent Bit discards them
    bool stopped_on_long_line = false;
};

/// deploy/fluent-bit as read from its files. Every key of every section is consumed by a rule
/// below or kept as a checked setting; anything else throws ConfigError.
class Pipeline {
public:
    /// @param conf_dir the directory of fluent-bit.conf (Parsers_File is relative to it)
    static Pipeline load(const std::string& conf_dir, const Env& env);

    /// Tails the input's Path from its start (Read_from_Head On) to the end of the file.
    RunResult run() const;
    /// The same over @p content, as if it were the file.
    RunResult run_content(std::string_view content) const;

    /// `${VAR}` names the config files reference.
    const std::set<std::string>& referenced_env() const noexcept { return referenced_; }
    /// Checked settings (lower-case keys, expanded values) by section: "service", "input",
    /// "rewrite_tag", "output:<Index>", "parser".
    const std::map<std::string, std::map<std::string, std::string>>& settings() const noexcept {
        return settings_;
    }
    std::vector<std::string> output_indices() const;

    struct RewriteRule {
        std::string key;
        std::string regex;
        std::string new_tag;
        bool keep = false;
    };
    struct ModifyRule {
        bool set = false;  ///< Set (overwrite) or Add (only when absent)
        std::string key;
        std::string value;
    };
    struct Filter {
        std::string match;
        std::optional<std::vector<RewriteRule>> rewrite;  ///< rewrite_tag
        std::vector<ModifyRule> modify;                   ///< modify
    };
    struct Output {
        std::string match;
        std::string index;
        std::string time_key;
        std::string time_key_format;
    };

    const std::vector<Filter>& filters() const noexcept { return filters_; }

private:
    Pipeline() = default;
    void route(
        std::string tag,
        boost::json::object body,
        std::int64_t time_ns,
        const Delivered& proto,
        RunResult& out,
        int depth
    ) const;

    std::set<std::string> referenced_;
    std::map<std::string, std::map<std::string, std::string>> settings_;
    std::string input_tag_;
    std::string input_path_;
    std::size_t buffer_max_size_ = 0;
    bool skip_long_lines_ = false;
    // parser
    std::string time_key_;
    std::string time_format_;
    bool time_keep_ = false;
    std::vector<Filter> filters_;
    std::vector<Output> outputs_;
};

/// Fluent Bit's tag match: `*` matches any run of bytes, the rest literally.
bool tag_matches(std::string_view pattern, std::string_view tag);

/// Parses @p text with a Time_Format of %Y %m %d %H %M %S %L and literals, as UTC; nullopt when
/// it does not match. Throws ConfigError for any other conversion.
std::optional<std::int64_t> parse_time(std::string_view format, std::string_view text);

}  // namespace moneta::testing::flb
