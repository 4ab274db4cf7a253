#include "moneta/testing/yaml.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {
namespace {

// Debian's interpreter, not whatever python3 is first on PATH (that one may be a separate
// installation without Debian's python3-yaml).
constexpr const char* kPython = "/usr/bin/python3";

// argv[1]: the YAML file, argv[2]: where the JSON array of its documents goes. A YAML 1.2 core
// schema resolver on PyYAML's safe constructor, plus duplicate-key and local-tag handling; see
// yaml.hpp for the rules.
constexpr const char* kConverter = R"PY(
import json, re, sys
try:
    import yaml
except ImportError as e:
    sys.exit("python3-yaml is not installed (apt-get install python3-yaml): %s" % e)
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

def json_key(k):
    return k if isinstance(k, str) else json.dumps(k, default=str)

class CoreResolver(Resolver):
    yaml_implicit_resolvers = {}

def implicit(tag, regexp, first):
    CoreResolver.add_implicit_resolver(tag, re.compile(regexp), list(first))

implicit("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
implicit("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
implicit("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")
implicit("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
implicit("tag:yaml.org,2002:merge", r"^<<$", "<")

class Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
             yaml.composer.Composer, SafeConstructor, CoreResolver):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        SafeConstructor.__init__(self)
        CoreResolver.__init__(self)

    # Keys become their JSON text here, so that two keys equal in Python but not in YAML (1 and
    # true) stay apart, and two keys equal in JSON ("1" and 1) are duplicates.
    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping node, but found %s" % node.id,
                                   node.start_mark)
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = json_key(self.construct_object(key_node, deep=True))
            if key in seen:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found duplicate key %r" % (key,), key_node.start_mark)
            seen.add(key)
        self.flatten_mapping(node)  # `<<` merges first; the mapping's own keys override them
        mapping = {}
        for key_node, value_node in node.value:
            mapping[json_key(self.construct_object(key_node, deep=True))] = \
                self.construct_object(value_node, deep=deep)
        return mapping

def core_int(loader, node):
    v = loader.construct_scalar(node)
    return int(v, 8) if v.startswith("0o") else int(v, 16) if v.startswith("0x") else int(v, 10)

def core_float(loader, node):
    v = loader.construct_scalar(node).lower().replace(".inf", "inf").replace(".nan", "nan")
    return float(v)

def core_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"

def local_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"!" + suffix: value}

Loader.add_constructor("tag:yaml.org,2002:int", core_int)
Loader.add_constructor("tag:yaml.org,2002:float", core_float)
Loader.add_constructor("tag:yaml.org,2002:bool", core_bool)
Loader.add_multi_constructor("!", local_tag)

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = list(yaml.load_all(f, Loader=Loader))
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(docs, out, allow_nan=False, default=str)
except (OSError, ValueError, yaml.YAMLError) as e:
    sys.exit("%s: %s" % (sys.argv[1], e))
)PY";

}  // namespace

YamlDocuments load_yaml_file(const std::filesystem::path& file) {
    YamlDocuments result;
    if (find_program(kPython).empty()) {
        result.error = std::string(kPython) + " is missing (apt-get install python3-yaml)";
        return result;
    }
    TempDir scratch("moneta-yaml-");
    const auto out = scratch.file("documents.json");
    auto proc = Process::spawn({kPython, "-c", kConverter, file.string(), out.string()}, {}, scratch.file("log"));
    if (!proc) {
        result.error = "cannot start " + std::string(kPython) + ": " + proc.error().message();
        return result;
    }
    const auto status = proc->wait_exit(std::chrono::seconds(60));
    if (status != 0) {
        const std::string log = proc->read_log();
        result.error = status ? "yaml to json failed (exit " + std::to_string(*status) + "): " + log
                              : "yaml to json did not finish in 60 s: " + log;
        return result;
    }
    std::error_code ec;
    boost::json::value v = boost::json::parse(read_file(out), ec);
    if (ec || !v.is_array()) {
        result.error = "yaml to json wrote no JSON array: " + ec.message();
        return result;
    }
    result.documents = std::move(v.as_array());
    return result;
}

YamlDocuments load_yaml_text(std::string_view text) {
    TempDir scratch("moneta-yaml-text-");
    const auto file = scratch.file("input.yaml");
    {
        std::ofstream f(file, std::ios::binary);
        f << text;
        if (!f) {
            YamlDocuments result;
            result.error = "cannot write " + file.string();
            return result;
        }
    }
    return load_yaml_file(file);
}

}  // namespace moneta::testing
