// Consuming from an ACL or TLS cluster: the embedded broker, or the real brokers named by
// COROCKET_ACL_NAMESRV and COROCKET_TLS_NAMESRV (tools/rocketmq/cluster.sh start --acl / --tls).
// Signed or encrypted, heartbeats, rebalance, pulls and commits must all go through.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;

namespace {

// Sends 12 messages and consumes them with a push consumer, both on clients configured by
// `tweak`; then checks the group's commit reached the broker (read with the same settings).
asio::awaitable<void> produce_and_consume(asio::io_context& ioc, testing::cluster_options opts,
                                          std::function<void(client_config&)> tweak)
{
    test_cluster cluster(ioc.get_executor(), std::move(opts));
    if (!cluster.has_requested_security()) {
        WARN("skipped: COROCKET_NAMESRV lacks the ACL or TLS this test needs "
             "(set COROCKET_ACL_NAMESRV / COROCKET_TLS_NAMESRV)");
        co_return co_await cluster.stop();
    }
    const auto topic = unique_name("SecureC");
    REQUIRE_FALSE(co_await cluster.create_topic(topic, 2));
    auto cfg = cluster.client_config_for();
    tweak(cfg);
    client c(ioc.get_executor(), cfg);
    c.start();
    {
        const bool sent = co_await send_many(c, topic, 12, 2);
        REQUIRE(sent);
    }
    const auto group = unique_name("CG_Secure");
    push_consumer pc(c, test_consumer_options<push_options>(group));
    REQUIRE_FALSE(pc.subscribe(topic, "*"));
    std::set<std::string> seen;
    pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
        for (const auto& m : batch)
            seen.emplace(m.body());
        return consume_status::success;
    }), [](error_code) {});
    {
        const bool all = co_await wait_until([&] { return seen.size() == 12; });
        REQUIRE(all);
    }
    co_await pc.async_stop(tuple_token);
    // The final commit went through: a new member of the group would start after the 6 per queue.
    pull_consumer_config reader_opts;  // a named local: GCC 12 mis-destroys aggregate temporaries in coroutines
    reader_opts.group = group;
    pull_consumer reader(c, reader_opts);
    auto [rec, route] = co_await c.async_route(topic, tuple_token);
    REQUIRE_FALSE(rec);
    for (const auto& q : route.publish_queues(topic)) {
        auto [ec, off] = co_await reader.async_query_offset(q, tuple_token);
        CHECK_FALSE(ec);
        CHECK(off == 6);
    }
    co_await c.async_stop(tuple_token);
    co_await cluster.stop();
}

}  // namespace

TEST_CASE("ACL: a signed push consumer gets every message and commits its offsets", "[acl]")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        co_await produce_and_consume(ioc, test_cluster::acl_options(consumer_cluster_options()),
                                     [](client_config& c) { c.credentials = test_cluster::acl_test_credentials(); });
    });
}

TEST_CASE("TLS: a push consumer gets every message and commits its offsets over TLS", "[tls]")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        co_await produce_and_consume(ioc, test_cluster::tls_options(consumer_cluster_options()), [](client_config&) {});
    });
}
