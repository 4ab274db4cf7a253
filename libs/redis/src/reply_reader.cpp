#include "reply_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "moneta/core/decimal.hpp"

namespace moneta::redis::detail {

// ---- arena pool -------------------------------------------------------------------------------

void release(ReplyArena* a) noexcept {
    if (--a->refs != 0) {
        return;
    }
    if (a->pool == nullptr) {
        delete a;
        return;
    }
    a->pool->recycle(a);
}

ReplyArena* ArenaPool::acquire(std::size_t min_capacity) {
    for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
        if ((*it)->capacity >= min_capacity) {
            ReplyArena* a = *it;
            free_.erase(std::next(it).base());
            a->refs = 1;
            return a;
        }
    }
    auto* a = new ReplyArena(std::max(min_capacity, arena_bytes_), this);
    ++live_;
    a->refs = 1;
    return a;
}

void ArenaPool::recycle(ReplyArena* a) noexcept {
    // Do not hoard a buffer grown for one huge reply.
    if (closed_ || free_.size() >= kMaxIdle || a->capacity > 4 * arena_bytes_) {
        delete a;
        --live_;
        if (closed_ && live_ == 0) {
            delete this;
        }
        return;
    }
    a->reset();
    free_.push_back(a);  // reserved: never allocates
}

void ArenaPool::close() noexcept {
    closed_ = true;
    for (ReplyArena* a : free_) {
        delete a;
    }
    live_ -= free_.size();
    free_.clear();
    if (live_ == 0) {
        delete this;
    }
}

// ---- parser -----------------------------------------------------------------------------------

namespace {

enum class R { kOk, kMore, kBad };

class Parser {
public:
    Parser(ReplyArena& a, const ReaderLimits& limits, std::size_t root_nodes)
        : a_(a), buf_(a.data()), end_(a.filled), limits_(limits), base_nodes_(root_nodes) {}

    R value(std::size_t& pos, std::uint32_t idx, int depth) noexcept {
        if (pos >= end_) {
            return more(pos + 3);  // what line() asks for when not even the type byte is here
        }
        const char type = buf_[pos];
        if (type == ':' || type == '$' || type == '*') {
            // The usual integer, length or count, read in the same pass that finds its CRLF;
            // anything else (nil, a sign, a long number, a missing byte) takes the general path
            // below for its exact verdict.
            std::int64_t v = 0;
            std::size_t next = 0;
            if (short_number(pos + 1, v, next)) {
                if (type == ':') {
                    set(idx, ReplyType::kInteger, v, 0);
                    pos = next;
                    return R::kOk;
                }
                return type == '$' ? bulk(pos, idx, v, next) : array(pos, idx, v, next, depth);
            }
        }
        std::size_t eol = 0;
        if (const R r = line(pos + 1, eol); r != R::kOk) {
            return r;
        }
        const std::size_t body = pos + 1;
        const std::string_view text(buf_ + body, eol - body);
        const std::size_t next = eol + 2;
        switch (type) {
            case '+':
            case '-': {
                if (text.find('\n') != std::string_view::npos) {
                    return bad("LF inside a status or error line");
                }
                set(idx, type == '+' ? ReplyType::kStatus : ReplyType::kError,
                    static_cast<std::int64_t>(body), static_cast<std::uint32_t>(text.size()));
                pos = next;
                return R::kOk;
            }
            case ':': {
                std::int64_t v = 0;
                if (!decimal(text, v)) {
                    return bad("malformed integer reply");
                }
                set(idx, ReplyType::kInteger, v, 0);
                pos = next;
                return R::kOk;
            }
            case '$': {
                std::int64_t len = 0;
                if (text == "-1") {
                    set(idx, ReplyType::kNil, 0, 0);
                    pos = next;
                    return R::kOk;
                }
                if (!length(text, len)) {
                    return bad("malformed bulk length");
                }
                return bulk(pos, idx, len, next);
            }
            case '*': {
                std::int64_t n = 0;
                if (text == "-1") {
                    set(idx, ReplyType::kNil, 0, 0);
                    pos = next;
                    return R::kOk;
                }
                if (!length(text, n)) {
                    return bad("malformed array length");
                }
                return array(pos, idx, n, next, depth);
            }
            default:
                return bad("unknown reply type byte (RESP2 only)");
        }
    }

    std::size_t need() const noexcept { return need_; }

private:
    /// A bulk string of @p len bytes whose header line ends at @p next.
    R bulk(std::size_t& pos, std::uint32_t idx, std::int64_t len, std::size_t next) noexcept {
        if (len > limits_.max_bulk) {
            return bad("bulk string longer than the bound");
        }
        const std::size_t stop = next + static_cast<std::size_t>(len);
        if (stop + 2 > end_) {
            return more(stop + 2);
        }
        if (buf_[stop] != '\r' || buf_[stop + 1] != '\n') {
            return bad("bulk string not followed by CRLF");
        }
        set(idx, ReplyType::kString, static_cast<std::int64_t>(next), static_cast<std::uint32_t>(len));
        pos = stop + 2;
        return R::kOk;
    }

    /// An array of @p n elements whose header line ends at @p next.
    R array(std::size_t& pos, std::uint32_t idx, std::int64_t n, std::size_t next, int depth) noexcept {
        if (n > limits_.max_elements) {
            return bad("array longer than the bound");
        }
        if (depth + 1 > limits_.max_depth) {
            return bad("arrays nested deeper than the bound");
        }
        const auto count = static_cast<std::size_t>(n);
        // Every element takes at least 3 bytes ("+\r\n"): reserve nodes only for what
        // can already be there, so a hostile length allocates nothing.
        if (count * 3 > end_ - next) {
            return more(next + count * 3);
        }
        const std::size_t first = a_.nodes.size();
        if (first - base_nodes_ + count > limits_.max_nodes) {
            return bad("reply with more nodes than the bound");
        }
        a_.nodes.resize(first + count);
        set(idx, ReplyType::kArray, static_cast<std::int64_t>(first), static_cast<std::uint32_t>(count));
        pos = next;
        for (std::size_t i = 0; i < count; ++i) {
            const auto at = static_cast<std::uint32_t>(first + i);
            // An integer or a bulk string with a short number: value()'s own first step, here in
            // the loop (a script's reply is a flat array of them), without a call per element.
            // Anything else (nil, a status, a nested array, a long or signed number, bytes not
            // there yet) goes to value(), which reads it from the start.
            if (pos < end_ && (buf_[pos] == ':' || buf_[pos] == '$')) {
                std::int64_t v = 0;
                std::size_t after = 0;
                if (short_number(pos + 1, v, after)) {
                    if (buf_[pos] == ':') {
                        set(at, ReplyType::kInteger, v, 0);
                        pos = after;
                        continue;
                    }
                    if (const R r = bulk(pos, at, v, after); r != R::kOk) {
                        return r;
                    }
                    continue;
                }
            }
            if (const R r = value(pos, at, depth + 1); r != R::kOk) {
                return r;
            }
        }
        return R::kOk;
    }

    /// A canonical non-negative decimal of 1-18 digits (no leading zero unless it is "0") from
    /// @p from, followed by CRLF: its value, and where the next line starts. False for anything
    /// else, including bytes not there yet; the caller then reads the line the general way.
    /// Eight digits at a time while eight bytes of digits are there (a reply's 13-digit
    /// millisecond times), then a digit at a time; either way it stops at the same byte: the
    /// first that is not a digit, or the 18-digit (or line) bound, or the end of the bytes.
    bool short_number(std::size_t from, std::int64_t& v, std::size_t& next) const noexcept {
        const std::size_t limit = std::min(end_, from + std::min<std::size_t>(18, limits_.max_line));
        std::size_t i = from;
        std::uint64_t x = 0;
        while (i + 8 <= limit) {
            std::uint64_t w = 0;
            std::memcpy(&w, buf_ + i, sizeof w);
            if (core::non_digits(w) != 0) {
                break;
            }
            x = x * 100000000U + core::digits_value(w, 8);
            i += 8;
        }
        while (i < limit && static_cast<unsigned char>(buf_[i] - '0') < 10) {
            x = x * 10 + static_cast<std::uint64_t>(buf_[i] - '0');
            ++i;
        }
        const std::size_t digits = i - from;
        if (digits == 0 || (buf_[from] == '0' && digits > 1) || i + 1 >= end_ || buf_[i] != '\r' ||
            buf_[i + 1] != '\n') {
            return false;
        }
        v = static_cast<std::int64_t>(x);  // at most 18 digits: below 2^63
        next = i + 2;
        return true;
    }

public:
    const char* error() const noexcept { return error_; }

private:
    // The line starting at @p from: @p eol is the index of its CR.
    R line(std::size_t from, std::size_t& eol) noexcept {
        if (from > end_) {
            return more(from + 2);
        }
        const auto* cr = static_cast<const char*>(std::memchr(buf_ + from, '\r', end_ - from));
        if (cr == nullptr) {
            if (end_ - from > limits_.max_line) {
                return bad("line longer than the bound");
            }
            return more(end_ + 2);
        }
        eol = static_cast<std::size_t>(cr - buf_);
        if (eol - from > limits_.max_line) {
            return bad("line longer than the bound");
        }
        if (eol + 1 >= end_) {
            return more(eol + 2);
        }
        if (buf_[eol + 1] != '\n') {
            return bad("CR not followed by LF");
        }
        return R::kOk;
    }

    // Canonical decimal, as Redis writes it (and hiredis's string2ll demands): an optional '-',
    // no leading zeros, no "-0", no '+', within int64.
    static bool decimal(std::string_view s, std::int64_t& v) noexcept {
        const std::string_view digits = !s.empty() && s[0] == '-' ? s.substr(1) : s;
        if (digits.empty() || (digits[0] == '0' && (digits.size() > 1 || digits.size() != s.size()))) {
            return false;
        }
        const char* b = s.data();
        const char* e = b + s.size();
        const auto [p, ec] = std::from_chars(b, e, v);
        return ec == std::errc{} && p == e;
    }

    // A length is "-1" (handled by the caller) or a canonical non-negative decimal.
    static bool length(std::string_view s, std::int64_t& v) noexcept {
        return !s.empty() && s[0] != '-' && decimal(s, v);
    }

    void set(std::uint32_t idx, ReplyType t, std::int64_t value, std::uint32_t count) noexcept {
        ReplyNode& n = a_.nodes[idx];
        n.type = t;
        n.value = value;
        n.count = count;
    }
    R more(std::size_t need) noexcept {
        need_ = need;
        return R::kMore;
    }
    R bad(const char* why) noexcept {
        error_ = why;
        return R::kBad;
    }

    ReplyArena& a_;
    const char* buf_;
    std::size_t end_;
    const ReaderLimits& limits_;
    std::size_t base_nodes_;
    std::size_t need_ = 0;
    const char* error_ = "";
};

}  // namespace

ParseStatus parse_reply(ReplyArena& arena, const ReaderLimits& limits, std::uint32_t& root,
                        std::size_t& need, const char*& error) noexcept {
    if (arena.consumed >= arena.filled) {
        need = 1;
        return ParseStatus::kNeedMore;
    }
    const std::size_t mark = arena.nodes.size();
    if (mark >= UINT32_MAX - limits.max_nodes) {
        error = "too many nodes in one buffer";
        return ParseStatus::kError;
    }
    // resize() may throw bad_alloc; under the bounds that means the process is out of memory.
    arena.nodes.emplace_back();
    Parser p(arena, limits, mark);
    std::size_t pos = arena.consumed;
    switch (p.value(pos, static_cast<std::uint32_t>(mark), 0)) {
        case R::kOk:
            root = static_cast<std::uint32_t>(mark);
            arena.consumed = pos;
            return ParseStatus::kReply;
        case R::kMore:
            arena.nodes.resize(mark);  // parsed again from the start once the bytes are there
            need = p.need() - arena.consumed;
            return ParseStatus::kNeedMore;
        case R::kBad:
            arena.nodes.resize(mark);
            error = p.error();
            return ParseStatus::kError;
    }
    return ParseStatus::kError;
}

// ---- reader -----------------------------------------------------------------------------------

ReplyReader::ReplyReader(ArenaPool& pool, ReaderLimits limits)
    : pool_(&pool), limits_(limits), arena_(pool.acquire(pool.arena_bytes())) {}

ReplyReader::~ReplyReader() { release(arena_); }

std::span<char> ReplyReader::prepare() {
    ReplyArena* a = arena_;
    const std::size_t unparsed = a->filled - a->consumed;
    if (a->refs == 1 && a->consumed > 0) {
        // Nobody sees the parsed replies any more: reuse the buffer from its start.
        std::memmove(a->bytes.get(), a->bytes.get() + a->consumed, unparsed);
        a->nodes.clear();
        a->consumed = 0;
        a->filled = unparsed;
    }
    const std::size_t min_free = std::max<std::size_t>(pool_->arena_bytes() / 4, 512);
    if (a->capacity - a->filled >= min_free) {
        return {a->bytes.get() + a->filled, a->capacity - a->filled};
    }
    // Move the unparsed tail to another arena: replies still see this one, or it is too small
    // for the reply being read (it then doubles, up to the bound).
    if (unparsed >= limits_.max_reply_bytes) {
        error_ = "reply larger than the bound";
        return {};
    }
    std::size_t want = pool_->arena_bytes();
    while (want < unparsed + min_free) {
        want *= 2;
    }
    want = std::min(want, limits_.max_reply_bytes + min_free);
    ReplyArena* b = pool_->acquire(want);
    std::memcpy(b->bytes.get(), a->bytes.get() + a->consumed, unparsed);
    b->filled = unparsed;
    release(a);
    arena_ = b;
    return {b->bytes.get() + b->filled, b->capacity - b->filled};
}

ParseStatus ReplyReader::next(Reply& out) noexcept {
    ReplyArena* a = arena_;
    if (a->filled - a->consumed < need_) {
        return ParseStatus::kNeedMore;  // the reply cannot be complete yet: do not re-parse
    }
    std::uint32_t root = 0;
    std::size_t need = 0;
    const ParseStatus s = parse_reply(*a, limits_, root, need, error_);
    if (s == ParseStatus::kReply) {
        need_ = 0;
        add_ref(a);
        out = Reply(a, root);
    } else if (s == ParseStatus::kNeedMore) {
        need_ = need;
    }
    return s;
}

}  // namespace moneta::redis::detail
