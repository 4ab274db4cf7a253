#include "moneta/redis/pipeline.hpp"

#include <algorithm>
#include <utility>

#include "resp.hpp"

namespace moneta::redis {

namespace {

// Per-thread cache of encoding buffers: a Pipeline is usually a local of one request's
// coroutine, so without it every request would allocate (and free) its buffer. A worker has
// one Pipeline per request in flight (64 connections: up to 64 buffers out at once, and with
// only 8 kept most requests allocated theirs), so a thread keeps up to kCachedBuffers of
// request size and a few large ones (flush batches); a buffer grown past kMaxCachedBytes is
// not kept. Bound: 8 x 64 KiB + 120 x 4 KiB per thread.
constexpr std::size_t kCachedBuffers = 128;
constexpr std::size_t kCachedLargeBuffers = 8;  ///< of which larger than kSmallBytes
constexpr std::size_t kSmallBytes = 4 * 1024;
constexpr std::size_t kMaxCachedBytes = 64 * 1024;
constexpr std::size_t kInitialBytes = 1024;

struct BufferCache {
    BufferCache() = default;
    BufferCache(const BufferCache&) = delete;
    BufferCache& operator=(const BufferCache&) = delete;
    // A Pipeline destroyed later in the thread's exit (a thread_local or static one) must not
    // hand its buffer to a destroyed cache.
    ~BufferCache() { closed = true; }
    std::array<std::string, kCachedBuffers> buffers;
    std::size_t count = 0;
    bool closed = false;
};

thread_local BufferCache t_cache;

std::string take_buffer() {
    if (t_cache.count == 0 || t_cache.closed) {
        std::string s;
        s.reserve(kInitialBytes);
        return s;
    }
    return std::move(t_cache.buffers[--t_cache.count]);
}

void give_buffer(std::string&& s) noexcept {
    if (s.capacity() <= 15 || s.capacity() > kMaxCachedBytes || t_cache.closed ||
        t_cache.count == kCachedBuffers || (s.capacity() > kSmallBytes && t_cache.count >= kCachedLargeBuffers)) {
        return;  // SSO-only, oversized, or the cache is full: let it go
    }
    s.clear();
    t_cache.buffers[t_cache.count++] = std::move(s);
}

}  // namespace

Pipeline::Pipeline(const Pipeline& other)
    : wire_(other.wire_),
      count_(other.count_),
      scripts_(other.scripts_),
      inline_scripts_(other.inline_scripts_),
      more_scripts_(other.more_scripts_) {}

Pipeline::Pipeline(Pipeline&& other) noexcept
    : wire_(std::move(other.wire_)),
      count_(std::exchange(other.count_, 0)),
      scripts_(other.scripts_),
      inline_scripts_(std::exchange(other.inline_scripts_, 0)),
      more_scripts_(std::move(other.more_scripts_)) {
    other.wire_.clear();
}

Pipeline& Pipeline::operator=(const Pipeline& other) {
    if (this != &other) {
        wire_ = other.wire_;
        count_ = other.count_;
        scripts_ = other.scripts_;
        inline_scripts_ = other.inline_scripts_;
        more_scripts_ = other.more_scripts_;
    }
    return *this;
}

Pipeline& Pipeline::operator=(Pipeline&& other) noexcept {
    if (this != &other) {
        give_buffer(std::move(wire_));
        wire_ = std::move(other.wire_);
        other.wire_.clear();
        count_ = std::exchange(other.count_, 0);
        scripts_ = other.scripts_;
        inline_scripts_ = std::exchange(other.inline_scripts_, 0);
        more_scripts_ = std::move(other.more_scripts_);
        other.more_scripts_.clear();
    }
    return *this;
}

Pipeline::~Pipeline() { give_buffer(std::move(wire_)); }

void Pipeline::reserve_buffer() {
    if (wire_.capacity() <= 15) {
        wire_ = take_buffer();
    }
}

Pipeline& Pipeline::add(const CommandArgs& args) {
    if (!args.empty()) {  // an empty command would desynchronise the reply FIFO
        reserve_buffer();
        detail::append_command(wire_, args.span());
        ++count_;
    }
    return *this;
}

Pipeline& Pipeline::add_eval(const Script& script, const CommandArgs& keys, const CommandArgs& args) {
    reserve_buffer();
    detail::append_eval(wire_, detail::EvalKind::kEvalSha, script, keys.span(), args.span());
    ++count_;
    remember(script);
    return *this;
}

Pipeline& Pipeline::append(const Pipeline& other) {
    if (!other.empty()) {
        reserve_buffer();
        wire_ += other.wire_;
        count_ += other.count_;
        for (const Script* s : other.scripts()) {
            remember(*s);
        }
    }
    return *this;
}

Pipeline& Pipeline::add_encoded(std::string_view command) {
    reserve_buffer();
    wire_ += command;
    ++count_;
    return *this;
}

void Pipeline::adopt_scripts(const Pipeline& other) {
    for (const Script* s : other.scripts()) {
        remember(*s);
    }
}

void Pipeline::remember(const Script& script) {
    const auto inline_end = scripts_.begin() + static_cast<std::ptrdiff_t>(std::min(inline_scripts_, kInlineScripts));
    if (std::find(scripts_.begin(), inline_end, &script) != inline_end ||
        std::find(more_scripts_.begin(), more_scripts_.end(), &script) != more_scripts_.end()) {
        return;
    }
    if (inline_scripts_ < kInlineScripts) {
        scripts_[inline_scripts_++] = &script;
    } else {
        more_scripts_.push_back(&script);
    }
}

std::vector<const Script*> Pipeline::scripts() const {
    std::vector<const Script*> out(scripts_.begin(), scripts_.begin() + static_cast<std::ptrdiff_t>(inline_scripts_));
    out.insert(out.end(), more_scripts_.begin(), more_scripts_.end());
    return out;
}

}  // namespace moneta::redis
