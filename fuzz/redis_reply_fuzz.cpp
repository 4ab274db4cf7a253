// Fuzz target: Redis reply handling (libs/redis: our strict RESP2 parser in reply_reader.cpp
// and reply.cpp, resp.hpp's encoder) and the decoding of script replies in
// services/moneta/src/store/session_store.cpp. The first input byte picks the mode:
// 0 - Reply::from_resp(rest), then every ReplyView accessor over the whole tree; a reply it
//     accepts is also what the streaming reader gives for the same bytes, and what hiredis 0.14
//     (the reader we replaced, kept here as an oracle) reads: ours is stricter, never different;
// 1 - the client's read loop (detail::ReplyReader: prepare, commit, next until kNeedMore) fed
//     whole, in 1-byte and in k-byte chunks, keeping every reply alive across the later reads:
//     the same replies and the same verdict;
// 2 - the rest split at 0xFF into arguments, encoded by Pipeline::add and Pipeline::add_eval
//     (resp.hpp) and read back: the same arguments, byte for byte;
// 3 - SessionStore (start, heartbeat, stop, list, kick, live session) against a Redis whose
//     replies are the RESP replies in the rest of the input: no connection, the real decoding.
//     Whatever Redis answers, the store returns a value or an error, never UB, and its values
//     keep their invariants.
#include <hiredis/hiredis.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/reply.hpp"
#include "reply_reader.hpp"
#include "store/session_store.hpp"

namespace {

using moneta::redis::Reply;
using moneta::redis::Replies;
using moneta::redis::ReplyType;
using moneta::redis::ReplyView;
namespace core = moneta::core;

/// Every accessor on every node; returns the number of nodes.
std::size_t walk(const ReplyView& v, int depth) {
    FUZZ_CHECK(depth < 64, "reply nested deeper than hiredis allows");
    const ReplyType t = v.type();
    const std::string_view s = v.as_string_view();
    FUZZ_CHECK(
        s.empty() || t == ReplyType::kString || t == ReplyType::kStatus || t == ReplyType::kError,
        "bytes on a reply that has none"
    );
    FUZZ_CHECK(
        v.as_integer().has_value() == (t == ReplyType::kInteger), "as_integer on a non-integer"
    );
    if (const auto i = v.to_int64(); i && t == ReplyType::kString) {
        FUZZ_CHECK(
            std::to_string(*i) == s || (s.size() > 1 && (s[0] == '0' || s.substr(0, 2) == "-0")),
            "to_int64 of a string that is not that number"
        );
    }
    FUZZ_CHECK(
        v.error_message().empty() || t == ReplyType::kError, "an error message on a non-error"
    );
    (void)v.is_error_with_prefix("NOSCRIPT");
    (void)v.is_error_with_prefix("");
    FUZZ_CHECK(v.size() == 0 || t == ReplyType::kArray, "elements on a non-array");
    FUZZ_CHECK(v[v.size()].is_nil(), "an out-of-range element is not nil");
    std::size_t nodes = 1;
    for (std::size_t i = 0; i < v.size(); ++i) {
        nodes += walk(v[i], depth + 1);
    }
    return nodes;
}

struct Stream {
    std::vector<std::string> replies;  ///< to_string() of each complete reply
    bool error = false;
    bool operator==(const Stream&) const = default;
};

/// client_impl.cpp's async_read_loop over @p wire in reads of @p chunk bytes. Every reply stays
/// alive until the end, and is rendered again then: later reads must not have touched it.
Stream read_stream(std::string_view wire, std::size_t chunk) {
    Stream out;
    Replies alive;
    {
        moneta::redis::detail::ArenaPoolOwner pool(64);  // tiny arenas: many switches and growths
        moneta::redis::detail::ReplyReader reader(*pool);
        for (std::size_t pos = 0; pos < wire.size() && !out.error;) {
            const auto room = reader.prepare();
            if (room.empty()) {
                out.error = true;
                break;
            }
            const std::size_t n = std::min({chunk, room.size(), wire.size() - pos});
            std::memcpy(room.data(), wire.data() + pos, n);
            reader.commit(n);
            pos += n;
            for (;;) {
                Reply reply;
                const auto s = reader.next(reply);
                if (s == moneta::redis::detail::ParseStatus::kError) {
                    out.error = true;
                    break;
                }
                if (s == moneta::redis::detail::ParseStatus::kNeedMore) {
                    break;
                }
                walk(reply.view(), 0);
                out.replies.push_back(reply.to_string());
                alive.push_back(std::move(reply));
            }
        }
    }  // the reader and pool are gone; the replies keep their arenas
    for (std::size_t i = 0; i < alive.size(); ++i) {
        FUZZ_CHECK(alive[i].to_string() == out.replies[i], "a kept reply changed under later reads");
    }
    return out;
}

/// hiredis 0.14's reading of @p wire as exactly one reply, rendered like ReplyView::to_string.
std::optional<std::string> hiredis_one(std::string_view wire) {
    redisReader* reader = redisReaderCreate();
    std::optional<std::string> out;
    void* raw = nullptr;
    if (redisReaderFeed(reader, wire.data(), wire.size()) == REDIS_OK &&
        redisReaderGetReply(reader, &raw) == REDIS_OK && raw != nullptr && reader->pos == reader->len) {
        auto render = [](auto& self, const redisReply* r) -> std::string {
            switch (r->type) {
                case REDIS_REPLY_INTEGER: return "(integer) " + std::to_string(r->integer);
                case REDIS_REPLY_STRING: return "\"" + std::string(r->str, r->len) + "\"";
                case REDIS_REPLY_STATUS: return std::string(r->str, r->len);
                case REDIS_REPLY_ERROR: return "(error) " + std::string(r->str, r->len);
                case REDIS_REPLY_ARRAY: {
                    std::string s = "[";
                    for (std::size_t i = 0; i < r->elements; ++i) {
                        s += (i != 0 ? ", " : "") + self(self, r->element[i]);
                    }
                    return s + "]";
                }
                default: return "(nil)";
            }
        };
        out = render(render, static_cast<const redisReply*>(raw));
    }
    if (raw != nullptr) {
        freeReplyObject(raw);
    }
    redisReaderFree(reader);
    return out;
}

void from_resp(std::string_view wire) {
    const auto reply = Reply::from_resp(wire);
    if (!reply) {
        return;
    }
    walk(reply->view(), 0);
    const Stream s = read_stream(wire, SIZE_MAX);
    FUZZ_CHECK(
        !s.error && s.replies.size() == 1 && s.replies[0] == reply->to_string(),
        "from_resp accepted what the streaming reader reads differently"
    );
    // hiredis 0.14 allocates an array's table from the announced length: only ask it about
    // inputs whose arrays are small (ours accepts up to 2^20 elements).
    if (wire.size() < 4096) {
        const auto oracle = hiredis_one(wire);
        FUZZ_CHECK(oracle && *oracle == reply->to_string(), "hiredis reads this reply differently");
    }
}

void stream(std::string_view wire) {
    const Stream whole = read_stream(wire, SIZE_MAX);
    for (const std::size_t chunk : {std::size_t{1}, 2 + wire.size() % 31}) {
        FUZZ_CHECK(
            read_stream(wire, chunk) == whole,
            "the replies depend on how the bytes were split (chunk " + std::to_string(chunk) + ")"
        );
    }
}

void encoder(std::string_view rest) {
    std::vector<std::string_view> args;
    while (!rest.empty()) {
        const auto sep = rest.find('\xff');
        args.push_back(rest.substr(0, sep));
        rest = sep == std::string_view::npos ? std::string_view{} : rest.substr(sep + 1);
    }
    moneta::redis::Pipeline p;
    p.add(args);
    if (args.empty()) {
        FUZZ_CHECK(p.empty() && p.wire().empty(), "an empty command was encoded");
        return;
    }
    const auto reply = Reply::from_resp(p.wire());
    FUZZ_CHECK(
        reply && reply->is_array() && reply->size() == args.size(),
        "the encoded command does not parse back"
    );
    for (std::size_t i = 0; i < args.size(); ++i) {
        FUZZ_CHECK(
            (*reply)[i].is_string() && (*reply)[i].as_string_view() == args[i],
            "an argument changed on the wire"
        );
    }
    // EVALSHA: the first argument is the script, the rest split into keys and arguments.
    static const moneta::redis::Script script("return 1");
    const std::size_t nkeys = (args.size() - 1) / 2;
    const std::span<const std::string_view> rest_args(args.data() + 1, args.size() - 1);
    moneta::redis::Pipeline e;
    e.add_eval(script, rest_args.first(nkeys), rest_args.subspan(nkeys));
    const auto eval = Reply::from_resp(e.wire());
    FUZZ_CHECK(
        eval && eval->size() == args.size() + 2 && (*eval)[0].as_string_view() == "EVALSHA" &&
            (*eval)[1].as_string_view() == script.sha1() &&
            (*eval)[2].to_int64() == static_cast<std::int64_t>(nkeys) && e.scripts().size() == 1,
        "add_eval encoded something else"
    );
    for (std::size_t i = 0; i < rest_args.size(); ++i) {
        FUZZ_CHECK((*eval)[i + 3].as_string_view() == rest_args[i], "an eval argument changed on the wire");
    }
}

/// A Redis that answers from a script of replies; kUnavailable once they run out. Honours the
/// client's contract: a pipeline gets exactly one reply per command.
class ScriptedRedis final : public moneta::redis::Commands {
public:
    explicit ScriptedRedis(std::string_view wire) {
        moneta::redis::detail::ArenaPoolOwner pool(1024);
        moneta::redis::detail::ReplyReader reader(*pool);
        while (!wire.empty()) {
            const auto room = reader.prepare();
            if (room.empty()) {
                break;
            }
            const std::size_t n = std::min(room.size(), wire.size());
            std::memcpy(room.data(), wire.data(), n);
            reader.commit(n);
            wire.remove_prefix(n);
            Reply r;
            moneta::redis::detail::ParseStatus s;
            while ((s = reader.next(r)) == moneta::redis::detail::ParseStatus::kReply) {
                replies_.push_back(std::move(r));
            }
            if (s == moneta::redis::detail::ParseStatus::kError) {
                break;
            }
        }
    }
    bool connected() const noexcept override { return true; }

private:
    core::Result<Reply> next() {
        if (replies_.empty()) {
            return core::make_error(core::Errc::kUnavailable);
        }
        Reply r = std::move(replies_.front());
        replies_.pop_front();
        return r;
    }
    boost::asio::awaitable<core::Result<Reply>> do_async_command(
        std::span<const std::string_view>, core::Deadline, moneta::redis::CommandControl
    ) override {
        co_return next();
    }
    boost::asio::awaitable<core::Result<Replies>> do_async_pipeline(
        const moneta::redis::Pipeline& p, core::Deadline, moneta::redis::CommandControl
    ) override {
        if (replies_.size() < p.size()) {
            replies_.clear();
            co_return core::make_error(core::Errc::kConnectionClosed);
        }
        Replies out;
        for (std::size_t i = 0; i < p.size(); ++i) {
            out.push_back(std::move(replies_.front()));
            replies_.pop_front();
        }
        co_return out;
    }
    boost::asio::awaitable<core::Result<Reply>> do_async_eval(
        const moneta::redis::Script&,
        std::span<const std::string_view>,
        std::span<const std::string_view>,
        core::Deadline,
        moneta::redis::CommandControl
    ) override {
        co_return next();
    }

    std::deque<Reply> replies_;
};

void store(std::uint8_t op, std::string_view wire) {
    using namespace moneta::store;
    ScriptedRedis redis(wire);
    SessionStore sessions(redis, LeaseSettings{}, ProgressSettings{});
    boost::asio::io_context io;
    const std::int64_t now = 1'700'000'000'000;
    const auto dl = core::Deadline::never();
    bool done = false;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            switch (op % 6) {
                case 0: {
                    moneta::domain::SessionInfo info;
                    info.session_id = "ps_1";
                    info.device_id = "tv-1";
                    const SessionMeta meta{"p1", "m_1", 7200, 6840, false, std::nullopt, "sel"};
                    const StartCommand cmd{"acc_1", 2, info, "", now, "key", "hash", meta, false};
                    const auto r = co_await sessions.async_start(cmd, dl);
                    if (r) {
                        if (const auto* denied = std::get_if<moneta::domain::LeaseDenied>(&*r)) {
                            for (const auto& a : denied->active) {
                                (void)a.info.session_id.size();
                            }
                        }
                    }
                    break;
                }
                case 1: {
                    const auto r =
                        co_await sessions.async_heartbeat("acc_1", "ps_1", 12.5, 3, now, dl);
                    if (r) {
                        FUZZ_CHECK(
                            r->progress >= ProgressWrite::kUnknownSession &&
                                r->progress <= ProgressWrite::kCapped,
                            "progress outcome out of range"
                        );
                    }
                    break;
                }
                case 2: {
                    const auto r =
                        co_await sessions.async_stop("acc_1", "ps_1", 12.5, 4, op & 8, now, dl);
                    if (r) {
                        FUZZ_CHECK(
                            r->progress >= ProgressWrite::kUnknownSession &&
                                r->progress <= ProgressWrite::kCapped,
                            "progress outcome out of range"
                        );
                    }
                    break;
                }
                case 3: {
                    const auto r = co_await sessions.async_list("acc_1", now, dl);
                    (void)r;
                    break;
                }
                case 4: {
                    const auto r = co_await sessions.async_kick("acc_1", "ps_1", now, dl);
                    (void)r;
                    break;
                }
                default: {
                    const auto r = co_await sessions.async_live_session("acc_1", "ps_1", now, dl);
                    if (r && *r) {
                        FUZZ_CHECK(
                            (*r)->lease_expires_at_ms > now, "an expired lease reported live"
                        );
                    }
                    break;
                }
            }
            done = true;
        },
        boost::asio::detached
    );
    io.run();
    FUZZ_CHECK(done, "the store operation did not complete");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] & 3U) {
        case 0:
            from_resp(rest);
            break;
        case 1:
            stream(rest);
            break;
        case 2:
            encoder(rest);
            break;
        default:
            store(static_cast<std::uint8_t>(data[0] >> 2), rest);
            break;
    }
    return 0;
}
