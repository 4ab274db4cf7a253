// .github/workflows/ci.yml as GitHub reads it (YAML 1.2, through moneta::testing::load_yaml_file)
// checked for what docs/ci.md promises: triggers; the test job runs `bash .ci/run` on Debian 12
// with a ccache cache; images are pushed through OIDC, tagged with the commit SHA; deploy jobs
// need the tests, run only for pushes to main, never overlap, smoke-check /healthz and /readyz
// and roll back on failure; least-privilege permissions; no stored AWS keys; no `${{ }}` inside
// shell scripts (script injection); actions pinned to a version.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/yaml.hpp"

namespace moneta::ci_test {
namespace {

namespace bj = boost::json;

const bj::value kNull;

// v[key] or null: a missing key fails the expectation that reads it, not the test binary.
const bj::value& at(const bj::value& v, std::string_view key) {
    const bj::value* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
    return f != nullptr ? *f : kNull;
}

std::string str(const bj::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

bool has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// `needs:` as a list of job names (GitHub accepts a string or a list).
std::vector<std::string> needs_of(const bj::value& job) {
    const bj::value& n = at(job, "needs");
    std::vector<std::string> out;
    if (n.is_string()) {
        out.push_back(str(n));
    } else if (n.is_array()) {
        for (const auto& x : n.as_array()) {
            out.push_back(str(x));
        }
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

class CiWorkflowTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto loaded = testing::load_yaml_file(testing::source_dir() / ".github/workflows/ci.yml");
        ASSERT_TRUE(loaded.ok()) << loaded.error;
        ASSERT_EQ(loaded.documents.size(), 1U);
        wf_ = loaded.documents.front();
        ASSERT_TRUE(at(wf_, "jobs").is_object()) << bj::serialize(wf_);
        for (const auto& [name, job] : at(wf_, "jobs").as_object()) {
            if (std::string_view(name).starts_with("deploy")) {
                deploy_jobs_.emplace_back(name);
            }
        }
    }
    const bj::value& job(std::string_view name) const { return at(at(wf_, "jobs"), name); }
    static const bj::array& steps(const bj::value& job) {
        static const bj::array kEmpty;
        const bj::value& s = at(job, "steps");
        return s.is_array() ? s.as_array() : kEmpty;
    }
    // Index of the first step whose `run` contains @p part, or -1.
    static int step_running(const bj::value& job, std::string_view part) {
        const auto& s = steps(job);
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (has(str(at(s[i], "run")), part)) {
                return static_cast<int>(i);
            }
        }
        return -1;
    }
    bj::value wf_;
    std::vector<std::string> deploy_jobs_;
};

TEST_F(CiWorkflowTest, RunsOnPullRequestsAndPushesToMain) {
    const bj::value& on = at(wf_, "on");
    ASSERT_TRUE(on.is_object()) << "`on:` must be a mapping (YAML 1.1 would read the key as true): "
                                << bj::serialize(wf_);
    for (const char* event : {"pull_request", "push"}) {
        SCOPED_TRACE(event);
        EXPECT_EQ(bj::serialize(at(at(on, event), "branches")), R"(["main"])");
    }
}

TEST_F(CiWorkflowTest, TheTestJobRunsDotCiRunOnDebian12WithACcacheCache) {
    const bj::value& test = job("test");
    ASSERT_TRUE(test.is_object()) << "no job named test";
    const std::string container = at(test, "container").is_object() ? str(at(at(test, "container"), "image"))
                                                                    : str(at(test, "container"));
    EXPECT_EQ(container, "debian:12");
    EXPECT_GE(step_running(test, "bash .ci/run"), 0) << bj::serialize(test);
    EXPECT_TRUE(at(test, "if").is_null()) << "the tests run for every pull request and push";

    const std::string ccache_dir = str(at(at(test, "env"), "CCACHE_DIR"));
    ASSERT_FALSE(ccache_dir.empty()) << "CCACHE_DIR must be set where the cache is";
    int cache_step = -1;
    for (std::size_t i = 0; i < steps(test).size(); ++i) {
        const auto& s = steps(test)[i];
        if (str(at(s, "uses")).starts_with("actions/cache@") && str(at(at(s, "with"), "path")) == ccache_dir) {
            cache_step = static_cast<int>(i);
            EXPECT_TRUE(has(str(at(at(s, "with"), "key")), "${{ github.sha }}")) << "a new cache entry per commit";
        }
    }
    ASSERT_GE(cache_step, 0) << "no actions/cache step for " << ccache_dir;
    EXPECT_LT(cache_step, step_running(test, "bash .ci/run")) << "the cache is restored before the build";
}

TEST_F(CiWorkflowTest, PermissionsAreNoneByDefaultAndOnlyWhatEachJobNeeds) {
    const bj::value& top = at(wf_, "permissions");
    EXPECT_TRUE(top.is_object() && top.as_object().empty()) << bj::serialize(top);
    for (const auto& [name, j] : at(wf_, "jobs").as_object()) {
        SCOPED_TRACE(std::string(name));
        const bj::value& p = at(j, "permissions");
        ASSERT_TRUE(p.is_object()) << "every job states its permissions";
        for (const auto& [scope, level] : p.as_object()) {
            if (scope == "id-token") {
                EXPECT_EQ(str(level), "write");
                EXPECT_NE(std::string(name), "test") << "the test job (pull requests too) gets no AWS identity";
            } else {
                EXPECT_EQ(std::string(scope), "contents");
                EXPECT_EQ(str(level), "read");
            }
        }
    }
}

TEST_F(CiWorkflowTest, ImagesAreBuiltAfterTheTestsOnMainAndTaggedWithTheCommitSha) {
    const bj::value& images = job("images");
    ASSERT_TRUE(images.is_object()) << "no job named images";
    EXPECT_TRUE(contains(needs_of(images), "test"));
    const std::string cond = str(at(images, "if"));
    EXPECT_TRUE(has(cond, "github.event_name == 'push'") && has(cond, "github.ref == 'refs/heads/main'")) << cond;
    EXPECT_EQ(str(at(at(images, "permissions"), "id-token")), "write");
    EXPECT_EQ(str(at(at(images, "env"), "IMAGE_TAG")), "${{ github.sha }}");
    EXPECT_GE(step_running(images, "bash .ci/deploy/images.sh"), 0);
    // The script builds both Dockerfiles with the tag it is given (and refuses anything but a SHA).
    const std::string script = testing::read_file(testing::source_dir() / ".ci/deploy/images.sh");
    for (const char* part : {"deploy/docker/moneta.Dockerfile", "deploy/docker/internal_api.Dockerfile",
                             "BASE_IMAGE=", ":$IMAGE_TAG\"", "require_sha_tag \"$IMAGE_TAG\""}) {
        EXPECT_TRUE(has(script, part)) << part;
    }
}

TEST_F(CiWorkflowTest, AwsAccessIsThroughOidcRoleAssumptionOnly) {
    const std::string text = testing::read_file(testing::source_dir() / ".github/workflows/ci.yml");
    for (const char* key : {"aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}) {
        EXPECT_FALSE(has(text, key)) << "stored AWS keys: " << key;
    }
    int assumed = 0;
    for (const auto& [name, j] : at(wf_, "jobs").as_object()) {
        for (const auto& s : steps(j)) {
            if (str(at(s, "uses")).starts_with("aws-actions/configure-aws-credentials@")) {
                SCOPED_TRACE(std::string(name));
                const std::string role = str(at(at(s, "with"), "role-to-assume"));
                EXPECT_TRUE(role.starts_with("${{ vars.") || role.starts_with("${{ secrets.")) << role;
                EXPECT_EQ(str(at(at(j, "permissions"), "id-token")), "write");
                ++assumed;
            }
        }
    }
    EXPECT_GE(assumed, 2) << "images and at least one deploy job assume a role";
}

TEST_F(CiWorkflowTest, DeploysNeedTheTestsRunOnlyOnMainAndNeverOverlap) {
    ASSERT_FALSE(deploy_jobs_.empty()) << "no deploy-* job";
    std::string group;
    for (const auto& name : deploy_jobs_) {
        SCOPED_TRACE(name);
        const bj::value& d = job(name);
        EXPECT_TRUE(contains(needs_of(d), "test"));
        EXPECT_TRUE(contains(needs_of(d), "images"));
        const std::string cond = str(at(d, "if"));
        EXPECT_TRUE(has(cond, "github.event_name == 'push'") && has(cond, "github.ref == 'refs/heads/main'")) << cond;
        EXPECT_EQ(str(at(at(d, "permissions"), "id-token")), "write");
        EXPECT_EQ(str(at(at(d, "env"), "IMAGE_TAG")), "${{ github.sha }}");
        EXPECT_EQ(str(at(at(d, "env"), "MONETA_IMAGE")), "${{ needs.images.outputs.moneta_image }}");
        const bj::value& c = at(d, "concurrency");
        EXPECT_FALSE(str(at(c, "group")).empty()) << bj::serialize(c);
        EXPECT_EQ(at(c, "cancel-in-progress"), bj::value(false)) << "a running deploy is never cancelled";
        if (group.empty()) {
            group = str(at(c, "group"));
        }
        EXPECT_EQ(str(at(c, "group")), group) << "every deploy job shares one group";
        EXPECT_FALSE(has(group, "${{")) << "one group for all commits: " << group;
    }
}

TEST_F(CiWorkflowTest, EveryDeploySmokeChecksAndRollsBackOnFailure) {
    ASSERT_FALSE(deploy_jobs_.empty());
    for (const auto& name : deploy_jobs_) {
        SCOPED_TRACE(name);
        const bj::value& d = job(name);
        const int deploy = step_running(d, ".sh deploy");
        const int smoke = step_running(d, "bash .ci/deploy/smoke.sh");
        const int rollback = step_running(d, ".sh rollback ");
        ASSERT_GE(deploy, 0);
        ASSERT_GE(smoke, 0);
        ASSERT_GE(rollback, 0) << "no rollback step";
        EXPECT_LT(deploy, smoke);
        EXPECT_LT(smoke, rollback);
        const std::string cond = str(at(steps(d)[static_cast<std::size_t>(rollback)], "if"));
        EXPECT_TRUE(cond.starts_with("failure()")) << "the rollback runs when the deploy or the smoke check failed: "
                                                   << cond;
        // It rolls back to what the deploy step recorded as running before.
        EXPECT_TRUE(has(cond, "steps." + str(at(steps(d)[static_cast<std::size_t>(deploy)], "id")) + ".outputs.previous"))
            << cond;
    }
    const std::string ecs = testing::read_file(testing::source_dir() / ".ci/deploy/ecs.sh");
    EXPECT_TRUE(has(ecs, "deploymentCircuitBreaker={enable=true,rollback=true}"));
    EXPECT_TRUE(has(ecs, "aws ecs wait services-stable"));
    const std::string eb = testing::read_file(testing::source_dir() / ".ci/deploy/beanstalk.sh");
    EXPECT_TRUE(has(eb, "OptionName=DeploymentPolicy,Value=Immutable"));
    const std::string smoke_script = testing::read_file(testing::source_dir() / ".ci/deploy/smoke.sh");
    EXPECT_TRUE(has(smoke_script, "/healthz") && has(smoke_script, "/readyz"));
}

TEST_F(CiWorkflowTest, ScriptsTakeExpressionsThroughEnvAndActionsArePinned) {
    for (const auto& [name, j] : at(wf_, "jobs").as_object()) {
        for (const auto& s : steps(j)) {
            SCOPED_TRACE(std::string(name) + ": " + bj::serialize(s));
            // `${{ }}` is pasted into the script before bash sees it: values go through env.
            EXPECT_FALSE(has(str(at(s, "run")), "${{"));
            const std::string uses = str(at(s, "uses"));
            if (!uses.empty()) {
                const auto at_sign = uses.find('@');
                ASSERT_NE(at_sign, std::string::npos);
                const std::string ref = uses.substr(at_sign + 1);
                EXPECT_TRUE(ref != "main" && ref != "master" && !ref.empty()) << "pin " << uses;
            }
        }
    }
}

}  // namespace
}  // namespace moneta::ci_test
