// The official Java client (rocketmq-client 4.9.8) as a test peer: a JVM running
// tests/interop/java/Peer.java, driven over its stdin with one JSON command a line, answering
// each command and reporting what its consumers receive and its transaction checkers are asked,
// one JSON event a line on its stdout. Built on first use by tests/interop/java/build.sh.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::test {

/// Whether the interop suite runs: it needs the real broker (COROCKET_NAMESRV).
bool interop_enabled();

class java_peer {
public:
    /// Builds the peer (once per process) and starts it on `namesrv`. FAILs the test when the
    /// build or the start fails.
    java_peer(boost::asio::any_io_executor ex, std::string namesrv);
    ~java_peer();
    java_peer(const java_peer&) = delete;
    java_peer& operator=(const java_peer&) = delete;

    /// Waits for the JVM's "ready" line.
    boost::asio::awaitable<void> start();

    /// Sends `cmd` (an "op" and its arguments) and completes with the reply; REQUIREs that the
    /// peer answered and that the command succeeded.
    boost::asio::awaitable<boost::json::object> call(boost::json::object cmd);
    /// The same without requiring success (the reply has "ok" and, on failure, "error").
    boost::asio::awaitable<boost::json::object> try_call(boost::json::object cmd);

    /// Every event ("recv", "check") reported so far, in order.
    const std::vector<boost::json::object>& events() const;
    /// The "msg" of every event `ev` from the peer object `id`, in order.
    std::vector<boost::json::object> messages(std::string_view ev, std::string_view id) const;

    /// Closes the peer's stdin (its clients shut down) and waits for the JVM to exit.
    boost::asio::awaitable<void> close();

    struct state;  // the process, its pipes, what it said (java_peer.cpp)

private:
    std::shared_ptr<state> state_;
};

}  // namespace corocket::test
