// Compressed bodies end to end: LZ4 and ZSTD from a corocket producer through the broker to each
// consumer, and records a consumer cannot decode (a corrupt LZ4 body, an unknown compression type)
// stored between good ones: the good ones are delivered, the bad ones skipped and counted, and
// the queue's offset moves past them. Runs on the embedded broker, or a real one named by
// COROCKET_NAMESRV (brokers store whatever body and sysFlag a sender gives them).
#include <corocket/lite_pull_consumer.hpp>
#include <corocket/producer.hpp>
#include <corocket/push_consumer.hpp>

#include "consumer_env.hpp"
#include "message/codec.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

std::string big_body(std::string_view tag)
{
    std::string s;
    for (int i = 0; s.size() < 6000; ++i) s += std::string(tag) + " line " + std::to_string(i) + "\n";
    return s;
}

/// Queue 0 of `topic` gets, at offsets 0..4: "good-0", a corrupt LZ4 body, a body of compression
/// type 4 (none exists), a good ZSTD body (big_body("zstd")), "good-4".
asio::awaitable<void> store_mixed(client& c, const std::string& topic)
{
    std::string lz4, zstd;
    detail::body_compressor z;
    REQUIRE_FALSE(z.compress(compression_type::lz4, big_body("lz4"), 5, lz4));
    REQUIRE_FALSE(z.compress(compression_type::zstd, big_body("zstd"), 5, zstd));
    const struct {
        std::string body;
        std::int32_t sys_flag;
    } records[] = {
        {"good-0", 0},
        {lz4.substr(0, lz4.size() / 2), 0x101},
        {"type four", sys_flag::compressed | 0x400},
        {zstd, 0x201},
        {"good-4", 0},
    };
    std::int64_t expected = 0;
    for (const auto& r : records) {
        auto [ec, sent] = co_await send_message(c, make_message(topic, r.body), 0, 0, r.sys_flag);
        REQUIRE_FALSE(ec);
        CHECK(sent.queue_offset == expected++);
    }
}

const std::vector<std::string> good_bodies{"good-0", big_body("zstd"), "good-4"};

}  // namespace

TEST_CASE("push: undecodable records are skipped and counted, the good ones delivered, the offset committed past them")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("PushUndecodable");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        co_await store_mixed(c, topic);

        const auto group = unique_name("CG");
        push_consumer pc(c, test_consumer_options<push_options>(group));
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::vector<std::string> got;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            for (const auto& m : batch) {
                CHECK_FALSE(m.undecodable());
                got.emplace_back(m.body());
            }
            return consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool all = co_await wait_until([&] { return got.size() == 3; });
            REQUIRE(all);
        }
        CHECK(got == good_bodies);
        {
            const bool committed = co_await cluster.wait_committed(group, topic, 0, 5);
            CHECK(committed);
        }
        bool counted = false;
        for (const auto& s : pc.stats().subscriptions)
            if (s.topic == topic) {
                counted = true;
                CHECK(s.undecodable == 2);
                CHECK(s.processed == 3);
            }
        CHECK(counted);
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("pull API and lite pull leave undecodable records out and move past them")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("PullUndecodable");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        co_await store_mixed(c, topic);
        const message_queue q0{topic, cluster.broker_name(), 0};

        pull_consumer puller(c, {.group = unique_name("CG"), .broker_suspend = 0ms});
        auto [pec, r] = co_await puller.async_pull(q0, 0, 32, parse_tag_expression(topic, "*"), tuple_token);
        REQUIRE_FALSE(pec);
        CHECK(r.status == pull_status::found);
        CHECK(r.next_begin_offset == 5);
        CHECK(r.undecodable == 2);
        std::vector<std::string> pulled;
        for (const auto& m : r.messages())
            pulled.emplace_back(m.body());
        CHECK(pulled == good_bodies);
        CHECK(r.messages()[1].stored_sys_flag() == 0x201);

        const auto group = unique_name("CG");
        auto opts = test_consumer_options<lite_pull_options>(group);
        opts.auto_commit = false;
        lite_pull_consumer lc(c, opts);
        lc.assign({q0});
        lc.start();
        std::vector<std::string> polled;
        const auto end = std::chrono::steady_clock::now() + 10s;
        while (polled.size() < 3 && std::chrono::steady_clock::now() < end) {
            auto [ec, batch] = co_await lc.async_poll(200ms, tuple_token);
            REQUIRE_FALSE(ec);
            for (const auto& m : batch.messages())
                polled.emplace_back(m.body());
        }
        CHECK(polled == good_bodies);
        auto [cec] = co_await lc.async_commit(tuple_token);
        CHECK_FALSE(cec);
        {  // (GCC 12 cannot co_await inside a Catch2 assertion)
            const auto committed = co_await cluster.committed(group, topic, 0);
            CHECK(committed == 5);
        }
        CHECK(lc.stats().subscriptions.at(0).undecodable == 2);
        co_await lc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}

TEST_CASE("a corocket producer's LZ4 and ZSTD bodies reach a push consumer intact")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("PushLz4Zstd");
        co_await cluster.create_topic(topic, 1);
        client c(ioc.get_executor(), cluster.config());
        c.start();
        for (const auto type : {compression_type::lz4, compression_type::zstd, compression_type::zlib}) {
            producer_config pcfg;
            pcfg.group = unique_name("PG");
            pcfg.compression = type;
            producer p(c, pcfg);
            REQUIRE_FALSE(p.start());
            auto [ec, sent] = co_await p.async_send(message(topic, big_body(to_string(type))), tuple_token);
            REQUIRE_FALSE(ec);
            co_await p.async_stop(tuple_token);
        }
        push_consumer pc(c, test_consumer_options<push_options>(unique_name("CG")));
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::map<std::int32_t, std::string> by_flag;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            for (const auto& m : batch)
                by_flag[m.stored_sys_flag()] = std::string(m.body());
            return consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool all = co_await wait_until([&] { return by_flag.size() == 3; });
            REQUIRE(all);
        }
        CHECK(by_flag[0x101] == big_body("LZ4"));
        CHECK(by_flag[0x201] == big_body("ZSTD"));
        CHECK(by_flag[0x301] == big_body("ZLIB"));
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await cluster.close();
    });
}
