/// @file fuzz/support/check.hpp
/// @brief Invariant checks for the fuzz targets: a failed check prints what broke and aborts,
/// which libFuzzer reports as a crash and saves the input (docs/fuzzing.md).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace moneta::fuzz {

[[noreturn]] inline void check_failed(
    const char* expr, const char* file, int line, std::string_view what
) {
    std::fprintf(
        stderr,
        "\nFUZZ INVARIANT BROKEN: %s\n  at %s:%d\n  %.*s\n",
        expr,
        file,
        line,
        static_cast<int>(what.size()),
        what.data()
    );
    std::abort();
}

/// Equal within 2 ulps. Boost.JSON 1.81 parses long decimal numbers only to within an ulp or
/// two (correctly rounded parsing came with number_precision::precise in Boost 1.83), so a
/// double written in its shortest form may read back one ulp off; the round-trip checks allow
/// exactly that and nothing more.
inline bool same_double(double a, double b) {
    if (a == b) {
        return true;
    }
    double x = a;
    for (int i = 0; i < 2; ++i) {
        x = std::nextafter(x, b);
        if (x == b) {
            return true;
        }
    }
    return false;
}

}  // namespace moneta::fuzz

/// FUZZ_CHECK(cond, "what") — the second argument is anything convertible to std::string_view.
#define FUZZ_CHECK(cond, what)                                               \
    do {                                                                     \
        if (!(cond)) {                                                       \
            ::moneta::fuzz::check_failed(#cond, __FILE__, __LINE__, (what)); \
        }                                                                    \
    } while (false)
