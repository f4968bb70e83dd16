// lite_pull_consumer: assign and subscribe modes, poll, seek, pause/resume, commit and
// auto-commit (asserted on the broker's committed offsets), rebalance between two members.
#include <corocket/lite_pull_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

/// Polls until `want` messages arrived (or `limit` passed); returns body → times seen.
asio::awaitable<std::map<std::string, int>> poll_bodies(lite_pull_consumer& lc, std::size_t want,
                                                        std::chrono::milliseconds limit = 10s)
{
    std::map<std::string, int> seen;
    std::size_t total = 0;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (total < want && std::chrono::steady_clock::now() < end) {
        auto [ec, r] = co_await lc.async_poll(200ms, tuple_token);
        if (ec)
            break;
        for (const auto& m : r.messages()) {
            ++seen[std::string(m.body())];
            ++total;
        }
    }
    co_return seen;
}

lite_pull_options lite_options(std::string group)
{
    auto o = test_consumer_options<lite_pull_options>(std::move(group));
    o.broker_suspend = 300ms;
    return o;
}

}  // namespace

TEST_CASE("lite pull, assign: poll everything, commit, seek, pause and resume")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("LiteA");
        co_await cluster.create_topic(topic, 2);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 20, 2);
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        auto opts = lite_options(group);
        opts.auto_commit = false;
        lite_pull_consumer lc(c, opts);
        const message_queue q0{topic, cluster.broker_name(), 0}, q1{topic, cluster.broker_name(), 1};
        lc.assign({q1, q0});
        lc.start();

        auto seen = co_await poll_bodies(lc, 20);
        CHECK(seen.size() == 20);
        for (const auto& [body, n] : seen)
            CHECK(n == 1);
        CHECK(lc.assignment() == std::vector<message_queue>{q0, q1});

        auto [cec] = co_await lc.async_commit(tuple_token);
        REQUIRE_FALSE(cec);
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.committed(group, topic, 0);
            CHECK(got == 10);
        }
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.committed(group, topic, 1);
            CHECK(got == 10);
        }

        // Seek back: the queue is read again from the start.
        auto [sec] = co_await lc.async_seek_to_begin(q0, tuple_token);
        REQUIRE_FALSE(sec);
        auto again = co_await poll_bodies(lc, 10);
        CHECK(again.size() == 10);
        for (const auto& [body, n] : again)
            CHECK(seen.contains(body));
        lc.seek(q1, 8);
        auto tail = co_await poll_bodies(lc, 2);
        CHECK(tail == std::map<std::string, int>{{"m-17", 1}, {"m-19", 1}});

        // Paused queues are not pulled; resuming brings their messages. q0's long poll is under
        // way: the broker answers it as soon as p-0 arrives, and that answer must not be taken.
        lc.pause({q0});
        {
            const bool sent = co_await send_many(c, topic, 4, 2, "p");
            REQUIRE(sent);
        }
        auto only_q1 = co_await poll_bodies(lc, 4, 1500ms);
        CHECK(only_q1 == std::map<std::string, int>{{"p-1", 1}, {"p-3", 1}});
        lc.resume({q0});
        auto q0_now = co_await poll_bodies(lc, 2);
        CHECK(q0_now == std::map<std::string, int>{{"p-0", 1}, {"p-2", 1}});

        auto [stop_ec] = co_await lc.async_stop(tuple_token);
        CHECK_FALSE(stop_ec);
        // auto_commit off: stop does not commit what was polled after the explicit commit.
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto got = co_await cluster.committed(group, topic, 0);
            CHECK(got == 10);
        }
        auto [pec, none] = co_await lc.async_poll(10ms, tuple_token);
        CHECK(pec == client_errc::not_running);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("lite pull, subscribe: two members share the queues; the survivor takes over")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("LiteS");
        co_await cluster.create_topic(topic, 4);
        client c1(ioc.get_executor(), cluster.config());
        client c2(ioc.get_executor(), cluster.config());
        c1.start();
        c2.start();
        const auto group = unique_name("CG");
        lite_pull_consumer a(c1, lite_options(group));
        lite_pull_consumer b(c2, lite_options(group));
        REQUIRE_FALSE(a.subscribe(topic, "*"));
        REQUIRE_FALSE(b.subscribe(topic, "*"));
        a.start();
        b.start();
        // Members learn of each other at different moments: wait for the settled split (two
        // queues each, together all four).
        const auto settled = [&] {
            std::set<message_queue> all;
            for (const auto& q : a.assignment())
                all.insert(q);
            for (const auto& q : b.assignment())
                all.insert(q);
            return a.assignment().size() == 2 && b.assignment().size() == 2 && all.size() == 4;
        };
        {  // rebalance_interval is 300 ms: a split that holds for 1 s has settled
            const bool split = co_await wait_until_stable(settled, 1s);
            REQUIRE(split);
        }

        {
            const bool sent = co_await send_many(c1, topic, 40, 4);
            REQUIRE(sent);
        }
        std::map<std::string, int> seen_a, seen_b;
        const auto end = std::chrono::steady_clock::now() + 10s;
        while (seen_a.size() + seen_b.size() < 40 && std::chrono::steady_clock::now() < end) {
            auto [ea, ra] = co_await a.async_poll(50ms, tuple_token);
            for (const auto& m : ra.messages())
                ++seen_a[std::string(m.body())];
            auto [eb, rb] = co_await b.async_poll(50ms, tuple_token);
            for (const auto& m : rb.messages())
                ++seen_b[std::string(m.body())];
        }
        CHECK(seen_a.size() == 20);
        CHECK(seen_b.size() == 20);
        for (const auto& [body, n] : seen_a)
            CHECK_FALSE(seen_b.contains(body));

        // b leaves (committing what it polled); a takes all four queues and starts after b's offsets.
        auto [bec] = co_await b.async_stop(tuple_token);
        CHECK_FALSE(bec);
        {
            const bool taken = co_await wait_until([&] { return a.assignment().size() == 4; });
            REQUIRE(taken);
        }
        {
            const bool sent = co_await send_many(c1, topic, 8, 4, "after");
            REQUIRE(sent);
        }
        auto rest = co_await poll_bodies(a, 8);
        CHECK(rest.size() == 8);
        for (const auto& [body, n] : rest)
            CHECK(body.starts_with("after-"));  // nothing b consumed comes back

        auto [aec] = co_await a.async_stop(tuple_token);
        CHECK_FALSE(aec);
        for (int q = 0; q < 4; ++q)
            {  // (GCC 12 cannot co_await inside a Catch2 assertion)  // auto-commit on stop
                const auto got = co_await cluster.committed(group, topic, q);
                CHECK(got == 12);
            }
        co_await c1.async_stop(tuple_token);
        co_await c2.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("lite pull, subscribe: members starting together settle on NOTIFY_CONSUMER_IDS_CHANGED alone")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("LiteN");
        co_await cluster.create_topic(topic, 6);
        const auto group = unique_name("CG");
        auto opts = lite_options(group);
        opts.rebalance_interval = 600s;  // only the broker's notifications can move queues here
        std::vector<std::unique_ptr<client>> clients;
        std::vector<std::unique_ptr<lite_pull_consumer>> members;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<client>(ioc.get_executor(), cluster.config()));
            clients.back()->start();
            members.push_back(std::make_unique<lite_pull_consumer>(*clients.back(), opts));
            REQUIRE_FALSE(members.back()->subscribe(topic, "*"));
        }
        // Started in one go, the members' rounds overlap with each other's joins: a notification
        // that arrives during a round must still cause another one.
        for (auto& m : members)
            m->start();
        const auto split = [&] {
            std::set<message_queue> all;
            for (const auto& m : members) {
                const auto mine = m->assignment();
                if (mine.size() != 2)
                    return false;
                all.insert(mine.begin(), mine.end());
            }
            return all.size() == 6;
        };
        {
            const bool settled = co_await wait_until_stable(split, 1s);
            REQUIRE(settled);
        }
        for (auto& m : members) {
            auto [ec] = co_await m->async_stop(tuple_token);
            CHECK_FALSE(ec);
        }
        for (auto& c : clients)
            co_await c->async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("lite pull, manual commit: a queue handed to another member keeps the offset the user committed")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("LiteM");
        co_await cluster.create_topic(topic, 2);
        client c1(ioc.get_executor(), cluster.config());
        client c2(ioc.get_executor(), cluster.config());
        c1.start();
        c2.start();
        {
            const bool sent = co_await send_many(c1, topic, 20, 2);
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        auto opts = lite_options(group);
        opts.auto_commit = false;
        lite_pull_consumer a(c1, opts);
        REQUIRE_FALSE(a.subscribe(topic, "*"));
        a.start();
        // a polls everything and commits nothing.
        {
            const bool half = co_await wait_until([&] { return a.assignment().size() == 2; });
            REQUIRE(half);
        }
        auto first = co_await poll_bodies(a, 20);
        REQUIRE(first.size() == 20);
        lite_pull_consumer b(c2, opts);
        REQUIRE_FALSE(b.subscribe(topic, "*"));
        b.start();
        {  // the queues are split: one of them moved from a to b, uncommitted
            const bool split = co_await wait_until_stable(
                [&] { return a.assignment().size() == 1 && b.assignment().size() == 1; }, 1s);
            REQUIRE(split);
        }
        // a's rebalance released a queue without committing the position a had merely polled
        // (a group that never committed reads 0 here, or nothing at all).
        for (int queue = 0; queue < 2; ++queue) {
            const auto committed = co_await cluster.committed(group, topic, queue);
            CHECK(committed <= 0);
        }
        // So b reads its queue from the start.
        auto again = co_await poll_bodies(b, 10, 5s);
        CHECK(again.size() == 10);
        for (const auto& [body, n] : again)
            CHECK(first.contains(body));
        auto [aec] = co_await a.async_stop(tuple_token);
        CHECK_FALSE(aec);
        auto [bec] = co_await b.async_stop(tuple_token);
        CHECK_FALSE(bec);
        co_await c1.async_stop(tuple_token);
        co_await c2.async_stop(tuple_token);
        co_await cluster.close();
    });
}
