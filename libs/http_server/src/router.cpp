#include "moneta/http/router.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

#include "moneta/core/swar.hpp"

namespace moneta::http {
namespace {

using core::swar::load4;
using core::swar::load8;

/// Is @p lit at @p pos of @p path? Eight bytes per compare (the last word overlapping the one
/// before): a literal run is 5-25 bytes, and memcmp's call cost more than the compare.
bool literal_at(std::string_view path, std::size_t pos, std::string_view lit) noexcept {
    const std::size_t n = lit.size();
    if (path.size() - pos < n) {
        return false;
    }
    const char* const a = path.data() + pos;
    const char* const b = lit.data();
    if (n >= 8) {
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            if (load8(a + i) != load8(b + i)) {
                return false;
            }
        }
        return i == n || load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4) {
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

/// Where the segment beginning at @p pos ends: at the next '/', or at the path's end.
std::size_t segment_end(std::string_view path, std::size_t pos) noexcept {
    std::size_t i = pos;
    for (; i + 8 <= path.size(); i += 8) {
        // any_equal's lowest marker is exact (a false one can only follow a true one).
        const std::uint64_t hit = core::swar::any_equal(load8(path.data() + i), '/');
        if (hit != 0) {
            return i + static_cast<std::size_t>(__builtin_ctzll(hit)) / 8;
        }
    }
    while (i < path.size() && path[i] != '/') {
        ++i;
    }
    return i;
}

}  // namespace

std::vector<Router::Segment> Router::split_pattern(std::string_view pattern) {
    std::vector<Router::Segment> out;
    std::size_t i = 1;  // skip the leading '/'
    while (i <= pattern.size()) {
        const auto slash = pattern.find('/', i);
        const auto end = slash == std::string_view::npos ? pattern.size() : slash;
        std::string_view seg = pattern.substr(i, end - i);
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            out.push_back({{}, true});
        } else {
            out.push_back({std::string(seg), false});
        }
        i = end + 1;
    }
    return out;
}

std::uint16_t Router::add(Method method, std::string_view pattern, Handler handler) {
    if (routes_.size() >= Request::kNoRoute) {
        throw std::length_error("router: too many routes");  // setup time only
    }
    const std::vector<Segment> segments = split_pattern(pattern);
    Route r{method, std::string(pattern), {}, 0, std::move(handler)};
    // The segments joined back into the literal runs between parameters, each '/' kept with its
    // literal; a pattern of no segment or of more than kMaxSegments never matches (as before the
    // runs: paths were split into at most kMaxSegments segments, and always into one at least).
    if (!segments.empty() && segments.size() <= kMaxSegments) {
        std::string run = "/";
        for (std::size_t s = 0; s < segments.size(); ++s) {
            if (segments[s].param) {
                r.literals.push_back(std::move(run));
                run.clear();
                ++r.min_size;  // a parameter is one byte at least
            } else {
                run += segments[s].text;
            }
            if (s + 1 < segments.size()) {
                run += '/';
            }
        }
        r.literals.push_back(std::move(run));
        for (const std::string& l : r.literals) {
            r.min_size += l.size();
        }
    }
    routes_.push_back(std::move(r));
    const auto id = static_cast<std::uint16_t>(routes_.size() - 1);
    if (!routes_.back().literals.empty()) {
        by_method_[static_cast<std::size_t>(method)].push_back(id);
    }
    return id;
}

bool Router::path_matches(const Route& r, std::string_view path, Request& req) noexcept {
    req.clear_params();
    const std::size_t last = r.literals.size() - 1;
    if (last == 0) {  // no parameter: the path is the one run
        return path.size() == r.min_size && literal_at(path, 0, r.literals[0]);
    }
    // The last run ends the path. Compared first, it tells routes that share a prefix apart
    // (".../{id}/heartbeat", ".../{id}/stop") in one compare.
    const std::string_view tail = r.literals[last];
    if (path.size() < r.min_size || !literal_at(path, path.size() - tail.size(), tail)) {
        return false;
    }
    std::size_t pos = 0;
    for (std::size_t k = 0; k < last; ++k) {
        if (!literal_at(path, pos, r.literals[k])) {
            return false;
        }
        pos += r.literals[k].size();
        // A parameter: one non-empty segment.
        const std::size_t end = segment_end(path, pos);
        if (end == pos || !req.add_param(path.substr(pos, end - pos))) {
            return false;
        }
        pos = end;
    }
    return pos + tail.size() == path.size();  // the last parameter ends where the tail begins
}

Router::Match Router::match(Request& req) const {
    Match m;
    const std::string_view path = req.path();
    const Method wanted = req.method() == Method::kHead ? Method::kGet : req.method();
    // The first route added with the request's method whose pattern matches: routes of other
    // methods are not tried on the way (they only make the 405's Allow, below).
    for (const std::uint16_t id : by_method_[static_cast<std::size_t>(wanted)]) {
        if (path_matches(routes_[id], path, req)) {
            m.handler = &routes_[id].handler;
            req.set_route_id(id);
            return m;
        }
    }
    // No route: a 405 when the path matches a route of another method, listing them all.
    for (const Route& r : routes_) {
        if (r.literals.empty() || !path_matches(r, path, req)) {
            continue;
        }
        if (!m.allow.empty()) {
            m.allow += ", ";
        }
        m.allow += method_name(r.method);
        if (r.method == Method::kGet) {
            m.allow += ", HEAD";
        }
    }
    req.clear_params();
    return m;
}

boost::asio::awaitable<Response> Router::async_dispatch(Request& req) const {
    Match m = match(req);
    if (m.handler != nullptr) {
        return (*m.handler)(req);  // the handler's own frame: the router adds none
    }
    return async_error(std::move(m));
}

boost::asio::awaitable<Response> Router::async_error(Match m) const {
    if (!m.allow.empty()) {
        Response r = error_page_(405, "METHOD_NOT_ALLOWED", "Method not allowed.", clock_->wall_ms());
        r.headers.emplace_back("Allow", std::move(m.allow));
        co_return r;
    }
    co_return error_page_(404, "NOT_FOUND", "Not found.", clock_->wall_ms());
}

Handler Router::as_handler() const& {
    // async_dispatch is not a coroutine: a matched route's own awaitable is handed on as it is,
    // so dispatch adds no coroutine frame (one heap allocation less per request once Asio's
    // per-thread frame cache is full, docs/performance.md).
    return [this](Request& req) { return async_dispatch(req); };
}

}  // namespace moneta::http
