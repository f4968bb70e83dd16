// Two consumers of different groups on one client: each group gets every message, and each
// consumer reacts to NOTIFY_CONSUMER_IDS_CHANGED of its own group (the client routes broker
// requests by group), so a member joining one group rebalances that group only.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

push_options slow_timer_opts(std::string group)
{
    auto o = test_consumer_options<push_options>(std::move(group));
    o.rebalance_interval = 60s;  // only the broker's notification can trigger a rebalance in time
    return o;
}

std::size_t topic_queues(const push_consumer& pc, const std::string& topic)
{
    std::size_t n = 0;
    for (const auto& q : pc.assignment())
        n += q.topic == topic;
    return n;
}

}  // namespace

TEST_CASE("push: two groups on one client; a member joining one group rebalances that group only")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("Shared");
        co_await cluster.create_topic(topic, 4);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        const auto g1 = unique_name("CG1"), g2 = unique_name("CG2");
        std::map<std::string, int> seen1, seen2;
        auto counting = [](std::map<std::string, int>& seen) {
            return make_consume_handler([&seen](std::span<const message_view> batch) {
                for (const auto& m : batch)
                    ++seen[std::string(m.body())];
                return consume_status::success;
            });
        };
        push_consumer a(c, slow_timer_opts(g1)), b(c, slow_timer_opts(g2));
        REQUIRE_FALSE(a.subscribe(topic, "*"));
        REQUIRE_FALSE(b.subscribe(topic, "*"));
        a.async_run(counting(seen1), [](error_code ec) { CHECK_FALSE(ec); });
        b.async_run(counting(seen2), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool assigned =
                co_await wait_until([&] { return topic_queues(a, topic) == 4 && topic_queues(b, topic) == 4; });
            REQUIRE(assigned);
        }
        {
            const bool sent = co_await send_many(c, topic, 20, 4);
            REQUIRE(sent);
        }
        {
            const bool all = co_await wait_until([&] { return seen1.size() == 20 && seen2.size() == 20; });
            REQUIRE(all);
        }

        // A second member of g1 on another client: the broker notifies g1's members.
        auto cfg2 = cluster.config();
        cfg2.instance_name = "second";
        client c2(ioc.get_executor(), cfg2);
        c2.start();
        push_consumer a2(c2, slow_timer_opts(g1));
        REQUIRE_FALSE(a2.subscribe(topic, "*"));
        a2.async_run(counting(seen1), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool split = co_await wait_until([&] { return topic_queues(a, topic) == 2 && topic_queues(a2, topic) == 2; }, 8s);
            CHECK(split);
        }
        CHECK(topic_queues(b, topic) == 4);

        co_await a2.async_stop(tuple_token);
        co_await a.async_stop(tuple_token);
        co_await b.async_stop(tuple_token);
        // The final commits are one-way requests on the consumers' connections, so a query on the
        // admin connection can reach a real broker before them: wait for each.
        for (int q = 0; q < 4; ++q) {
            {  // (GCC 12 cannot co_await inside a Catch2 assertion)
                const bool got = co_await cluster.wait_committed(g1, topic, q, 5);
                CHECK(got);
            }
            {  // (GCC 12 cannot co_await inside a Catch2 assertion)
                const bool got = co_await cluster.wait_committed(g2, topic, q, 5);
                CHECK(got);
            }
        }
        co_await c2.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}
