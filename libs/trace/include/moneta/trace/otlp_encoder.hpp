/// @file moneta/trace/otlp_encoder.hpp
/// @brief Hand-written protobuf encoder of an OTLP `ExportTraceServiceRequest`
/// (opentelemetry-proto collector/trace/v1): one ResourceSpans (the process), one ScopeSpans,
/// the batch's spans.
///
/// Why by hand and not generated code: the message is small and fixed, and the encoder runs on
/// the exporter's thread for every batch. Generated classes would build a message tree per span
/// (a heap object per span, attribute and string) only to serialize it once; this writes the
/// wire format straight from the fixed-size records into one buffer reused across batches (no
/// allocation once it reached its high-water mark), and keeps libprotobuf out of the service's
/// link. The tests decode its output with libprotobuf's generated code from the vendored
/// upstream .proto files (tests/libs/trace/proto), an independent check of every field.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/trace/span.hpp"

namespace moneta::trace {

/// Resource and scope of every span this process exports.
struct ResourceInfo {
    std::string service_name;            ///< service.name
    std::string service_version;         ///< service.version
    std::string host_name;               ///< host.name
    std::string deployment_environment;  ///< deployment.environment (omitted when empty)
    std::string scope_name = "moneta.trace";  ///< InstrumentationScope.name
    std::string scope_version;                ///< InstrumentationScope.version
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (the exporter's thread owns one).
class OtlpEncoder {
public:
    explicit OtlpEncoder(ResourceInfo resource);

    /// Encodes @p spans into the internal buffer (cleared first, capacity kept).
    /// @return a view valid until the next call.
    std::string_view encode(std::span<const SpanRecord> spans);

    const ResourceInfo& resource() const noexcept { return resource_; }

private:
    ResourceInfo resource_;
    std::string resource_bytes_;  ///< the encoded Resource + InstrumentationScope, built once
    std::string scope_bytes_;
    std::string out_;
};

}  // namespace moneta::trace
