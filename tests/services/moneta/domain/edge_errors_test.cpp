#include "domain/edge_errors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace moneta::domain {
namespace {

std::string read_source(const char* relative) {
    const char* root = std::getenv("MONETA_SOURCE_DIR");  // set by moneta_test (ctest)
    std::ifstream in(std::string(root != nullptr ? root : ".") + "/" + relative, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The committed nginx include is what the generator prints: a change to the error table that is
// not regenerated into the edge fails here.
TEST(EdgeErrors, CommittedNginxIncludeIsGeneratedFromTheErrorTable) {
    const std::string committed = read_source("deploy/nginx/edge_errors.conf");
    ASSERT_FALSE(committed.empty()) << "deploy/nginx/edge_errors.conf missing";
    EXPECT_EQ(committed, nginx_edge_errors_conf())
        << "regenerate: build/release/tools/edge_errors/edge_errors > deploy/nginx/edge_errors.conf";
}

TEST(EdgeErrors, EveryBodyComesFromTheTableAndNeedsNoEscaping) {
    const std::string conf = nginx_edge_errors_conf();
    for (const EdgeError& e : edge_errors()) {
        const ApiErrorInfo& row = info(e.error);
        EXPECT_EQ(row.message.find_first_of("'\"\\$"), std::string_view::npos) << row.code;
        EXPECT_NE(conf.find(std::string("\"code\":\"") + std::string(row.code) + "\""), std::string::npos);
        if (e.status != 403 && e.status < 500) {
            EXPECT_EQ(e.answer_status, row.status) << row.code;  // the table's status, except 403/5xx framing
        }
    }
}

TEST(EdgeErrors, RetryableOverloadAnswersCarryRetryAfter) {
    const std::string conf = nginx_edge_errors_conf();
    for (const char* status : {"429", "503", "504"}) {
        const auto at = conf.find(std::string("location = /_edge_error/") + status);
        ASSERT_NE(at, std::string::npos) << status;
        const auto line_end = conf.find('\n', at);
        EXPECT_NE(conf.substr(at, line_end - at).find("Retry-After 1"), std::string::npos) << status;
    }
    EXPECT_NE(conf.find("error_page 494 =431 /_edge_error/431;"), std::string::npos);
    EXPECT_NE(conf.find("return 431 '"), std::string::npos);
}

}  // namespace
}  // namespace moneta::domain
