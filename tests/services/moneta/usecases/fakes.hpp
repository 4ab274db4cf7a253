#pragma once

// Scripted fakes of the use cases' ports (usecases/ports.hpp): each answers what the test set
// and records how it was called. No Redis, no internal API, no sockets; time is a FakeClock.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/error.hpp"
#include "usecases/ports.hpp"

namespace moneta::usecases::testing {

inline boost::system::error_code err(core::Errc e) {
    return core::make_error_code(e);
}

/// Runs @p aw to completion on a fresh io_context (the fakes never suspend for long).
template <class T>
T run(boost::asio::awaitable<T> aw) {
    boost::asio::io_context io;
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) {
            result.emplace(std::move(v));
        }
    });
    io.run();
    if (error) {
        std::rethrow_exception(error);
    }
    EXPECT_TRUE(result.has_value());
    return std::move(*result);
}

/// The caller of a token with `sub` @p account_id and `pid` @p profile_id.
inline Caller caller(std::string_view account_id = "a_1", std::string_view profile_id = "p_1") {
    Caller c;
    c.account_id = account_id;
    c.profile_id = profile_id;
    return c;
}

/// StartCatalog is move-only (it may hold Redis replies); the fakes hand out copies of the rest.
inline store::StartCatalog copy(const store::StartCatalog& c) {
    store::StartCatalog out;
    out.account = c.account;
    out.content = c.content;
    out.account_miss = c.account_miss;
    out.content_miss = c.content_miss;
    out.redis_error = c.redis_error;
    return out;
}

/// The identity presenter: the tests read the use case's outcome itself.
struct Identity {
    template <class T>
    T operator()(T&& outcome) const {
        return std::move(outcome);
    }
};

class FakeLeases final : public SessionLeases {
public:
    core::Result<store::StartOutcome> start_result = domain::LeaseGranted{1'000, 1, {}};
    core::Result<void> save_result = {};
    core::Result<store::HeartbeatResult> heartbeat_result = store::HeartbeatResult{};
    core::Result<store::StopResult> stop_result = store::StopResult{true, store::ProgressWrite::kApplied};
    core::Result<std::vector<domain::ActiveSession>> list_result = std::vector<domain::ActiveSession>{};
    core::Result<store::KickResult> kick_result = store::KickResult::kKicked;
    core::Result<std::optional<store::LiveSession>> live_result = std::optional<store::LiveSession>{};

    int start_calls = 0, save_calls = 0, heartbeat_calls = 0, stop_calls = 0, list_calls = 0, kick_calls = 0,
        live_calls = 0;
    std::string started_session_id, started_replace, started_key, started_hash, saved_value, kicked_session_id;
    int started_max_streams = 0;
    bool stopped_ended = false;

    Async<store::StartOutcome> async_start(const store::StartCommand& cmd, core::Deadline) override {
        ++start_calls;
        started_session_id = cmd.info.session_id;
        started_replace = std::string(cmd.replace_session_id);
        started_key = std::string(cmd.idempotency_key);
        started_hash = std::string(cmd.idempotency_hash);
        started_max_streams = cmd.max_streams;
        co_return start_result;
    }
    Async<void> async_save_idempotent(std::string_view, std::string_view, std::string_view value,
                                      core::Deadline) override {
        ++save_calls;
        saved_value = std::string(value);
        co_return save_result;
    }
    Async<store::HeartbeatResult> async_heartbeat(std::string_view, std::string_view, double, std::int64_t,
                                                  std::int64_t, core::Deadline) override {
        ++heartbeat_calls;
        co_return heartbeat_result;
    }
    Async<store::StopResult> async_stop(std::string_view, std::string_view, double, std::int64_t, bool ended,
                                        std::int64_t, core::Deadline) override {
        ++stop_calls;
        stopped_ended = ended;
        co_return stop_result;
    }
    Async<std::vector<domain::ActiveSession>> async_list(std::string_view, std::int64_t, core::Deadline) override {
        ++list_calls;
        co_return list_result;
    }
    Async<store::KickResult> async_kick(std::string_view, std::string_view session_id, std::int64_t,
                                        core::Deadline) override {
        ++kick_calls;
        kicked_session_id = std::string(session_id);
        co_return kick_result;
    }
    Async<std::optional<store::LiveSession>> async_live_session(std::string_view, std::string_view, std::int64_t,
                                                                core::Deadline) override {
        ++live_calls;
        co_return live_result;
    }
    std::chrono::milliseconds lease() const noexcept override { return std::chrono::milliseconds(90'000); }
};

class FakeCatalog final : public CatalogReader {
public:
    AdmissionRead read;                 ///< what the first round trip answers
    core::Result<void> fill_result = {};
    core::Result<store::StartCatalog> load_result = store::StartCatalog{};
    bool refresh_started = true;
    std::chrono::milliseconds ttl{600'000};

    int read_calls = 0, fill_calls = 0, load_calls = 0, refresh_calls = 0;
    AdmissionQuery last_query;

    boost::asio::awaitable<AdmissionRead> async_read_admission(const AdmissionQuery& query,
                                                               const core::RequestContext&) override {
        ++read_calls;
        last_query = query;
        AdmissionRead out;
        out.catalog = copy(read.catalog);
        out.retry_after_sec = read.retry_after_sec;
        out.progress_cached = read.progress_cached;
        out.stored_progress = read.stored_progress;
        out.progress_known_absent = read.progress_known_absent;
        co_return out;
    }
    Async<void> async_fill(store::StartCatalog&, std::string_view, std::string_view,
                           const core::RequestContext&) override {
        ++fill_calls;
        co_return fill_result;
    }
    Async<store::StartCatalog> async_load(std::string_view, std::string_view, const core::RequestContext&) override {
        ++load_calls;
        if (!load_result) {
            co_return load_result.error();
        }
        co_return copy(*load_result);
    }
    bool refresh_account_in_background(std::string_view) override {
        ++refresh_calls;
        return refresh_started;
    }
    std::chrono::milliseconds account_ttl() const noexcept override { return ttl; }
};

class FakeProgress final : public ProgressRecords {
public:
    core::Result<store::ProgressWrite> put_result = store::ProgressWrite::kApplied;
    core::Result<std::vector<domain::ProgressRecord>> get_result = std::vector<domain::ProgressRecord>{};
    core::Result<std::optional<domain::ProgressRecord>> load_one_result = std::optional<domain::ProgressRecord>{};
    int put_calls = 0, get_calls = 0, load_one_calls = 0, continue_calls = 0;
    domain::ProgressRecord last_put;
    int last_limit = 0;

    Async<store::ProgressWrite> async_put(std::string_view, std::string_view, const domain::ProgressRecord& record,
                                          std::int64_t, core::Deadline) override {
        ++put_calls;
        last_put = record;
        co_return put_result;
    }
    Async<std::vector<domain::ProgressRecord>> async_get(std::string_view, std::string_view,
                                                         std::span<const std::string>,
                                                         const core::RequestContext&) override {
        ++get_calls;
        co_return get_result;
    }
    Async<std::optional<domain::ProgressRecord>> async_load_one(std::string_view, std::string_view, std::string_view,
                                                                const core::RequestContext&) override {
        ++load_one_calls;
        co_return load_one_result;
    }
    Async<std::vector<domain::ProgressRecord>> async_continue_watching(std::string_view, std::string_view, int limit,
                                                                       const core::RequestContext&) override {
        ++continue_calls;
        last_limit = limit;
        co_return get_result;
    }
};

class FakeHeld final : public HeldWrites {
public:
    store::ProgressBuffer::Push answer = store::ProgressBuffer::Push::kHeld;
    bool pending_grant = false;
    std::vector<store::BufferedWrite> pushed;

    store::ProgressBuffer::Push push(store::BufferedWrite&& write) override {
        pushed.push_back(std::move(write));
        return answer;
    }
    bool has_pending_grant(std::string_view, std::string_view) const override { return pending_grant; }
};

class FakeDelivery final : public StreamDelivery {
public:
    bool fail = false;
    int calls = 0;
    std::string manifest_url;  ///< the last one built (valid until the next build)
    core::Result<delivery::Blocks> build(const domain::StreamSelection& selection, std::string_view,
                                         std::int64_t now_ms) override {
        ++calls;
        if (fail) {
            return err(core::Errc::kInternal);
        }
        delivery::Blocks b;
        b.stream.protocol = selection.protocol;
        // Blocks view what they show (domain/delivery.hpp), like the real signer's cache.
        manifest_url = "https://cdn.test" + std::string(selection.path);
        b.stream.manifest_url = manifest_url;
        b.stream.expires_at_ms = now_ms + 600'000;
        b.drm.system = selection.drm_system;
        b.drm.token = "tok";
        return b;
    }
};

/// An active premium account "a_1" with profile "p_1", paid for a year after @p now_ms.
inline std::shared_ptr<const domain::Account> account(std::int64_t now_ms, int max_streams = 2) {
    auto a = std::make_shared<domain::Account>();
    a->id = "a_1";
    a->status = "active";
    a->plan = domain::Plan{"premium", 3, max_streams, 2160, true, true};
    a->paid_until_ms = now_ms + 365LL * 86'400'000;
    a->country = "KR";
    a->profiles = {domain::Profile{"p_1", "Kim", 18}};
    return a;
}

/// A playable title "m_1": one avc 1080 DASH rendition with Widevine.
inline std::shared_ptr<const domain::Content> content() {
    auto c = std::make_shared<domain::Content>();
    c->id = "m_1";
    c->kind = "movie";
    c->title = "M";
    c->duration_sec = 6000;
    c->min_plan = "basic";
    c->drm_cid = "m_1";
    c->renditions = {domain::Rendition{"dash", {"widevine"}, "avc", 1080, std::nullopt, "/vod/m_1/avc/manifest.mpd"}};
    return c;
}

}  // namespace moneta::usecases::testing
