#include "moneta/trace/otlp_encoder.hpp"

#include <gtest/gtest.h>

#include <map>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

using moneta::trace::OtlpEncoder;
using moneta::trace::ResourceInfo;
using moneta::trace::SpanKind;
using moneta::trace::SpanRecord;
using moneta::trace::StatusCode;
namespace otlp = opentelemetry::proto;

namespace {

template <std::size_t N>
std::string bytes_of(const std::array<std::uint8_t, N>& a) {
    return {reinterpret_cast<const char*>(a.data()), N};
}

std::map<std::string, otlp::common::v1::AnyValue> attrs(
    const google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>& kvs) {
    std::map<std::string, otlp::common::v1::AnyValue> m;
    for (const auto& kv : kvs) {
        EXPECT_TRUE(m.emplace(kv.key(), kv.value()).second) << "duplicate key " << kv.key();
    }
    return m;
}

ResourceInfo resource() {
    ResourceInfo r;
    r.service_name = "moneta";
    r.service_version = "1.2.3";
    r.host_name = "host-a";
    r.deployment_environment = "staging";
    r.scope_name = "moneta.trace";
    r.scope_version = "1";
    return r;
}

SpanRecord server_span() {
    SpanRecord s;
    for (std::uint8_t i = 0; i < 16; ++i) {
        s.trace_id[i] = static_cast<std::uint8_t>(0xf0 + i);  // high bytes: varint/length edge cases
    }
    s.span_id = {0x80, 1, 2, 3, 4, 5, 6, 0xff};
    s.parent_span_id = {9, 9, 9, 9, 9, 9, 9, 9};
    s.flags = 1;
    s.kind = SpanKind::kServer;
    s.status = StatusCode::kError;
    s.start_unix_ns = 1'764'000'000'123'456'789;
    s.end_unix_ns = 1'764'000'000'223'456'789;
    s.name.assign("POST /v1/sessions/{id}/heartbeat");
    s.http_method.assign("POST");
    s.http_route.assign("/v1/sessions/{id}/heartbeat");
    s.http_status = 503;
    s.error_type.assign("503");
    return s;
}

SpanRecord redis_span() {
    SpanRecord s;
    s.trace_id = server_span().trace_id;
    s.span_id = {1, 1, 1, 1, 1, 1, 1, 1};
    s.parent_span_id = server_span().span_id;
    s.kind = SpanKind::kClient;
    s.start_unix_ns = 5;
    s.end_unix_ns = 6;
    s.name.assign("redis heartbeat");
    s.db_operation.assign("heartbeat");
    s.server_address.assign("127.0.0.1");
    s.server_port = 6379;
    s.peer_service.assign("redis");
    return s;
}

}  // namespace

TEST(OtlpEncoderTest, EveryFieldDecodesWithLibprotobuf) {
    OtlpEncoder enc(resource());
    const SpanRecord spans[] = {server_span(), redis_span()};
    const std::string body(enc.encode(spans));

    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    ASSERT_TRUE(req.ParseFromString(body));
    // Re-serializing the decoded message gives the same bytes: no unknown or misplaced field
    // was kept aside by the parser, and every length prefix was right.
    EXPECT_EQ(req.SerializeAsString(), body);
    ASSERT_EQ(req.resource_spans_size(), 1);
    const auto& rs = req.resource_spans(0);
    const auto ra = attrs(rs.resource().attributes());
    ASSERT_EQ(ra.size(), 4U);
    EXPECT_EQ(ra.at("service.name").string_value(), "moneta");
    EXPECT_EQ(ra.at("service.version").string_value(), "1.2.3");
    EXPECT_EQ(ra.at("host.name").string_value(), "host-a");
    EXPECT_EQ(ra.at("deployment.environment").string_value(), "staging");
    ASSERT_EQ(rs.scope_spans_size(), 1);
    const auto& ss = rs.scope_spans(0);
    EXPECT_EQ(ss.scope().name(), "moneta.trace");
    EXPECT_EQ(ss.scope().version(), "1");
    ASSERT_EQ(ss.spans_size(), 2);

    const auto& a = ss.spans(0);
    const SpanRecord s = server_span();
    EXPECT_EQ(a.trace_id(), bytes_of(s.trace_id));
    EXPECT_EQ(a.span_id(), bytes_of(s.span_id));
    EXPECT_EQ(a.parent_span_id(), bytes_of(s.parent_span_id));
    EXPECT_EQ(a.name(), "POST /v1/sessions/{id}/heartbeat");
    EXPECT_EQ(a.kind(), otlp::trace::v1::Span::SPAN_KIND_SERVER);
    EXPECT_EQ(a.start_time_unix_nano(), 1'764'000'000'123'456'789ULL);
    EXPECT_EQ(a.end_time_unix_nano(), 1'764'000'000'223'456'789ULL);
    EXPECT_EQ(a.flags(), 1U);
    EXPECT_EQ(a.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
    EXPECT_TRUE(a.trace_state().empty());
    const auto aa = attrs(a.attributes());
    ASSERT_EQ(aa.size(), 4U);
    EXPECT_EQ(aa.at("http.request.method").string_value(), "POST");
    EXPECT_EQ(aa.at("http.route").string_value(), "/v1/sessions/{id}/heartbeat");
    EXPECT_EQ(aa.at("http.response.status_code").int_value(), 503);
    EXPECT_EQ(aa.at("error.type").string_value(), "503");

    const auto& b = ss.spans(1);
    EXPECT_EQ(b.kind(), otlp::trace::v1::Span::SPAN_KIND_CLIENT);
    EXPECT_EQ(b.parent_span_id(), bytes_of(s.span_id));
    EXPECT_EQ(b.name(), "redis heartbeat");
    EXPECT_EQ(b.flags(), 0U);
    EXPECT_EQ(b.status().code(), otlp::trace::v1::Status::STATUS_CODE_UNSET);
    const auto ba = attrs(b.attributes());
    ASSERT_EQ(ba.size(), 5U);
    EXPECT_EQ(ba.at("db.system").string_value(), "redis");
    EXPECT_EQ(ba.at("db.operation").string_value(), "heartbeat");
    EXPECT_EQ(ba.at("server.address").string_value(), "127.0.0.1");
    EXPECT_EQ(ba.at("server.port").int_value(), 6379);
    EXPECT_EQ(ba.at("peer.service").string_value(), "redis");
}

TEST(OtlpEncoderTest, RootSpanHasNoParentAndEmptyBatchIsValid) {
    OtlpEncoder enc(resource());
    SpanRecord root = server_span();
    root.parent_span_id = {};
    root.status = StatusCode::kUnset;
    const std::string body(enc.encode(std::span<const SpanRecord>(&root, 1)));
    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    ASSERT_TRUE(req.ParseFromString(body));
    EXPECT_TRUE(req.resource_spans(0).scope_spans(0).spans(0).parent_span_id().empty());

    const std::string empty(enc.encode({}));
    ASSERT_TRUE(req.ParseFromString(empty));
    EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 0);
}

TEST(OtlpEncoderTest, LargeBatchLengthsAndBufferReuse) {
    OtlpEncoder enc(resource());
    std::vector<SpanRecord> spans(700, redis_span());  // > 2^16 bytes: 3-byte length prefixes
    for (std::size_t i = 0; i < spans.size(); ++i) {
        spans[i].span_id[0] = static_cast<std::uint8_t>(i);
        spans[i].end_unix_ns = static_cast<std::int64_t>(i) << 40;
    }
    const std::string first(enc.encode(spans));
    ASSERT_GT(first.size(), 65536U);
    const char* data_before = enc.encode(spans).data();
    EXPECT_EQ(enc.encode(spans).data(), data_before) << "the buffer is reused";
    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    ASSERT_TRUE(req.ParseFromString(first));
    ASSERT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 700);
    EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans(699).end_time_unix_nano(), 699ULL << 40);
}

TEST(OtlpEncoderTest, LongTextIsCutNotOverflowed) {
    SpanRecord s = redis_span();
    s.peer_service.assign(std::string_view{});  // null data, size 0 (an unrouted request's route)
    EXPECT_TRUE(s.peer_service.empty());
    s.name.assign(std::string(500, 'x'));
    EXPECT_EQ(s.name.view().size(), 64U);
    OtlpEncoder enc(resource());
    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    ASSERT_TRUE(req.ParseFromString(std::string(enc.encode(std::span<const SpanRecord>(&s, 1)))));
    EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans(0).name(), std::string(64, 'x'));
}
