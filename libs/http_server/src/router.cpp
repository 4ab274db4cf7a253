#include "moneta/http/router.hpp"

#include <array>
#include <stdexcept>

namespace moneta::http {
namespace {

/// The path's segments, split once per request (not once per route tried); a path of more than
/// kMax segments matches no route (none has that many).
struct PathSegments {
    static constexpr std::size_t kMax = 16;
    std::array<std::string_view, kMax> seg;
    std::size_t count = 0;
    bool ok = false;

    explicit PathSegments(std::string_view path) {
        if (path.empty() || path.front() != '/') {
            return;
        }
        std::size_t i = 1;
        while (i <= path.size()) {
            if (count == kMax) {
                return;
            }
            const auto slash = path.find('/', i);
            const auto end = slash == std::string_view::npos ? path.size() : slash;
            seg[count++] = path.substr(i, end - i);
            i = end + 1;
        }
        ok = true;
    }
};

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
    std::vector<Segment> segments = split_pattern(pattern);
    const std::size_t count = segments.size();
    routes_.push_back(Route{method, std::string(pattern), std::move(segments), std::move(handler)});
    const auto id = static_cast<std::uint16_t>(routes_.size() - 1);
    if (count <= kMaxSegments) {
        by_count_[count].push_back(id);
    }
    return id;
}

Router::Match Router::match(Request& req) const {
    Match m;
    const PathSegments path(req.path());
    const Method wanted = req.method() == Method::kHead ? Method::kGet : req.method();
    static_assert(PathSegments::kMax == kMaxSegments, "one bound for paths and routes");
    if (!path.ok) {
        req.clear_params();
        return m;
    }
    for (const std::uint16_t id : by_count_[path.count]) {
        const Route& r = routes_[id];
        req.clear_params();
        bool ok = true;
        for (std::size_t s = 0; ok && s < r.segments.size(); ++s) {
            const std::string_view seg = path.seg[s];
            ok = r.segments[s].param ? !seg.empty() && req.add_param(seg) : seg == r.segments[s].text;
        }
        if (!ok) {
            continue;
        }
        if (r.method == wanted) {
            m.handler = &r.handler;
            req.set_route_id(id);
            m.allow.clear();
            return m;
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
