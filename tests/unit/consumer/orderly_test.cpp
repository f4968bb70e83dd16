// Orderly push consumption (§7.10): per-queue order across handler failures, across a member
// joining (queues move between clients under broker locks: never consumed by two at once), and a
// message rejected too often goes to the DLQ through the %RETRY% fallback send.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

push_options orderly_opts(std::string group)
{
    auto o = test_consumer_options<push_options>(std::move(group));
    o.orderly = true;
    o.lock_renew_interval = 500ms;
    o.suspend_current_queue_time = 50ms;
    return o;
}

/// Body "q<queue>-<index>".
std::pair<int, int> parse_body(std::string_view body)
{
    const auto dash = body.find('-');
    return {std::stoi(std::string(body.substr(1, dash - 1))), std::stoi(std::string(body.substr(dash + 1)))};
}

asio::awaitable<bool> send_per_queue(client& c, const std::string& topic, int queues, int per_queue)
{
    for (int i = 0; i < per_queue; ++i)
        for (int q = 0; q < queues; ++q) {
            auto msg = make_message(topic, "q" + std::to_string(q) + "-" + std::to_string(i));
            auto [ec, sent] = co_await send_message(c, msg, q);
            if (ec)
                co_return false;
        }
    co_return true;
}

/// Every entry comes after all smaller indices of its queue: nothing is handled before its
/// predecessors (a repeat after a failure or a hand-over is allowed, a jump ahead is not).
bool in_order(const std::vector<int>& log)
{
    int seen_up_to = -1;
    for (int i : log) {
        if (i > seen_up_to + 1)
            return false;
        seen_up_to = std::max(seen_up_to, i);
    }
    return true;
}

}  // namespace

TEST_CASE("orderly: each queue in order, a rejected batch is retried in place")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("Ord");
        co_await cluster.create_topic(topic, 2);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_per_queue(c, topic, 2, 10);
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        push_consumer pc(c, orderly_opts(group));
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::map<int, std::vector<int>> calls;  // queue → indices offered, in call order
        std::map<std::string, int> failures{{"q0-3", 1}, {"q1-5", 2}};
        std::set<std::string> done;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            REQUIRE(batch.size() == 1);
            const std::string body(batch[0].body());
            const auto [q, i] = parse_body(body);
            calls[q].push_back(i);
            if (failures[body] > 0) {
                --failures[body];
                return consume_status::retry_later;
            }
            done.insert(body);
            return consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool all = co_await wait_until([&] { return done.size() == 20; });
            REQUIRE(all);
        }
        CHECK(calls[0] == std::vector<int>{0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9});
        CHECK(calls[1] == std::vector<int>{0, 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9});
        auto [sec] = co_await pc.async_stop(tuple_token);
        CHECK_FALSE(sec);
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.committed(group, topic, 0);
            CHECK(got == 10);
        }
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.committed(group, topic, 1);
            CHECK(got == 10);
        }
        // Nothing was sent back: orderly retries stay local.
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.max_offset("%RETRY%" + group, 0);
            CHECK(got == 0);
        }
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("orderly: a member joining takes queues over under locks; order kept, never two at once")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("OrdRb");
        co_await cluster.create_topic(topic, 4);
        client producer(ioc.get_executor(), cluster.config());
        producer.start();
        constexpr int per_queue = 30;
        {
            const bool sent = co_await send_per_queue(producer, topic, 4, per_queue);
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        std::map<int, std::vector<int>> log;  // queue → indices handled successfully, in time order
        std::map<int, int> inside;            // queue → handlers running now (both members)
        int overlaps = 0;
        std::map<std::string, int> by_member;
        std::set<int> failed_once;
        auto handler_for = [&](std::string member) {
            return [&, member](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
                const auto [q, i] = parse_body(batch[0].body());
                if (++inside[q] > 1)
                    ++overlaps;
                co_await sleep_for(10ms);
                --inside[q];
                if (i == 7 && failed_once.insert(q).second)  // one failure per queue, retried in place
                    co_return consume_status::retry_later;
                log[q].push_back(i);
                ++by_member[member];
                co_return consume_status::success;
            };
        };
        auto c1 = std::make_unique<client>(ioc.get_executor(), cluster.config());
        c1->start();
        push_consumer a(*c1, orderly_opts(group));
        REQUIRE_FALSE(a.subscribe(topic, "*"));
        a.async_run(handler_for("a"), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool started = co_await wait_until([&] { return by_member["a"] >= 8; });
            REQUIRE(started);
        }
        auto cfg2 = cluster.config();
        cfg2.instance_name = "joiner";
        client c2(ioc.get_executor(), cfg2);
        c2.start();
        push_consumer b(c2, orderly_opts(group));
        REQUIRE_FALSE(b.subscribe(topic, "*"));
        b.async_run(handler_for("b"), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool all = co_await wait_until([&] {
                std::size_t firsts = 0;
                for (const auto& [q, l] : log)
                    firsts += std::set<int>(l.begin(), l.end()).size();
                return firsts == 4 * per_queue;
            }, 20s);
            REQUIRE(all);
        }
        CHECK(by_member["b"] > 0);  // the joiner got queues
        CHECK(overlaps == 0);
        for (const auto& [q, l] : log) {
            INFO("queue " << q);
            CHECK(in_order(l));
        }
        co_await b.async_stop(tuple_token);
        co_await a.async_stop(tuple_token);
        for (int q = 0; q < 4; ++q)
            {  // (GCC 12 cannot co_await inside a Catch2 assertion)
                const auto got = co_await cluster.committed(group, topic, q);
                CHECK(got == per_queue);
            }
        co_await c2.async_stop(tuple_token);
        co_await c1->async_stop(tuple_token);
        co_await producer.async_stop(tuple_token);
        co_await cluster.close();
    }, std::chrono::seconds(60));
}

TEST_CASE("orderly: a message rejected orderly_max_reconsume_times times goes to the DLQ, the queue moves on")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // Delay levels as long as a stock broker's: the dead letter must not wait one out.
        auto stock_delays = consumer_cluster_options();
        stock_delays.delay_time_scale = 1.0;
        consumer_cluster cluster(ioc.get_executor(), stock_delays);
        const auto topic = unique_name("OrdDlq");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        const auto group = unique_name("CG");
        auto opts = orderly_opts(group);
        opts.orderly_max_reconsume_times = 2;
        push_consumer pc(c, opts);
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::vector<std::string> calls;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            calls.emplace_back(batch[0].body());
            return batch[0].body() == "poison" ? consume_status::retry_later : consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        for (std::string body : {"before", "poison", "after"}) {
            auto msg = make_message(topic, body);
            auto [ec, sent] = co_await send_message(c, msg, 0);
            REQUIRE_FALSE(ec);
        }
        {
            const bool after = co_await wait_until([&] { return !calls.empty() && calls.back() == "after"; });
            REQUIRE(after);
        }
        CHECK(calls == std::vector<std::string>{"before", "poison", "poison", "poison", "after"});
        {
            const auto end = std::chrono::steady_clock::now() + 5s;
            while (co_await cluster.max_offset("%DLQ%" + group, 0) < 1 && std::chrono::steady_clock::now() < end)
                co_await sleep_for(20ms);
        }
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.bodies("%DLQ%" + group);
            CHECK(got == std::vector<std::string>{"poison"});
        }
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.wait_committed(group, topic, 0, 3);
            CHECK(got);
        }
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("orderly: a queue whose handler outlasts the drain keeps its lock until the handler returns")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("OrdBusy");
        co_await cluster.create_topic(topic, 2);
        client ca(ioc.get_executor(), cluster.config());
        client cb(ioc.get_executor(), cluster.config());
        ca.start();
        cb.start();
        {
            const bool sent = co_await send_per_queue(ca, topic, 2, 2);  // q0-0 q1-0 q0-1 q1-1
            REQUIRE(sent);
        }
        // Alone, a member takes everything; once b is there, queue 0 of the topic is b's.
        const std::string a_id = ca.client_id();
        auto opts = orderly_opts(unique_name("CG"));
        opts.drain_timeout = 200ms;
        opts.strategy = [a_id, topic](std::string_view, std::string_view me, const std::vector<message_queue>& all,
                                      const std::vector<std::string>& cids) {
            std::vector<message_queue> out;
            for (const auto& q : all) {
                const bool to_b = q.topic == topic && q.queue_id == 0;
                if (cids.size() < 2 || (me == a_id) != to_b)
                    out.push_back(q);
            }
            return out;
        };
        std::vector<std::string> by_a, by_b;
        bool release = false;
        bool a_inside = false;
        push_consumer a(ca, opts);
        REQUIRE_FALSE(a.subscribe(topic, "*"));
        a.async_run(
            [&](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
                const std::string body(batch[0].body());
                if (body == "q0-0") {
                    a_inside = true;
                    while (!release)  // far longer than the 200 ms drain
                        co_await sleep_for(10ms);
                }
                by_a.push_back(body);
                co_return consume_status::success;
            },
            [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool inside = co_await wait_until([&] { return a_inside; });
            REQUIRE(inside);
        }
        push_consumer b(cb, opts);
        REQUIRE_FALSE(b.subscribe(topic, "*"));
        b.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            by_b.emplace_back(batch[0].body());
            return consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        // Queue 0 is b's now, but a is still inside q0-0: through many rebalance rounds (300 ms)
        // and drain timeouts (200 ms) a keeps the lock, so b cannot take the queue.
        co_await sleep_for(1500ms);
        for (const auto& body : by_b)
            CHECK(body.rfind("q0-", 0) != 0);  // b never consumed queue 0 beside a's handler

        release = true;
        {
            const bool handed_over = co_await wait_until(
                [&] { return std::find(by_b.begin(), by_b.end(), "q0-1") != by_b.end(); });
            CHECK(handed_over);
        }
        // Every message once, q0-0 by a (whose handler finished it) and q0-1 by b.
        std::vector<std::string> all = by_a;
        all.insert(all.end(), by_b.begin(), by_b.end());
        std::sort(all.begin(), all.end());
        CHECK(all == std::vector<std::string>{"q0-0", "q0-1", "q1-0", "q1-1"});
        CHECK(std::find(by_a.begin(), by_a.end(), "q0-0") != by_a.end());
        co_await a.async_stop(tuple_token);
        co_await b.async_stop(tuple_token);
        co_await ca.async_stop(tuple_token);
        co_await cb.async_stop(tuple_token);
        co_await cluster.close();
    });
}
