#include "moneta/core/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace moneta::core {

void set_thread_name(std::string_view name) noexcept {
    constexpr std::size_t kMax = 15;  // TASK_COMM_LEN 16, with the terminating NUL
    std::array<char, kMax + 1> buf{};
    const std::size_t n = std::min(name.size(), kMax);
    std::copy_n(name.data(), n, buf.data());
    (void)::pthread_setname_np(::pthread_self(), buf.data());
}

}  // namespace moneta::core
