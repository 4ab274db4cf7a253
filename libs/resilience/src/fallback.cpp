#include "moneta/resilience/fallback.hpp"

#include <utility>

#include "moneta/core/error.hpp"

namespace moneta::resilience {
namespace {

std::string_view name_of(const boost::system::error_code& ec) {
    if (!ec) {
        return "none";
    }
    if (ec.category() == core::error_category()) {
        return core::errc_name(static_cast<core::Errc>(ec.value()));
    }
    return "other";
}

core::Errc errc_of(const boost::system::error_code& ec) noexcept {
    if (!ec) {
        return core::Errc::kOk;
    }
    return ec.category() == core::error_category() ? static_cast<core::Errc>(ec.value()) : core::Errc::kInternal;
}

class CompositeCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "moneta.composite"; }
    std::string message(int value) const override {
        return CompositeError{core::make_error_code(static_cast<core::Errc>(value >> 8)),
                              core::make_error_code(static_cast<core::Errc>(value & 0xff))}
            .describe();
    }
};

const CompositeCategory kComposite;

}  // namespace

boost::system::error_code make_composite_error(const boost::system::error_code& primary,
                                               const boost::system::error_code& fallback) noexcept {
    const int value = (static_cast<int>(errc_of(primary)) << 8) | static_cast<int>(errc_of(fallback));
    // A composite of two successes would be 0 = "no error": never expected, keep it an error.
    return {value == 0 ? static_cast<int>(core::Errc::kInternal) : value, kComposite};
}

std::optional<CompositeError> as_composite(const boost::system::error_code& ec) noexcept {
    if (ec.category() != kComposite) {
        return std::nullopt;
    }
    return CompositeError{core::make_error_code(static_cast<core::Errc>(ec.value() >> 8)),
                          core::make_error_code(static_cast<core::Errc>(ec.value() & 0xff))};
}

boost::system::error_code effective_error(const boost::system::error_code& ec) noexcept {
    if (auto c = as_composite(ec)) {
        return c->fallback;
    }
    return ec;
}

std::string CompositeError::describe() const {
    std::string out = "primary=";
    out += name_of(primary);
    out += "; fallback=";
    out += name_of(fallback);
    return out;
}

FallbackPermit::FallbackPermit(FallbackPermit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}

FallbackPermit& FallbackPermit::operator=(FallbackPermit&& other) noexcept {
    if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
}

void FallbackPermit::release() noexcept {
    if (FallbackGate* g = std::exchange(owner_, nullptr)) {
        g->active_.fetch_sub(1, std::memory_order_release);
    }
}

core::Result<FallbackPermit> FallbackGate::try_enter() noexcept {
    std::uint32_t cur = active_.load(std::memory_order_relaxed);
    do {
        if (cur >= max_) {
            rejected_total_.fetch_add(1, std::memory_order_relaxed);
            return core::make_error(core::Errc::kOverloaded);
        }
    } while (!active_.compare_exchange_weak(cur, cur + 1, std::memory_order_acquire, std::memory_order_relaxed));
    entered_total_.fetch_add(1, std::memory_order_relaxed);
    return FallbackPermit(this);
}

}  // namespace moneta::resilience
