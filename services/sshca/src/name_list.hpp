/// @file services/sshca/src/name_list.hpp
/// @brief Comma-separated name lists, the form principals and groups take in key ids, the
/// store's rows and the CLI's output. Names never hold a comma (policy.hpp is_valid_name).
#pragma once

#include <string>
#include <vector>

namespace moneta::sshca {

inline std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) {
            out += ',';
        }
        out += n;
    }
    return out;
}

/// join_names' inverse; "" is the empty list.
inline std::vector<std::string> split_names(const std::string& list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (!list.empty()) {
        const std::size_t comma = list.find(',', start);
        out.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

}  // namespace moneta::sshca
