#pragma once

// A scripted HTTP/1.1 upstream for the pool tests. It runs on its own thread and io_context, so
// the test decides exactly when each response reaches the client, while the client's io_context
// runs only when the test runs it.

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace moneta::http_client::testing {

/// Listens on 127.0.0.1 on a free port. Every answer is `200`, keep-alive, body `ok <target>`.
/// How a request is answered depends on its target:
///   - `/held...`: kept until release_held();
///   - `/close...`: answered, then the connection is closed without `Connection: close`
///     (an upstream dropping an idle keep-alive connection);
///   - anything else: answered at once.
class ScriptedUpstream {
public:
    ScriptedUpstream();
    ~ScriptedUpstream();
    ScriptedUpstream(const ScriptedUpstream&) = delete;
    ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

    std::uint16_t port() const;
    std::size_t accepted() const;  ///< connections accepted
    std::size_t closed() const;    ///< connections the client closed (EOF or reset seen)
    std::size_t held() const;      ///< requests waiting for release_held()
    std::vector<std::string> targets() const;  ///< every complete request, in arrival order

    /// Answers every held request, then waits until the client's kernel has acknowledged all of
    /// those bytes, so the responses are already sitting in the client's sockets when the test
    /// next runs the client's io_context: they complete in the same event-loop turn.
    [[nodiscard]] ::testing::AssertionResult release_held(
        std::chrono::milliseconds timeout = std::chrono::seconds(5)
    );

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace moneta::http_client::testing
