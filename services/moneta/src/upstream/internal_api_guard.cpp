#include "upstream/internal_api_guard.hpp"

#include <utility>

namespace moneta::upstream {

std::string_view endpoint_name(Endpoint e) noexcept {
    switch (e) {
        case Endpoint::kAccount:
            return "account";
        case Endpoint::kContent:
            return "content";
        case Endpoint::kProgressRead:
            return "progress_read";
        case Endpoint::kProgressWrite:
            return "progress_write";
    }
    return "unknown";
}

namespace {

core::Result<void> validate_retry(const resilience::RetryPolicy& p) noexcept {
    if (p.base_delay.count() < 0 || p.max_delay.count() < 0) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    return {};
}

}  // namespace

core::Result<std::unique_ptr<InternalApiGuard>> InternalApiGuard::create(
    const InternalApiGuardSettings& settings, core::Clock& clock
) {
    if (auto v = settings.bulkhead.validate(); !v) {
        return v.error();
    }
    if (settings.throttle_enabled) {
        if (auto v = settings.throttle.validate(); !v) {
            return v.error();
        }
    }
    if (auto v = settings.retry_budget.validate(); !v) {
        return v.error();
    }
    if (auto v = validate_retry(settings.retry); !v) {
        return v.error();
    }
    Breakers breakers;
    for (Endpoint e : kEndpoints) {
        // One breaker per endpoint: each is its own failure domain on the API side.
        auto b = resilience::CircuitBreaker::create(settings.breaker, clock);
        if (!b) {
            return b.error();
        }
        breakers[static_cast<std::size_t>(e)] = std::move(*b);
    }
    return std::unique_ptr<InternalApiGuard>(
        new InternalApiGuard(settings, clock, std::move(breakers))
    );
}

InternalApiGuard::InternalApiGuard(
    const InternalApiGuardSettings& settings, core::Clock& clock, Breakers breakers
)
    : breakers_(std::move(breakers)),
      bulkhead_(clock, settings.bulkhead),
      throttle_(
          settings.throttle_enabled
              ? std::make_unique<resilience::ClientThrottle>(clock, settings.throttle)
              : nullptr
      ),
      retry_budget_(settings.retry_budget),
      retry_policy_(settings.retry) {}

InternalApiGuard::~InternalApiGuard() = default;

}  // namespace moneta::upstream
