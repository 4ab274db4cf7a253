/// @file services/moneta/src/handlers/deps.hpp
/// @brief What the /v1 handlers share: settings, counters and the per-worker stores.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"
#include <cstdint>

#include "delivery/playback_delivery.hpp"
#include "domain/playability.hpp"
#include "domain/session_id.hpp"
#include "handlers/auth.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "store/catalog_cache.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "store/session_store.hpp"
#include "usecases/playback_stats.hpp"

namespace moneta::handlers {

/// Moved to the use cases (usecases/playback_stats.hpp); the old names stay valid here.
using usecases::kPlaybackStatsTable;
using usecases::PlaybackSettings;
using usecases::PlaybackStats;

/// One per worker thread (the stores and the delivery worker are per-thread).
struct HandlerDeps {
    boost::asio::any_io_executor executor;  ///< the worker's event loop (background refreshes)
    /// The worker's token cache in front of the process's jwt::Verifier: each distinct token is
    /// verified once per worker (docs/jwt.md "Token cache").
    jwt::TokenCache& verifier;
    const core::Clock& clock;
    store::CatalogCache& catalog;
    store::SessionStore& sessions;
    store::ProgressStore& progress;
    store::ProgressBuffer& buffer;  ///< writes Redis did not answer, replayed when it is back
    delivery::DeliveryFactory::Worker& delivery;
    const domain::SessionIdSigner& session_ids;  ///< mints ids; the buffer checks them (Redis down)
    const std::string& cdn_base_url;
    const PlaybackSettings& settings;
    AuthStats& auth_stats;
    PlaybackStats& stats;
};

}  // namespace moneta::handlers
