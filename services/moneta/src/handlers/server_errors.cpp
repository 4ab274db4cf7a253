#include "handlers/server_errors.hpp"

#include <string>

#include "domain/api_error.hpp"
#include "domain/edge_errors.hpp"
#include "moneta/core/json_escape.hpp"

namespace moneta::handlers {

http::Response server_error_page(int status, [[maybe_unused]] std::string_view code, std::string_view message,
                                 std::int64_t server_time_ms) {
    const domain::EdgeError* row = domain::edge_error_answering(status);
    const domain::ApiError error = row != nullptr ? row->error : domain::ApiError::kInternal;
    std::string details = R"({"reason":)";
    core::append_json_string(details, message);
    details.push_back('}');
    http::Response r;
    r.status = row != nullptr ? row->answer_status : 500;
    r.body = domain::error_body(error, server_time_ms, details);
    if (domain::info(error).retryable && (r.status == 503 || r.status == 504)) {
        r.headers.emplace_back("Retry-After", "1");  // as at the edge (edge_errors.conf)
    }
    return r;
}

}  // namespace moneta::handlers
