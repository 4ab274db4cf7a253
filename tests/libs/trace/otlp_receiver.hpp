/// @file tests/libs/trace/otlp_receiver.hpp
/// @brief A protocol-exact fake OTLP/HTTP receiver for tests: listens on a free loopback port,
/// reads each HTTP/1.1 POST (Content-Length body), records it, answers as scripted (200 by
/// default; e.g. 503 with Retry-After), and decodes bodies with libprotobuf.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace moneta::testing {

struct ReceivedPost {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
    std::string body;
    std::string header(std::string_view name) const;
};

struct ScriptedAnswer {
    int status = 200;
    std::string retry_after;  ///< sent when non-empty
};

class OtlpReceiver {
public:
    OtlpReceiver();  ///< binds 127.0.0.1:0 and starts serving
    ~OtlpReceiver();
    OtlpReceiver(const OtlpReceiver&) = delete;
    OtlpReceiver& operator=(const OtlpReceiver&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }

    /// The next answers, in order; 200 once they are used up.
    void script(std::vector<ScriptedAnswer> answers);
    std::vector<ReceivedPost> posts() const;
    std::size_t post_count() const;

    /// Every span of every post answered 200, decoded (ASSERTs nothing: a body that does not
    /// parse is skipped and counted in bad_bodies()).
    std::vector<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest> accepted() const;
    std::size_t bad_bodies() const;

private:
    void serve();
    void handle(int fd);

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    mutable std::mutex mu_;
    std::deque<ScriptedAnswer> script_;
    std::vector<ReceivedPost> posts_;
    std::vector<int> answered_;  ///< status per post
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace moneta::testing
