/// @file moneta/core/asio_frame_recycling.hpp
/// @brief Routes Asio's coroutine frames (awaitable_frame_tag) through core::frame_pool.
///
/// The root CMakeLists.txt force-includes this header (`-include`) into every C++ translation
/// unit: an explicit specialization must be declared before the first use of the template in
/// each unit, and Asio's `awaitable_frame_base::operator new` uses it wherever a coroutine is
/// written. The other purposes (handler memory, executor functions) keep Asio's cache: at most
/// one of each per socket operation is live, so its scan stays short. Why: frame_pool.hpp.
#pragma once

#include <boost/asio/detail/thread_info_base.hpp>

#include "frame_pool.hpp"

namespace boost::asio::detail {

template <>
inline void* thread_info_base::allocate(thread_info_base::awaitable_frame_tag /*purpose*/,
                                        thread_info_base* /*this_thread*/, std::size_t size,
                                        std::size_t align) {
    return moneta::core::frame_pool::allocate(size, align);
}

template <>
inline void thread_info_base::deallocate(thread_info_base::awaitable_frame_tag /*purpose*/,
                                         thread_info_base* /*this_thread*/, void* pointer,
                                         std::size_t size) {
    moneta::core::frame_pool::deallocate(pointer, size);
}

}  // namespace boost::asio::detail
