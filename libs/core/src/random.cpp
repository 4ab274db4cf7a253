#include "moneta/core/random.hpp"

#include "moneta/core/base64.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "moneta/core/assert.hpp"

namespace moneta::core {
namespace {

// Per-thread pool refilled from getrandom(2): ids are on the hot path (one per start), and a
// syscall per id would cost more than the rest of the request's CPU.
struct Pool {
    std::array<std::uint8_t, 4096> bytes{};
    std::size_t used = bytes.size();

    void refill() noexcept {
        std::size_t got = 0;
        while (got < bytes.size()) {
            const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
            if (n < 0) {
                MONETA_RELEASE_ASSERT(errno == EINTR, "getrandom failed");
                continue;
            }
            got += static_cast<std::size_t>(n);
        }
        used = 0;
    }
};

thread_local Pool tl_pool;

}  // namespace

void secure_random_bytes(std::span<std::uint8_t> out) noexcept {
    std::size_t done = 0;
    while (done < out.size()) {
        if (tl_pool.used == tl_pool.bytes.size()) {
            tl_pool.refill();
        }
        const std::size_t n = std::min(out.size() - done, tl_pool.bytes.size() - tl_pool.used);
        std::memcpy(out.data() + done, tl_pool.bytes.data() + tl_pool.used, n);
        // Bytes handed out are wiped from the pool so a later memory disclosure cannot replay them.
        std::memset(tl_pool.bytes.data() + tl_pool.used, 0, n);
        tl_pool.used += n;
        done += n;
    }
}

std::uint64_t secure_random_u64() noexcept {
    std::array<std::uint8_t, 8> b{};
    secure_random_bytes(b);
    std::uint64_t v = 0;
    std::memcpy(&v, b.data(), sizeof v);
    return v;
}

std::string random_id(std::string_view prefix, std::size_t bytes) {
    std::array<std::uint8_t, 48> raw{};
    MONETA_RELEASE_ASSERT(bytes <= raw.size(), "random_id too long");
    secure_random_bytes(std::span(raw.data(), bytes));
    std::string out(prefix);
    append_base64url(out, std::string_view(reinterpret_cast<const char*>(raw.data()), bytes));
    return out;
}

}  // namespace moneta::core
