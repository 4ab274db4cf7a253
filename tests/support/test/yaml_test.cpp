// moneta::testing::load_yaml_*: YAML through Debian's python3-yaml into Boost.JSON, with the
// YAML 1.2 core schema's scalars (what GitHub Actions and Kubernetes read), strict keys.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/yaml.hpp"

namespace moneta::testing {
namespace {

namespace bj = boost::json;

bj::value one_document(std::string_view text) {
    const YamlDocuments d = load_yaml_text(text);
    EXPECT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(d.documents.size(), 1U) << bj::serialize(d.documents);
    return d.documents.empty() ? bj::value() : d.documents.front();
}

TEST(YamlTest, MappingsSequencesAndScalarsBecomeJson) {
    const bj::value v = one_document(
        "name: ci\n"
        "jobs:\n"
        "  test:\n"
        "    steps:\n"
        "      - run: bash .ci/run\n"
        "      - uses: actions/cache@v4\n"
        "        with: {path: ~/.ccache, key: \"k-${{ github.sha }}\"}\n"
        "text: |\n"
        "  line one\n"
        "  line two\n"
    );
    EXPECT_EQ(bj::serialize(v),
              R"({"name":"ci","jobs":{"test":{"steps":[{"run":"bash .ci/run"},)"
              R"({"uses":"actions/cache@v4","with":{"path":"~/.ccache","key":"k-${{ github.sha }}"}}]}},)"
              R"("text":"line one\nline two\n"})");
}

TEST(YamlTest, ScalarsFollowTheYaml12CoreSchemaNotYaml11) {
    const bj::value v = one_document(
        "on: push\n"           // YAML 1.1: the key would be the boolean true
        "a: yes\n"             // 1.1: true
        "b: True\n"
        "c: 0755\n"            // 1.1: octal 493
        "d: 0o17\n"
        "e: 0x1f\n"
        "f: 8080:80\n"         // 1.1: sexagesimal 484880
        "g: 2024-01-02\n"      // 1.1: a date
        "h: 1.5e3\n"
        "i: ~\n"
        "j:\n"
        "k: \"12\"\n"
        "l: -7\n"
    );
    EXPECT_EQ(bj::serialize(v),
              R"({"on":"push","a":"yes","b":true,"c":755,"d":15,"e":31,"f":"8080:80",)"
              R"("g":"2024-01-02","h":1.5E3,"i":null,"j":null,"k":"12","l":-7})");
}

TEST(YamlTest, EveryDocumentOfAStreamIsReturned) {
    const YamlDocuments d = load_yaml_text("kind: A\n---\nkind: B\n---\n");
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(bj::serialize(d.documents), R"([{"kind":"A"},{"kind":"B"},null])");
}

TEST(YamlTest, AnchorsAliasesAndMergeKeysResolve) {
    const bj::value v = one_document(
        "base: &b {image: moneta, port: 8081}\n"
        "copy: *b\n"
        "over:\n"
        "  <<: *b\n"
        "  port: 9000\n"
    );
    EXPECT_EQ(bj::serialize(v.at("copy")), R"({"image":"moneta","port":8081})");
    EXPECT_EQ(v.at("over").at("port"), 9000);
    EXPECT_EQ(v.at("over").at("image"), "moneta");
}

TEST(YamlTest, LocalTagsBecomeSingleKeyObjects) {
    const bj::value v = one_document("bucket: !Ref Bucket\nname: !Sub [\"${A}\", {A: x}]\n");
    EXPECT_EQ(bj::serialize(v), R"({"bucket":{"!Ref":"Bucket"},"name":{"!Sub":["${A}",{"A":"x"}]}})");
}

TEST(YamlTest, NonStringKeysBecomeTheirJsonText) {
    const bj::value v = one_document("1: one\ntrue: yes\n");
    EXPECT_EQ(bj::serialize(v), R"({"1":"one","true":"yes"})");
}

TEST(YamlTest, DuplicateKeysAreAnErrorWithTheirLine) {
    const YamlDocuments d = load_yaml_text("jobs:\n  test: {}\n  deploy: {}\n  test: {}\n");
    EXPECT_FALSE(d.ok());
    EXPECT_NE(d.error.find("duplicate key 'test'"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("line 4"), std::string::npos) << d.error;
}

TEST(YamlTest, SyntaxErrorsAndMissingFilesAreErrors) {
    const YamlDocuments bad = load_yaml_text("a: [1, 2\nb: 3\n");
    EXPECT_FALSE(bad.ok());
    EXPECT_NE(bad.error.find("line"), std::string::npos) << bad.error;
    EXPECT_TRUE(bad.documents.empty());

    const YamlDocuments missing = load_yaml_file(source_dir() / "no-such-file.yml");
    EXPECT_FALSE(missing.ok());
    EXPECT_NE(missing.error.find("no-such-file.yml"), std::string::npos) << missing.error;
}

}  // namespace
}  // namespace moneta::testing
