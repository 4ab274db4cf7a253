#include "domain/catalog.hpp"

namespace moneta::domain {

const Profile* Account::find_profile(std::string_view profile_id) const noexcept {
    for (const Profile& p : profiles) {
        if (p.id == profile_id) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace moneta::domain
