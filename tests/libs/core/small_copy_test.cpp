// put_bytes writes exactly the bytes of its input, for every size its branches split on, and
// nothing around them.
#include "moneta/core/small_copy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace moneta::core {
namespace {

TEST(SmallCopy, EverySizeCopiesExactlyItsBytes) {
    std::string source;
    for (int i = 0; i < 80; ++i) {
        source.push_back(static_cast<char>('A' + i % 50));
    }
    for (std::size_t offset = 0; offset < 3; ++offset) {
        for (std::size_t n = 0; n <= 70; ++n) {
            std::string out(100, '.');
            char* const end = put_bytes(out.data() + 5, std::string_view(source).substr(offset, n));
            EXPECT_EQ(end, out.data() + 5 + n) << n;
            EXPECT_EQ(out, std::string(5, '.') + source.substr(offset, n) + std::string(95 - n, '.')) << n;
        }
    }
}

TEST(SmallCopy, AnEmptyViewWithoutDataWritesNothing) {
    char out[4] = {'x', 'x', 'x', 'x'};
    EXPECT_EQ(put_bytes(out, std::string_view()), out);
    EXPECT_EQ(std::string(out, 4), "xxxx");
}

}  // namespace
}  // namespace moneta::core
