// resilience.shedding (docs/config.md): the latency floor's default, Envoy's rule at 0, and every
// malformed value refused by name.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "settings_fixture.hpp"

namespace moneta {
namespace {

// resilience.shedding.latency_floor_ms: 10 ms as shipped (a worker never sheds while its median
// latency is below it; docs/resilience.md), 0 restores Envoy's rule, a negative or non-integer
// value is refused by name.
class SheddingSettingsTest : public testing::SettingsFileTest {
protected:
    static std::function<void(boost::json::object&)> floor(boost::json::value v) {
        return [v](boost::json::object& o) {
            o["resilience"].as_object()["shedding"].as_object()["latency_floor_ms"] = v;
        };
    }
};

TEST_F(SheddingSettingsTest, TheLatencyFloorIsTenMillisecondsAsShippedAndZeroIsEnvoysRule) {
    const auto shipped = load();
    ASSERT_TRUE(shipped) << shipped.error();
    EXPECT_EQ(shipped->resilience.shedding.limit.latency_floor, std::chrono::milliseconds(10));
    const auto off = load(floor(0));
    ASSERT_TRUE(off) << off.error();
    EXPECT_EQ(off->resilience.shedding.limit.latency_floor, core::Duration::zero());
    for (const boost::json::value& bad : {boost::json::value(-1), boost::json::value(2.5), boost::json::value("10")}) {
        const auto refused = load(floor(bad));
        ASSERT_FALSE(refused) << boost::json::serialize(bad);
        EXPECT_NE(refused.error().find("latency_floor_ms"), std::string::npos) << refused.error();
    }
}

}  // namespace
}  // namespace moneta
