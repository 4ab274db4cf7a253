#include "moneta/http/response.hpp"

#include <charconv>

namespace moneta::http {
namespace {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4U]);
            out.push_back(kHex[c & 0xFU]);
        } else {
            out.push_back(ch);
        }
    }
    out.push_back('"');
}

}  // namespace

Response error_response(int status, std::string_view code, std::string_view message,
                        bool retryable, std::int64_t server_time_ms, std::string_view details_json) {
    Response r;
    r.status = status;
    std::string& b = r.body;
    b.reserve(128 + message.size() + details_json.size());
    b += R"({"error":{"code":)";
    append_json_string(b, code);
    b += R"(,"message":)";
    append_json_string(b, message);
    b += retryable ? R"(,"retryable":true,"details":)" : R"(,"retryable":false,"details":)";
    b += details_json;
    b += R"(},"server_time_ms":)";
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, server_time_ms);
    b.append(buf, res.ptr);
    b.push_back('}');
    return r;
}

}  // namespace moneta::http
