#include "moneta/trace/client_span.hpp"

namespace moneta::trace {
namespace {

thread_local Recorder* tl_recorder = nullptr;

}  // namespace

Recorder* this_thread_recorder() noexcept { return tl_recorder; }
void set_this_thread_recorder(Recorder* recorder) noexcept { tl_recorder = recorder; }

void record_redis_call(const core::RequestContext& ctx, core::SteadyTime started, std::string_view operation,
                       bool ok) noexcept {
    Recorder* r = tl_recorder;
    if (r == nullptr || !r->enabled() || started == core::SteadyTime{}) {
        return;
    }
    const core::TraceContext span = ctx.trace.child();
    SpanRecord s;
    s.trace_id = span.trace_id;
    s.span_id = span.span_id;
    s.parent_span_id = ctx.trace.span_id;
    s.flags = span.flags;
    s.kind = SpanKind::kClient;
    s.start_unix_ns = r->unix_ns(started);
    s.end_unix_ns = r->unix_ns(r->now());
    s.name.assign_joined("redis", operation);
    s.db_operation.assign(operation);
    s.peer_service.assign("redis");
    s.server_address.assign(r->redis_address());
    s.server_port = r->redis_port();
    if (!ok) {
        s.status = StatusCode::kError;
        s.error_type.assign("redis");
    }
    r->add_client(s);
}

}  // namespace moneta::trace
