// What the consumer examples share: `--namesrv host:port` (or COROCKET_NAMESRV) or an
// in-process embedded cluster, a unique topic, a producer sending the example's messages, and
// running a coroutine to its exit status.
#pragma once

#include <corocket/client.hpp>
#include <corocket/producer.hpp>
#include <corocket/testing/embedded_cluster.hpp>
#include <corocket/testing/topics.hpp>

#include "namesrv_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>

#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace example {

namespace asio = boost::asio;
inline constexpr auto tuple_token = asio::as_tuple(asio::deferred);

/// "--namesrv host:port" from the command line, else COROCKET_NAMESRV; empty = embedded.
inline std::string namesrv_arg(int argc, char** argv)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string_view(argv[i]) == "--namesrv")
            return argv[i + 1];
    if (argc > 1) {
        fmt::print(stderr, "usage: {} [--namesrv host:port]\n", argv[0]);
        std::exit(2);
    }
    return namesrv_from_env();
}

/// The embedded cluster when no name server was given (stopped by stop()).
class cluster {
public:
    cluster(asio::any_io_executor ex, std::string namesrv) : namesrv_(std::move(namesrv))
    {
        if (!namesrv_.empty())
            return;
        embedded_ = std::make_unique<corocket::testing::embedded_cluster>(ex);
        if (auto ec = embedded_->start()) {
            fmt::print("could not start the embedded broker: {}\n", ec.message());
            std::exit(1);
        }
        namesrv_ = embedded_->namesrv_address();
    }
    const std::string& namesrv() const { return namesrv_; }
    bool embedded() const { return embedded_ != nullptr; }
    /// Creates `topic` with `queues` queues: directly on the embedded broker, through `c` on a real
    /// cluster (whose auto-creation on first send would take the producer's default of 4 queues).
    asio::awaitable<bool> create_topic(corocket::client& c, const std::string& topic, int queues)
    {
        if (embedded_) {
            embedded_->create_topic(topic, queues);
            co_return true;
        }
        auto [ec] = co_await corocket::testing::async_create_topic(c, topic, queues, tuple_token);
        if (ec)
            fmt::print("could not create topic {}: {}\n", topic, ec.message());
        co_return !ec;
    }
    asio::awaitable<void> stop()
    {
        if (embedded_)
            co_await embedded_->async_stop(tuple_token);
    }

private:
    std::string namesrv_;
    std::unique_ptr<corocket::testing::embedded_cluster> embedded_;
};

inline std::string unique(std::string_view prefix)
{
    return std::string(prefix) + "_" + std::to_string(std::random_device{}() % 1000000);
}

/// Sends `n` messages made by `make(i)` with a producer of its own; false on the first failure.
inline asio::awaitable<bool> produce(corocket::client& c, int n, std::function<corocket::message(int)> make,
                                     corocket::send_options opts = {})
{
    corocket::producer producer(c, {.group = unique("ExampleProducer")});
    if (producer.start())
        co_return false;
    bool ok = true;
    for (int i = 0; i < n && ok; ++i) {
        auto [ec, r] = co_await producer.async_send(make(i), opts, tuple_token);
        if (ec) {
            fmt::print("send failed: {}\n", ec.message());
            ok = false;
        }
    }
    co_await producer.async_stop(tuple_token);
    co_return ok;
}

/// Polls `done` every 10 ms for up to `limit`; whether it turned true.
inline asio::awaitable<bool> wait_for(std::function<bool()> done, std::chrono::seconds limit = std::chrono::seconds(30))
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            co_return false;
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(tuple_token);
    }
    co_return true;
}

/// Runs `body` on a fresh io_context and returns its status (1 on an exception).
inline int run(std::function<asio::awaitable<int>()> body)
{
    asio::io_context ioc{1};
    int status = 1;
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                fmt::print("failed: {}\n", x.what());
            }
            return;
        }
        status = s;
    });
    ioc.run();
    return status;
}

}  // namespace example
