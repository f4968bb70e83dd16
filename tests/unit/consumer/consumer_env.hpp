// What the consumer tests share: a cluster (a real RocketMQ named by COROCKET_NAMESRV, otherwise
// the embedded one, through test_cluster), a client on it, what the broker holds (committed
// offsets, queue sizes, stored bodies — asked over the protocol, so it works on both), sleeping
// and waiting for a condition under a deadline.
#pragma once

#include <corocket/client.hpp>
#include <corocket/pull_consumer.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include "send_helper.hpp"
#include "sleep.hpp"
#include "test_cluster.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corocket::test {

inline constexpr auto tuple_token = boost::asio::as_tuple(boost::asio::deferred);

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

/// Waits until `cond` has held without a break for `hold`. A rebalance adds queues one by one,
/// so a split can look right for a moment while a member is still taking more; holding for
/// several rebalance intervals tells a settled split from one passing through.
inline boost::asio::awaitable<bool> wait_until_stable(std::function<bool()> cond, std::chrono::milliseconds hold,
                                                      std::chrono::milliseconds limit = std::chrono::seconds(20))
{
    const auto end = std::chrono::steady_clock::now() + limit;
    auto since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < end) {
        if (!cond())
            since = std::chrono::steady_clock::now();
        else if (std::chrono::steady_clock::now() - since >= hold)
            co_return true;
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    co_return false;
}

/// Consumer options of type `Options` (push_options, lite_pull_options) with the timings the
/// tests run on: start from the first offset, pulls held 200 ms by the broker, a rebalance every
/// 300 ms, offsets committed every 100 ms, a failed pull retried after 100 ms.
template <class Options>
Options test_consumer_options(std::string group)
{
    using namespace std::chrono_literals;
    Options o;
    o.group = std::move(group);
    o.from_where = consume_from_where::first_offset;
    o.broker_suspend = 200ms;
    o.pull_timeout = 5s;
    o.rebalance_interval = 300ms;
    o.persist_interval = 100ms;
    o.pull_error_delay = 100ms;
    return o;
}

inline std::string unique_name(std::string_view prefix) { return test_cluster::unique_name(prefix); }

/// Embedded-broker settings the consumer tests rely on: send-back delays scaled down (level 3,
/// "10s", takes 10 ms) and pulls held at most 2 s.
inline testing::cluster_options consumer_cluster_options()
{
    testing::cluster_options o;
    o.delay_time_scale = 0.001;
    o.long_poll_cap = std::chrono::milliseconds(2000);
    return o;
}

/// test_cluster plus an admin client that reads what the broker holds.
class consumer_cluster {
public:
    explicit consumer_cluster(boost::asio::any_io_executor ex, testing::cluster_options opts = consumer_cluster_options())
        : ex_(ex), base_(ex, std::move(opts))
    {
    }

    bool embedded() const noexcept { return base_.embedded(); }
    testing::embedded_cluster& embedded_cluster() { return *base_.embedded_cluster(); }
    const std::string& namesrv() const noexcept { return base_.namesrv(); }
    /// Name of the broker holding the topics created here (the first one of the route).
    const std::string& broker_name() const noexcept { return broker_name_; }

    client_config config() const { return base_.client_config_for(); }

    /// Creates `topic` and learns the broker name from its route.
    boost::asio::awaitable<void> create_topic(const std::string& topic, int queues = 4)
    {
        auto ec = co_await base_.create_topic(topic, queues);
        REQUIRE_FALSE(ec);
        auto [rec, route] = co_await admin().async_route(topic, tuple_token);
        REQUIRE_FALSE(rec);
        auto published = route.publish_queues(topic);
        REQUIRE_FALSE(published.empty());
        broker_name_ = published.front().broker_name;
    }

    /// The committed offset of `group` on queue `queue_id` (-1 when none).
    boost::asio::awaitable<std::int64_t> committed(const std::string& group, const std::string& topic, int queue_id)
    {
        pull_consumer pc(admin(), {.group = group});
        message_queue q{topic, broker_name_, queue_id};
        auto [ec, off] = co_await pc.async_query_offset(std::move(q), tuple_token);
        co_return ec ? -2 : off;
    }

    /// Messages in queue `queue_id` of `topic` (0 when the queue does not exist yet).
    boost::asio::awaitable<std::int64_t> max_offset(const std::string& topic, int queue_id)
    {
        pull_consumer pc(admin(), {.group = "CG_ADMIN"});
        message_queue q{topic, broker_name_, queue_id};
        auto [ec, off] = co_await pc.async_max_offset(std::move(q), tuple_token);
        co_return ec ? 0 : off;
    }

    /// Waits until the committed offset of `group` on a queue is `expected`.
    boost::asio::awaitable<bool> wait_committed(const std::string& group, const std::string& topic, int queue_id,
                                                std::int64_t expected,
                                                std::chrono::milliseconds limit = std::chrono::seconds(10))
    {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (co_await committed(group, topic, queue_id) != expected) {
            if (std::chrono::steady_clock::now() >= end)
                co_return false;
            co_await sleep_for(std::chrono::milliseconds(20));
        }
        co_return true;
    }

    /// Bodies stored in queue `queue_id` of `topic` (pulled from offset 0 with a throw-away group).
    boost::asio::awaitable<std::vector<std::string>> bodies(const std::string& topic, int queue_id = 0)
    {
        std::vector<std::string> out;
        pull_consumer pc(admin(), {.group = "CG_ADMIN", .broker_suspend = std::chrono::milliseconds(0),
                                   .pull_timeout = std::chrono::seconds(5)});
        const auto all = parse_tag_expression(topic, "*");
        std::int64_t offset = 0;
        for (;;) {
            message_queue q{topic, broker_name_, queue_id};
            auto [ec, r] = co_await pc.async_pull(std::move(q), offset, 32, all, tuple_token);
            if (ec || r.status != pull_status::found)
                break;
            for (const auto& m : r.messages())
                out.emplace_back(m.body());
            offset = r.next_begin_offset;
        }
        co_return out;
    }

    /// Waits until queue `queue_id` of `topic` serves `count` messages. A broker answers a send
    /// once its commit log has the message and builds the consume queue, which pulls and offset
    /// queries read, right after on another thread (Java's ReputMessageService).
    boost::asio::awaitable<bool> wait_stored(const std::string& topic, int queue_id, std::size_t count,
                                             std::chrono::milliseconds limit = std::chrono::seconds(10))
    {
        const auto end = std::chrono::steady_clock::now() + limit;
        while ((co_await bodies(topic, queue_id)).size() < count) {
            if (std::chrono::steady_clock::now() >= end)
                co_return false;
            co_await sleep_for(std::chrono::milliseconds(20));
        }
        co_return true;
    }

    /// Stops the admin client and the embedded cluster.
    boost::asio::awaitable<void> close()
    {
        if (admin_)
            co_await admin_->async_stop(tuple_token);
        admin_.reset();
        co_await base_.stop();
    }

private:
    client& admin()
    {
        if (!admin_) {
            admin_ = std::make_unique<client>(ex_, base_.client_config_for());
            admin_->start();
        }
        return *admin_;
    }

    boost::asio::any_io_executor ex_;
    test_cluster base_;
    std::unique_ptr<client> admin_;
    std::string broker_name_ = "broker-a";
};

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
