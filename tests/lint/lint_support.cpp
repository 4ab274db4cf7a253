#include "lint_support.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <system_error>
#include <utility>

#include "moneta/testing/process.hpp"

namespace moneta::lint_test {

bool is_skipped_directory(const std::filesystem::path& dir, const std::filesystem::path& root) {
    const std::string name = dir.filename().string();
    if (name == ".git" || name == ".cache" || name == "node_modules" || name == "__pycache__") {
        return true;
    }
    if (dir.parent_path() == root && (name == "build" || name == ".dev")) {
        return true;
    }
    std::error_code ec;
    return std::filesystem::exists(dir / "CMakeCache.txt", ec);
}

bool is_yaml_file(const std::filesystem::path& file) {
    const std::string ext = file.extension().string();
    const std::string name = file.filename().string();
    return ext == ".yml" || ext == ".yaml" || name == ".yamllint" || name == ".clang-format" ||
           name == ".clang-tidy";
}

bool is_shell_script(const std::filesystem::path& file) {
    const std::string ext = file.extension().string();
    if (ext == ".sh" || ext == ".bash") {
        return true;
    }
    std::ifstream in(file, std::ios::binary);
    std::string first;
    if (!in || !std::getline(in, first) || first.rfind("#!", 0) != 0) {
        return false;
    }
    // "#!" [space] path ending in /NAME, or a path ending in /env [options] NAME; then the end or
    // a space (interpreter options).
    static const std::regex kShebang(R"(^#!\s*\S*/(env\s+(-\S+\s+)*)?(sh|bash|dash|ksh)(\s.*)?$)");
    return std::regex_match(first, kShebang);
}

std::vector<std::filesystem::path> scan(const std::filesystem::path& root,
                                        bool (*keep)(const std::filesystem::path&)) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::weakly_canonical(root, ec);
    std::filesystem::recursive_directory_iterator it(base, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        std::error_code type_ec;
        if (entry.is_directory(type_ec) && !entry.is_symlink(type_ec)) {
            if (is_skipped_directory(entry.path(), base)) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (entry.is_regular_file(type_ec) && !entry.is_symlink(type_ec) && keep(entry.path())) {
            files.push_back(std::filesystem::relative(entry.path(), base));
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

RunResult run(std::vector<std::string> argv, const std::filesystem::path& cwd, const std::filesystem::path& log) {
    RunResult result;
    auto proc = testing::Process::spawn(std::move(argv), {}, log, cwd);
    if (!proc) {
        result.output = "cannot start: " + proc.error().message();
        return result;
    }
    result.status = proc->wait_exit(std::chrono::seconds(90)).value_or(-1);  // the destructor kills a hung one
    result.output = proc->read_log();
    return result;
}

std::string joined(const std::vector<std::filesystem::path>& files) {
    std::string out;
    for (const auto& f : files) {
        out += (out.empty() ? "" : " ") + f.string();
    }
    return out;
}

}  // namespace moneta::lint_test
