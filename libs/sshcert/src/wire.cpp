#include "wire.hpp"

namespace moneta::sshcert::wire {

void Writer::put_u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out_.push_back(static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xFFU));
    }
}

void Writer::put_u64(std::uint64_t v) {
    put_u32(static_cast<std::uint32_t>(v >> 32U));
    put_u32(static_cast<std::uint32_t>(v & 0xFFFFFFFFU));
}

void Writer::put_string(std::string_view bytes) {
    put_u32(static_cast<std::uint32_t>(bytes.size()));
    out_.append(bytes);
}

void Writer::put_mpint(std::string_view magnitude) {
    while (!magnitude.empty() && magnitude.front() == '\0') {
        magnitude.remove_prefix(1);
    }
    const bool top_bit = !magnitude.empty() && (static_cast<unsigned char>(magnitude.front()) & 0x80U) != 0;
    put_u32(static_cast<std::uint32_t>(magnitude.size() + (top_bit ? 1 : 0)));
    if (top_bit) {
        out_.push_back('\0');
    }
    out_.append(magnitude);
}

void Writer::put_name_list(const std::vector<std::string>& names) {
    std::string joined;
    for (const auto& name : names) {
        if (!joined.empty()) {
            joined.push_back(',');
        }
        joined += name;
    }
    put_string(joined);
}

std::optional<std::uint8_t> Reader::get_u8() noexcept {
    if (in_.empty()) {
        return std::nullopt;
    }
    const auto v = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return v;
}

std::optional<std::uint32_t> Reader::get_u32() noexcept {
    if (in_.size() < 4) {
        return std::nullopt;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        v = (v << 8U) | static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]);
    }
    in_.remove_prefix(4);
    return v;
}

std::optional<std::uint64_t> Reader::get_u64() noexcept {
    if (in_.size() < 8) {
        return std::nullopt;
    }
    const auto hi = get_u32();
    const auto lo = get_u32();
    return (std::uint64_t{*hi} << 32U) | *lo;
}

std::optional<std::string_view> Reader::get_string() noexcept {
    if (in_.size() < 4) {
        return std::nullopt;
    }
    Reader peek(in_);
    const std::uint32_t n = *peek.get_u32();
    if (peek.in_.size() < n) {
        return std::nullopt;
    }
    const std::string_view s = peek.in_.substr(0, n);
    in_ = peek.in_.substr(n);
    return s;
}

std::optional<std::string_view> Reader::get_cstring() noexcept {
    Reader peek(in_);
    const auto s = peek.get_string();
    if (!s || s->find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    in_ = peek.in_;
    return s;
}

std::optional<std::string_view> Reader::get_mpint() noexcept {
    Reader peek(in_);
    auto s = peek.get_string();
    if (!s) {
        return std::nullopt;
    }
    if (!s->empty()) {
        const auto first = static_cast<unsigned char>(s->front());
        if ((first & 0x80U) != 0) {
            return std::nullopt;  // negative
        }
        if (first == 0) {
            // A zero byte is only there to clear the sign of a value whose top bit is set.
            if (s->size() == 1 || (static_cast<unsigned char>((*s)[1]) & 0x80U) == 0) {
                return std::nullopt;
            }
            s->remove_prefix(1);
        }
    }
    in_ = peek.in_;
    return s;
}

}  // namespace moneta::sshcert::wire
