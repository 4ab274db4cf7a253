/// @file services/sshca/src/app.hpp
/// @brief Builds sshca-server: settings → policy, CA keys, store, authenticator, authority, and
/// one HTTP worker (the CA's traffic is a few calls per engineer per day; SQLite writes stay on
/// one thread and one connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "moneta/core/clock.hpp"
#include "moneta/http/server.hpp"
#include "routes.hpp"
#include "settings.hpp"

namespace moneta::sshca {

class App {
public:
    static boost::system::result<std::unique_ptr<App>, std::string> create(Settings settings,
                                                                           const core::Clock& clock);
    /// Listens; @return the bound port (settings.port 0 picks a free one).
    boost::system::result<std::uint16_t, std::string> start();
    void request_stop();
    void wait();
    ~App();

    Authority& authority() noexcept { return *authority_; }

private:
    App(Settings settings, const core::Clock& clock) : settings_(std::move(settings)), clock_(clock) {}
    Settings settings_;
    const core::Clock& clock_;
    std::unique_ptr<Authority> authority_;
    std::unique_ptr<Authenticator> auth_;
    std::unique_ptr<AwsIdentity> aws_;  ///< null unless auth.aws.enabled
    CaStats stats_;
    std::unique_ptr<http::Server> server_;
};

}  // namespace moneta::sshca
