#pragma once

// RESP2 request encoding straight into a caller-owned buffer (the client's staging buffer or a
// Pipeline's): no per-command or per-argument allocation, one resize per command.
// Equivalent to hiredis's redisFormatCommandArgv (a test checks byte equality) without its
// per-command malloc and the copy out of it.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "moneta/core/small_copy.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::redis::detail {

/// Writes a command of known size with raw stores: the size of every part is summed first, the
/// buffer grows once, and no std::string::append runs per argument (a heartbeat's EVALSHA has
/// ~30 parts; appending them one call at a time was 3 % of its user-space instructions).
class RespWriter {
public:
    static constexpr std::size_t digits(std::size_t n) noexcept {
        if (n < 10) {  // the usual lengths and counts first, without a loop
            return 1;
        }
        if (n < 100) {
            return 2;
        }
        std::size_t d = 3;
        for (n /= 1000; n != 0; n /= 10) {
            ++d;
        }
        return d;
    }
    /// Bytes of "$<n>\r\n<arg>\r\n" (or "*<n>\r\n" with @p payload false).
    static constexpr std::size_t part_size(std::size_t n, bool payload = true) noexcept {
        return 1 + digits(n) + 2 + (payload ? n + 2 : 0);
    }

    /// Grows @p out by @p total bytes, to be filled by exactly that much writing.
    RespWriter(std::string& out, std::size_t total) {
        const std::size_t at = out.size();
        out.resize(at + total);
        p_ = out.data() + at;
    }

    void header(char kind, std::size_t n) noexcept {
        *p_++ = kind;
        if (n < 10) {
            *p_++ = static_cast<char>('0' + n);
        } else if (n < 100) {
            p_[0] = static_cast<char>('0' + n / 10);
            p_[1] = static_cast<char>('0' + n % 10);
            p_ += 2;
        } else {
            const std::size_t d = digits(n);
            for (std::size_t i = d; i > 0; --i) {
                p_[i - 1] = static_cast<char>('0' + n % 10);
                n /= 10;
            }
            p_ += d;
        }
        *p_++ = '\r';
        *p_++ = '\n';
    }
    void bulk(std::string_view arg) noexcept {
        header('$', arg.size());
        p_ = core::put_bytes(p_, arg);  // keys and arguments are mostly a few bytes: no libc call
        *p_++ = '\r';
        *p_++ = '\n';
    }

private:
    char* p_;
};

inline void append_command(std::string& out, std::span<const std::string_view> args) {
    std::size_t total = RespWriter::part_size(args.size(), false);
    for (const auto a : args) {
        total += RespWriter::part_size(a.size());
    }
    RespWriter w(out, total);
    w.header('*', args.size());
    for (const auto a : args) {
        w.bulk(a);
    }
}

enum class EvalKind { kEvalSha, kEval };

/// `EVALSHA sha1 numkeys keys... args...` (or `EVAL source ...`).
inline void append_eval(std::string& out, EvalKind kind, const Script& script,
                        std::span<const std::string_view> keys, std::span<const std::string_view> args) {
    const std::string_view verb = kind == EvalKind::kEvalSha ? "EVALSHA" : "EVAL";
    const std::string_view body = kind == EvalKind::kEvalSha ? std::string_view(script.sha1()) : script.source();
    char numkeys_digits[24];
    const auto [end, ec] = std::to_chars(numkeys_digits, numkeys_digits + sizeof numkeys_digits, keys.size());
    (void)ec;  // 20 chars always fit a size_t
    const std::string_view numkeys(numkeys_digits, static_cast<std::size_t>(end - numkeys_digits));
    const std::size_t parts = 3 + keys.size() + args.size();
    std::size_t total = RespWriter::part_size(parts, false) + RespWriter::part_size(verb.size()) +
                        RespWriter::part_size(body.size()) + RespWriter::part_size(numkeys.size());
    for (const auto k : keys) {
        total += RespWriter::part_size(k.size());
    }
    for (const auto a : args) {
        total += RespWriter::part_size(a.size());
    }
    RespWriter w(out, total);
    w.header('*', parts);
    w.bulk(verb);
    w.bulk(body);
    w.bulk(numkeys);
    for (const auto k : keys) {
        w.bulk(k);
    }
    for (const auto a : args) {
        w.bulk(a);
    }
}

}  // namespace moneta::redis::detail
