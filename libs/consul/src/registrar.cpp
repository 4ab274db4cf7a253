#include "moneta/consul/registrar.hpp"

#include <algorithm>

namespace moneta::consul {

const char* to_string(Op op) noexcept {
    switch (op) {
        case Op::kNone: return "none";
        case Op::kRegister: return "register";
        case Op::kPass: return "pass";
        case Op::kDeregister: return "deregister";
    }
    return "?";
}

const char* to_string(Link link) noexcept {
    switch (link) {
        case Link::kStarting: return "starting";
        case Link::kUp: return "up";
        case Link::kDown: return "down";
        case Link::kStopped: return "stopped";
    }
    return "?";
}

Registrar::Registrar(RegistrarConfig config) noexcept
    : config_(config),
      pass_interval_(config.pass_interval > Duration::zero() ? config.pass_interval : config.ttl / 3) {
    // A pass slower than the TTL would let the check expire between passes.
    pass_interval_ = std::clamp(pass_interval_, Duration{std::chrono::milliseconds(1)}, std::max(config.ttl, Duration{1}));
    config_.backoff_initial = std::max(config_.backoff_initial, Duration{std::chrono::milliseconds(1)});
    config_.backoff_max = std::max(config_.backoff_max, config_.backoff_initial);
}

void Registrar::start(SteadyTime now) noexcept {
    step_ = {Op::kRegister, now};
    link_ = Link::kStarting;
    failures_ = 0;
}

Duration Registrar::backoff() const noexcept {
    // initial × 2^(failures-1), capped; the shift is bounded so it cannot overflow.
    Duration d = config_.backoff_initial;
    for (std::uint32_t i = 1; i < failures_ && d < config_.backoff_max; ++i) {
        d *= 2;
    }
    return std::min(d, config_.backoff_max);
}

Registrar::Change Registrar::set_link(Link to) noexcept {
    Change c;
    c.from = link_;
    c.to = to;
    c.link_changed = link_ != to;
    link_ = to;
    return c;
}

Registrar::Change Registrar::on_result(Op op, Outcome outcome, SteadyTime now) noexcept {
    if (link_ == Link::kStopped || op != step_.op) {
        return Change{false, link_, link_, false, Duration{0}};  // late answer after stop(): ignored
    }
    if (outcome == Outcome::kOk) {
        failures_ = 0;
        // Registered: pass at once (the check starts critical); passed: the next one in an interval.
        step_ = {Op::kPass, op == Op::kRegister ? now : now + pass_interval_};
        return set_link(Link::kUp);
    }
    if (outcome == Outcome::kLost && op == Op::kPass) {
        failures_ = 0;
        step_ = {Op::kRegister, now};
        Change c = set_link(Link::kStarting);
        c.link_changed = true;  // always worth a line: the agent dropped us
        c.lost = true;
        return c;
    }
    ++failures_;
    const Duration wait = backoff();
    step_ = {op, now + wait};
    Change c = set_link(Link::kDown);
    c.retry_in = wait;
    return c;
}

bool Registrar::stop() noexcept {
    const bool deregister = register_sent_;
    step_ = {Op::kNone, SteadyTime{}};
    link_ = Link::kStopped;
    return deregister;
}

}  // namespace moneta::consul
