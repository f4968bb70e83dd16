// Consumers and a broker's slave: following suggestWhichBrokerId to the slave and back, never
// committing through it, and reading on while the master is gone. These need a cluster whose
// slave and memory window a test controls, so they run on the embedded broker only (a real
// cluster's slaveReadEnable and accessMessageInMemoryMaxRatio are its operator's choice).
#include <corocket/push_consumer.hpp>
#include <corocket/remoting/codes.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;
namespace rc = remoting::request_code;

namespace {

testing::cluster_options slave_cluster_options(bool slave_read_enable)
{
    auto o = consumer_cluster_options();
    o.slave = true;
    o.slave_read_enable = slave_read_enable;
    o.slave_sync_interval = 100ms;
    return o;
}

/// A handler counting every body it receives in `seen`.
consume_handler count_into(std::map<std::string, int>& seen)
{
    return make_consume_handler([&seen](std::span<const message_view> batch) {
        for (const auto& m : batch)
            ++seen[std::string(m.body())];
        return consume_status::success;
    });
}

/// A completion that requires success and sets `done`.
auto mark_done(bool& done)
{
    return [&done](error_code ec) {
        CHECK_FALSE(ec);
        done = true;
    };
}

/// Consumes from `topic` with a fresh group until `count` distinct bodies arrived (or 20 s);
/// returns how often each body was seen.
asio::awaitable<std::map<std::string, int>> consume(client& c, const std::string& topic, std::size_t count,
                                                    const std::string& group)
{
    push_consumer pc(c, test_consumer_options<push_options>(group));
    REQUIRE_FALSE(pc.subscribe(topic, "*"));
    std::map<std::string, int> seen;
    bool done = false;
    pc.async_run(count_into(seen), mark_done(done));
    const bool all = co_await wait_until([&] { return seen.size() >= count; }, 20s);
    CHECK(all);
    co_await pc.async_stop(tuple_token);
    const bool stopped = co_await wait_until([&] { return done; });
    CHECK(stopped);
    co_return seen;
}

void check_each_once(const std::map<std::string, int>& seen, std::size_t count)
{
    CHECK(seen.size() == count);
    for (const auto& [body, n] : seen) {
        INFO(body);
        CHECK(n == 1);
    }
}

using cluster_body = std::function<asio::awaitable<void>(asio::io_context&, consumer_cluster&, const std::string&)>;

/// Runs `body` with a fresh topic of `queues` queues on the embedded broker with a slave, and
/// skips on a real cluster.
void on_slave_cluster(testing::cluster_options opts, int queues, cluster_body body)
{
    run_coro([&](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor(), opts);
        if (!cluster.embedded()) {
            WARN("slave tests need the embedded broker: skipped against COROCKET_NAMESRV");
            co_return;
        }
        const auto topic = unique_name("Slave");
        co_await cluster.create_topic(topic, queues);
        co_await body(ioc, cluster, topic);
        co_await cluster.close();
    });
}

constexpr std::size_t backlog = 300;

/// Runs `body` on a single-queue topic holding `backlog` bodies of 500 B, far outside the
/// broker's 16 KiB memory window, with a started client.
void on_backlog(bool slave_read_enable,
                std::function<asio::awaitable<void>(consumer_cluster&, client&, const std::string&)> body)
{
    auto opts = slave_cluster_options(slave_read_enable);
    opts.memory_bytes = 16 * 1024;
    on_slave_cluster(opts, 1, [&](asio::io_context& ioc, consumer_cluster& cluster, const std::string& topic)
                                  -> asio::awaitable<void> {
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_many(c, topic, static_cast<int>(backlog), 1, std::string(500, 'x'));
            REQUIRE(sent);
        }
        co_await body(cluster, c, topic);
        co_await c.async_stop(tuple_token);
    });
}

}  // namespace

TEST_CASE("slave: a lagging push consumer is sent to the slave, comes back, and commits to the master only")
{
    on_backlog(true, [](consumer_cluster& cluster, client& c, const std::string& topic) -> asio::awaitable<void> {
        auto& broker = cluster.embedded_cluster();
        const auto group = unique_name("CG");
        const auto seen = co_await consume(c, topic, backlog, group);
        check_each_once(seen, backlog);

        // The first pulls went to the master, which sent the consumer on; the slave sent it
        // back once it had caught up with the memory window.
        const auto slave_pulls = broker.requests_received(0, 1, rc::pull_message);
        const auto master_pulls = broker.requests_received(0, 0, rc::pull_message);
        INFO("pulls: master " << master_pulls << ", slave " << slave_pulls);
        CHECK(slave_pulls > 0);
        CHECK(master_pulls > 1);
        // Offsets went to the master, never to the slave (whose copy would be overwritten).
        CHECK(broker.requests_received(0, 1, rc::update_consumer_offset) == 0);
        const bool committed = co_await cluster.wait_committed(group, topic, 0, backlog);
        CHECK(committed);
    });
}

TEST_CASE("slave: without slaveReadEnable the same backlog is read from the master alone")
{
    on_backlog(false, [](consumer_cluster& cluster, client& c, const std::string& topic) -> asio::awaitable<void> {
        const auto seen = co_await consume(c, topic, backlog, unique_name("CG"));
        check_each_once(seen, backlog);
        CHECK(cluster.embedded_cluster().requests_received(0, 1, rc::pull_message) == 0);
    });
}

TEST_CASE("slave: with the master offline a push consumer reads everything through the slave")
{
    on_slave_cluster(slave_cluster_options(false), 2, [](asio::io_context& ioc, consumer_cluster& cluster,
                                                         const std::string& topic) -> asio::awaitable<void> {
        {
            client producer(ioc.get_executor(), cluster.config());
            producer.start();
            const bool sent = co_await send_many(producer, topic, 50, 2);
            REQUIRE(sent);
            co_await producer.async_stop(tuple_token);
        }
        auto& broker = cluster.embedded_cluster();
        REQUIRE_FALSE(broker.set_offline(0, 0, true));

        // A client that starts now finds broker-a routed through its slave alone.
        client c(ioc.get_executor(), cluster.config());
        c.start();
        const auto seen = co_await consume(c, topic, 50, unique_name("CG"));
        check_each_once(seen, 50);
        CHECK(broker.requests_received(0, 1, rc::pull_message) > 0);
        co_await c.async_stop(tuple_token);
        REQUIRE_FALSE(broker.set_offline(0, 0, false));
    });
}

TEST_CASE("slave: the newest route decides a broker's addresses, whatever older cached routes said")
{
    on_slave_cluster(slave_cluster_options(false), 1, [](asio::io_context& ioc, consumer_cluster& cluster,
                                                         const std::string& older) -> asio::awaitable<void> {
        const auto newer = unique_name("SlaveNew");
        co_await cluster.create_topic(newer, 1);
        auto& broker = cluster.embedded_cluster();
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            auto [ec, route] = co_await c.async_route(older, tuple_token);
            REQUIRE_FALSE(ec);
        }
        CHECK(c.broker_address("broker-a", 0) == broker.broker_address());
        REQUIRE_FALSE(broker.set_offline(0, 0, true));
        {
            auto [ec, route] = co_await c.async_update_route(newer, tuple_token);
            REQUIRE_FALSE(ec);
        }
        // The route of `older` is still cached with the master in it; the cluster has dropped it.
        CHECK(c.broker_address("broker-a", 0).empty());
        CHECK(c.broker_address("broker-a", 1) == broker.slave_address());
        co_await c.async_stop(tuple_token);
        REQUIRE_FALSE(broker.set_offline(0, 0, false));
    });
}

TEST_CASE("slave: an orderly consumer takes queue locks from the master only")
{
    on_slave_cluster(slave_cluster_options(false), 2, [](asio::io_context& ioc, consumer_cluster& cluster,
                                                         const std::string& topic) -> asio::awaitable<void> {
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 20, 2);
            REQUIRE(sent);
        }
        auto& broker = cluster.embedded_cluster();
        REQUIRE_FALSE(broker.set_offline(0, 0, true));
        client consumer_client(ioc.get_executor(), cluster.config());
        consumer_client.start();
        auto opts = test_consumer_options<push_options>(unique_name("CG"));
        opts.orderly = true;
        push_consumer pc(consumer_client, opts);
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::map<std::string, int> seen;
        bool done = false;
        pc.async_run(count_into(seen), mark_done(done));
        // Several rebalance rounds with only the slave reachable: it is asked who is in the
        // group, but never for a lock, so nothing is consumed out of the master's sight.
        const bool rounds = co_await wait_until(
            [&] { return broker.requests_received(0, 1, rc::get_consumer_list_by_group) >= 3; });
        CHECK(rounds);
        CHECK(broker.requests_received(0, 1, rc::lock_batch_mq) == 0);
        CHECK(seen.empty());

        // With the master back, its locks let the consumer go on, in order, every message once.
        REQUIRE_FALSE(broker.set_offline(0, 0, false));
        const bool all = co_await wait_until([&] { return seen.size() == 20; }, 20s);
        CHECK(all);
        check_each_once(seen, 20);
        CHECK(broker.requests_received(0, 1, rc::lock_batch_mq) == 0);
        co_await pc.async_stop(tuple_token);
        const bool stopped = co_await wait_until([&] { return done; });
        CHECK(stopped);
        co_await consumer_client.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
    });
}
