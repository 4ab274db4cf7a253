#include "moneta/http/request.hpp"

#include <algorithm>

namespace moneta::http {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lx = static_cast<unsigned char>(x >= 'A' && x <= 'Z' ? x + 32 : x);
               const auto ly = static_cast<unsigned char>(y >= 'A' && y <= 'Z' ? y + 32 : y);
               return lx == ly;
           });
}

}  // namespace

std::string_view method_name(Method m) noexcept {
    switch (m) {
        case Method::kGet: return "GET";
        case Method::kHead: return "HEAD";
        case Method::kPost: return "POST";
        case Method::kPut: return "PUT";
        case Method::kDelete: return "DELETE";
        case Method::kPatch: return "PATCH";
        case Method::kOptions: return "OPTIONS";
        case Method::kOther: break;
    }
    return "OTHER";
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const Header& h : headers_) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return std::nullopt;
}

void Request::set_line(Method m, std::string_view method_string, std::string_view target) noexcept {
    method_ = m;
    route_id_ = kNoRoute;
    method_string_ = method_string;
    target_ = target;
    const auto q = target.find('?');
    path_ = target.substr(0, q);
    query_ = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

bool Request::add_param(std::string_view v) noexcept {
    if (param_count_ == kMaxParams) {
        return false;
    }
    params_[param_count_++] = v;
    return true;
}

}  // namespace moneta::http
