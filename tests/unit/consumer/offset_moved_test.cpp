// A broker that moves a queue's offset back (PULL_OFFSET_MOVED, e.g. a topic deleted and
// created again) while messages of it are still being consumed: the consumer must start the
// queue over at the broker's offset, and the late results of the old messages must not push the
// committed offset past messages of the new generation. On the fake broker, because a real one
// cannot be made to shrink a queue on demand.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "fake_broker.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

TEST_CASE("push: an offset moved back under in-flight messages restarts the queue without skipping any")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("Moved");
        cluster.create_topic(topic, 1);
        client_config cfg;
        cfg.namesrv_addr = cluster.namesrv_address();
        client c(ioc.get_executor(), cfg);
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 20, 1, "old");
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        push_consumer pc(c, test_consumer_options<push_options>(group));
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::set<std::string> done;
        int blocked = 0;
        bool release = false;
        pc.async_run(
            [&](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
                const std::string body(batch[0].body());
                if (body >= "old-15" && body <= "old-19") {  // the last five stay in the handler
                    ++blocked;
                    while (!release)
                        co_await sleep_for(10ms);
                }
                done.insert(body);
                co_return consume_status::success;
            },
            [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool waiting = co_await wait_until([&] { return done.size() == 15 && blocked == 5; });
            REQUIRE(waiting);
        }

        // The queue now holds 10 messages; the consumer, at 20, is moved back to 10.
        cluster.truncate_queue(topic, 0, 10);
        {
            const bool restarted = co_await wait_until([&] { return cluster.committed(group, topic, 0) == 10; });
            CHECK(restarted);
        }
        {
            const bool sent = co_await send_many(c, topic, 5, 1, "new");  // offsets 10..14
            REQUIRE(sent);
        }
        {
            const bool consumed = co_await wait_until([&] { return done.count("new-4") == 1; });
            CHECK(consumed);
        }
        release = true;
        {
            const bool finished = co_await wait_until([&] { return done.count("old-19") == 1; });
            CHECK(finished);
        }
        // Give the late old results every chance to move the commit; it must stay at the end of
        // the new generation, not jump to 20 and skip what offsets 15..19 will hold next.
        co_await sleep_for(300ms);
        CHECK(cluster.committed(group, topic, 0) == 15);
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        cluster.close();
    });
}
