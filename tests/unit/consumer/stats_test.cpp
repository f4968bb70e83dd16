// Consumer figures and hooks: per subscription (processed, failed, last error, first/last message,
// pull and consume latency) and per queue (lag while the handler is busy), hooks around each call.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <stdexcept>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

const subscription_stats* find_sub(const consumer_stats& s, std::string_view topic)
{
    for (const auto& sub : s.subscriptions)
        if (sub.topic == topic)
            return &sub;
    return nullptr;
}

}  // namespace

TEST_CASE("stats: processed, failed, last error, times, latencies, lag; hooks around every call")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("Stats");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        const auto group = unique_name("CG");
        push_options o;
        o.group = group;
        o.from_where = consume_from_where::first_offset;
        o.broker_suspend = 200ms;
        o.rebalance_interval = 300ms;
        o.persist_interval = 100ms;
        o.max_concurrency = 1;  // the held first call holds everything back
        push_consumer pc(c, o);
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        int before = 0, after = 0, after_failed = 0;
        std::string hook_group;
        std::set<std::string> hook_topics;
        pc.add_hook({.before = [&](const consume_context& ctx) {
                         ++before;
                         hook_group = std::string(ctx.group);
                     },
                     .after = [&](const consume_context& ctx) {
                         ++after;
                         after_failed += !ctx.success;
                         hook_topics.insert(ctx.queue.topic);
                         CHECK(ctx.messages.size() == 1);
                     }});
        {
            const bool sent = co_await send_many(c, topic, 10, 1);
            REQUIRE(sent);
        }
        bool release = false;
        int calls = 0;
        bool failed_once = false;
        const auto t0 = std::chrono::system_clock::now();
        pc.async_run([&](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
            ++calls;
            while (!release)
                co_await sleep_for(5ms);
            co_await sleep_for(2ms);
            if (batch[0].body() == "m-3" && !failed_once) {
                failed_once = true;
                co_return consume_status::retry_later;
            }
            co_return consume_status::success;
        }, [](error_code ec) { CHECK_FALSE(ec); });
        {  // the first call is held: the whole queue is lag
            const bool lagging = co_await wait_until([&] {
                const auto s = pc.stats();
                const auto* sub = find_sub(s, topic);
                return calls == 1 && sub && sub->queues.size() == 1 && sub->queues[0].max_offset == 10;
            });
            REQUIRE(lagging);
            const auto s = pc.stats();
            const auto* sub = find_sub(s, topic);
            CHECK(sub->queues[0].lag == 10);
            CHECK(sub->lag == 10);
            CHECK(sub->queues[0].cached_messages == 10);
            CHECK_FALSE(sub->first_message_time.has_value());
            CHECK(sub->processed == 0);
        }
        release = true;
        {
            // m-3 comes back through %RETRY% after delay level 3: 10 s on a real broker.
            const bool all = co_await wait_until([&] {
                const auto s = pc.stats();
                const auto* retry = find_sub(s, "%RETRY%" + group);
                const auto* main = find_sub(s, topic);
                return retry && retry->processed == 1 && main && main->processed == 9 && main->lag == 0;
            }, 30s);
            REQUIRE(all);
        }
        const auto s = pc.stats();
        CHECK(s.group == group);
        CHECK(s.start_time >= t0 - 1s);
        const auto* sub = find_sub(s, topic);
        REQUIRE(sub);
        CHECK(sub->processed == 9);
        CHECK(sub->failed == 1);
        CHECK(sub->last_error == "retry_later");
        REQUIRE(sub->last_error_time.has_value());
        REQUIRE(sub->first_message_time.has_value());
        REQUIRE(sub->last_message_time.has_value());
        CHECK(*sub->first_message_time >= t0);
        CHECK(*sub->last_message_time >= *sub->first_message_time);
        CHECK(sub->handler_calls == 10);
        CHECK(sub->consume_latency_avg >= 2ms);
        CHECK(sub->consume_latency_max >= sub->consume_latency_avg);
        CHECK(sub->pulls >= 1);
        CHECK(sub->pull_latency_avg > 0us);
        CHECK(sub->lag == 0);
        CHECK(before == 11);
        CHECK(after == 11);
        CHECK(after_failed == 1);
        CHECK(hook_group == group);
        CHECK(hook_topics == std::set<std::string>{topic, "%RETRY%" + group});
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("stats: a hook that throws is skipped; every message is still consumed once")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("HookThrows");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 5, 1);
            REQUIRE(sent);
        }
        push_consumer pc(c, test_consumer_options<push_options>(unique_name("CG")));
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        int after = 0;
        pc.add_hook({.before = [](const consume_context&) { throw std::runtime_error("before hook"); },
                     .after = [&](const consume_context&) {
                         ++after;
                         throw 42;  // not even a std::exception
                     }});
        std::map<std::string, int> seen;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            for (const auto& m : batch)
                ++seen[std::string(m.body())];
            return consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        {  // (the after hooks run once the handler's consume-timeout race has settled: wait for them)
            const bool all = co_await wait_until([&] { return seen.size() == 5 && after >= 5; });
            CHECK(all);
        }
        for (const auto& [body, n] : seen)
            CHECK(n == 1);
        CHECK(after >= 5);
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}
