#include "domain/lease.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace moneta::domain {
namespace {

TEST(LeaseTest, SessionInfoRoundTrips) {
    const SessionInfo s{"ps_1", "d-1", "tv", "Living \"room\"", "m_1", "p_1", 42};
    const SessionInfo back = decode_session_info(encode_session_info(s));
    EXPECT_EQ(back.session_id, "ps_1");
    EXPECT_EQ(back.device_id, "d-1");
    EXPECT_EQ(back.device_name, "Living \"room\"");
    EXPECT_EQ(back.started_at_ms, 42);
    EXPECT_TRUE(decode_session_info("garbage").session_id.empty());
}

TEST(LeaseTest, StreamLimitDetailsListActiveSessions) {
    LeaseDenied d;
    d.active.push_back({SessionInfo{"ps_1", "d-1", "tv", "", "m_1", "p_1", 1}, 1000});
    d.active.push_back({SessionInfo{"ps_2", "d-2", "ios", "", "m_2", "p_2", 2}, 2000});
    const auto v = boost::json::parse(stream_limit_details(d)).as_object();
    const auto& arr = v.at("active_sessions").as_array();
    ASSERT_EQ(arr.size(), 2U);
    EXPECT_EQ(arr[1].at("session_id").as_string(), "ps_2");
    EXPECT_EQ(arr[1].at("device_type").as_string(), "ios");
    EXPECT_EQ(arr[1].at("content_id").as_string(), "m_2");
    EXPECT_EQ(arr[1].at("last_seen_ms").as_int64(), 2000);
}

}  // namespace
}  // namespace moneta::domain
