#include "domain/json_writer.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace moneta::domain {
namespace {

TEST(JsonWriterTest, WritesNestedStructuresWithCommas) {
    JsonWriter w;
    w.begin_object();
    w.key("a").integer(-5);
    w.key("b").begin_array().string("x").boolean(true).null().end_array();
    w.key("c").begin_object().end_object();
    w.key("d").number(1.5);
    w.end_object();
    EXPECT_EQ(std::move(w).take(), R"({"a":-5,"b":["x",true,null],"c":{},"d":1.5})");
}

// Literal keys are written as they are; a key from data (a configured DRM header name) is escaped.
TEST(JsonWriterTest, LiteralKeysVerbatimDataKeysEscaped) {
    JsonWriter w;
    const std::string from_config = "X-\"odd\"";
    w.begin_object().key("lease_expires_at_ms").integer(1).key(from_config).string("v").end_object();
    const std::string out = std::move(w).take();
    EXPECT_EQ(out, R"({"lease_expires_at_ms":1,"X-\"odd\"":"v"})");
    EXPECT_EQ(boost::json::parse(out).as_object().at(from_config).as_string(), "v");
}

TEST(JsonWriterTest, EscapesEverythingJsonRequires) {
    JsonWriter w;
    const std::string nasty = std::string("q\"b\\n\n\r\t") + '\x01' + '\x1f' + "ü";
    w.string(nasty);
    const std::string out = std::move(w).take();
    EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u001fü\"");
    // And it parses back to the original.
    EXPECT_EQ(boost::json::parse(out).as_string(), nasty);
}

TEST(JsonWriterTest, NonFiniteNumbersBecomeNull) {
    JsonWriter w;
    w.begin_array()
        .number(std::numeric_limits<double>::infinity())
        .number(std::numeric_limits<double>::quiet_NaN())
        .number(7012.4)
        .end_array();
    EXPECT_EQ(std::move(w).take(), "[null,null,7012.4]");
}

/// What std::to_chars writes for @p v: the definition write_double must match byte for byte.
std::string to_chars_text(double v) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string written(double v) {
    char buf[kDoubleChars];
    return std::string(buf, write_double(buf, v));
}

TEST(JsonWriterTest, WriteDoubleIsToCharsForEveryMillisecondUpTo3000) {
    for (std::int64_t n = 0; n <= 3'000'000; ++n) {
        const double v = static_cast<double>(n) / 1000.0;
        ASSERT_EQ(written(v), to_chars_text(v)) << n;
    }
}

TEST(JsonWriterTest, WriteDoubleIsToCharsAtTheEdgesAndForAnyDouble) {
    const double edges[] = {0.0, -0.0, 0.001, 0.002, 0.01, 0.5, 1, 10, 100, 1000, 10000, 99999.999,
                            99999.9995, 100000, 100000.5, 200000, 123456.789, 1e15, 1e300, 0.1 + 0.2,
                            1e-7, 0.0015, 4.35, 1902.5, 7012.4, -1, -0.001, -100000,
                            std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::max(), std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), std::nextafter(1.0, 2.0),
                            std::nextafter(0.001, 0.0), std::nextafter(99999.999, 1e6)};
    for (const double v : edges) {
        EXPECT_EQ(written(v), to_chars_text(v)) << v;
    }
    EXPECT_EQ(written(std::numeric_limits<double>::quiet_NaN()), to_chars_text(std::numeric_limits<double>::quiet_NaN()));
    // Random doubles where positions live (whole milliseconds and not), and random bit patterns.
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> position(0.0, 200000.0);
    for (int i = 0; i < 200'000; ++i) {
        const double v = position(rng);
        ASSERT_EQ(written(v), to_chars_text(v)) << v;
        const double ms = std::round(v * 1000.0) / 1000.0;
        ASSERT_EQ(written(ms), to_chars_text(ms)) << ms;
        const double tenths = std::round(v * 10.0) / 10.0;
        ASSERT_EQ(written(tenths), to_chars_text(tenths)) << tenths;
        const std::uint64_t bits = rng();
        double any = 0;
        std::memcpy(&any, &bits, sizeof any);
        ASSERT_EQ(written(any), to_chars_text(any)) << bits;
    }
}

TEST(JsonWriterTest, NumbersAreToCharsText) {
    for (const double v : {0.0, 1902.5, 0.001, 100000.0, 123456.789, 0.1 + 0.2, -7.25}) {
        JsonWriter w;
        w.number(v);
        EXPECT_EQ(w.view(), to_chars_text(v)) << v;
    }
}

}  // namespace
}  // namespace moneta::domain
