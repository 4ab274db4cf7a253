/// @file moneta/resilience/fallback.hpp
/// @brief Fallbacks that cannot become the next overload: a cap on concurrent fallbacks
/// (Hystrix's fallback semaphore) and a composite error when the fallback fails too.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/system/error_code.hpp>

#include "moneta/core/result.hpp"

namespace moneta::resilience {

/// Both failures of a call whose fallback also failed (resilience.md §6 scenario 9): the caller
/// answers from `fallback` (the last thing tried) and logs or counts both.
struct CompositeError {
    boost::system::error_code primary;   ///< why the primary path failed
    boost::system::error_code fallback;  ///< why the fallback failed (kOverloaded: gate full)

    /// "primary=<name>; fallback=<name>" with core::errc_name() names (stable, no secrets).
    std::string describe() const;
};

/// A CompositeError as ONE error_code (category "composite"), so it travels through the data
/// path's core::Result<T> unchanged: the value packs both core::Errc values (anything outside
/// core's category is stored as kInternal). message() is describe().
boost::system::error_code make_composite_error(const boost::system::error_code& primary,
                                               const boost::system::error_code& fallback) noexcept;
/// The two causes when @p ec came from make_composite_error; nullopt for any other code.
std::optional<CompositeError> as_composite(const boost::system::error_code& ec) noexcept;
/// @p ec itself, or for a composite the fallback's error: what a caller maps to its answer.
boost::system::error_code effective_error(const boost::system::error_code& ec) noexcept;

class FallbackGate;

/// One fallback in progress. Move-only; the slot frees when it is destroyed or released.
class FallbackPermit {
public:
    FallbackPermit() noexcept = default;
    FallbackPermit(FallbackPermit&& other) noexcept;
    FallbackPermit& operator=(FallbackPermit&& other) noexcept;
    FallbackPermit(const FallbackPermit&) = delete;
    FallbackPermit& operator=(const FallbackPermit&) = delete;
    ~FallbackPermit() { release(); }
    void release() noexcept;
    bool held() const noexcept { return owner_ != nullptr; }

private:
    friend class FallbackGate;
    explicit FallbackPermit(FallbackGate* owner) noexcept : owner_(owner) {}
    FallbackGate* owner_ = nullptr;
};

/// Caps concurrent fallbacks. When a primary fails for everyone at once (Redis down), each
/// request's fallback (a read from the internal API) must not turn into a stampede on the next
/// dependency: past the cap the caller fails fast with a CompositeError{primary, kOverloaded}.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (lock-free CAS; exact cap).
class FallbackGate {
public:
    explicit FallbackGate(std::uint32_t max_concurrent) noexcept : max_(max_concurrent) {}
    FallbackGate(const FallbackGate&) = delete;
    FallbackGate& operator=(const FallbackGate&) = delete;

    /// kOverloaded when max_concurrent fallbacks are already running (0: fallbacks disabled).
    core::Result<FallbackPermit> try_enter() noexcept;

    std::uint32_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
    std::uint64_t entered_total() const noexcept { return entered_total_.load(std::memory_order_relaxed); }
    std::uint64_t rejected_total() const noexcept { return rejected_total_.load(std::memory_order_relaxed); }

private:
    friend class FallbackPermit;
    const std::uint32_t max_;
    std::atomic<std::uint32_t> active_{0};
    std::atomic<std::uint64_t> entered_total_{0};
    std::atomic<std::uint64_t> rejected_total_{0};
};

}  // namespace moneta::resilience
