/// @file moneta/testing/playback.hpp
/// @brief Request bodies and reply fields that the stack-level tests share (api.md §5).
#pragma once

#include <regex>
#include <string>
#include <string_view>

namespace moneta::testing {

/// POST /v1/playback/sessions for a 1080p DASH/Widevine TV named @p device.
inline std::string start_body(std::string_view content, std::string_view device) {
    return R"({"content_id":")" + std::string(content) + R"(","device":{"id":")" + std::string(device) +
           R"(","type":"tv","name":"TV"},"capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080}})";
}

/// The first `"name":value` of a JSON reply as text (quotes stripped), "" when absent: enough
/// for ids, codes and numbers in assertions without parsing the whole document.
inline std::string json_field(const std::string& body, const std::string& name) {
    std::smatch m;
    if (std::regex_search(body, m, std::regex("\"" + name + "\":\"?([^\",}]+)"))) {
        return m[1].str();
    }
    return {};
}

}  // namespace moneta::testing
