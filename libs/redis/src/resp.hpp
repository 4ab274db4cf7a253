#pragma once

// RESP2 request encoding straight into a caller-owned buffer. Equivalent to hiredis's
// redisFormatCommandArgv (a test checks byte equality) but without its per-command malloc and
// the copy out of it: the client appends every command into one reusable write buffer.

#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

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

inline void append_command(std::string& out, std::span<const std::string_view> args) {
    append_array_header(out, args.size());
    for (const auto a : args) {
        append_bulk(out, a);
    }
}

}  // namespace moneta::redis::detail
