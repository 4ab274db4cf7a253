/// @file moneta/cdn/cookie.hpp
/// @brief A cookie the player must send to the CDN (the service hands it out; it sets nothing).
#pragma once

#include <string>

namespace moneta::cdn {

struct Cookie {
    std::string name;
    std::string value;
    std::string domain;
    std::string path;

    friend bool operator==(const Cookie&, const Cookie&) = default;
};

}  // namespace moneta::cdn
