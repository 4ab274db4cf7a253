#include "podman.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::docker_test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBaseImage = "localhost/moneta-test-base:bookworm";

std::string first_lines(const std::string& text, std::size_t n = 6) {
    std::istringstream in(text);
    std::string line;
    std::string out;
    for (std::size_t i = 0; i < n && std::getline(in, line); ++i) {
        out += (i ? " | " : "") + line;
    }
    return out;
}

/// The Debian mirror apt uses here (deb822 debian.sources or a one-line sources.list), so
/// debootstrap downloads from where every other package comes from. MONETA_DEBIAN_MIRROR wins.
std::string debian_mirror() {
    if (const char* m = std::getenv("MONETA_DEBIAN_MIRROR"); m != nullptr && *m != '\0') {
        return m;
    }
    const std::regex uri(R"((?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+/debian)/?(?:\s|$))");
    for (const char* file : {"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}) {
        std::ifstream in(file);
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            if (std::regex_search(line, m, uri)) {
                return m[1].str();
            }
        }
    }
    return "http://deb.debian.org/debian";
}

/// Short, stable per build tree: podman refuses a run root longer than 50 characters.
std::string run_root_for(const fs::path& state_dir) {
    return "/tmp/moneta-podman-" + std::to_string(std::hash<std::string>{}(state_dir.string()) % 100000000);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
    testing::TempDir dir("docker-cmd-");
    auto p = testing::Process::spawn(argv, {}, dir.file("out.log"));
    if (!p) {
        return {-1, "cannot start " + argv.front() + ": " + p.error().message()};
    }
    auto status = p->wait_exit(timeout);
    if (!status) {
        p->stop(std::chrono::seconds(5));
        return {-1, p->read_log() + "\n(" + argv.front() + " did not finish within " +
                        std::to_string(timeout.count()) + " s)"};
    }
    return {*status, p->read_log()};
}

std::optional<std::vector<std::string>> runtime_packages_of(const fs::path& binary, std::string& error) {
    const auto ldd = run_command({"ldd", binary.string()}, std::chrono::seconds(30));
    if (!ldd.ok()) {
        error = "ldd " + binary.string() + ": " + ldd.output;
        return std::nullopt;
    }
    std::set<std::string> packages;
    const std::regex lib(R"(=>\s+(/\S+)\s+\()");
    std::istringstream in(ldd.output);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, lib)) {
            continue;
        }
        // dpkg knows the file under its real path (/usr/lib/...), ldd may print the /lib link.
        std::string path = m[1].str();
        std::error_code ec;
        const auto real = fs::canonical(path, ec);
        auto owner = run_command({"dpkg", "-S", ec ? path : real.string()}, std::chrono::seconds(30));
        if (!owner.ok()) {
            owner = run_command({"dpkg", "-S", path}, std::chrono::seconds(30));
        }
        if (!owner.ok()) {
            error = "dpkg -S " + path + ": " + owner.output;
            return std::nullopt;
        }
        std::string pkg = owner.output.substr(0, owner.output.find(':'));
        packages.insert(pkg);
    }
    return std::vector<std::string>(packages.begin(), packages.end());
}

std::vector<std::string> listed_packages(const std::string& stage) {
    std::ifstream in(testing::source_dir() / "deploy/docker/packages.txt");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(stage + ":", 0) == 0) {
            std::istringstream words(line.substr(stage.size() + 1));
            std::vector<std::string> out;
            for (std::string w; words >> w;) {
                out.push_back(w);
            }
            return out;
        }
    }
    return {};
}

CommandResult Podman::operator()(std::vector<std::string> args, std::chrono::seconds timeout) const {
    std::vector<std::string> argv = global_;
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout);
}

std::vector<std::string> Podman::resource_flags() const {
    // Without these podman asks for RLIMIT_NOFILE 1048576 and a large RLIMIT_NPROC; a sandbox
    // without CAP_SYS_RESOURCE refuses ("setrlimit RLIMIT_NOFILE: Operation not permitted").
    return {"--ulimit", "nofile=" + std::to_string(nofile_) + ":" + std::to_string(nofile_), "--ulimit",
            "nproc=4096:4096"};
}

namespace {

::testing::AssertionResult make_base_image(const Podman& podman, const fs::path& work_dir) {
    if (podman({"image", "exists", kBaseImage}, std::chrono::seconds(60)).ok()) {
        return ::testing::AssertionSuccess();
    }
    if (::geteuid() != 0) {
        return ::testing::AssertionFailure() << "debootstrap needs root (uid " << ::geteuid() << ")";
    }
    if (testing::find_program("debootstrap").empty()) {
        return ::testing::AssertionFailure() << "debootstrap is not installed (scripts/lib.sh MONETA_PACKAGES)";
    }
    const fs::path root = work_dir / "debootstrap-rootfs";
    std::error_code ec;
    fs::remove_all(root, ec);
    const std::string mirror = debian_mirror();
    auto boot = run_command({"debootstrap", "--variant=minbase", "bookworm", root.string(), mirror},
                            std::chrono::seconds(600));
    if (!boot.ok()) {
        fs::remove_all(root, ec);
        return ::testing::AssertionFailure() << "debootstrap --variant=minbase bookworm from " << mirror
                                             << " failed: " << boot.output.substr(boot.output.size() > 2000 ? boot.output.size() - 2000 : 0);
    }
    // What debian:12-slim leaves out: the download cache, package lists, docs and man pages.
    for (const char* rel : {"var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"}) {
        for (const auto& e : fs::directory_iterator(root / rel, ec)) {
            if (e.path().filename() != "partial" && e.path().filename() != "lock") {
                fs::remove_all(e.path(), ec);
            }
        }
    }
    const fs::path tar = work_dir / "debootstrap-rootfs.tar";
    auto packed = run_command({"tar", "--numeric-owner", "-C", root.string(), "-cf", tar.string(), "."},
                              std::chrono::seconds(300));
    fs::remove_all(root, ec);
    if (!packed.ok()) {
        return ::testing::AssertionFailure() << "tar of the debootstrap tree: " << packed.output;
    }
    auto imported = podman({"import", "--change", "CMD [\"/bin/bash\"]", tar.string(), kBaseImage},
                           std::chrono::seconds(300));
    fs::remove(tar, ec);
    if (!imported.ok()) {
        return ::testing::AssertionFailure() << "podman import: " << imported.output;
    }
    return ::testing::AssertionSuccess();
}

}  // namespace

std::optional<Podman> Podman::open(const fs::path& state_dir, std::string& why) {
    const std::string podman = testing::find_program("podman");
    if (podman.empty()) {
        why = "podman is not installed (scripts/lib.sh MONETA_PACKAGES has it: run ./dev test as root once)";
        return std::nullopt;
    }
    if (::geteuid() != 0) {
        why = "the container test runs rootful podman and debootstrap: it needs root (uid " +
              std::to_string(::geteuid()) + ")";
        return std::nullopt;
    }
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    std::string tried;
    for (const std::string driver : {"overlay", "vfs"}) {
        const fs::path root = state_dir / ("storage-" + driver);
        std::error_code ec;
        fs::create_directories(root, ec);
        for (const std::string runtime : {"crun", "runc"}) {
            if (testing::find_program(runtime).empty()) {
                tried += "\n  " + runtime + ": not installed";
                continue;
            }
            Podman p;
            p.global_ = {podman,
                         "--root",
                         root.string(),
                         "--runroot",
                         run_root_for(root),
                         "--storage-driver",
                         driver,
                         "--runtime",
                         runtime,
                         "--cgroup-manager",
                         "cgroupfs",
                         "--events-backend",
                         "file"};
            if (driver == "overlay") {
                // Otherwise the driver leaves its home bind-mounted after podman exits, and the
                // build tree cannot be removed ("device or resource busy").
                p.global_.insert(p.global_.end(), {"--storage-opt", "overlay.skip_mount_home=true"});
            }
            p.base_image_ = kBaseImage;
            p.nofile_ = std::min<unsigned long>(nofile.rlim_max, 65536);
            p.description_ = "podman, storage " + driver + " in " + root.string() + ", runtime " + runtime;
            if (auto made = make_base_image(p, state_dir); !made) {
                tried += "\n  " + driver + "/" + runtime + ": base image: " + made.message();
                // Only the store can fail differently with another driver (overlay on overlay):
                // a debootstrap or mirror failure would fail the same way again.
                if (std::string(made.message()).find("podman import") == std::string::npos) {
                    why = "cannot make the Debian base image:" + tried;
                    return std::nullopt;
                }
                break;
            }
            std::vector<std::string> probe = {"run", "--rm", "--network", "host"};
            for (auto& f : p.resource_flags()) {
                probe.push_back(f);
            }
            probe.insert(probe.end(), {kBaseImage, "true"});
            auto r = p(probe, std::chrono::seconds(120));
            if (r.ok()) {
                return p;
            }
            tried += "\n  " + driver + "/" + runtime + ": podman run refused: " + first_lines(r.output);
        }
    }
    why = "no podman configuration can run a container here; tried:" + tried;
    return std::nullopt;
}

}  // namespace moneta::docker_test
