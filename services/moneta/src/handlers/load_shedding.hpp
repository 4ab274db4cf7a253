/// @file services/moneta/src/handlers/load_shedding.hpp
/// @brief Inbound load shedding: every /v1 request takes a permit of the worker's adaptive
/// concurrency limit (libs/resilience AdaptiveLimit, Envoy's gradient controller) or is answered
/// 503 OVERLOADED at once, before any parsing, Redis or internal-API work.
#pragma once

#include <atomic>
#include <cstdint>

#include "moneta/core/clock.hpp"
#include "moneta/http/handler.hpp"
#include "moneta/http/router.hpp"
#include "moneta/resilience/adaptive_limit.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"

namespace moneta::handlers {

struct SheddingStats {
    metrics::LocalCounter shed_total;
};

inline constexpr metrics::Stat<SheddingStats> kSheddingStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_shed_requests_total", "Inbound /v1 requests answered 503 OVERLOADED by the adaptive limit.", {}, MONETA_STAT(shed_total)},
};

/// Wraps @p inner. Health and metrics routes pass through untouched (a probe must not be shed).
/// A response below 500 feeds its latency to the controller; 5xx (dependency failures answered
/// fast) only frees the slot, so failing fast never teaches the limit that latency is low.
/// The admitted request's permit is left on it as its http::EndHook (not a coroutine around
/// @p inner): the server ends it with the response's status when the handler returns (500 when
/// it threw), and a Request destroyed with it pending (its connection's coroutine destroyed
/// mid-handler) cancels it, so no path keeps the slot.
/// @p limit and @p stats must outlive the handler; @p limit null = shedding off. @p routes (the
/// router @p inner dispatches to; may be null): a shed request is still matched against it, so
/// its 503 is counted and logged under its route (Request::route_id), not as "other".
http::Handler shed_overload(http::Handler inner, resilience::AdaptiveLimit* limit, const core::Clock& clock,
                            SheddingStats& stats, const http::Router* routes = nullptr);

}  // namespace moneta::handlers
