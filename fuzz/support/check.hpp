/// @file fuzz/support/check.hpp
/// @brief Invariant checks for the fuzz targets: a failed check prints what broke and aborts,
/// which libFuzzer reports as a crash and saves the input (docs/fuzzing.md).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace moneta::fuzz {

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, std::string_view what) {
    std::fprintf(stderr, "\nFUZZ INVARIANT BROKEN: %s\n  at %s:%d\n  %.*s\n", expr, file, line,
                 static_cast<int>(what.size()), what.data());
    std::abort();
}

}  // namespace moneta::fuzz

/// FUZZ_CHECK(cond, "what") — the second argument is anything convertible to std::string_view.
#define FUZZ_CHECK(cond, what)                                                  \
    do {                                                                        \
        if (!(cond)) {                                                          \
            ::moneta::fuzz::check_failed(#cond, __FILE__, __LINE__, (what));    \
        }                                                                       \
    } while (false)
