/// @file moneta/http/handler.hpp
/// @brief The one handler signature: a coroutine from Request to Response.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>

#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"

namespace moneta::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

}  // namespace moneta::http
