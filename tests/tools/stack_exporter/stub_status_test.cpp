#include "stub_status.hpp"

#include <gtest/gtest.h>

namespace moneta::stack_exporter {
namespace {

// nginx 1.22's page, byte for byte (note the trailing spaces).
constexpr std::string_view kPage =
    "Active connections: 291 \n"
    "server accepts handled requests\n"
    " 16630948 16630940 31070465 \n"
    "Reading: 6 Writing: 179 Waiting: 106 \n";

TEST(StubStatusTest, ParsesEveryNumberOfNginxsPage) {
    const auto s = parse_stub_status(kPage);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->active, 291U);
    EXPECT_EQ(s->accepted, 16630948U);
    EXPECT_EQ(s->handled, 16630940U);
    EXPECT_EQ(s->requests, 31070465U);
    EXPECT_EQ(s->reading, 6U);
    EXPECT_EQ(s->writing, 179U);
    EXPECT_EQ(s->waiting, 106U);
}

TEST(StubStatusTest, SomethingElseIsRefusedNotReadAsZeros) {
    for (const std::string_view text :
         {std::string_view("<html><body>Welcome to nginx!</body></html>"), std::string_view(""),
          std::string_view("Active connections: 1 \nserver accepts handled requests\n 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n"),
          std::string_view("Active connections: x \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n")}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(parse_stub_status(text));
    }
}

TEST(StubStatusTest, RendersCountersAndGauges) {
    const auto s = parse_stub_status(kPage);
    ASSERT_TRUE(s);
    metrics::Registry registry;
    add_stub_status(registry, *s);
    const std::string text = registry.render_text();
    EXPECT_NE(text.find("# TYPE nginx_connections_accepted_total counter\nnginx_connections_accepted_total 16630948\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("nginx_connections_handled_total 16630940\n"), std::string::npos) << text;
    EXPECT_NE(text.find("nginx_http_requests_total 31070465\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE nginx_connections_active gauge\nnginx_connections_active 291\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("nginx_connections_waiting 106\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace moneta::stack_exporter
