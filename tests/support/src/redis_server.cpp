#include "moneta/testing/redis_server.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "socket_io.hpp"

namespace moneta::testing {
namespace {

using detail::Clock;

std::string encode_command(const std::vector<std::string>& args) {
    std::string out;  // appends only: `"*" + std::to_string(n)` trips g++ 12 -O3 -Wrestrict
    out.append("*").append(std::to_string(args.size())).append("\r\n");
    for (const auto& a : args) {
        out.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
    }
    return out;
}

void flatten(const redisReply* r, std::vector<std::string>& out) {
    switch (r->type) {
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            out.emplace_back(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.push_back("(error) " + std::string(r->str, r->len));
            break;
        case REDIS_REPLY_INTEGER:
            out.push_back(std::to_string(r->integer));
            break;
        case REDIS_REPLY_NIL:
            out.emplace_back("(nil)");
            break;
        case REDIS_REPLY_ARRAY:
            for (std::size_t i = 0; i < r->elements; ++i) {
                flatten(r->element[i], out);
            }
            break;
        default:
            out.emplace_back("(unknown reply type)");
    }
}

// One blocking request/reply exchange per command on a fresh connection; each reply is
// flattened into printable strings.
std::vector<std::vector<std::string>> exchange(std::uint16_t port,
                                               const std::vector<std::vector<std::string>>& cmds,
                                               std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string error;
    const int fd = detail::connect_loopback(port, deadline, error);
    if (fd < 0) {
        return {{"(transport error) " + error}};
    }
    std::string wire;
    for (const auto& c : cmds) {
        wire += encode_command(c);
    }
    std::vector<std::vector<std::string>> replies;
    if (!detail::send_all(fd, wire, deadline, error)) {
        detail::close_fd(fd);
        return {{"(transport error) " + error}};
    }
    redisReader* reader = redisReaderCreate();
    std::string buf;
    while (replies.size() < cmds.size()) {
        void* reply = nullptr;
        if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
            replies.push_back({"(transport error) protocol error"});
            break;
        }
        if (reply != nullptr) {
            std::vector<std::string> flat;
            const auto* r = static_cast<const redisReply*>(reply);
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 0) {
                flat.clear();
            } else {
                flatten(r, flat);
            }
            replies.push_back(std::move(flat));
            freeReplyObject(reply);
            continue;
        }
        buf.clear();
        const long n = detail::recv_some(fd, buf, deadline, error);
        if (n <= 0) {
            replies.push_back({"(transport error) " + (n == 0 ? std::string("closed") : error)});
            break;
        }
        redisReaderFeed(reader, buf.data(), buf.size());
    }
    redisReaderFree(reader);
    detail::close_fd(fd);
    return replies;
}

// A redis.conf argument in double quotes (sdssplitargs: backslash escapes).
std::string quote_redis_arg(std::string_view value) {
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

bool write_private_file(const std::filesystem::path& path, std::string_view content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const bool ok = ::fchmod(fd, 0600) == 0 &&
                    ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    return ::close(fd) == 0 && ok;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i != 0) {
            out += '\n';
        }
        out += parts[i];
    }
    return out;
}

}  // namespace

core::Result<RedisServer> RedisServer::start(RedisServerOptions opts) {
    RedisServer server;
    server.opts_ = std::move(opts);
    if (server.opts_.program.empty()) {
        server.opts_.program = find_program("redis-server");
    }
    if (server.opts_.program.empty()) {
        return core::make_error(core::Errc::kNotFound);
    }
    if (server.opts_.dir.empty()) {
        server.owned_dir_ = std::make_unique<TempDir>("moneta-redis-");
        server.dir_ = server.owned_dir_->path();
    } else {
        server.dir_ = server.opts_.dir;
        std::error_code ec;
        std::filesystem::create_directories(server.dir_, ec);
    }
    // A free port can be taken by someone else before redis binds it: try a few.
    const int attempts = server.opts_.port == 0 ? 5 : 1;
    core::Result<void> last = core::make_error(core::Errc::kConnectFailed);
    for (int i = 0; i < attempts; ++i) {
        server.port_ = server.opts_.port != 0 ? server.opts_.port : free_port();
        if (server.opts_.cluster) {
            do {
                server.bus_port_ = free_port();
            } while (server.bus_port_ == server.port_);
        }
        last = server.launch();
        if (last) {
            return server;
        }
        if (last.error() != core::make_error(core::Errc::kConnectFailed)) {
            break;
        }
    }
    return last.error();
}

core::Result<void> RedisServer::launch() {
    std::vector<std::string> argv = {
        opts_.program,     "--port", std::to_string(port_), "--bind", "127.0.0.1",
        "--save",          "",       "--daemonize",        "no",     "--dir",
        dir_.string(),     "--appendonly", opts_.appendonly ? "yes" : "no", "--appendfsync",
        opts_.appendfsync, "--protected-mode", "no", "--loglevel", "notice"};
    if (!opts_.password.empty()) {
        // In a config file (mode 0600), as ./dev up does: not on the command line (`ps`).
        // redis-server takes the file as its first argument.
        const auto conf = dir_ / "redis-auth.conf";
        // masterauth too: a cluster replica authenticates to its master with the same password.
        const std::string quoted = quote_redis_arg(opts_.password);
        if (!write_private_file(conf, "requirepass " + quoted + "\nmasterauth " + quoted + "\n")) {
            return core::make_error(core::Errc::kInternal);
        }
        argv.insert(argv.begin() + 1, conf.string());
    }
    if (opts_.cluster) {
        argv.insert(argv.end(), {"--cluster-enabled", "yes", "--cluster-port", std::to_string(bus_port_)});
    }
    argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
    auto proc = Process::spawn(std::move(argv), {}, log_file(), dir_);
    if (!proc) {
        return proc.error();
    }
    process_.emplace(std::move(*proc));

    std::vector<std::vector<std::string>> ping;
    if (!opts_.password.empty()) {
        ping.push_back({"AUTH", opts_.password});
    }
    ping.push_back({"PING"});
    const auto deadline = Clock::now() + opts_.ready_timeout;
    auto pause = std::chrono::milliseconds(2);
    while (Clock::now() < deadline) {
        if (!process_->running()) {
            process_.reset();
            return core::make_error(core::Errc::kConnectFailed);
        }
        const auto replies = exchange(port_, ping, std::chrono::milliseconds(500));
        if (replies.size() == ping.size() && replies.back().size() == 1 &&
            replies.back().front() == "PONG") {
            return {};
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    process_.reset();  // SIGKILL + reap
    return core::make_error(core::Errc::kTimeout);
}

RedisServer::RedisServer(RedisServer&&) noexcept = default;
RedisServer& RedisServer::operator=(RedisServer&& other) noexcept {
    if (this != &other) {
        process_.reset();  // kill ours before our directory can go away
        opts_ = std::move(other.opts_);
        port_ = other.port_;
        bus_port_ = other.bus_port_;
        dir_ = std::move(other.dir_);
        owned_dir_ = std::move(other.owned_dir_);
        process_ = std::move(other.process_);
        other.process_.reset();
    }
    return *this;
}

RedisServer::~RedisServer() {
    process_.reset();  // kill before the directory goes away
}

pid_t RedisServer::pid() const noexcept { return process_ ? process_->pid() : -1; }

bool RedisServer::running() { return process_ && process_->running(); }

void RedisServer::pause() {
    if (process_) {
        process_->signal(SIGSTOP);
    }
}

void RedisServer::resume() {
    if (process_) {
        process_->signal(SIGCONT);
    }
}

void RedisServer::kill9() { process_.reset(); }

void RedisServer::stop() {
    if (process_) {
        process_->stop(std::chrono::seconds(10));
        process_.reset();
    }
}

core::Result<void> RedisServer::restart() {
    process_.reset();
    // The old listening socket is gone with the process; redis sets SO_REUSEADDR, so the same
    // port binds again at once. Retry briefly anyway in case the kernel is slow to release it.
    core::Result<void> r = core::make_error(core::Errc::kConnectFailed);
    for (int i = 0; i < 20; ++i) {
        r = launch();
        if (r || r.error() != core::make_error(core::Errc::kConnectFailed)) {
            return r;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
}

std::vector<std::string> RedisServer::command_list(std::vector<std::string> args) {
    std::vector<std::vector<std::string>> cmds;
    if (!opts_.password.empty()) {
        cmds.push_back({"AUTH", opts_.password});
    }
    cmds.push_back(std::move(args));
    auto replies = exchange(port_, cmds, std::chrono::seconds(5));
    if (replies.size() != cmds.size()) {
        return replies.empty() ? std::vector<std::string>{"(transport error) no reply"}
                               : replies.back();
    }
    return std::move(replies.back());
}

std::string RedisServer::command(std::vector<std::string> args) {
    return join(command_list(std::move(args)));
}

}  // namespace moneta::testing
