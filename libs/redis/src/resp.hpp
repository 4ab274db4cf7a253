#pragma once

// RESP2 request encoding straight into a caller-owned buffer (the client's staging buffer or a
// Pipeline's): no per-command or per-argument allocation, one resize per command.
// Equivalent to hiredis's redisFormatCommandArgv (a test checks byte equality) without its
// per-command malloc and the copy out of it.

#include <array>
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

/// "$<n>\r\n" for every n < kShortHeaders.size(), each as eight bytes: the header, then padding,
/// and its length in the last byte. Why: nearly every argument is shorter than 100 bytes, and
/// its header is then one 8-byte load and store instead of digits worked out per argument.
inline constexpr std::size_t kShortHeaderCount = 100;
inline constexpr auto kShortHeaders = [] {
    std::array<std::array<char, 8>, kShortHeaderCount> t{};
    for (std::size_t n = 0; n < t.size(); ++n) {
        std::size_t i = 0;
        t[n][i++] = '$';
        if (n >= 10) {
            t[n][i++] = static_cast<char>('0' + n / 10);
        }
        t[n][i++] = static_cast<char>('0' + n % 10);
        t[n][i++] = '\r';
        t[n][i++] = '\n';
        t[n][7] = static_cast<char>(i);
    }
    return t;
}();

/// Writes a command of known size with raw stores: the size of every part is summed first, the
/// buffer grows once, and no std::string::append runs per argument (a heartbeat's EVALSHA has
/// ~30 parts; appending them one call at a time was 3 % of its user-space instructions).
/// The buffer grows by kSlack bytes more while writing (a short header is stored as eight
/// bytes, up to two past its part), cut off again by finish().
class RespWriter {
public:
    static constexpr std::size_t kSlack = 8;

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

    /// Grows @p out by @p total bytes, to be filled by exactly that much writing, then finish().
    RespWriter(std::string& out, std::size_t total) : out_(out), end_(out.size() + total) {
        out.resize(end_ + kSlack);
        p_ = out.data() + (end_ - total);
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
        const std::size_t n = arg.size();
        if (n < kShortHeaderCount) {
            // Eight bytes: the header and up to three of padding, which the argument and its
            // CRLF (at least two bytes) and the next part (or the slack) write over.
            std::memcpy(p_, kShortHeaders[n].data(), 8);
            p_ += static_cast<unsigned char>(kShortHeaders[n][7]);
        } else {
            header('$', n);
        }
        p_ = core::put_bytes(p_, arg);  // keys and arguments are mostly a few bytes: no libc call
        *p_++ = '\r';
        *p_++ = '\n';
    }
    /// Bytes already encoded (a script's cached EVALSHA head).
    void raw(std::string_view bytes) noexcept { p_ = core::put_bytes(p_, bytes); }

    /// Cuts the slack off; the command is complete.
    void finish() noexcept { out_.resize(end_); }

private:
    std::string& out_;
    std::size_t end_;
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
    w.finish();
}

enum class EvalKind { kEvalSha, kEval };

/// `EVALSHA sha1 numkeys keys... args...` (or `EVAL source ...`). EVALSHA's verb and SHA1 are
/// the script's cached head (Script::evalsha_head()), copied as one piece.
inline void append_eval(std::string& out, EvalKind kind, const Script& script,
                        std::span<const std::string_view> keys, std::span<const std::string_view> args) {
    char numkeys_digits[24];
    const auto [end, ec] = std::to_chars(numkeys_digits, numkeys_digits + sizeof numkeys_digits, keys.size());
    (void)ec;  // 20 chars always fit a size_t
    const std::string_view numkeys(numkeys_digits, static_cast<std::size_t>(end - numkeys_digits));
    const std::size_t parts = 3 + keys.size() + args.size();
    std::size_t total = RespWriter::part_size(parts, false) + RespWriter::part_size(numkeys.size());
    if (kind == EvalKind::kEvalSha) {
        total += script.evalsha_head().size();
    } else {
        total += RespWriter::part_size(4) + RespWriter::part_size(script.source().size());
    }
    for (const auto k : keys) {
        total += RespWriter::part_size(k.size());
    }
    for (const auto a : args) {
        total += RespWriter::part_size(a.size());
    }
    RespWriter w(out, total);
    w.header('*', parts);
    if (kind == EvalKind::kEvalSha) {
        w.raw(script.evalsha_head());
    } else {
        w.bulk("EVAL");
        w.bulk(script.source());
    }
    w.bulk(numkeys);
    for (const auto k : keys) {
        w.bulk(k);
    }
    for (const auto a : args) {
        w.bulk(a);
    }
    w.finish();
}

}  // namespace moneta::redis::detail
