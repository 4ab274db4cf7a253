#include "domain/json_writer.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace moneta::domain
