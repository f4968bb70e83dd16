// What the consumer tests share: a cluster (the fake broker), a client on it, sleeping and
// waiting for a condition under a deadline.
#pragma once

#include <corocket/client.hpp>

#include "fake_broker.hpp"
#include "send_helper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <functional>
#include <random>
#include <string>

namespace corocket::test {

inline constexpr auto tuple_token = boost::asio::as_tuple(boost::asio::deferred);

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(tuple_token);
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
inline boost::asio::awaitable<bool> wait_until(std::function<bool()> cond,
                                               std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= end)
            co_return false;
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    co_return true;
}

inline std::string unique_name(std::string_view prefix)
{
    static std::mt19937_64 rng{std::random_device{}()};
    return std::string(prefix) + "_" + std::to_string(rng() % 100000000);
}

inline client_config config_for(const fake_cluster& cluster)
{
    client_config cfg;
    cfg.namesrv_addr = cluster.namesrv_address();
    cfg.rpc_timeout = std::chrono::seconds(5);
    return cfg;
}

/// Sends `n` messages "<prefix>-<i>" round-robin over `queues` queues; false on the first failure.
inline boost::asio::awaitable<bool> send_many(client& c, const std::string& topic, int n, int queues,
                                              std::string prefix = "m", std::string tag = {})
{
    for (int i = 0; i < n; ++i) {
        auto msg = make_message(topic, prefix + "-" + std::to_string(i), tag);
        auto [ec, sent] = co_await send_message(c, msg, i % queues);
        if (ec)
            co_return false;
    }
    co_return true;
}

}  // namespace corocket::test
