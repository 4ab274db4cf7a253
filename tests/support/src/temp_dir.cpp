#include "moneta/testing/temp_dir.hpp"

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace moneta::testing {

std::filesystem::path make_temp_dir(std::string_view prefix) {
    std::filesystem::path base = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') {
        base = t;
    }
    std::string templ = (base / std::string(prefix)).string() + "XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        std::fprintf(stderr, "make_temp_dir(%s): %s\n", templ.c_str(), std::strerror(errno));
        std::abort();
    }
    return std::filesystem::path(buf.data());
}

TempDir::TempDir(std::string_view prefix) : path_(make_temp_dir(prefix)) {}

TempDir::~TempDir() { remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

void TempDir::remove() noexcept {
    if (path_.empty()) {
        return;
    }
    const char* keep = std::getenv("MONETA_KEEP_TEMP");
    if (keep == nullptr || std::string_view(keep) != "1") {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    path_.clear();
}

}  // namespace moneta::testing
