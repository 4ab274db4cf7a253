/// @file moneta/testing/temp_dir.hpp
/// @brief Unique scratch directories for tests, removed on scope exit.
#pragma once

#include <filesystem>
#include <string_view>

namespace moneta::testing {

/// Creates a fresh directory `<$TMPDIR or /tmp>/<prefix>XXXXXX` (mkdtemp, mode 0700).
/// The caller owns it; prefer TempDir, which also removes it.
/// @return the new directory; aborts the test process if it cannot be created (a broken /tmp
/// makes every later step meaningless).
std::filesystem::path make_temp_dir(std::string_view prefix = "moneta-test-");

/// Owns a directory made by make_temp_dir and removes it recursively in the destructor, unless
/// the environment sets MONETA_KEEP_TEMP=1 (to inspect logs after a failure).
/// Movable, not copyable.
class TempDir {
public:
    explicit TempDir(std::string_view prefix = "moneta-test-");
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// path() / @p name.
    std::filesystem::path file(std::string_view name) const { return path_ / name; }

private:
    void remove() noexcept;
    std::filesystem::path path_;
};

}  // namespace moneta::testing
