// deploy/aws: the ECS task definition (edge + moneta + the FireLens log router, and the init
// container that writes moneta's config and CloudFront key), the Elastic Beanstalk Dockerrun v2
// and its .ebextensions, parsed with Boost.JSON and checked against moneta's config (loaded by
// moneta's own reader), deploy/nginx's template and deploy/fluent-bit's config.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "manifest_support.hpp"
#include "moneta/testing/paths.hpp"

namespace moneta::testing::deploy {
namespace {

const std::filesystem::path kAws = source_dir() / "deploy/aws";

class AwsManifestsTest : public ::testing::Test {
protected:
    bj::value task_ = read_json(kAws / "task-definition.json");
    bj::value dockerrun_ = read_json(kAws / "Dockerrun.aws.json");
    bj::value eb_ = read_json(kAws / ".ebextensions/moneta.config");

    static const bj::object& container(const bj::value& doc, std::string_view name) {
        static const bj::object empty;
        for (const auto& c : doc.at("containerDefinitions").as_array()) {
            if (string_at(c, "name") == name) {
                return c.as_object();
            }
        }
        ADD_FAILURE() << "no container " << name;
        return empty;
    }
    static std::string env(const bj::object& c, std::string_view name) {
        if (const auto* e = c.if_contains("environment")) {
            for (const auto& kv : e->as_array()) {
                if (string_at(kv, "name") == name) {
                    return string_at(kv, "value");
                }
            }
        }
        return "<unset>";
    }
    /// moneta's config as the init container writes it (MONETA_CONFIG_JSON).
    static bj::value config(const bj::value& doc) {
        return bj::parse(env(container(doc, "config_init"), "MONETA_CONFIG_JSON"));
    }
    static std::int64_t port(const bj::object& c, std::string_view name) {
        for (const auto& p : c.at("portMappings").as_array()) {
            if (!name.empty() && string_at(p, "name") != name) {
                continue;
            }
            return integer_at(p, "containerPort");
        }
        return -1;
    }
    std::map<std::string, std::string> eb_options(std::string_view ns) const {
        std::map<std::string, std::string> out;
        for (const auto& o : eb_.at("option_settings").as_array()) {
            if (string_at(o, "namespace") == ns) {
                out[string_at(o, "option_name")] = string_at(o, "value");
            }
        }
        return out;
    }
};

TEST_F(AwsManifestsTest, TaskDefinitionHasTheRequiredFieldsAndEssentialContainers) {
    EXPECT_EQ(string_at(task_, "family"), "moneta");
    EXPECT_EQ(string_at(task_, "networkMode"), "awsvpc");
    EXPECT_EQ(find(task_, "requiresCompatibilities")->as_array(), bj::array{"FARGATE"});
    EXPECT_TRUE(std::regex_match(string_at(task_, "executionRoleArn"), std::regex("arn:aws:iam::.+:role/.+")));
    std::map<std::string, bool> essential;
    std::set<std::string> names;
    for (const auto& c : task_.at("containerDefinitions").as_array()) {
        const auto name = string_at(c, "name");
        EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
        essential[name] = *find(c, "essential") == true;
        // Images are placeholders the deploy fills in: ${ECR}/<image>:${TAG} (docs/deploy.md).
        EXPECT_TRUE(std::regex_match(string_at(c, "image"), std::regex(R"(\$\{ECR\}/moneta[a-z-]*:\$\{TAG\})")))
            << string_at(c, "image");
        EXPECT_GT(integer_at(c, "memory"), 0) << name;
    }
    EXPECT_TRUE(essential["edge"]);
    EXPECT_TRUE(essential["moneta"]);
    EXPECT_TRUE(essential["log_router"]);
    EXPECT_FALSE(essential["config_init"]) << "it exits once the files are written";
}

TEST_F(AwsManifestsTest, HealthChecksProbeWhatMonetaAndTheEdgeServe) {
    const auto cfg = config(task_);
    const auto& moneta = container(task_, "moneta");
    const auto cmd = bj::serialize(moneta.at("healthCheck").at("command"));
    EXPECT_NE(cmd.find("/dev/tcp/127.0.0.1/" + std::to_string(integer_at(cfg, "server.admin_port"))),
              std::string::npos)
        << cmd;
    EXPECT_NE(cmd.find("GET /healthz "), std::string::npos) << cmd;
    const auto& edge = container(task_, "edge");
    const auto ecmd = bj::serialize(edge.at("healthCheck").at("command"));
    EXPECT_NE(ecmd.find("/dev/tcp/127.0.0.1/" + env(edge, "MONETA_EDGE_STATUS_PORT")), std::string::npos)
        << ecmd;
    EXPECT_TRUE(edge_exact_locations().contains("/stub_status"));
    for (const auto* c : {&moneta, &edge}) {
        EXPECT_EQ(c->at("healthCheck").at("command").at(0), "CMD");
        EXPECT_GT(integer_at(c->at("healthCheck"), "retries"), 0);
    }
}

TEST_F(AwsManifestsTest, DependenciesReferenceContainersWithTheRightConditions) {
    std::map<std::string, const bj::object*> by_name;
    for (const auto& c : task_.at("containerDefinitions").as_array()) {
        by_name[string_at(c, "name")] = &c.as_object();
    }
    for (const auto& [name, c] : by_name) {
        SCOPED_TRACE(name);
        std::set<std::string> deps;
        if (const auto* d = c->if_contains("dependsOn")) {
            for (const auto& dep : d->as_array()) {
                const auto target = string_at(dep, "containerName");
                const auto cond = string_at(dep, "condition");
                ASSERT_TRUE(by_name.contains(target)) << target;
                EXPECT_NE(target, name);
                EXPECT_TRUE(cond == "START" || cond == "COMPLETE" || cond == "SUCCESS" || cond == "HEALTHY")
                    << cond;
                if (cond == "HEALTHY") {
                    EXPECT_TRUE(by_name[target]->contains("healthCheck")) << target;
                }
                if (cond == "SUCCESS" || cond == "COMPLETE") {
                    EXPECT_EQ(by_name[target]->at("essential"), false) << target;
                }
                deps.insert(target + ":" + cond);
            }
        }
        // Whoever logs through FireLens starts after the log router.
        if (string_at(*c, "logConfiguration.logDriver") == "awsfirelens") {
            EXPECT_TRUE(deps.contains("log_router:START"));
        }
    }
    // The edge starts once moneta answers; moneta once its config is written.
    const auto deps_of = [&](std::string_view n) { return bj::serialize(by_name[std::string(n)]->at("dependsOn")); };
    EXPECT_NE(deps_of("edge").find(R"({"containerName":"moneta","condition":"HEALTHY"})"), std::string::npos);
    EXPECT_NE(deps_of("moneta").find(R"({"containerName":"config_init","condition":"SUCCESS"})"),
              std::string::npos);
}

TEST_F(AwsManifestsTest, FireLensRoutesWithTheFluentBitConfig) {
    int routers = 0;
    for (const auto& c : task_.at("containerDefinitions").as_array()) {
        if (find(c, "firelensConfiguration") != nullptr) {
            ++routers;
            EXPECT_EQ(string_at(c, "name"), "log_router");
        }
    }
    EXPECT_EQ(routers, 1);
    const auto& router = container(task_, "log_router");
    const bj::value r(router);
    EXPECT_EQ(string_at(r, "firelensConfiguration.type"), "fluentbit");
    EXPECT_EQ(string_at(r, "firelensConfiguration.options.config-file-type"), "file");
    EXPECT_EQ(std::filesystem::path(string_at(r, "firelensConfiguration.options.config-file-value")).filename(),
              "fluent-bit.conf");
    // Every ${VAR} of deploy/fluent-bit/fluent-bit.conf is set on the router (HOSTNAME: Docker's).
    const auto conf = read_file(source_dir() / "deploy/fluent-bit/fluent-bit.conf");
    std::set<std::string> have;
    for (const auto* key : {"environment", "secrets"}) {
        for (const auto& e : router.at(key).as_array()) {
            have.insert(string_at(e, "name"));
        }
    }
    static const std::regex var(R"(\$\{([A-Z_]+)\})");
    for (std::sregex_iterator it(conf.begin(), conf.end(), var), end; it != end; ++it) {
        if ((*it)[1] != "HOSTNAME") {
            EXPECT_TRUE(have.contains((*it)[1])) << (*it)[1];
        }
    }
    // The router tails the file moneta writes, on a volume both mount.
    const auto log_file = std::filesystem::path(string_at(config(task_), "log.file"));
    EXPECT_EQ(env(router, "MONETA_LOG_FILE"), log_file.string());
    auto volume_at = [&](const bj::object& c, const std::filesystem::path& dir) {
        for (const auto& m : c.at("mountPoints").as_array()) {
            if (string_at(m, "containerPath") == dir.string()) {
                return string_at(m, "sourceVolume");
            }
        }
        return std::string("<none>");
    };
    EXPECT_EQ(volume_at(router, log_file.parent_path()), volume_at(container(task_, "moneta"), log_file.parent_path()));
    EXPECT_NE(volume_at(router, log_file.parent_path()), "<none>");
    // moneta and the edge log through FireLens.
    for (const auto* n : {"moneta", "edge"}) {
        EXPECT_EQ(string_at(bj::value(container(task_, n)), "logConfiguration.logDriver"), "awsfirelens") << n;
    }
}

TEST_F(AwsManifestsTest, SecretsComeFromSecretsManagerOnly) {
    static const std::regex arn(R"(arn:aws:(secretsmanager|ssm):\$\{AWS_REGION\}:\$\{AWS_ACCOUNT_ID\}:.+)");
    for (const auto* doc : {&task_, &dockerrun_}) {
        for (const auto& c : doc->at("containerDefinitions").as_array()) {
            SCOPED_TRACE(string_at(c, "name"));
            if (const auto* env = c.as_object().if_contains("environment")) {
                for (const auto& e : env->as_array()) {
                    EXPECT_FALSE(secret_looking(string_at(e, "name"))) << string_at(e, "name");
                }
            }
            for (const auto* key : {"secrets", "logConfiguration"}) {
                const auto* list = key == std::string_view("secrets") ? c.as_object().if_contains("secrets")
                                                                      : find(c, "logConfiguration.secretOptions");
                if (list != nullptr) {
                    for (const auto& s : list->as_array()) {
                        EXPECT_TRUE(std::regex_match(string_at(s, "valueFrom"), arn)) << string_at(s, "valueFrom");
                    }
                }
            }
        }
    }
    // Every variable moneta's config reads a secret from is one of moneta's secrets.
    const auto cfg = config(task_);
    std::set<std::string> secrets;
    for (const auto& s : container(task_, "moneta").at("secrets").as_array()) {
        secrets.insert(string_at(s, "name"));
    }
    for (const auto& var : secret_env_refs(cfg)) {
        if (var == "MONETA_AKAMAI_KEY" && string_at(cfg, "delivery.cdn.provider") != "akamai") {
            continue;
        }
        EXPECT_TRUE(secrets.contains(var)) << var;
    }
    EXPECT_EQ(container(task_, "moneta").at("secrets").as_array().size(), secrets.size());
    // Elastic Beanstalk: the same names as environment secrets, each an ARN.
    const auto eb = eb_options("aws:elasticbeanstalk:application:environmentsecrets");
    for (const auto& var : secrets) {
        ASSERT_TRUE(eb.contains(var)) << var;
        EXPECT_TRUE(std::regex_match(eb.at(var), arn)) << var;
    }
    EXPECT_TRUE(eb_options("aws:elasticbeanstalk:application:environment").empty())
        << "plain environment properties are visible in the console: none here";
}

TEST_F(AwsManifestsTest, PortsMatchTheEdgeTemplateAndMonetasConfig) {
    const auto tpl = edge_template_ports();
    ASSERT_EQ(tpl.listen_placeholder, "EDGE_PORT");
    ASSERT_EQ(tpl.upstream_placeholder, "MONETA_SERVERS");
    // awsvpc: the containers share the task's loopback, as the template's upstream assumes.
    EXPECT_EQ(tpl.upstream_host, "127.0.0.1");
    const auto cfg = config(task_);
    const auto& edge = container(task_, "edge");
    EXPECT_EQ(env(edge, "MONETA_EDGE_PORT"), std::to_string(port(edge, "edge")));
    EXPECT_EQ(env(edge, "MONETA_PORT"), std::to_string(integer_at(cfg, "server.port")));
    EXPECT_EQ(string_at(cfg, "server.address"), tpl.upstream_host) << "moneta's API stays inside the task";
    // What the edge image renders the upstream from (deploy/docker/edge-start.sh).
    EXPECT_EQ(env(edge, "MONETA_UPSTREAM"), tpl.upstream_host + ":" + env(edge, "MONETA_PORT"));
    EXPECT_EQ(container(task_, "moneta").at("command").at(0), "/usr/local/bin/moneta");
    EXPECT_EQ(port(container(task_, "moneta"), "admin"), integer_at(cfg, "server.admin_port"));
    EXPECT_EQ(string_at(cfg, "server.admin_address"), "0.0.0.0") << "Prometheus scrapes it";
    EXPECT_EQ(container(task_, "moneta").at("dockerLabels").at("ECS_PROMETHEUS_EXPORTER_PORT"),
              bj::value(std::to_string(integer_at(cfg, "server.admin_port"))));
    // Dockerrun (bridge networking): the edge reaches moneta through its link alias.
    const auto& dedge = container(dockerrun_, "edge");
    const auto dcfg = config(dockerrun_);
    EXPECT_EQ(env(dedge, "MONETA_UPSTREAM"), "moneta:" + std::to_string(integer_at(dcfg, "server.port")));
    EXPECT_EQ(dedge.at("links").as_array(), bj::array{"moneta"});
    EXPECT_EQ(env(dedge, "MONETA_PORT"), std::to_string(integer_at(dcfg, "server.port")));
    EXPECT_EQ(integer_at(dedge.at("portMappings").at(0), "containerPort"), std::stoll(env(dedge, "MONETA_EDGE_PORT")));
}

TEST_F(AwsManifestsTest, StopTimeoutCoversMonetasDrainAndFinalFlush) {
    const auto cfg = config(task_);
    const auto stop = integer_at(container(task_, "moneta"), "stopTimeout");
    EXPECT_GE(static_cast<double>(stop), shutdown_seconds(cfg));
    EXPECT_LE(stop, 120) << "ECS's maximum";
    // The router outlives its Fluent Bit Grace (5 s) to flush what moneta wrote last.
    EXPECT_GT(integer_at(container(task_, "log_router"), "stopTimeout"), 5);
    EXPECT_GE(integer_at(container(dockerrun_, "moneta"), "stopTimeout"), stop);
}

TEST_F(AwsManifestsTest, CpuAndMemoryFitTheTaskSize) {
    std::int64_t cpu = 0;
    std::int64_t memory = 0;
    for (const auto& c : task_.at("containerDefinitions").as_array()) {
        cpu += integer_at(c, "cpu");
        memory += integer_at(c, "memory");
        if (const auto* r = c.as_object().if_contains("memoryReservation")) {
            EXPECT_LE(r->as_int64(), integer_at(c, "memory"));
        }
    }
    const auto task_cpu = std::stoll(string_at(task_, "cpu"));
    const auto task_memory = std::stoll(string_at(task_, "memory"));
    EXPECT_LE(cpu, task_cpu);
    EXPECT_LE(memory, task_memory);
    // moneta's workers fit its CPU units (1024 = one vCPU), rounded up.
    const auto threads = integer_at(config(task_), "server.threads");
    EXPECT_GT(threads, 0);
    EXPECT_LE(threads * 1024, task_cpu);
}

TEST_F(AwsManifestsTest, ContainersRunAsNonRootOnReadOnlyRoots) {
    for (const auto* doc : {&task_, &dockerrun_}) {
        for (const auto& c : doc->at("containerDefinitions").as_array()) {
            const auto name = string_at(c, "name");
            if (name == "log_router") {
                continue;  // FireLens's router: the aws-for-fluent-bit image's own user (docs/deploy.md)
            }
            SCOPED_TRACE(name);
            const auto user = string_at(c, "user");
            EXPECT_FALSE(user.empty());
            EXPECT_TRUE(user.rfind("0:", 0) != 0 && user != "0" && user.rfind("root", 0) != 0) << user;
            EXPECT_EQ(*find(c, "readonlyRootFilesystem"), true);
        }
    }
}

TEST_F(AwsManifestsTest, MonetaLoadsTheConfigsTheInitContainerWrites) {
    for (const auto* doc : {&task_, &dockerrun_}) {
        EXPECT_EQ(load_with_moneta(env(container(*doc, "config_init"), "MONETA_CONFIG_JSON")), "");
    }
    // The CloudFront key lands where the config reads it, on the volume moneta mounts.
    const auto cfg = config(task_);
    const auto key = std::filesystem::path(string_at(cfg, "delivery.cdn.private_key_file"));
    const auto init = bj::serialize(container(task_, "config_init").at("command"));
    EXPECT_NE(init.find(">" + key.string()), std::string::npos) << init;
}

TEST_F(AwsManifestsTest, ElasticBeanstalkDeploysImmutablyAndChecksAPathMonetaServes) {
    EXPECT_EQ(eb_options("aws:elasticbeanstalk:command").at("DeploymentPolicy"), "Immutable");
    EXPECT_EQ(eb_options("aws:autoscaling:updatepolicy:rollingupdate").at("RollingUpdateType"), "Immutable");
    EXPECT_EQ(eb_options("aws:elasticbeanstalk:healthreporting:system").at("SystemType"), "enhanced");
    EXPECT_EQ(eb_options("aws:elasticbeanstalk:command").at("IgnoreHealthCheck"), "false");
    const auto process = eb_options("aws:elasticbeanstalk:environment:process:default");
    const auto path = process.at("HealthCheckPath");
    EXPECT_EQ(eb_options("aws:elasticbeanstalk:application").at("Application Healthcheck URL"), path);
    // moneta serves /readyz and /healthz (docs/moneta.md "Health"); the edge must pass it on.
    EXPECT_TRUE(path == "/readyz" || path == "/healthz") << path;
    EXPECT_TRUE(edge_exact_locations().contains(path)) << path;
    // The load balancer's port is the edge's host port.
    EXPECT_EQ(std::stoll(process.at("Port")),
              integer_at(container(dockerrun_, "edge").at("portMappings").at(0), "hostPort"));
    EXPECT_EQ(integer_at(dockerrun_, "AWSEBDockerrunVersion"), 2);
}

}  // namespace
}  // namespace moneta::testing::deploy
