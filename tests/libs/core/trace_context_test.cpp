#include "moneta/core/trace_context.hpp"

#include <string>

#include <gtest/gtest.h>

namespace moneta::core {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesTheW3cExample) {
    const auto ctx = TraceContext::parse(kValid);
    ASSERT_TRUE(ctx.has_value());
    EXPECT_EQ(ctx->trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(ctx->span_id_hex(), "00f067aa0ba902b7");
    EXPECT_TRUE(ctx->sampled());
    EXPECT_EQ(ctx->to_traceparent(), kValid);
}

TEST(TraceContextTest, RejectsMalformedValues) {
    for (const char* bad : {
             "",
             "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
             "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    // short trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // v00 with extra
             "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // bad separator
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // bad flags
         }) {
        EXPECT_FALSE(TraceContext::parse(bad).has_value()) << bad;
    }
}

TEST(TraceContextTest, AcceptsFutureVersionWithExtraFields) {
    const auto ctx =
        TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra");
    ASSERT_TRUE(ctx.has_value());
    EXPECT_TRUE(ctx->sampled());
    EXPECT_EQ(ctx->flags, 1);  // unknown flag bits are masked
}

TEST(TraceContextTest, ChildKeepsTraceIdAndChangesSpanId) {
    const auto parent = *TraceContext::parse(kValid);
    const auto child = parent.child();
    EXPECT_EQ(child.trace_id, parent.trace_id);
    EXPECT_NE(child.span_id, parent.span_id);
    EXPECT_EQ(child.flags, parent.flags);
}

TEST(TraceContextTest, NewRootRoundTrips) {
    const auto root = TraceContext::new_root(false);
    const auto parsed = TraceContext::parse(root.to_traceparent());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->trace_id, root.trace_id);
    EXPECT_FALSE(parsed->sampled());
}

TEST(TraceContextTest, TracestateIsPassedOnOnlyWhenValid) {
    for (const std::string v : {"congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
                                "a=1 , b=2", "tenant1@vendor=x", "k_-*/9=v!x", "", " , ,", "a=1,,b=2"}) {
        EXPECT_TRUE(TraceContext::valid_tracestate(v)) << v;
    }
    for (const std::string v : {"Upper=1", "1abc=v", "novalue", "k=", "k=a,b", "k=v=w", "k=v\x7f",
                                "a=1,a=2", "@v=x", "t@=x", "t@Sys=x", "k=\x01", "k=caf\xc3\xa9"}) {
        EXPECT_FALSE(TraceContext::valid_tracestate(v)) << v;
    }
    // 32 members pass, 33 do not; more than 512 chars do not.
    std::string members;
    for (int i = 0; i < 32; ++i) {
        members += (i ? ",k" : "k") + std::to_string(i) + "=v";
    }
    EXPECT_TRUE(TraceContext::valid_tracestate(members));
    EXPECT_FALSE(TraceContext::valid_tracestate(members + ",k32=v"));
    EXPECT_TRUE(TraceContext::valid_tracestate("k=" + std::string(256, 'v')));
    EXPECT_FALSE(TraceContext::valid_tracestate("k=" + std::string(257, 'v')));
    EXPECT_FALSE(TraceContext::valid_tracestate("a=" + std::string(250, 'v') + ",b=" + std::string(250, 'v') +
                                                ",c=" + std::string(20, 'v')));
}

}  // namespace
}  // namespace moneta::core
