#include "moneta/core/error.hpp"

#include <string>

namespace moneta::core {
namespace {

class Category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "moneta"; }
    std::string message(int ev) const override {
        return std::string(errc_name(static_cast<Errc>(ev)));
    }
};

const Category kCategory;

}  // namespace

const boost::system::error_category& error_category() noexcept { return kCategory; }

boost::system::error_code make_error_code(Errc e) noexcept {
    return {static_cast<int>(e), kCategory};
}

std::string_view errc_name(Errc e) noexcept {
    switch (e) {
        case Errc::kOk: return "ok";
        case Errc::kTimeout: return "timeout";
        case Errc::kDeadlineExceeded: return "deadline_exceeded";
        case Errc::kCancelled: return "cancelled";
        case Errc::kConnectFailed: return "connect_failed";
        case Errc::kConnectionClosed: return "connection_closed";
        case Errc::kProtocolError: return "protocol_error";
        case Errc::kOverloaded: return "overloaded";
        case Errc::kNotFound: return "not_found";
        case Errc::kInvalidArgument: return "invalid_argument";
        case Errc::kUpstreamError: return "upstream_error";
        case Errc::kUnavailable: return "unavailable";
        case Errc::kInternal: return "internal";
    }
    return "unknown";
}

}  // namespace moneta::core
