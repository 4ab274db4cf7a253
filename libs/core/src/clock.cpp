#include "moneta/core/clock.hpp"

namespace moneta::core {

std::int64_t SystemClock::wall_ms() const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

SystemClock& SystemClock::instance() noexcept {
    static SystemClock clock;
    return clock;
}

}  // namespace moneta::core
