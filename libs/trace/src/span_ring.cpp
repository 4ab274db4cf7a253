#include "moneta/trace/span_ring.hpp"

#include <bit>

namespace moneta::trace {

SpanRing::SpanRing(std::size_t capacity)
    : slots_(std::make_unique<SpanRecord[]>(std::bit_ceil(std::max<std::size_t>(capacity, 2)))),
      mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1) {}

}  // namespace moneta::trace
