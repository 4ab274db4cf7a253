// Stack's fault-suite hooks: PUT /_fault through set_internal_api_fault, the "refuse" mode
// (stop_internal_api → ECONNREFUSED, start_internal_api on the same port and SQLite file), and
// the PIDs for sample_process.
#include <gtest/gtest.h>

#include <string>

#include "moneta/testing/load.hpp"
#include "moneta/testing/stack.hpp"

namespace moneta::testing {
namespace {

constexpr std::string_view kAccount = "/internal/v1/accounts/a_1";

TEST(StackFaultTest, FaultsRefuseAndRestartOfTheInternalApi) {
    StackOptions options;
    options.with_nginx = false;
    options.internal_api_fault_control = true;
    Stack stack(options);
    ASSERT_TRUE(stack.start());

    ASSERT_GT(stack.moneta_pid(), 0);
    const ProcSample moneta = sample_process(stack.moneta_pid());
    EXPECT_TRUE(moneta.ok);
    EXPECT_GT(moneta.open_fds, 0U);
    EXPECT_GT(moneta.rss_kb, 0U);

    ASSERT_TRUE(stack.set_internal_api_fault(R"({"mode":"error_rate","rate":1})"));
    EXPECT_EQ(stack.call_internal("GET", kAccount).status, 503);
    EXPECT_FALSE(stack.set_internal_api_fault(R"({"mode":"refuse"})"));  // 400: not a mode
    ASSERT_TRUE(stack.set_internal_api_fault(R"({"mode":"ok"})"));
    EXPECT_EQ(stack.call_internal("GET", kAccount).status, 200);

    // Written before the restart, read after it: the same SQLite file.
    const auto put = stack.call_internal(
        "POST",
        "/internal/v1/progress:batchUpsert",
        R"({"items":[{"profile_id":"p_1","content_id":"m_clear","position_sec":321,"duration_sec":900,)"
        R"("completed":false,"updated_at_ms":4102444800000,"seq":1}]})"
    );
    ASSERT_EQ(put.status, 200) << put.body;

    const pid_t first = stack.internal_api_pid();
    stack.stop_internal_api();
    EXPECT_FALSE(stack.internal_api_running());
    const auto refused = stack.call_internal("GET", kAccount);
    EXPECT_EQ(refused.status, 0);
    EXPECT_NE(refused.error.find("refused"), std::string::npos) << refused.error;

    ASSERT_TRUE(stack.start_internal_api());
    EXPECT_NE(stack.internal_api_pid(), first);
    EXPECT_EQ(stack.call_internal("GET", kAccount).status, 200);
    const auto progress =
        stack.call_internal("GET", "/internal/v1/profiles/p_1/progress?content_ids=m_clear");
    // The fixtures have no such row: this updated_at_ms is the one written above.
    EXPECT_NE(progress.body.find(R"("updated_at_ms":4102444800000)"), std::string::npos) << progress.body;
    // The restarted process still has --fault-control.
    ASSERT_TRUE(stack.set_internal_api_fault(R"({"mode":"reset"})"));
    EXPECT_EQ(stack.call_internal("GET", kAccount).status, 0);
    ASSERT_TRUE(stack.set_internal_api_fault(R"({"mode":"ok"})"));
    EXPECT_TRUE(stack.moneta_running());
}

TEST(StackFaultTest, SettingAFaultFailsWithoutTheOption) {
    StackOptions options;
    options.with_nginx = false;
    Stack stack(options);
    ASSERT_TRUE(stack.start());
    const auto result = stack.set_internal_api_fault(R"({"mode":"ok"})");
    EXPECT_FALSE(result);
    EXPECT_NE(std::string(result.message()).find("404"), std::string::npos) << result.message();
}

}  // namespace
}  // namespace moneta::testing
