#include "store/scripts/script_settings.hpp"

namespace moneta::store {

std::string settings_lua(const ScriptSettings& s) {
    const ProgressSettings& p = s.progress;
    std::string out = "local S = {";
    auto field = [&out](const char* name, std::int64_t v) {
        out += name;
        out += " = ";
        out += std::to_string(v);
        out += ", ";
    };
    field("lease_ms", s.lease_ms);
    field("tomb_ms", s.tombstone_ms);
    field("meta_ttl", s.meta_ttl_ms);
    field("refresh_ms", s.meta_refresh_ms);
    field("ttl", p.ttl.count());
    field("cwmax", p.continue_watching_max);
    field("max_titles", p.max_titles_per_profile);
    field("max_dirty", p.max_dirty_per_account);
    field("announce_ms", p.announce.count());
    field("lost_ms", p.marker_lost.count());
    field("hold_ms", p.flush_hold.count());
    out += "max_len = '";
    out += std::to_string(p.stream_max_len);
    out += "'}\n";
    return out;
}

}  // namespace moneta::store
