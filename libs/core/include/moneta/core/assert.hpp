/// @file moneta/core/assert.hpp
/// @brief Invariant checks (never on network input): MONETA_ASSERT (debug), MONETA_RELEASE_ASSERT.
#pragma once

#include <cstdio>
#include <cstdlib>

#define MONETA_RELEASE_ASSERT(cond, msg)                                                     \
    do {                                                                                     \
        if (!(cond)) [[unlikely]] {                                                          \
            std::fprintf(stderr, "assertion failed: %s (%s) at %s:%d\n", #cond, msg, __FILE__, \
                         __LINE__);                                                          \
            std::abort();                                                                    \
        }                                                                                    \
    } while (false)

#ifdef NDEBUG
#define MONETA_ASSERT(cond, msg) \
    do {                         \
    } while (false)
#else
#define MONETA_ASSERT(cond, msg) MONETA_RELEASE_ASSERT(cond, msg)
#endif
