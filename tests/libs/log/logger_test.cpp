#include "moneta/log/logger.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace moneta::log {
namespace {

/// Collects lines; optionally blocks every write until released (a slow sink).
class TestSink final : public Sink {
public:
    void write(std::string_view lines) override {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return !blocked; });
        text += lines;
    }
    void release() {
        {
            std::lock_guard lock(mu);
            blocked = false;
        }
        cv.notify_all();
    }
    std::mutex mu;
    std::condition_variable cv;
    bool blocked = false;
    std::string text;
};

/// The logger owns its sink; tests keep the shared state alive after the logger is gone.
class ForwardSink final : public Sink {
public:
    explicit ForwardSink(std::shared_ptr<TestSink> t) : t_(std::move(t)) {}
    void write(std::string_view lines) override { t_->write(lines); }

private:
    std::shared_ptr<TestSink> t_;
};

std::vector<boost::json::object> lines(const std::string& text) {
    std::vector<boost::json::object> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
        out.push_back(boost::json::parse(l).as_object());
    }
    return out;
}

TEST(LoggerTest, WritesOneEcsJsonObjectPerLine) {
    core::FakeClock clock(1'764'043'506'789);
    auto shared = std::make_shared<TestSink>();
    TestSink* s = shared.get();
    auto sink = std::make_unique<ForwardSink>(shared);
    {
        Logger logger({"moneta", Level::kInfo, 100}, std::move(sink), clock);
        core::RequestContext ctx;
        ctx.request_id = "r-1";
        ctx.trace = *core::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        logger.info("started \"x\"\n", {{"http.response.status_code", std::int64_t{201}}, {"ok", true}, {"ratio", 0.5}}, &ctx);
        logger.log(Level::kDebug, "filtered out");
        ASSERT_TRUE(logger.flush());
    }
    const auto l = lines(s->text);
    ASSERT_EQ(l.size(), 1U);
    EXPECT_EQ(l[0].at("@timestamp").as_string(), "2025-11-25T04:05:06.789Z");
    EXPECT_EQ(l[0].at("log.level").as_string(), "info");
    EXPECT_EQ(l[0].at("message").as_string(), "started \"x\"\n");
    EXPECT_EQ(l[0].at("service.name").as_string(), "moneta");
    EXPECT_EQ(l[0].at("trace.id").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(l[0].at("http.request.id").as_string(), "r-1");
    EXPECT_EQ(l[0].at("http.response.status_code").as_int64(), 201);
    EXPECT_EQ(l[0].at("ok").as_bool(), true);
}

std::string file_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A rotation renames the file; after reopen() the next lines go to a new file under the old
// name, and nothing written before is lost or written twice.
TEST(LoggerTest, ReopenAfterARenameWritesToANewFileUnderTheSameName) {
    const auto dir = std::filesystem::temp_directory_path() / ("moneta-log-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto path = dir / "moneta.log";
    core::FakeClock clock(1'764'043'506'789);
    Logger logger({"moneta", Level::kInfo, 100}, make_file_sink(path.string()), clock);
    logger.info("before rotation");
    ASSERT_TRUE(logger.flush());
    std::filesystem::rename(path, dir / "moneta.log.1");
    logger.info("after rename, before reopen");  // still the renamed file (the same inode)
    ASSERT_TRUE(logger.flush());
    logger.reopen();
    ASSERT_TRUE(logger.flush());  // waits for the reopen itself, not just the queue
    ASSERT_TRUE(std::filesystem::exists(path));
    logger.info("after reopen");
    ASSERT_TRUE(logger.flush());

    const auto old_lines = lines(file_text(dir / "moneta.log.1"));
    ASSERT_EQ(old_lines.size(), 2U);
    EXPECT_EQ(old_lines[0].at("message").as_string(), "before rotation");
    EXPECT_EQ(old_lines[1].at("message").as_string(), "after rename, before reopen");
    const auto new_lines = lines(file_text(path));
    ASSERT_EQ(new_lines.size(), 1U);
    EXPECT_EQ(new_lines[0].at("message").as_string(), "after reopen");
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    const mode_t mask = ::umask(0);
    ::umask(mask);
    EXPECT_EQ(st.st_mode & 0777, 0640U & ~mask);
    EXPECT_EQ(logger.reopen_failures(), 0U);

    // A reopen that cannot open the file keeps the old one and is counted.
    std::filesystem::rename(path, dir / "moneta.log.2");
    std::filesystem::remove_all(dir / "moneta.log");
    std::filesystem::create_directories(path);  // a directory where the file was: open fails
    logger.reopen();
    ASSERT_TRUE(logger.flush());
    EXPECT_EQ(logger.reopen_failures(), 1U);
    logger.info("kept writing");
    ASSERT_TRUE(logger.flush());
    const auto kept = lines(file_text(dir / "moneta.log.2"));
    ASSERT_EQ(kept.size(), 2U);
    EXPECT_EQ(kept[1].at("message").as_string(), "kept writing");
    std::filesystem::remove_all(dir);
}

TEST(LoggerTest, SecretsAreRedactedAndBadBytesEscaped) {
    core::FakeClock clock;
    auto shared = std::make_shared<TestSink>();
    TestSink* s = shared.get();
    auto sink = std::make_unique<ForwardSink>(shared);
    const std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhXzEifQ.c2lnbmF0dXJl";
    {
        Logger logger({}, std::move(sink), clock);
        logger.warn("x", {{"http.request.headers.authorization", std::string_view("Bearer " + jwt)},
                          {"token", std::string_view(jwt)},
                          {"bytes", std::string_view("\x01\xff\xc3\xa9")}});
        ASSERT_TRUE(logger.flush());
    }
    EXPECT_EQ(s->text.find(jwt), std::string::npos);
    const auto l = lines(s->text);
    ASSERT_EQ(l.size(), 1U);
    EXPECT_EQ(l[0].at("token").as_string(), "[REDACTED]");
    EXPECT_EQ(l[0].at("bytes").as_string(), "\x01\xEF\xBF\xBD\xc3\xa9");
}

TEST(LoggerTest, ASlowSinkNeverBlocksCallersAndDropsAreCounted) {
    core::FakeClock clock;
    auto shared = std::make_shared<TestSink>();
    TestSink* s = shared.get();
    auto sink = std::make_unique<ForwardSink>(shared);
    s->blocked = true;
    Logger logger({"moneta", Level::kInfo, 10}, std::move(sink), clock);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) {
        logger.info("line");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    // At most the capacity plus one in-flight batch fit; the rest were dropped and counted.
    EXPECT_GE(logger.dropped(), 1000U - 20U);
    s->release();
    ASSERT_TRUE(logger.flush());
    EXPECT_EQ(logger.written() + logger.dropped(), 1000U);
}

}  // namespace
}  // namespace moneta::log
