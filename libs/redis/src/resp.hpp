#pragma once

// RESP2 request encoding straight into a caller-owned buffer (the client's staging buffer or a
// Pipeline's): no per-command or per-argument allocation, integers through std::to_chars.
// Equivalent to hiredis's redisFormatCommandArgv (a test checks byte equality) without its
// per-command malloc and the copy out of it.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "moneta/redis/script.hpp"

namespace moneta::redis::detail {

inline void append_length(std::string& out, char kind, std::size_t n) {
    char buf[24];
    buf[0] = kind;
    const auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
    (void)ec;  // 21 chars always fit a size_t
    char* p = end;
    *p++ = '\r';
    *p++ = '\n';
    out.append(buf, static_cast<std::size_t>(p - buf));
}

inline void append_array_header(std::string& out, std::size_t n) { append_length(out, '*', n); }

inline void append_bulk(std::string& out, std::string_view arg) {
    append_length(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
}

/// An integer argument as its decimal bulk string, without a temporary string.
inline void append_bulk(std::string& out, std::int64_t v) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    (void)ec;  // 20 chars always fit an int64
    append_bulk(out, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

inline void append_command(std::string& out, std::span<const std::string_view> args) {
    append_array_header(out, args.size());
    for (const auto a : args) {
        append_bulk(out, a);
    }
}

enum class EvalKind { kEvalSha, kEval };

/// `EVALSHA sha1 numkeys keys... args...` (or `EVAL source ...`).
inline void append_eval(std::string& out, EvalKind kind, const Script& script,
                        std::span<const std::string_view> keys, std::span<const std::string_view> args) {
    append_array_header(out, 3 + keys.size() + args.size());
    if (kind == EvalKind::kEvalSha) {
        append_bulk(out, std::string_view("EVALSHA"));
        append_bulk(out, std::string_view(script.sha1()));
    } else {
        append_bulk(out, std::string_view("EVAL"));
        append_bulk(out, script.source());
    }
    append_bulk(out, static_cast<std::int64_t>(keys.size()));
    for (const auto k : keys) {
        append_bulk(out, k);
    }
    for (const auto a : args) {
        append_bulk(out, a);
    }
}

}  // namespace moneta::redis::detail
