// NOTE: deliberate simplifications: the hold/delay timers run on the real steady clock (the
// injected Clock only drives decisions, which is what the unit tests exercise); a mode change
// releases every hold, including a re-PUT of the same blackhole (each PUT starts a new epoch).
#include "fault.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <list>
#include <random>
#include <span>

#include "moneta/core/random.hpp"

namespace moneta::internal_api::fault {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using ParseResult = boost::system::result<Mode, std::string>;

std::string_view kind_name(Kind k) noexcept {
    switch (k) {
        case Kind::kOk:
            return "ok";
        case Kind::kBlackhole:
            return "blackhole";
        case Kind::kSlow:
            return "slow";
        case Kind::kErrorRate:
            return "error_rate";
        case Kind::kReset:
            return "reset";
    }
    return "ok";
}

std::optional<Kind> kind_of(std::string_view name) noexcept {
    for (Kind k : {Kind::kOk, Kind::kBlackhole, Kind::kSlow, Kind::kErrorRate, Kind::kReset}) {
        if (kind_name(k) == name) {
            return k;
        }
    }
    return std::nullopt;
}

ParseResult fail(std::string why) { return {boost::system::in_place_error, std::move(why)}; }

/// An integer field in [lo, hi]; doubles ("200.0") are rejected, as are huge values.
bool read_int(
    const json::object& o,
    std::string_view key,
    std::int64_t lo,
    std::int64_t hi,
    std::int64_t& out,
    std::string& why
) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_int64() || v->get_int64() < lo || v->get_int64() > hi) {
        why = std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "]";
        return false;
    }
    out = v->get_int64();
    return true;
}

/// One object of the body: a steady fault, or (when @p allow_flap) a flap around one.
ParseResult parse_object(const json::value& value, bool allow_flap) {
    if (!value.is_object()) {
        return fail(allow_flap ? "the body must be a JSON object" : "fault must be a JSON object");
    }
    const json::object& o = value.get_object();
    const json::value* mode_field = o.if_contains("mode");
    if (mode_field == nullptr || !mode_field->is_string()) {
        return fail("mode must be a string");
    }
    const std::string_view name = mode_field->get_string();
    const bool flap = name == "flap";
    const std::optional<Kind> kind = kind_of(name);
    if (!kind && !(flap && allow_flap)) {
        return fail(
            flap ? "a flap's fault cannot be another flap"
                 : "mode must be one of ok, blackhole, slow, error_rate, reset, flap"
        );
    }
    static constexpr std::string_view kPlainKeys[] = {"mode"};
    static constexpr std::string_view kFlapKeys[] = {"mode", "period_ms", "fault"};
    static constexpr std::string_view kSlowKeys[] = {"mode", "delay_ms"};
    static constexpr std::string_view kErrorRateKeys[] = {"mode", "rate", "status"};
    std::span<const std::string_view> allowed = kPlainKeys;
    if (flap) {
        allowed = kFlapKeys;
    } else if (*kind == Kind::kSlow) {
        allowed = kSlowKeys;
    } else if (*kind == Kind::kErrorRate) {
        allowed = kErrorRateKeys;
    }
    for (const auto& kv : o) {
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
            return fail(
                "unknown key \"" + std::string(kv.key()) + "\" for mode " + std::string(name)
            );
        }
    }

    std::string why;
    Mode m;
    if (flap) {
        std::int64_t period = 0;
        if (!read_int(o, "period_ms", 1, kMaxFlapPeriod.count(), period, why)) {
            return fail(why);
        }
        const json::value* inner = o.if_contains("fault");
        if (inner == nullptr) {
            return fail("flap needs a fault");
        }
        auto f = parse_object(*inner, false);
        if (!f) {
            return f;
        }
        m.fault = f->fault;
        m.flap_period = milliseconds(period);
        return m;
    }
    m.fault.kind = *kind;
    if (*kind == Kind::kSlow) {
        std::int64_t delay = 0;
        if (!read_int(o, "delay_ms", 0, kMaxDelay.count(), delay, why)) {
            return fail(why);
        }
        m.fault.delay = milliseconds(delay);
    } else if (*kind == Kind::kErrorRate) {
        const json::value* rate = o.if_contains("rate");
        if (rate == nullptr || !rate->is_number() || !std::isfinite(rate->to_number<double>()) ||
            rate->to_number<double>() < 0 || rate->to_number<double>() > 1) {
            return fail("rate must be a number in [0, 1]");
        }
        m.fault.rate = rate->to_number<double>();
        if (o.contains("status")) {
            std::int64_t status = 0;
            if (!read_int(o, "status", 500, 599, status, why)) {
                return fail(why);
            }
            m.fault.status = static_cast<int>(status);
        }
    }
    return m;
}

/// Hand-written rather than json::serialize so a rate reads "0.25", not "2.5E-1".
std::string fault_json(const Fault& f) {
    std::string out = "{\"mode\":\"" + std::string(kind_name(f.kind)) + "\"";
    if (f.kind == Kind::kSlow) {
        out += ",\"delay_ms\":" + std::to_string(f.delay.count());
    } else if (f.kind == Kind::kErrorRate) {
        char buf[32];
        const auto res = std::to_chars(buf, buf + sizeof buf, f.rate);  // shortest round-trip form
        out += ",\"rate\":" + std::string(buf, res.ptr) + ",\"status\":" + std::to_string(f.status);
    }
    out += "}";
    return out;
}

http::Response dropped() {
    http::Response r;
    r.drop = true;
    return r;
}

}  // namespace

boost::system::result<Mode, std::string> parse_mode(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        return fail("the body must be valid JSON");
    }
    return parse_object(v, true);
}

std::string to_json(const Mode& mode) {
    if (mode.flap_period.count() == 0) {
        return fault_json(mode.fault);
    }
    return "{\"mode\":\"flap\",\"period_ms\":" + std::to_string(mode.flap_period.count()) +
           ",\"fault\":" + fault_json(mode.fault) + "}";
}

Decision decide(const Mode& mode, core::Duration since_set, double draw) noexcept {
    core::Duration phase_left = kMaxHold;
    if (mode.flap_period.count() > 0) {
        // Even periods (0, 2, ...) are ok, odd ones the fault.
        const core::Duration period = mode.flap_period;
        const core::Duration since = std::max(since_set, core::Duration::zero());
        const auto n = since / period;
        if (n % 2 == 0) {
            return {};
        }
        phase_left = period * (n + 1) - since;
    }
    switch (mode.fault.kind) {
        case Kind::kOk:
            return {};
        case Kind::kBlackhole:
            return {Action::kHold, std::min<core::Duration>(kMaxHold, phase_left), 0};
        case Kind::kSlow:
            return {Action::kDelay, mode.fault.delay, 0};
        case Kind::kErrorRate:
            return draw < mode.fault.rate ? Decision{Action::kError, {}, mode.fault.status}
                                          : Decision{};
        case Kind::kReset:
            return {Action::kReset, {}, 0};
    }
    return {};
}

// --- FaultControl ---------------------------------------------------------------------------

void FaultControl::set(const Mode& mode) {
    {
        std::lock_guard lock(mu_);
        mode_ = mode;
        set_at_ = clock_.steady_now();
    }
    notify(Release::kHolds);
}

Mode FaultControl::mode() const {
    std::lock_guard lock(mu_);
    return mode_;
}

Decision FaultControl::decide(double draw) const {
    std::lock_guard lock(mu_);
    return fault::decide(mode_, clock_.steady_now() - set_at_, draw);
}

void FaultControl::stop() {
    stopping_.store(true, std::memory_order_release);
    notify(Release::kAll);
}

std::uint64_t FaultControl::subscribe(Listener listener) {
    std::lock_guard lock(listeners_mu_);
    listeners_.emplace_back(next_id_, std::move(listener));
    return next_id_++;
}

void FaultControl::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(listeners_mu_);
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void FaultControl::notify(Release what) {
    std::lock_guard lock(listeners_mu_);
    for (const auto& [id, listener] : listeners_) {
        listener(what);
    }
}

// --- FaultGate ------------------------------------------------------------------------------

/// Everything a suspended request needs, shared with its coroutine frame so a frame destroyed
/// late (io_context teardown) never touches a dead gate. Used on the worker thread only.
struct FaultGate::State {
    struct Waiter {
        asio::steady_timer* timer;
        bool hold;
        bool released = false;
    };

    explicit State(asio::io_context& io_context) : io(io_context), rng(core::secure_random_u64()) {}

    void release(Waiter& w) {
        if (w.released) {
            return;
        }
        w.released = true;
        if (w.hold) {
            --held;
        }
        w.timer->cancel();
    }

    void release(FaultControl::Release what) {
        for (Waiter& w : waiters) {
            if (w.hold || what == FaultControl::Release::kAll) {
                release(w);
            }
        }
    }

    void evict_oldest_hold() {
        for (Waiter& w : waiters) {
            if (w.hold && !w.released) {
                release(w);
                return;
            }
        }
    }

    double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

    asio::io_context& io;
    std::list<Waiter> waiters;  ///< oldest first
    std::size_t held = 0;       ///< unreleased holds
    std::mt19937_64 rng;
};

namespace {

/// Waits @p d (or until released). @return true when released early.
asio::awaitable<bool> async_wait(std::shared_ptr<FaultGate::State> s, core::Duration d, bool hold) {
    asio::steady_timer timer(s->io, d);
    const auto it = s->waiters.insert(s->waiters.end(), FaultGate::State::Waiter{&timer, hold});
    if (hold && ++s->held > kMaxHeldPerWorker) {
        s->evict_oldest_hold();
    }
    struct Unlist {
        FaultGate::State& s;
        std::list<FaultGate::State::Waiter>::iterator it;
        ~Unlist() {
            if (it->hold && !it->released) {
                --s.held;
            }
            s.waiters.erase(it);
        }
    } unlist{*s, it};
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    const bool released = it->released;
    co_return released;
}

}  // namespace

FaultGate::FaultGate(FaultControl& control, asio::io_context& io, const core::Clock& clock)
    : control_(control), clock_(clock), state_(std::make_shared<State>(io)) {
    std::weak_ptr<State> weak = state_;
    subscription_ = control_.subscribe([weak, &io](FaultControl::Release what) {
        // From the thread that changed the mode: hop onto the worker's thread.
        asio::post(io, [weak, what] {
            if (auto s = weak.lock()) {
                s->release(what);
            }
        });
    });
}

FaultGate::~FaultGate() { control_.unsubscribe(subscription_); }

std::size_t FaultGate::held() const noexcept { return state_->held; }

asio::awaitable<std::optional<http::Response>> FaultGate::async_admit() {
    std::shared_ptr<State> s = state_;
    if (control_.stopping()) {
        co_return dropped();
    }
    const Decision d = control_.decide(s->draw());
    switch (d.action) {
        case Action::kPass:
            co_return std::nullopt;
        case Action::kError:
            co_return http::error_response(
                d.status, "FAULT_INJECTED", "Injected fault (test only).", true, clock_.wall_ms()
            );
        case Action::kReset:
            co_return dropped();
        case Action::kDelay:
            // Released early only at shutdown: then there is no time left to answer.
            if (co_await async_wait(s, d.wait, false)) {
                co_return dropped();
            }
            co_return std::nullopt;
        case Action::kHold:
            co_await async_wait(s, d.wait, true);
            co_return dropped();
    }
    co_return std::nullopt;
}

}  // namespace moneta::internal_api::fault
