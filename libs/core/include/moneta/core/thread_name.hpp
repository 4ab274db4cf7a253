/// @file libs/core/include/moneta/core/thread_name.hpp
/// @brief Names the calling thread for `top -H`, `perf`, gdb and the bench's per-thread
/// allocation counts (docs/performance.md "Method").
#pragma once

#include <string_view>

namespace moneta::core {

/// Sets the calling thread's name (Linux: /proc/self/task/<tid>/comm). Linux keeps 15 bytes;
/// a longer name is cut there. Best effort: a failure leaves the old name and is not reported.
void set_thread_name(std::string_view name) noexcept;

}  // namespace moneta::core
