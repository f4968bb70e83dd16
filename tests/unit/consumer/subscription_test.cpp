// push_consumer subscriptions and start points: tag and SQL92 expressions filter on the broker
// (what the handler receives is exactly the matching set), consume-from-timestamp starts at the
// first message stored at or after it, and flow control keeps the cache bounded while a slow
// handler works through a backlog.
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

push_options sub_opts(std::string group) { return test_consumer_options<push_options>(std::move(group)); }

/// Consumes with `pc` until `want` bodies were seen (or 10 s passed), then stops it. Returns
/// the bodies of `topic` (retry-topic copies would be duplicates; none are expected here).
asio::awaitable<std::multiset<std::string>> consume_bodies(push_consumer& pc, std::size_t want,
                                                           std::chrono::milliseconds settle = 300ms)
{
    std::multiset<std::string> seen;
    pc.async_run([&](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
        for (const auto& m : batch)
            seen.emplace(m.body());
        co_return consume_status::success;
    }, [](error_code ec) { CHECK_FALSE(ec); });
    co_await wait_until([&] { return seen.size() >= want; });
    co_await sleep_for(settle);  // anything that should not come has had its chance
    auto [ec] = co_await pc.async_stop(tuple_token);
    CHECK_FALSE(ec);
    co_return seen;
}

asio::awaitable<bool> send_with(client& c, const std::string& topic, std::string body, std::string tag,
                                std::vector<std::pair<std::string, std::string>> props)
{
    auto msg = make_message(topic, std::move(body), std::move(tag));
    for (auto& [k, v] : props)
        msg.set_property(k, v);
    auto [ec, sent] = co_await send_message(c, msg, 0);
    co_return !ec;
}

}  // namespace

TEST_CASE("push: tag and SQL92 subscriptions receive exactly the matching messages")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        auto copts = consumer_cluster_options();
        copts.enable_property_filter = true;  // a real cluster needs enablePropertyFilter=true too
        consumer_cluster cluster(ioc.get_executor(), copts);
        const auto topic = unique_name("SubF");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        struct row {
            const char* body;
            const char* tag;
            const char* a;
            const char* color;
        };
        const row rows[] = {{"r1", "TagA", "7", "red"},  {"r2", "TagB", "3", "red"}, {"r3", "TagC", "9", "blue"},
                            {"r4", "TagA", "12", "red"}, {"r5", "", "8", nullptr},   {"r6", "TagB", "6", "red"}};
        for (const auto& r : rows) {
            std::vector<std::pair<std::string, std::string>> props{{"a", r.a}};
            if (r.color)
                props.emplace_back("color", r.color);
            const bool sent = co_await send_with(c, topic, r.body, r.tag, props);
            REQUIRE(sent);
        }

        push_consumer by_tag(c, sub_opts(unique_name("CGTag")));
        REQUIRE_FALSE(by_tag.subscribe(topic, "TagA || TagB"));
        const auto tagged = co_await consume_bodies(by_tag, 4);
        CHECK(tagged == std::multiset<std::string>{"r1", "r2", "r4", "r6"});

        push_consumer by_sql(c, sub_opts(unique_name("CGSql")));
        // a > 5 AND color = 'red': r5 has no color (NULL compares false), r2 has a = 3.
        REQUIRE_FALSE(by_sql.subscribe_sql92(topic, "a > 5 AND color = 'red'"));
        const auto selected = co_await consume_bodies(by_sql, 3);
        CHECK(selected == std::multiset<std::string>{"r1", "r4", "r6"});

        push_consumer by_range(c, sub_opts(unique_name("CGSqlRange")));
        REQUIRE_FALSE(by_range.subscribe_sql92(topic, "a BETWEEN 6 AND 9 OR color IS NULL"));
        const auto ranged = co_await consume_bodies(by_range, 4);
        CHECK(ranged == std::multiset<std::string>{"r1", "r3", "r5", "r6"});

        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("push: consume_from_where::timestamp starts at the first message stored at or after it")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // A 4.9/5.x broker answers QUERY_CONSUMER_OFFSET with 0 for a group without an offset
        // while the queue's first message is still in memory (the young-queue rule), and the
        // Java client then starts from 0 whatever consumeFromWhere says. Only a queue whose
        // head is on disk reaches the timestamp search; the embedded broker is told to keep
        // (almost) nothing in memory so that it is one.
        auto copts = consumer_cluster_options();
        copts.memory_bytes = 1;
        consumer_cluster cluster(ioc.get_executor(), copts);
        const auto topic = unique_name("SubT");
        co_await cluster.create_topic(topic, 2);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 6, 2, "old");
            REQUIRE(sent);
        }
        co_await sleep_for(1100ms);  // store times have millisecond resolution; keep clear of them
        const auto from = std::chrono::system_clock::now();
        co_await sleep_for(100ms);
        {
            const bool sent = co_await send_many(c, topic, 6, 2, "new");
            REQUIRE(sent);
        }
        auto opts = sub_opts(unique_name("CGTs"));
        opts.from_where = consume_from_where::timestamp;
        opts.consume_timestamp = from;
        push_consumer pc(c, opts);
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        const auto seen = co_await consume_bodies(pc, 6);
        std::multiset<std::string> fresh, old;
        for (const auto& b : seen)
            (b.starts_with("new-") ? fresh : old).insert(b);
        CHECK(fresh == std::multiset<std::string>{"new-0", "new-1", "new-2", "new-3", "new-4", "new-5"});
        if (cluster.embedded())
            CHECK(old.empty());
        else if (!old.empty())
            WARN("the cluster answered the young-queue offset 0, so consumption began at the queue's start");
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

namespace {

/// Drains a backlog of 80 one-kilobyte messages over 4 queues with a handler that takes 20 ms a
/// message; returns the most messages the consumer held at once (sampled every 2 ms from its
/// statistics). The concurrency limit is set high so that it does not hold the pulls back: without
/// flow control the pulls outrun the handler and nearly the whole backlog ends up cached.
asio::awaitable<std::size_t> drain_slowly(asio::io_context& ioc, push_options opts)
{
    consumer_cluster cluster(ioc.get_executor());
    const auto topic = unique_name("SubFC");
    co_await cluster.create_topic(topic, 4);
    client c(ioc.get_executor(), cluster.config());
    c.start();
    const std::string filler(1000, 'x');
    constexpr std::size_t total = 80;
    for (std::size_t i = 0; i < total; ++i) {
        auto msg = make_message(topic, fmt::format("{:03}-{}", i, filler));
        auto [ec, sent] = co_await send_message(c, msg, static_cast<int>(i % 4));
        REQUIRE_FALSE(ec);
    }
    opts.pull_batch_size = 4;
    opts.consume_batch_max_size = 1;
    opts.max_concurrency = 100;
    opts.flow_control_delay = 5ms;
    push_consumer pc(c, opts);
    REQUIRE_FALSE(pc.subscribe(topic, "*"));
    std::set<std::string> seen;
    pc.async_run([&](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
        co_await sleep_for(20ms);
        for (const auto& m : batch)
            seen.emplace(m.body());
        co_return consume_status::success;
    }, [](error_code ec) { CHECK_FALSE(ec); });
    std::size_t most = 0;
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (seen.size() < total && std::chrono::steady_clock::now() < end) {
        std::size_t cached = 0;
        for (const auto& sub : pc.stats().subscriptions)
            if (sub.topic == topic)
                for (const auto& q : sub.queues)
                    cached += q.cached_messages;
        most = std::max(most, cached);
        co_await sleep_for(2ms);
    }
    CHECK(seen.size() == total);  // flow control slows the pulls, it loses nothing
    auto [ec] = co_await pc.async_stop(tuple_token);
    CHECK_FALSE(ec);
    co_await c.async_stop(tuple_token);
    co_await cluster.close();
    co_return most;
}

}  // namespace

TEST_CASE("push: the per-queue threshold keeps the cache bounded while a slow handler drains a backlog")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        auto opts = sub_opts(unique_name("CGFcQ"));
        opts.pull_threshold_for_queue = 2;
        const auto most = co_await drain_slowly(ioc, opts);
        // A queue is pulled only while it holds at most 2, and a pull brings at most 4: 6 a
        // queue, 24 for the four.
        CHECK(most >= 4);
        CHECK(most <= 24);
    });
}

TEST_CASE("push: the memory budget keeps the whole consumer's cache bounded")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        auto opts = sub_opts(unique_name("CGFcM"));
        opts.memory_budget = 6000;  // about six of the 1004-byte bodies
        const auto most = co_await drain_slowly(ioc, opts);
        // No queue pulls once the consumer holds more than the budget; each of the four may
        // have one pull of 4 under way when it is crossed: 5 + 16 at the most.
        CHECK(most >= 4);
        CHECK(most <= 21);
    });
}
