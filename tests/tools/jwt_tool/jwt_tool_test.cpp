// jwt_tool sign-bulk: one "<token> <line>" per input line, each token the HS256 signature of the
// claims of that line's account and profile; a bad id fails the whole run.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <vector>
#include <sstream>
#include <string>

#include "moneta/jwt/verifier.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

std::string run_bulk(const TempDir& dir, const std::string& input, int& status) {
    const auto in = dir.file("in.txt");
    {
        std::ofstream f(in);
        f << input;
    }
    auto p = Process::spawn({"/bin/sh", "-c", std::string(JWT_TOOL) +
                                              " sign-bulk --secret-env BULK_SECRET --iss moneta-dev --aud moneta --ttl 600 < " +
                                              in.string()},
                            {{"BULK_SECRET", kSecret}}, dir.file("out.log"));
    EXPECT_TRUE(p) << p.error().message();
    if (!p) return {};
    status = p->wait_exit(20s).value_or(-1);
    return p->read_log();
}

TEST(JwtToolBulkTest, SignsOneVerifiableTokenPerLine) {
    TempDir dir;
    int status = -1;
    const std::string out = run_bulk(dir, "a_1 p_1 m_1\na_00002 p_00002_1 c_0001\n", status);
    ASSERT_EQ(status, 0) << out;
    std::istringstream lines(out);
    std::string line;
    std::vector<std::string> tokens;
    std::vector<std::string> rests;
    while (std::getline(lines, line)) {
        const auto space = line.find(' ');
        ASSERT_NE(space, std::string::npos) << line;
        tokens.push_back(line.substr(0, space));
        rests.push_back(line.substr(space + 1));
    }
    ASSERT_EQ(tokens.size(), 2u) << out;
    EXPECT_EQ(rests[0], "a_1 p_1 m_1");
    EXPECT_EQ(rests[1], "a_00002 p_00002_1 c_0001");
    auto signer = jwt::Signer::hs256("dev", kSecret);
    ASSERT_TRUE(signer);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto& t = tokens[i];
        const auto dot1 = t.find('.');
        const auto dot2 = t.find('.', dot1 + 1);
        ASSERT_NE(dot2, std::string::npos);
        auto payload = jwt::base64url_decode(std::string_view(t).substr(dot1 + 1, dot2 - dot1 - 1));
        ASSERT_TRUE(payload);
        const std::string claims(payload->begin(), payload->end());
        const std::string account = i == 0 ? "a_1" : "a_00002";
        const std::string profile = i == 0 ? "p_1" : "p_00002_1";
        EXPECT_EQ(claims.rfind("{\"sub\":\"" + account + "\",\"pid\":\"" + profile + "\",\"iss\":\"moneta-dev\",\"aud\":\"moneta\"", 0), 0u)
            << claims;
        // HS256 is deterministic: re-signing the same claims with the secret gives the same token.
        EXPECT_EQ(signer->sign(claims), t);
    }
}

TEST(JwtToolBulkTest, RefusesALineWithABadId) {
    TempDir dir;
    int status = -1;
    const std::string out = run_bulk(dir, "a_1 p_1 m_1\na\"x p_1 m_1\n", status);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("line 2"), std::string::npos) << out;
}

}  // namespace
}  // namespace moneta::testing
