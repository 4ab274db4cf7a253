/// @file moneta/core/result.hpp
/// @brief `Result<T>`: value or `boost::system::error_code`, the return type of fallible calls.
#pragma once

#include <boost/system/result.hpp>

#include "moneta/core/error.hpp"

namespace moneta::core {

template <class T>
using Result = boost::system::result<T>;

/// Shorthand to return an error from a function returning Result<T>.
inline boost::system::error_code make_error(Errc e) noexcept { return make_error_code(e); }

}  // namespace moneta::core
