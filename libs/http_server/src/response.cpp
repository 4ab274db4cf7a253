#include "moneta/http/response.hpp"

#include <charconv>

#include "moneta/core/json_escape.hpp"

namespace moneta::http {

Response error_response(int status, std::string_view code, std::string_view message,
                        bool retryable, std::int64_t server_time_ms, std::string_view details_json) {
    Response r;
    r.status = status;
    std::string& b = r.body;
    b.reserve(128 + message.size() + details_json.size());
    b += R"({"error":{"code":)";
    core::append_json_string(b, code);
    b += R"(,"message":)";
    core::append_json_string(b, message);
    b += retryable ? R"(,"retryable":true,"details":)" : R"(,"retryable":false,"details":)";
    b += details_json;
    b += R"(},"server_time_ms":)";
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, server_time_ms);
    b.append(buf, res.ptr);
    b.push_back('}');
    return r;
}

Response default_error_page(int status, std::string_view code, std::string_view message,
                            std::int64_t server_time_ms) {
    // "Try again" answers: a timeout, our own failure, unavailable/overloaded.
    const bool retryable = status == 408 || status == 500 || status == 503 || status == 504;
    return error_response(status, code, message, retryable, server_time_ms);
}

}  // namespace moneta::http
