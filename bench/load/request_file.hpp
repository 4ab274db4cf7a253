// The load generator's input: one HTTP request per line, pre-rendered once so that sending is a
// copy (docs/performance.md "Load generator").
//
//   METHOD <TAB> PATH <TAB> BEARER-TOKEN-or-- <TAB> BODY-or-empty
//
// e.g. "POST\t/v1/playback/sessions/s1/heartbeat\teyJ...\t{\"position_sec\":1.5,...}". A body
// gets Content-Type: application/json. Two placeholders may appear in the path or body and are
// rewritten in place on every send (fixed width, so Content-Length never changes):
//   @SEQ@    a 12-digit counter starting at 100000000001 (heartbeat/progress "seq")
//   @NOWMS@  the wall clock in ms, 13 digits (progress "updated_at_ms")
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::bench {

struct Placeholder {
    std::size_t offset = 0;  // into RenderedRequest::bytes
    bool is_seq = false;     // else @NOWMS@
};

struct RenderedRequest {
    std::string bytes;  // the whole request: head and body
    std::vector<Placeholder> placeholders;
};

inline constexpr std::size_t kSeqWidth = 12;
inline constexpr std::size_t kNowMsWidth = 13;

/// Parses one line (no trailing newline). host: the Host header's value. Returns false with
/// `error` set when the line is malformed.
bool render_request(std::string_view line, std::string_view host, RenderedRequest& out, std::string& error);

/// Reads a whole file; blank lines are skipped. Returns false with `error` naming the line.
bool load_request_file(const std::string& path, std::string_view host, std::vector<RenderedRequest>& out,
                       std::string& error);

/// Writes the placeholders of `req` into `dst` (a copy of req.bytes).
void fill_placeholders(const RenderedRequest& req, char* dst, std::uint64_t seq, std::uint64_t now_ms);

}  // namespace moneta::bench
