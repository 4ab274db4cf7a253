#pragma once

// Where replies live: a ReplyArena is one read buffer plus the flat array of nodes parsed from
// it. Replies reference their arena (intrusive count, single thread), so the reader never
// compacts or overwrites bytes a Reply can still see; when it needs room while replies are
// alive, it moves to another arena from the client's ArenaPool and the old one returns to the
// pool when its last Reply dies. In steady state the same few arenas cycle: no allocation.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "moneta/redis/reply.hpp"

namespace moneta::redis::detail {

/// One parsed value. 16 bytes; an array's elements are contiguous (first .. first+count-1), so
/// operator[] is O(1).
struct ReplyNode {
    std::int64_t value = 0;   ///< integer: the value; string/status/error: byte offset; array: first element
    std::uint32_t count = 0;  ///< string/status/error: length; array: elements
    ReplyType type = ReplyType::kNil;
};

class ArenaPool;

class ReplyArena {
public:
    ReplyArena(std::size_t bytes_capacity, ArenaPool* owner)
        : bytes(new char[bytes_capacity]), capacity(bytes_capacity), pool(owner) {}
    ReplyArena(const ReplyArena&) = delete;
    ReplyArena& operator=(const ReplyArena&) = delete;

    const ReplyNode& node(std::uint32_t i) const noexcept { return nodes[i]; }
    const char* data() const noexcept { return bytes.get(); }
    /// Forgets every reply (only when nobody references them).
    void reset() noexcept {
        nodes.clear();
        consumed = 0;
        filled = 0;
    }

    std::unique_ptr<char[]> bytes;
    std::size_t capacity;
    std::vector<ReplyNode> nodes;  ///< capacity kept across reuse
    std::size_t consumed = 0;      ///< bytes [0, consumed) belong to parsed replies
    std::size_t filled = 0;        ///< bytes [consumed, filled) are read but not parsed yet
    std::uint32_t refs = 0;        ///< Replies + the reader while it reads into it
    ArenaPool* pool;               ///< null: standalone (Reply::from_resp), deleted at refs 0
};

inline void add_ref(ReplyArena* a) noexcept { ++a->refs; }
/// Drops one reference; at zero the arena returns to its pool (or is deleted).
void release(ReplyArena* a) noexcept;

/// Recycles arenas for one client. Lives until its owner closed it AND every arena it made is
/// gone (a Reply may outlive the client).
class ArenaPool {
public:
    /// @p arena_bytes: the usual capacity (ClientConfig::read_buffer_size).
    static ArenaPool* create(std::size_t arena_bytes) { return new ArenaPool(arena_bytes); }

    /// An empty arena of at least @p min_capacity bytes with refs == 1.
    ReplyArena* acquire(std::size_t min_capacity);
    /// The owner is gone: free what is idle; the rest deletes itself when released.
    void close() noexcept;
    std::size_t arena_bytes() const noexcept { return arena_bytes_; }
    /// Arenas alive (idle or in use), for tests.
    std::size_t live() const noexcept { return live_; }

private:
    friend void release(ReplyArena* a) noexcept;
    explicit ArenaPool(std::size_t arena_bytes) : arena_bytes_(arena_bytes) { free_.reserve(kMaxIdle); }
    void recycle(ReplyArena* a) noexcept;

    static constexpr std::size_t kMaxIdle = 8;
    std::vector<ReplyArena*> free_;
    std::size_t live_ = 0;
    std::size_t arena_bytes_;
    bool closed_ = false;
};

/// Owner handle: closes the pool on destruction.
class ArenaPoolOwner {
public:
    explicit ArenaPoolOwner(std::size_t arena_bytes) : pool_(ArenaPool::create(arena_bytes)) {}
    ~ArenaPoolOwner() { pool_->close(); }
    ArenaPoolOwner(const ArenaPoolOwner&) = delete;
    ArenaPoolOwner& operator=(const ArenaPoolOwner&) = delete;
    ArenaPool& operator*() const noexcept { return *pool_; }
    ArenaPool* get() const noexcept { return pool_; }

private:
    ArenaPool* pool_;
};

}  // namespace moneta::redis::detail
