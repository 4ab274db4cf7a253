#include "moneta/testing/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace moneta::testing {
namespace {

std::filesystem::path env_or(const char* var, const char* fallback) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
        return v;
    }
    return fallback;
}

bool is_executable(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::filesystem::path binary_dir() {
    return env_or("MONETA_BINARY_DIR", MONETA_SUPPORT_BINARY_DIR);
}

std::filesystem::path source_dir() {
    return env_or("MONETA_SOURCE_DIR", MONETA_SUPPORT_SOURCE_DIR);
}

std::string find_program(std::string_view name) {
    if (name.empty()) {
        return {};
    }
    if (name.find('/') != std::string_view::npos) {
        return is_executable(std::filesystem::path(name)) ? std::string(name) : std::string{};
    }
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        std::string_view rest(path);
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            const auto dir = rest.substr(0, colon);
            if (!dir.empty()) {
                dirs.emplace_back(dir);
            }
            if (colon == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(colon + 1);
        }
    }
    for (const char* d : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        dirs.emplace_back(d);
    }
    for (const auto& dir : dirs) {
        auto candidate = std::filesystem::path(dir) / name;
        if (is_executable(candidate)) {
            return candidate.string();
        }
    }
    return {};
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {};
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace moneta::testing
