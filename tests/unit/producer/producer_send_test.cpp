// Sends against a cluster (embedded by default, the real one named by COROCKET_NAMESRV), checking
// what the broker stored: every call style and send option.
#include "producer_env.hpp"

#include <corocket/producer.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <set>

using namespace corocket;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::config_for;
using test::producer_env;
using test::tuple_token;

namespace {

message sample(const std::string& topic, std::string body)
{
    message m(topic, std::move(body));
    m.set_tags("TagA");
    m.set_keys({"k1", "k2"});
    m.set_property("orderId", "1001");
    m.set_property("golden-prop", "caf\xC3\xA9");
    m.set_flag(7);
    return m;
}

// Remembers the most messages in flight seen when an attempt starts.
struct peak_hook : send_hook {
    const producer* p = nullptr;
    std::size_t peak_messages = 0;
    std::size_t peak_bytes = 0;
    void before_send(const send_context&) override
    {
        peak_messages = std::max(peak_messages, p->inflight_messages());
        peak_bytes = std::max(peak_bytes, p->inflight_bytes());
    }
};

// Records every hook call.
struct recording_hook : send_hook {
    struct call {
        bool before;
        std::string group, broker_name, broker_address, topic;
        int attempt;
        int queue_id;
        error_code error;
        bool has_result;
        send_mode mode;
    };
    std::vector<call> calls;
    void record(bool before, const send_context& c)
    {
        calls.push_back({before, std::string(c.producer_group), std::string(c.broker_name),
                         std::string(c.broker_address), c.msg ? c.msg->topic() : "", c.attempt, c.queue.queue_id,
                         c.error, c.result != nullptr, c.mode});
    }
    void before_send(const send_context& c) override { record(true, c); }
    void after_send(const send_context& c) override { record(false, c); }
};

void check_stored_like(const message_view& stored, const message& sent, const send_result& r)
{
    CHECK(stored.body() == sent.body());
    CHECK(stored.tags() == "TagA");
    CHECK(stored.keys() == std::vector<std::string_view>{"k1", "k2"});
    CHECK(stored.property("orderId") == "1001");
    CHECK(stored.property("golden-prop") == "caf\xC3\xA9");
    CHECK(stored.flag() == 7);
    CHECK(stored.property("UNIQ_KEY") == r.msg_id);
    CHECK(stored.queue_id() == r.queue.queue_id);
    CHECK(stored.queue_offset() == r.queue_offset);
    CHECK(stored.offset_msg_id() == r.offset_msg_id);
    CHECK(stored.stored_sys_flag() == 0);
}

}  // namespace

TEST_CASE("co_await async_send stores the message as sent, with ids, queue and offset")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerSend");
        producer p(env.client, config_for("ProducerSendGroup"));
        REQUIRE_FALSE(p.start());

        message m = sample(topic, "hello, broker");
        const send_result r = co_await p.async_send(m);  // the default token: deferred, throws on error
        CHECK(r.status == send_status::send_ok);
        CHECK(r.queue.topic == topic);
        CHECK(r.msg_id.size() >= 32);
        CHECK(r.transaction_id == r.msg_id);
        auto batch = co_await env.view(r.offset_msg_id);
        check_stored_like(batch.messages()[0], m, r);
        CHECK(batch.messages()[0].topic() == topic);

        // A message that already has a UNIQ_KEY keeps it.
        message again = sample(topic, "again");
        again.properties_mut().emplace("UNIQ_KEY", "0A00000112346D06D69C000F42400007");
        auto [ec, r2] = co_await p.async_send(again, tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(r2.msg_id == "0A00000112346D06D69C000F42400007");
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("the same async_send serves callbacks, futures, use_awaitable and as_tuple")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerStyles");
        producer p(env.client, config_for("ProducerStylesGroup"));
        REQUIRE_FALSE(p.start());
        std::set<std::string> offset_ids;

        // Callback: runs on the producer's executor, never inline.
        bool called = false, inline_call = true;
        p.async_send(sample(topic, "callback"), [&](error_code ec, send_result r) {
            CHECK_FALSE(ec);
            CHECK(ioc.get_executor().running_in_this_thread());
            called = true;
            offset_ids.insert(r.offset_msg_id);
        });
        inline_call = called;
        CHECK_FALSE(inline_call);

        // Future.
        std::future<send_result> fut = p.async_send(sample(topic, "future"), asio::use_future);
        const bool done = co_await test::eventually(
            [&]() -> asio::awaitable<bool> { co_return fut.wait_for(0s) == std::future_status::ready; }, 10s);
        REQUIRE(done);
        offset_ids.insert(fut.get().offset_msg_id);

        // use_awaitable and as_tuple(deferred).
        auto r1 = co_await p.async_send(sample(topic, "use_awaitable"), asio::use_awaitable);
        offset_ids.insert(r1.offset_msg_id);
        auto [ec, r2] = co_await p.async_send(sample(topic, "as_tuple"), tuple_token);
        REQUIRE_FALSE(ec);
        offset_ids.insert(r2.offset_msg_id);

        // One-way with a callback: completes once written.
        error_code oneway_ec = make_error_code(client_errc::timeout);
        p.async_send_oneway(sample(topic, "oneway"), [&](error_code e) { oneway_ec = e; });
        const bool written = co_await test::eventually([&]() -> asio::awaitable<bool> { co_return !oneway_ec; }, 10s);
        CHECK(written);
        CHECK(called);
        CHECK(offset_ids.size() == 4);

        // Everything reached the broker, the one-way message included.
        std::set<std::string> bodies;
        const bool all = co_await test::eventually(
            [&]() -> asio::awaitable<bool> {
                bodies.clear();
                for (auto& s : co_await env.read_topic(topic, topic))
                    bodies.insert(s.body);
                co_return bodies.size() == 5;
            },
            10s);
        CHECK(all);
        CHECK(bodies == std::set<std::string>{"callback", "future", "use_awaitable", "as_tuple", "oneway"});
        for (const auto& id : offset_ids) {
            auto b = co_await env.view(id);
            CHECK(b.messages()[0].tags() == "TagA");
        }
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("SEND_MESSAGE (V1 headers) is stored like V2")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerV1");
        auto cfg = config_for("ProducerV1Group");
        cfg.header_version = send_header_version::v1;
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        message m = sample(topic, "v1 body");
        auto [ec, r] = co_await p.async_send(m, tuple_token);
        REQUIRE_FALSE(ec);
        auto batch = co_await env.view(r.offset_msg_id);
        check_stored_like(batch.messages()[0], m, r);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("large bodies are stored zlib-compressed with sysFlag 0x301 and read back intact")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerZip");
        producer p(env.client, config_for("ProducerZipGroup"));
        REQUIRE_FALSE(p.start());
        std::string big;
        for (int i = 0; i < 400; ++i)
            big += "line " + std::to_string(i) + " of a compressible body\n";
        REQUIRE(big.size() > 4096);
        auto [ec, r] = co_await p.async_send(message(topic, big), tuple_token);
        REQUIRE_FALSE(ec);
        auto stored = co_await env.view(r.offset_msg_id);
        const auto& v = stored.messages()[0];
        CHECK(v.stored_sys_flag() == 0x301);
        CHECK(v.raw_record().size() < big.size());  // the broker kept the compressed bytes
        CHECK(v.body() == big);

        auto [ec2, small] = co_await p.async_send(message(topic, std::string(4095, 's')), tuple_token);
        REQUIRE_FALSE(ec2);
        auto stored_small = co_await env.view(small.offset_msg_id);
        CHECK(stored_small.messages()[0].stored_sys_flag() == 0);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("LZ4 and ZSTD producers store sysFlag 0x101 / 0x201 bodies that read back intact")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerLz4Zstd");
        std::string big;
        for (int i = 0; i < 400; ++i)
            big += "line " + std::to_string(i) + " of a compressible body\n";
        for (const auto type : {compression_type::lz4, compression_type::zstd}) {
            INFO(to_string(type));
            auto cfg = config_for(std::string("ProducerGroup") + std::string(to_string(type)));
            cfg.compression = type;
            producer p(env.client, cfg);
            REQUIRE_FALSE(p.start());
            auto [ec, r] = co_await p.async_send(message(topic, big), tuple_token);
            REQUIRE_FALSE(ec);
            auto stored = co_await env.view(r.offset_msg_id);
            const auto& v = stored.messages()[0];
            CHECK(v.stored_sys_flag() == (type == compression_type::lz4 ? 0x101 : 0x201));
            CHECK(v.raw_record().size() < big.size());
            CHECK(v.body() == big);
            co_await p.async_stop(tuple_token);
        }
        co_await env.stop();
    });
}

TEST_CASE("start refuses a compression level the algorithm does not have")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        auto cfg = config_for("ProducerBadLevelGroup");
        cfg.compression = compression_type::zstd;
        cfg.compress_level = 30;
        producer p(env.client, cfg);
        diagnostics diag;
        CHECK(p.start(&diag) == client_errc::invalid_argument);
        CHECK(diag.client_message == "compress_level 30 is not a ZSTD level (-131072..22)");
        CHECK_FALSE(p.running());
        co_await env.stop();
    });
}

TEST_CASE("delayed messages arrive in their topic only after the delay")
{
    testing::cluster_options opts;
    opts.delay_time_scale = 0.05;  // level 3 ("10s") takes 500 ms
    test::run_coro([opts](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, opts);
        const bool embedded = env.embedded();
        const int level = embedded ? 3 : 1;
        const auto expected = embedded ? 500ms : 1000ms;
        const auto topic = co_await env.make_topic("ProducerDelay", 1);
        producer p(env.client, config_for("ProducerDelayGroup"));
        REQUIRE_FALSE(p.start());
        message m(topic, "later");
        m.set_delay_level(level);
        const auto sent_at = std::chrono::system_clock::now();
        auto [ec, r] = co_await p.async_send(m, tuple_token);
        REQUIRE_FALSE(ec);
        const message_queue q0{topic, r.queue.broker_name, 0};
        auto now = co_await env.read_queue(q0, topic);
        CHECK(now.empty());  // parked in SCHEDULE_TOPIC_XXXX meanwhile
        std::vector<producer_env::stored> arrived;
        const bool came = co_await test::eventually(
            [&]() -> asio::awaitable<bool> {
                arrived = co_await env.read_queue(q0, topic);
                co_return !arrived.empty();
            },
            20s);
        REQUIRE(came);
        const auto waited = std::chrono::system_clock::now() - sent_at;
        CHECK(waited >= expected - 50ms);
        CHECK(arrived[0].body == "later");
        CHECK(arrived[0].props.at("DELAY") == std::to_string(level));
        CHECK(arrived[0].props.at("UNIQ_KEY") == r.msg_id);
        CHECK(arrived[0].store_timestamp - arrived[0].born_timestamp >= (expected - 50ms).count());
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("ordered sends: the same sharding key always lands on the same queue, in order")
{
    testing::cluster_options opts;
    opts.brokers = 2;
    test::run_coro([opts](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, opts);
        const auto topic = co_await env.make_topic("ProducerOrdered");
        producer p(env.client, config_for("ProducerOrderedGroup"));
        REQUIRE_FALSE(p.start());
        std::map<std::string, std::set<message_queue>> queues_by_key;
        std::map<message_queue, std::size_t> sent_to;
        for (int i = 0; i < 30; ++i) {
            const std::string key = "order-" + std::to_string(i % 3);
            message m(topic, key + "#" + std::to_string(i));
            m.set_sharding_key(key);
            auto [ec, r] = co_await p.async_send(m, send_options::ordered(), tuple_token);
            REQUIRE_FALSE(ec);
            queues_by_key[key].insert(r.queue);
            ++sent_to[r.queue];
        }
        for (const auto& [key, qs] : queues_by_key) {
            REQUIRE(qs.size() == 1);
            auto stored = co_await env.read_queue(*qs.begin(), topic, sent_to[*qs.begin()]);
            int last = -1;
            for (const auto& s : stored) {
                if (!s.body.starts_with(key + "#"))
                    continue;
                const int n = std::stoi(s.body.substr(key.size() + 1));
                CHECK(n > last);
                last = n;
                CHECK(s.props.at("__SHARDINGKEY") == key);
            }
            CHECK(last >= 27);
        }
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("explicit queues, custom and random selectors")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerSelect");
        producer p(env.client, config_for("ProducerSelectGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec0, first] = co_await p.async_send(message(topic, "any"), tuple_token);
        REQUIRE_FALSE(ec0);
        const std::string broker = first.queue.broker_name;

        // Aggregates are never brace-initialized inside a co_await expression in these tests:
        // GCC 12 copies such temporaries bitwise into the coroutine frame (a compiler bug).
        const message_queue q3{topic, broker, 3};
        auto [ec1, r1] = co_await p.async_send(message(topic, "to q3"), send_options::to_queue(q3), tuple_token);
        REQUIRE_FALSE(ec1);
        CHECK(r1.queue.queue_id == 3);
        auto stored = co_await env.read_queue(q3, topic, r1.queue_offset + 1);  // a fresh queue: offsets from 0
        CHECK(std::any_of(stored.begin(), stored.end(), [](auto& s) { return s.body == "to q3"; }));

        send_options last;
        last.selector = [](std::span<const message_queue> qs, const message&) { return qs.size() - 1; };
        auto [ec2, r2] = co_await p.async_send(message(topic, "last"), last, tuple_token);
        REQUIRE_FALSE(ec2);
        CHECK(r2.queue.queue_id == 3);

        send_options random;
        random.selector = queue_selectors::random();
        for (int i = 0; i < 5; ++i) {
            auto [ec3, r3] = co_await p.async_send(message(topic, "random"), random, tuple_token);
            CHECK_FALSE(ec3);
        }

        {  // misuse fails before anything is sent
            const message_queue other{"Other", broker, 0};
            auto [ec4, r4] = co_await p.async_send(message(topic, "x"), send_options::to_queue(other), tuple_token);
            CHECK(ec4 == client_errc::invalid_argument);
            CHECK_THAT(r4.diag.client_message, Catch::Contains("Other"));
            send_options bad;
            bad.selector = [](std::span<const message_queue> qs, const message&) { return qs.size(); };
            auto [ec5, r5] = co_await p.async_send(message(topic, "x"), bad, tuple_token);
            CHECK(ec5 == client_errc::invalid_argument);
            send_options throwing;
            throwing.selector = [](std::span<const message_queue>, const message&) -> std::size_t {
                throw std::runtime_error("no queue for you");
            };
            auto [ec6, r6] = co_await p.async_send(message(topic, "x"), throwing, tuple_token);
            CHECK(ec6 == client_errc::invalid_argument);
            CHECK_THAT(r6.diag.client_message, Catch::Contains("no queue for you"));
        }
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("batches: one SEND_BATCH_MESSAGE, or several when over the size limit; every message stored")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerBatch", 1);
        auto cfg = config_for("ProducerBatchGroup");
        cfg.max_batch_request_size = 8 * 1024;
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());

        std::vector<message> small;
        for (int i = 0; i < 10; ++i) {
            message m(topic, "batch message " + std::to_string(i));
            m.set_tags("TagBatch");
            m.set_key("BatchKey" + std::to_string(i));
            small.push_back(std::move(m));
        }
        auto [ec, r] = co_await p.async_send_batch(std::span<const message>(small), tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(r.batch_parts.size() == 1);
        CHECK(std::count(r.msg_id.begin(), r.msg_id.end(), ',') == 9);
        CHECK(std::count(r.offset_msg_id.begin(), r.offset_msg_id.end(), ',') == 9);

        std::vector<message> big;
        for (int i = 0; i < 40; ++i)
            big.emplace_back(topic, std::to_string(i) + ":" + std::string(1000, 'b'));
        auto [ec2, r2] = co_await p.async_send_batch(big, tuple_token);
        REQUIRE_FALSE(ec2);
        CHECK(r2.batch_parts.size() >= 5);
        std::size_t covered = 0;
        for (const auto& part : r2.batch_parts) {
            CHECK(part.first_index == covered);
            covered += part.count;
        }
        CHECK(covered == 40);

        const message_queue q0{topic, r.queue.broker_name, 0};
        auto stored = co_await env.read_queue(q0, topic, 50);
        REQUIRE(stored.size() == 50);
        for (int i = 0; i < 10; ++i) {
            CHECK(stored[i].body == "batch message " + std::to_string(i));
            CHECK(stored[i].props.at("TAGS") == "TagBatch");
            CHECK(stored[i].props.at("KEYS") == "BatchKey" + std::to_string(i));
            CHECK(stored[i].queue_offset == r.queue_offset + i);
        }
        for (int i = 0; i < 40; ++i)
            CHECK(stored[10 + i].body.starts_with(std::to_string(i) + ":"));
        std::set<std::string> ids;
        for (const auto& s : stored)
            ids.insert(s.props.at("UNIQ_KEY"));
        CHECK(ids.size() == 50);

        auto [ec3, r3] = co_await p.async_send_batch(std::vector<message>{}, tuple_token);
        CHECK(ec3 == client_errc::invalid_argument);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("invalid messages fail before anything is sent, naming the problem")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerInvalid", 1);
        auto cfg = config_for("ProducerInvalidGroup");
        auto hook = std::make_shared<recording_hook>();
        cfg.hooks.push_back(hook);
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        auto [ec1, r1] = co_await p.async_send(message(topic, ""), tuple_token);
        CHECK(ec1 == client_errc::empty_body);
        CHECK_FALSE(r1.diag.client_message.empty());
        message reserved(topic, "b");
        reserved.set_property("PGROUP", "x");
        auto [ec2, r2] = co_await p.async_send(reserved, tuple_token);
        CHECK(ec2 == client_errc::reserved_property);
        CHECK_THAT(r2.diag.client_message, Catch::Contains("PGROUP"));
        auto [ec3, r3] = co_await p.async_send(message("bad topic!", "b"), tuple_token);
        CHECK(ec3 == client_errc::invalid_topic);
        CHECK(hook->calls.empty());

        producer same_group(env.client, cfg);
        diagnostics diag;
        CHECK(same_group.start(&diag) == client_errc::invalid_argument);
        CHECK_THAT(diag.client_message, Catch::Contains("ProducerInvalidGroup"));
        producer bad_group(env.client, config_for("bad group"));
        CHECK(bad_group.start() == client_errc::invalid_argument);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("a topic nobody created is sent through the default topic's brokers (auto-creation)")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = test::test_cluster::unique_name("ProducerAuto");
        producer p(env.client, config_for("ProducerAutoGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec, r] = co_await p.async_send(message(topic, "first"), tuple_token);
        if (ec && !env.embedded()) {
            WARN("the cluster does not auto-create topics (autoCreateTopicEnable=false?): " << ec.message());
        } else {
            REQUIRE_FALSE(ec);
            CHECK(r.queue.queue_id < 4);  // clamped to defaultTopicQueueNums
            auto stored = co_await env.view(r.offset_msg_id);
            CHECK(stored.messages()[0].body() == "first");
            auto [ec2, r2] = co_await p.async_send(message(topic, "second"), tuple_token);
            CHECK_FALSE(ec2);
        }

        auto cfg = config_for("ProducerNoDefaultGroup");
        cfg.default_topic = "NoSuchDefaultTopic";
        producer q(env.client, cfg);
        REQUIRE_FALSE(q.start());
        auto [ec3, r3] = co_await q.async_send(message(test::test_cluster::unique_name("ProducerNoRoute"), "x"),
                                               tuple_token);
        CHECK(ec3 == client_errc::no_route);
        CHECK_THAT(r3.diag.client_message, Catch::Contains("NoSuchDefaultTopic"));
        co_await q.async_stop(tuple_token);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("namespaces wrap topic and group on the wire, add INSTANCE_ID, and are unwrapped in results")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, {}, [](client_config& c) { c.name_space = "NS1"; });
        const auto topic = co_await env.make_topic("ProducerNs", 2, "NS1");
        auto hook = std::make_shared<recording_hook>();
        auto cfg = config_for("ProducerNsGroup");
        cfg.hooks.push_back(hook);
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        auto [ec, r] = co_await p.async_send(message(topic, "namespaced"), tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(r.queue.topic == topic);
        auto stored = co_await env.view(r.offset_msg_id);
        CHECK(stored.messages()[0].topic() == "NS1%" + topic);
        CHECK(stored.messages()[0].property("INSTANCE_ID") == "NS1");
        REQUIRE_FALSE(hook->calls.empty());
        CHECK(hook->calls[0].group == "ProducerNsGroup");
        CHECK(hook->calls[0].topic == topic);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("send hooks see group, broker, message, queue, and the result or error of each attempt")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerHooks");
        auto hook = std::make_shared<recording_hook>();
        auto cfg = config_for("ProducerHooksGroup");
        cfg.hooks.push_back(hook);
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        auto [ec, r] = co_await p.async_send(message(topic, "hooked"), tuple_token);
        REQUIRE_FALSE(ec);
        REQUIRE(hook->calls.size() == 2);
        const auto& before = hook->calls[0];
        const auto& after = hook->calls[1];
        CHECK(before.before);
        CHECK_FALSE(before.has_result);
        CHECK(before.group == "ProducerHooksGroup");
        CHECK(before.topic == topic);
        CHECK(before.broker_name == r.queue.broker_name);
        CHECK(before.broker_address == env.client.broker_address(r.queue.broker_name));
        CHECK(before.queue_id == r.queue.queue_id);
        CHECK_FALSE(after.before);
        CHECK(after.has_result);
        CHECK_FALSE(after.error);
        CHECK(after.mode == send_mode::normal);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("hundreds of sends in flight at once, pipelined, all stored once")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerPipeline");
        auto peak = std::make_shared<peak_hook>();
        auto cfg = config_for("ProducerPipelineGroup");
        cfg.hooks.push_back(peak);
        producer p(env.client, cfg);
        peak->p = &p;
        REQUIRE_FALSE(p.start());
        constexpr int n = 500;
        int ok = 0, failed = 0;
        std::set<std::string> ids;
        for (int i = 0; i < n; ++i)
            p.async_send(message(topic, "m" + std::to_string(i)), [&](error_code ec, send_result r) {
                (ec ? failed : ok)++;
                ids.insert(r.offset_msg_id);
            });
        const bool done = co_await test::eventually([&]() -> asio::awaitable<bool> { co_return ok + failed == n; }, 30s);
        REQUIRE(done);
        CHECK(ok == n);
        CHECK(peak->peak_messages > 1);  // pipelined, not one after the other
        CHECK(ids.size() == n);
        CHECK(p.inflight_messages() == 0);
        auto stored = co_await env.read_topic(topic, topic, n);
        CHECK(stored.size() == n);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("stop waits for pending sends; later sends fail with not_running")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        const auto topic = co_await env.make_topic("ProducerStop");
        producer p(env.client, config_for("ProducerStopGroup"));
        REQUIRE_FALSE(p.start());
        int completed = 0;
        for (int i = 0; i < 20; ++i)
            p.async_send(message(topic, "pending"), [&](error_code ec, send_result) {
                CHECK_FALSE(ec);
                ++completed;
            });
        co_await p.async_stop(tuple_token);
        CHECK(completed == 20);
        CHECK_FALSE(p.running());
        auto [ec, r] = co_await p.async_send(message(topic, "late"), tuple_token);
        CHECK(ec == client_errc::not_running);
        // The group is free again on this client.
        producer again(env.client, config_for("ProducerStopGroup"));
        CHECK_FALSE(again.start());
        co_await again.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("a delivery time (TIMER_DELIVER_MS) holds the message until then on brokers with a timer wheel")
{
    testing::cluster_options opts;
    opts.timer_wheel_enable = true;
    opts.timer_precision = 100ms;
    test::run_coro([opts](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, opts);
        if (!env.embedded()) {
            WARN("skipped: whether the cluster has a timer wheel (5.x) is unknown; 4.x delivers at once");
            co_return co_await env.stop();
        }
        const auto topic = co_await env.make_topic("ProducerTimer", 1);
        producer p(env.client, config_for("ProducerTimerGroup"));
        REQUIRE_FALSE(p.start());
        message m(topic, "at a given time");
        const auto due = std::chrono::system_clock::now() + 700ms;
        m.set_delivery_time(due);
        auto [ec, r] = co_await p.async_send(m, tuple_token);
        REQUIRE_FALSE(ec);
        const message_queue q0{topic, r.queue.broker_name, 0};
        auto early = co_await env.read_queue(q0, topic);
        CHECK(early.empty());
        std::vector<producer_env::stored> arrived;
        const bool came = co_await test::eventually(
            [&]() -> asio::awaitable<bool> {
                arrived = co_await env.read_queue(q0, topic);
                co_return !arrived.empty();
            },
            10s);
        REQUIRE(came);
        CHECK(std::chrono::system_clock::now() >= due - 150ms);  // the wheel rounds down to its precision
        CHECK(arrived[0].props.at("TIMER_DELIVER_MS") == std::to_string(*m.delivery_time_ms()));
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}
