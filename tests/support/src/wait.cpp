#include "moneta/testing/wait.hpp"

#include <algorithm>
#include <thread>

namespace moneta::testing {

::testing::AssertionResult wait_until(std::function<bool()> cond,
                                      std::chrono::milliseconds timeout,
                                      std::string_view what) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (Clock::now() < deadline) {
        if (cond()) {
            return ::testing::AssertionSuccess();
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
    if (cond()) {
        return ::testing::AssertionSuccess();
    }
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    return ::testing::AssertionFailure() << "timed out after " << waited << " ms waiting for "
                                         << what;
}

}  // namespace moneta::testing
