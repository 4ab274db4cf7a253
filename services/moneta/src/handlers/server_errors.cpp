#include "handlers/server_errors.hpp"

#include <string>

#include "domain/api_error.hpp"
#include "domain/edge_errors.hpp"
#include "handlers/http_util.hpp"
#include "moneta/core/json_escape.hpp"

namespace moneta::handlers {

http::Response server_error_page(int status, [[maybe_unused]] std::string_view code, std::string_view message,
                                 std::int64_t server_time_ms) {
    const domain::EdgeError* row = domain::edge_error_answering(status);
    std::string details = R"({"reason":)";
    core::append_json_string(details, message);
    details.push_back('}');
    // The handlers' error(): the same body and Retry-After rule; only the status is the edge's
    // (501 and 505 answer with INVALID_REQUEST's body, as nginx does).
    http::Response r = error(row != nullptr ? row->error : domain::ApiError::kInternal, server_time_ms, details);
    if (row != nullptr) {
        r.status = row->answer_status;
    }
    return r;
}

}  // namespace moneta::handlers
