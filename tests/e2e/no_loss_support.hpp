/// @file tests/e2e/no_loss_support.hpp
/// @brief Helpers of the no-loss tests: a small fixtures file, simulated players that stream
/// progress writes straight to moneta's port (retrying failed writes like a real player), and
/// readers of the places a position lives: the client's last acknowledgement, Redis and the
/// internal API's SQLite file.
#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "moneta/testing/stack.hpp"

namespace moneta::e2e {

inline constexpr int kFixtureAccounts = 40;
inline constexpr int kFixtureContents = 8;
inline constexpr double kContentDurationSec = 7200;

/// Writes a fixtures file of kFixtureAccounts premium KR accounts `nl_aNN`, each with two adult
/// profiles `nl_pNN_1`/`nl_pNN_2`, and kFixtureContents open movies `nl_cN` (no progress rows).
void write_fixtures(const std::filesystem::path& path);

/// One simulated player: one session of one profile on one title. Positions are kept in tenths
/// of a second so every value is exactly the double the JSON text parses to.
struct Viewer {
    std::string account;
    std::string profile;
    std::string content;
    std::string device;
    std::string token;
    std::string session_id;
    std::uint64_t rng = 0;       ///< per-viewer position steps (deterministic whatever the thread)
    std::int64_t tenths = 0;     ///< position of the last write sent
    std::int64_t seq = 0;        ///< seq of the last write sent
    std::int64_t acked_seq = 0;  ///< the newest write answered 2xx …
    double acked_position = -1;  ///< … and its position
    std::map<std::int64_t, double> sent;  ///< seq → position of every write sent
};

/// The start body of @p v's player (its title and device, DASH/Widevine up to 1080p, resume auto).
std::string start_body(const Viewer& v);

/// Two viewers (one per profile, each its own device and title) for each of @p accounts
/// accounts starting at nl_a<first_account + 1>.
std::vector<Viewer> make_viewers(
    const testing::Stack& stack, int first_account, int accounts, std::uint64_t seed
);

/// Counters of one phase of writes (shared by the writer threads).
struct WriteStats {
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::uint64_t> acks{0};
    std::atomic<std::uint64_t> transport_errors{0};  ///< refused/reset/timeout: moneta down
    std::atomic<std::uint64_t> server_errors{0};     ///< 5xx: Redis down or slow
    std::string summary() const;
};

/// Starts every viewer's session (POST /v1/playback/sessions → 201), retrying 5xx.
[[nodiscard]] ::testing::AssertionResult start_sessions(
    std::uint16_t port, std::vector<Viewer>& viewers
);

struct WritePlan {
    int first_round = 1;  ///< heartbeat rounds [first_round, last_round]: one write per viewer each
    int last_round = 1;
    bool stop_at_end = false;  ///< then POST …/stop with one more step (the final position)
    int threads = 4;
    std::chrono::milliseconds budget{std::chrono::seconds(180)};  ///< for the whole plan
};

/// Runs a WritePlan on background threads. Each write is retried (transport errors and 5xx)
/// until it is answered 2xx, like a player that keeps its position and resends it, so the last
/// acknowledged write of a viewer is also the last one it sent. Any 4xx ends that thread's work
/// and fails join(). The destructor aborts and joins.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. The viewers belong to the pool until join().
class WriterPool {
public:
    WriterPool(std::uint16_t port, std::vector<Viewer>& viewers, WritePlan plan, WriteStats& stats);
    ~WriterPool();
    WriterPool(const WriterPool&) = delete;
    WriterPool& operator=(const WriterPool&) = delete;

    /// Waits for every thread; failure names the first write that could not be completed.
    [[nodiscard]] ::testing::AssertionResult join();
    /// Writes the plan makes in all (heartbeats plus stops).
    std::uint64_t planned_writes() const noexcept { return planned_; }

private:
    void run(std::size_t index);
    bool send(Viewer& v, const std::string& target, const std::string& body, int expected);
    void fail(std::string what);

    std::uint16_t port_;
    std::vector<Viewer>& viewers_;
    WritePlan plan_;
    WriteStats& stats_;
    std::uint64_t planned_ = 0;
    std::chrono::steady_clock::time_point deadline_;
    std::atomic<bool> abort_{false};
    std::mutex mu_;
    std::string error_;  // guarded by mu_
    std::vector<std::thread> threads_;
};

/// One stored position (SQLite row or Redis value).
struct StoredProgress {
    double position_sec = 0;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 0;
    bool completed = false;
};
using ProgressRows = std::map<std::pair<std::string, std::string>, StoredProgress>;

/// Every row of the internal API's `progress` table, read over a read-only connection.
boost::system::result<ProgressRows, std::string> read_sqlite_progress(
    const std::filesystem::path& db
);

/// The value Redis serves for the viewer's (profile, content): `prog:{p<n>}:<account>:<profile>`
/// field `<content>` = "pos|dur|updated_at|seq|completed|sid"; nullopt when absent.
std::optional<StoredProgress> read_redis_progress(testing::Stack& stack, const Viewer& v);

/// True when every `progq:{p<n>}` stream has the flusher's consumer group `flush` (the flusher
/// creates it when it starts; until then nothing is read, so nothing can be pending or claimed).
bool write_behind_ready(testing::Stack& stack);
/// Entries of the write-behind streams `progq:{p<n>}` that were delivered but not acknowledged.
std::int64_t pending_markers(testing::Stack& stack);
/// Entries still queued in the streams (XLEN: acknowledged markers are XDELed).
std::int64_t queued_markers(testing::Stack& stack);
/// Dirty (not yet confirmed) positions of the viewers' accounts (HLEN of `dirty:{p<n>}:<account>`).
std::int64_t dirty_entries(testing::Stack& stack, const std::vector<Viewer>& viewers);

/// "" when @p rows holds, for every viewer, exactly its acknowledged (position, seq) and nothing
/// else for the viewers' profiles; otherwise a description of the first few differences.
std::string sqlite_mismatches(const ProgressRows& rows, const std::vector<Viewer>& viewers);

/// Rows of @p rows that belong to the viewers' profiles.
std::size_t rows_of(const ProgressRows& rows, const std::vector<Viewer>& viewers);

/// "" when GET /internal/v1/profiles/{pid}/progress?content_ids=<cid> answers every viewer's
/// acknowledged position and seq; otherwise the differences.
std::string internal_api_mismatches(
    const testing::Stack& stack, const std::vector<Viewer>& viewers
);

}  // namespace moneta::e2e
