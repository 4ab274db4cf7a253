#include "routes.hpp"

#include "http_api.hpp"

namespace moneta::sshca {

void add_routes(http::Router& router, Authority& authority, Authenticator& auth, const AwsIdentity* aws,
                CaStats& stats, const core::Clock& clock) {
    auto shared = std::make_shared<api::Api>(api::Api{authority, auth, aws, stats, clock});
    api::add_public_routes(router, shared);
    api::add_cert_routes(router, shared);
    api::add_admin_routes(router, shared);
}

}  // namespace moneta::sshca
