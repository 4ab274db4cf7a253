/// @file moneta/trace/client_span.hpp
/// @brief Client spans of calls that do not go through a traced client (Redis round trips):
/// the worker's recorder is found through this thread, the parent through the request's
/// context, so no store or port signature has to carry a recorder.
#pragma once

#include <string_view>

#include "moneta/core/clock.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/trace/recorder.hpp"

namespace moneta::trace {

/// This thread's recorder: set once by the worker thread that owns it (nullptr, the default,
/// elsewhere: the flusher, the admin port, tests). A worker thread has exactly one recorder.
Recorder* this_thread_recorder() noexcept;
void set_this_thread_recorder(Recorder* recorder) noexcept;

/// When a client call starts: now on this thread's enabled recorder's clock, else a zero time
/// (and the matching record_* call does nothing).
inline core::SteadyTime client_call_start() noexcept {
    Recorder* r = this_thread_recorder();
    return r != nullptr && r->enabled() ? r->now() : core::SteadyTime{};
}

/// One Redis round trip (a pipeline or a script call) of the request @p ctx, started at
/// @p started (client_call_start()): span "redis <operation>", db.system=redis,
/// db.operation=@p operation (a script or command name: never keys or ids), ERROR when !@p ok.
void record_redis_call(const core::RequestContext& ctx, core::SteadyTime started, std::string_view operation,
                       bool ok) noexcept;

}  // namespace moneta::trace
