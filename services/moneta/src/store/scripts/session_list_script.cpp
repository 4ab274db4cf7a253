#include "store/scripts/session_list_script.hpp"

#include <string>

#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the lease prelude (session_lua.cpp).
constexpr std::string_view kBody = R"lua(
prune(tonumber(ARGV[1]))
return append_leases({})
)lua";

}  // namespace

SessionListScript::SessionListScript()
    : TypedScript(std::string(lease_prelude()) + std::string(kBody)) {}

SessionListScript::Call::Call(const SessionListArgs& a) noexcept : now_(a.now_ms) {
    lease_keys(keys_, a.account_id);
    args_ = {now_.view()};
}

core::Result<LeaseList> SessionListScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r)) {
        return e;
    }
    return LeaseList(r, 0);
}

}  // namespace moneta::store
