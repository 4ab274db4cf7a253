// POST /internal/v1/progress:batchUpsert of the reference internal API, run in-process on a free
// port with the contract fixtures: a well-formed item for a title the catalog does not know is
// refused with 422 UNKNOWN_CONTENT naming its index, and the batch stores nothing (issue 10: the
// flusher isolates and quarantines such items).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <string>

#include "app.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/testing/support.hpp"

namespace moneta::internal_api {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view kToken = "batch-upsert-test-token-0123456789";

std::string item(std::string_view content, double position, std::int64_t updated_at_ms) {
    return R"({"profile_id":"kp_ia","content_id":")" + std::string(content) + R"(","position_sec":)" +
           std::to_string(position) + R"(,"duration_sec":7012.4,"completed":false,"updated_at_ms":)" +
           std::to_string(updated_at_ms) + R"(,"seq":1})";
}

class BatchUpsertTest : public ::testing::Test {
protected:
    void SetUp() override {
        Settings s;
        s.address = "127.0.0.1";
        s.port = 0;
        s.threads = 1;
        s.db = dir_.file("ia.sqlite");
        s.fixtures = testing::source_dir() / "tests/contract/fixtures.json";
        s.token = std::string(kToken);
        auto app = App::create(std::move(s), core::SystemClock::instance());
        ASSERT_TRUE(app) << app.error();
        app_ = std::move(*app);
        auto port = app_->start();
        ASSERT_TRUE(port) << port.error();
        port_ = *port;
    }

    void TearDown() override {
        if (app_) {
            app_->request_stop();
            app_->wait();
        }
    }

    testing::HttpReply post(const std::string& items) {
        return testing::http_call(port_, "POST", "/internal/v1/progress:batchUpsert", R"({"items":[)" + items + "]}",
                                  {{"Authorization", "Bearer " + std::string(kToken)},
                                   {"Content-Type", "application/json"}});
    }

    json::array stored(std::string_view content_ids) {
        const auto r = testing::http_call(
            port_, "GET", "/internal/v1/profiles/kp_ia/progress?content_ids=" + std::string(content_ids), {},
            {{"Authorization", "Bearer " + std::string(kToken)}});
        EXPECT_EQ(r.status, 200) << r.body << r.error;
        return json::parse(r.body).as_object().at("items").as_array();
    }

    testing::TempDir dir_{"ia-upsert-"};
    std::unique_ptr<App> app_;
    std::uint16_t port_ = 0;
};

TEST_F(BatchUpsertTest, AnUnknownTitleIsRefusedWith422NamingItsIndexAndNothingIsStored) {
    const auto r = post(item("c_main", 100, 1'000) + "," + item("s_1e1", 200, 1'000) + "," +
                        item("x_unknown", 300, 1'000) + "," + item("x_other", 400, 1'000));
    ASSERT_EQ(r.status, 422) << r.body;
    const json::object error = json::parse(r.body).as_object().at("error").as_object();
    EXPECT_EQ(error.at("code").as_string(), "UNKNOWN_CONTENT");
    EXPECT_FALSE(error.at("retryable").as_bool());
    EXPECT_EQ(error.at("details").as_object().at("index").to_number<std::int64_t>(), 2) << "the first unknown";
    EXPECT_EQ(error.at("details").as_object().at("content_id").as_string(), "x_unknown");
    EXPECT_TRUE(stored("c_main,s_1e1,x_unknown").empty()) << "a refused batch stores nothing";

    // Without it, the batch is stored.
    const auto ok = post(item("c_main", 100, 1'000) + "," + item("s_1e1", 200, 1'000));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(json::parse(ok.body).as_object().at("applied").to_number<std::int64_t>(), 2);
    EXPECT_EQ(stored("c_main,s_1e1").size(), 2U);
}

TEST_F(BatchUpsertTest, AMalformedItemIsStillA400BeforeAnyCatalogCheck) {
    const auto r = post(item("x_unknown", 1, 1'000) + R"(,{"profile_id":"kp_ia"})");
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body).as_object().at("error").as_object().at("code").as_string(), "INVALID_REQUEST");
}

TEST_F(BatchUpsertTest, AnEmptyBatchIsAccepted) {
    const auto r = post("");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).as_object().at("applied").to_number<std::int64_t>(), 0);
}

}  // namespace
}  // namespace moneta::internal_api
