#include <gtest/gtest.h>

#include <fstream>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {
namespace {

TEST(TempDirTest, CreatesAUniqueDirectoryAndRemovesItWithItsContent) {
    std::filesystem::path kept;
    {
        TempDir a("support-test-");
        TempDir b("support-test-");
        EXPECT_NE(a.path(), b.path());
        ASSERT_TRUE(std::filesystem::is_directory(a.path()));
        EXPECT_NE(a.path().filename().string().find("support-test-"), std::string::npos);
        std::ofstream(a.file("x.txt")) << "hello";
        EXPECT_EQ(read_file(a.file("x.txt")), "hello");
        kept = a.path();
    }
    EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(TempDirTest, MovedFromDirectoryDoesNotRemoveTheNewOwnersDirectory) {
    TempDir a;
    const auto p = a.path();
    {
        TempDir b(std::move(a));
        EXPECT_EQ(b.path(), p);
        EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): documented state
    }
    EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(PathsTest, FindsInstalledProgramsAndRejectsMissingOnes) {
    EXPECT_EQ(find_program("sh").empty(), false);
    EXPECT_TRUE(find_program("definitely-not-a-program-moneta").empty());
    EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
    EXPECT_TRUE(find_program("/nonexistent/x").empty());
}

TEST(PathsTest, SourceAndBinaryDirsPointAtTheTree) {
    EXPECT_TRUE(std::filesystem::exists(source_dir() / "CMakeLists.txt"));
    EXPECT_TRUE(std::filesystem::exists(binary_dir() / "CMakeCache.txt"));
}

}  // namespace
}  // namespace moneta::testing
