// Delay levels (with a scaled delay table), 5.x timer properties, CONSUMER_SEND_MSG_BACK, retry
// topics and dead-letter queues.
#include "broker_client.hpp"

#include "message/ids.hpp"

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

/// Pulls `topic` queue `queue` from 0 until `count` messages are there (or the time is up).
asio::awaitable<message_batch> wait_messages(test_client& c, const std::string& topic, int queue, std::size_t count,
                                             std::chrono::milliseconds limit = 3s, std::string group = "CG")
{
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto resp = co_await c.call(pull_all(topic, queue, 0, group));
        if (resp.code == rs::success) {
            auto batch = decode_messages(resp.body);
            if (batch.size() >= count || std::chrono::steady_clock::now() >= end)
                co_return batch;
        } else if (std::chrono::steady_clock::now() >= end) {
            co_return message_batch{};
        }
        co_await sleep_for(10ms);
    }
}

command send_back(std::int64_t offset, const std::string& group, int delay_level, int max_reconsume = 16)
{
    auto c = command::request(rc::consumer_send_msg_back);
    c.ext_fields.set("offset", std::to_string(offset));
    c.ext_fields.set("group", group);
    c.ext_fields.set("delayLevel", std::to_string(delay_level));
    c.ext_fields.set("originMsgId", "ignored");
    c.ext_fields.set("originTopic", "ignored");
    c.ext_fields.set("unitMode", "false");
    c.ext_fields.set("maxReconsumeTimes", std::to_string(max_reconsume));
    return c;
}

testing::cluster_options fast_delays(double scale = 0.001)
{
    testing::cluster_options o;
    o.delay_time_scale = scale;
    return o;
}

}  // namespace

TEST_CASE("Delay levels: parked in SCHEDULE_TOPIC_XXXX, then delivered to the real topic")
{
    with_cluster(fast_delays(0.02), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Delayed", 2);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Delayed";
        a.queue_id = 1;
        a.body = "later";
        a.properties = props({{"UNIQ_KEY", "U1"}, {"WAIT", "true"}, {"DELAY", "3"}, {"TAGS", "TagDelay"}});
        const auto t0 = std::chrono::steady_clock::now();
        auto resp = co_await send_ok(c, a);
        CHECK(resp.ext_fields.get("queueId") == "1");
        CHECK(resp.ext_fields.get("queueOffset") == "0");  // offset in SCHEDULE_TOPIC_XXXX queue 2
        auto early = co_await c.call(pull_all("Delayed", 1, 0));
        CHECK(early.code == rs::pull_not_found);

        auto batch = co_await wait_messages(c, "Delayed", 1, 1);
        REQUIRE(batch.size() == 1);
        CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);  // level 3 = 10 s × 0.02
        const auto& m = batch.messages()[0];
        CHECK(m.body() == "later");
        CHECK(m.queue_id() == 1);
        CHECK(m.queue_offset() == 0);
        CHECK(m.offset_msg_id() != resp.ext_fields.get("msgId"));  // a new record
        // As the capture shows for delivered delay messages: DELAY, REAL_* and WAIT stay.
        CHECK(m.property("DELAY") == std::optional<std::string_view>("3"));
        CHECK(m.property("REAL_TOPIC") == std::optional<std::string_view>("Delayed"));
        CHECK(m.property("REAL_QID") == std::optional<std::string_view>("1"));
        CHECK(m.property("WAIT") == std::optional<std::string_view>("true"));
        CHECK(m.property("UNIQ_KEY") == std::optional<std::string_view>("U1"));
        co_await c.close();
    });
}

TEST_CASE("Delay levels above the table are clamped to the highest level")
{
    with_cluster(fast_delays(0.00001), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Clamp", 1);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Clamp";
        a.properties = props({{"DELAY", "40"}});
        co_await send_ok(c, a);
        auto batch = co_await wait_messages(c, "Clamp", 0, 1);
        REQUIRE(batch.size() == 1);
        CHECK(batch.messages()[0].property("DELAY") == std::optional<std::string_view>("18"));
        co_await c.close();
    });
}

TEST_CASE("Timer properties: ignored by default (4.9.8), honoured with timer_wheel_enable (5.x)")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Timer", 1);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Timer";
        a.properties = props({{"TIMER_DELAY_SEC", "100"}});
        co_await send_ok(c, a);
        auto now = co_await c.call(pull_all("Timer", 0, 0));
        CHECK(now.code == rs::success);  // delivered at once
        co_await c.close();
    });
    testing::cluster_options opts;
    opts.timer_wheel_enable = true;
    opts.timer_precision = 100ms;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Timer", 1);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Timer";
        a.properties = props({{"TIMER_DELAY_MS", "400"}});
        co_await send_ok(c, a);
        auto early = co_await c.call(pull_all("Timer", 0, 0));
        CHECK(early.code == rs::pull_not_found);
        auto batch = co_await wait_messages(c, "Timer", 0, 1);
        REQUIRE(batch.size() == 1);
        CHECK(batch.messages()[0].property("TIMER_OUT_MS"));

        a.properties = props({{"TIMER_DELAY_SEC", "999999999"}});
        auto too_far = co_await c.call(send_v2(a));
        CHECK(too_far.code == rs::message_illegal);
        a.properties = props({{"TIMER_DELIVER_MS", "soon"}});
        auto garbage = co_await c.call(send_v2(a));
        CHECK(garbage.code == rs::message_illegal);
        co_await c.close();
    });
}

TEST_CASE("CONSUMER_SEND_MSG_BACK: retry copies with 3 + reconsumeTimes, then the DLQ")
{
    with_cluster(fast_delays(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Orig", 1);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Orig";
        a.body = "retry me";
        a.properties = props({{"KEYS", "K"}, {"UNIQ_KEY", "U"}, {"WAIT", "true"}, {"TAGS", "TagA"}});
        auto sent = co_await send_ok(c, a);
        const std::string orig_id(sent.ext_fields.get("msgId"));
        const auto orig_offset = corocket::detail::decode_offset_msg_id(orig_id)->second;

        auto back = co_await c.call(send_back(orig_offset, "RetryGroup", 0));
        REQUIRE(back.code == rs::success);
        CHECK(!back.remark);
        auto first = co_await wait_messages(c, "%RETRY%RetryGroup", 0, 1);
        REQUIRE(first.size() == 1);
        const auto& r1 = first.messages()[0];
        CHECK(r1.body() == "retry me");
        CHECK(r1.reconsume_times() == 1);
        CHECK(r1.property("RETRY_TOPIC") == std::optional<std::string_view>("Orig"));
        CHECK(r1.property("ORIGIN_MESSAGE_ID") == std::optional<std::string_view>(orig_id));
        CHECK(r1.property("DELAY") == std::optional<std::string_view>("3"));
        CHECK(r1.property("WAIT") == std::optional<std::string_view>("false"));
        CHECK(r1.property("REAL_TOPIC") == std::optional<std::string_view>("%RETRY%RetryGroup"));
        CHECK(r1.property("UNIQ_KEY") == std::optional<std::string_view>("U"));

        // The retry copy fails again: level 4, same origin id and retry topic.
        auto again = co_await c.call(send_back(r1.commit_log_offset(), "RetryGroup", 0));
        REQUIRE(again.code == rs::success);
        auto second = co_await wait_messages(c, "%RETRY%RetryGroup", 0, 2);
        REQUIRE(second.size() == 2);
        const auto& r2 = second.messages()[1];
        CHECK(r2.reconsume_times() == 2);
        CHECK(r2.property("DELAY") == std::optional<std::string_view>("4"));
        CHECK(r2.property("ORIGIN_MESSAGE_ID") == std::optional<std::string_view>(orig_id));
        CHECK(r2.property("RETRY_TOPIC") == std::optional<std::string_view>("Orig"));

        // reconsumeTimes (2) >= maxReconsumeTimes (2): the dead-letter queue (4.9.x rule).
        auto dead = co_await c.call(send_back(r2.commit_log_offset(), "RetryGroup", 0, 2));
        REQUIRE(dead.code == rs::success);
        auto dlq = co_await wait_messages(c, "%DLQ%RetryGroup", 0, 1);
        REQUIRE(dlq.size() == 1);
        CHECK(dlq.messages()[0].reconsume_times() == 3);
        CHECK(dlq.messages()[0].body() == "retry me");

        // A negative delay level goes straight to the DLQ.
        auto direct = co_await c.call(send_back(orig_offset, "RetryGroup", -1));
        REQUIRE(direct.code == rs::success);
        auto dlq2 = co_await wait_messages(c, "%DLQ%RetryGroup", 0, 2);
        CHECK(dlq2.size() == 2);

        auto missing = co_await c.call(send_back(987654321, "RetryGroup", 0));
        CHECK(missing.code == rs::system_error);
        CHECK(missing.remark.value_or("") == "look message by offset failed, 987654321");
        co_await c.close();
    });
}

TEST_CASE("Sending to a retry topic: unknown group, and the DLQ once reconsumeTimes >= max")
{
    testing::cluster_options opts;
    opts.auto_create_subscription_group = false;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "%RETRY%Nobody";
        auto resp = co_await c.call(send_v2(a));
        CHECK(resp.code == rs::subscription_group_not_exist);
        CHECK(resp.remark.value_or("").starts_with("subscription group not exist, Nobody "));
        co_await c.close();
    });
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "%RETRY%FallbackGroup";
        a.body = "fallback";
        a.reconsume_times = 3;
        a.max_reconsume_times = 3;
        co_await send_ok(c, a);
        auto dlq = co_await wait_messages(c, "%DLQ%FallbackGroup", 0, 1);
        REQUIRE(dlq.size() == 1);
        CHECK(dlq.messages()[0].reconsume_times() == 3);
        a.reconsume_times = 2;
        co_await send_ok(c, a);
        auto retry = co_await wait_messages(c, "%RETRY%FallbackGroup", 0, 1);
        CHECK(retry.size() == 1);
        co_await c.close();
    });
}
