// PULL_MESSAGE (statuses, long polling, filters, subscriptions) and the offset requests.
#include "broker_client.hpp"

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

/// Sends one message per space-separated tag ("-" = no tag). A string, not a braced list:
/// GCC 12 mishandles braced lists inside co_await expressions.
asio::awaitable<void> send_tags(test_client& c, const std::string& topic, int queue, std::string_view tag_list)
{
    std::vector<std::string> tags;
    while (!tag_list.empty()) {
        auto sp = tag_list.find(' ');
        auto t = tag_list.substr(0, sp);
        tags.emplace_back(t == "-" ? std::string_view{} : t);
        tag_list = sp == std::string_view::npos ? std::string_view{} : tag_list.substr(sp + 1);
    }
    for (const auto& t : tags) {
        send_args a;
        a.topic = topic;
        a.queue_id = queue;
        a.body = "body-" + t;
        if (!t.empty())
            a.properties = props({{"TAGS", t}});
        co_await send_ok(c, a);
    }
}

std::int64_t field(const command& c, std::string_view key)
{
    return c.ext_fields.get_int(key).value_or(-999);
}

std::vector<std::string> bodies(const command& resp)
{
    std::vector<std::string> out;
    auto batch = decode_messages(resp.body);
    for (const auto& m : batch.messages())
        out.emplace_back(m.body());
    return out;
}

}  // namespace

TEST_CASE("Pull: FOUND, NO_MESSAGE_IN_QUEUE, OFFSET_OVERFLOW_ONE/BADLY and the response header")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("PullTopic", 2);
        test_client b(ioc.get_executor(), cluster.broker_address());

        auto empty = co_await b.call(pull_all("PullTopic", 0, 0));
        CHECK(empty.code == rs::pull_not_found);
        CHECK(empty.remark.value_or("") == "NO_MESSAGE_IN_QUEUE");
        CHECK(field(empty, "nextBeginOffset") == 0);
        CHECK(field(empty, "maxOffset") == 0);
        CHECK(field(empty, "minOffset") == 0);
        CHECK(field(empty, "suggestWhichBrokerId") == 0);
        // An empty queue asked for a non-zero offset moves the client back to 0.
        auto moved = co_await b.call(pull_all("PullTopic", 0, 5));
        CHECK(moved.code == rs::pull_offset_moved);
        CHECK(moved.remark.value_or("") == "NO_MESSAGE_IN_QUEUE");
        CHECK(field(moved, "nextBeginOffset") == 0);

        co_await send_tags(b, "PullTopic", 0, "A B C");
        auto found = co_await b.call(pull_all("PullTopic", 0, 0));
        REQUIRE(found.code == rs::success);
        CHECK(found.remark.value_or("") == "FOUND");
        CHECK(bodies(found) == std::vector<std::string>{"body-A", "body-B", "body-C"});
        CHECK(field(found, "nextBeginOffset") == 3);
        CHECK(field(found, "maxOffset") == 3);
        std::vector<std::string> keys;
        for (const auto& [k, v] : found.ext_fields)
            keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"suggestWhichBrokerId", "nextBeginOffset", "maxOffset", "minOffset"});
        // The broker does not add MIN_OFFSET/MAX_OFFSET to the records: clients do that.
        const auto batch = decode_messages(found.body);  // the views live in the batch
        for (const auto& m : batch.messages()) {
            CHECK(!m.property("MIN_OFFSET"));
            CHECK(!m.property("MAX_OFFSET"));
        }

        auto limited = pull_all("PullTopic", 0, 1);
        limited.ext_fields.set("maxMsgNums", "1");
        auto one = co_await b.call(std::move(limited));
        CHECK(bodies(one) == std::vector<std::string>{"body-B"});
        CHECK(field(one, "nextBeginOffset") == 2);

        auto caught_up = co_await b.call(pull_all("PullTopic", 0, 3));
        CHECK(caught_up.code == rs::pull_not_found);
        CHECK(caught_up.remark.value_or("") == "OFFSET_OVERFLOW_ONE");
        CHECK(field(caught_up, "nextBeginOffset") == 3);

        auto beyond = co_await b.call(pull_all("PullTopic", 0, 10));
        CHECK(beyond.code == rs::pull_offset_moved);
        CHECK(beyond.remark.value_or("") == "OFFSET_OVERFLOW_BADLY");
        CHECK(field(beyond, "nextBeginOffset") == 0);  // min offset is 0

        auto bad_queue = co_await b.call(pull_all("PullTopic", 7, 0));
        CHECK(bad_queue.code == rs::system_error);
        CHECK(bad_queue.remark.value_or("").starts_with(
            "queueId[7] is illegal, topic:[PullTopic] topicConfig.readQueueNums:[2] consumer:[/127.0.0.1:"));
        CHECK(bad_queue.ext_fields.empty());

        auto no_topic = co_await b.call(pull_all("NoTopic", 0, 0));
        CHECK(no_topic.code == rs::topic_not_exist);
        CHECK(no_topic.remark.value_or("") ==
              "topic[NoTopic] not exist, apply first please! \nSee http://rocketmq.apache.org/docs/faq/ for further details.");
        co_await b.close();
    });
}

TEST_CASE("Pull: a held pull wakes when a message arrives, or answers PULL_NOT_FOUND when it times out")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("LongPoll", 1);
        test_client consumer(ioc.get_executor(), cluster.broker_address());
        test_client producer(ioc.get_executor(), cluster.broker_address());

        auto held = pull_all("LongPoll", 0, 0);
        held.ext_fields.set("sysFlag", "6");  // SUSPEND | SUBSCRIPTION
        held.ext_fields.set("suspendTimeoutMillis", "10000");
        std::optional<command> woken;
        const auto start = std::chrono::steady_clock::now();
        consumer.conn().async_call(std::move(held), {.timeout = 15s}, [&](error_code ec, command resp) {
            REQUIRE(!ec);
            woken = std::move(resp);
        });
        co_await sleep_for(150ms);
        CHECK(!woken);  // still held
        send_args a;
        a.topic = "LongPoll";
        a.body = "wake up";
        co_await send_ok(producer, a);
        for (int i = 0; i < 200 && !woken; ++i)
            co_await sleep_for(5ms);
        REQUIRE(woken);
        CHECK(std::chrono::steady_clock::now() - start < 2s);
        CHECK(woken->code == rs::success);
        CHECK(bodies(*woken) == std::vector<std::string>{"wake up"});

        auto expiring = pull_all("LongPoll", 0, 1);
        expiring.ext_fields.set("sysFlag", "6");
        expiring.ext_fields.set("suspendTimeoutMillis", "200");
        const auto t0 = std::chrono::steady_clock::now();
        auto timed_out = co_await consumer.call(std::move(expiring));
        const auto waited = std::chrono::steady_clock::now() - t0;
        CHECK(waited >= 190ms);
        CHECK(waited < 2s);
        CHECK(timed_out.code == rs::pull_not_found);
        CHECK(timed_out.remark.value_or("") == "OFFSET_OVERFLOW_ONE");
        CHECK(field(timed_out, "nextBeginOffset") == 1);
        co_await consumer.close();
        co_await producer.close();
    });
}

TEST_CASE("Pull: tag filtering by hash code, including held pulls")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Tags", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        co_await send_tags(b, "Tags", 0, "TagA TagB - TagA");

        auto tag_a = pull_all("Tags", 0, 0);
        tag_a.ext_fields.set("subscription", "TagA || TagC");
        auto only_a = co_await b.call(std::move(tag_a));
        REQUIRE(only_a.code == rs::success);
        CHECK(bodies(only_a) == std::vector<std::string>{"body-TagA", "body-TagA"});
        CHECK(field(only_a, "nextBeginOffset") == 4);

        // Nothing matches: PULL_RETRY_IMMEDIATELY, and the offset still moves past what was scanned.
        auto none = pull_all("Tags", 0, 1);
        none.ext_fields.set("subscription", "TagZ");
        auto nothing = co_await b.call(std::move(none));
        CHECK(nothing.code == rs::pull_retry_immediately);
        CHECK(nothing.remark.value_or("") == "NO_MATCHED_MESSAGE");
        CHECK(field(nothing, "nextBeginOffset") == 4);

        // A held pull for TagC is not woken by TagB, but is by TagC.
        auto held = pull_all("Tags", 0, 4);
        held.ext_fields.set("sysFlag", "6");
        held.ext_fields.set("suspendTimeoutMillis", "10000");
        held.ext_fields.set("subscription", "TagC");
        std::optional<command> woken;
        b.conn().async_call(std::move(held), {.timeout = 15s}, [&](error_code ec, command resp) {
            REQUIRE(!ec);
            woken = std::move(resp);
        });
        co_await sleep_for(50ms);
        co_await send_tags(b, "Tags", 0, "TagB");
        co_await sleep_for(100ms);
        CHECK(!woken);
        co_await send_tags(b, "Tags", 0, "TagC");
        for (int i = 0; i < 200 && !woken; ++i)
            co_await sleep_for(5ms);
        REQUIRE(woken);
        CHECK(bodies(*woken) == std::vector<std::string>{"body-TagC"});
        CHECK(field(*woken, "nextBeginOffset") == 6);
        co_await b.close();
    });
}

TEST_CASE("Pull: SQL92 filtering needs enablePropertyFilter")
{
    testing::cluster_options opts;
    opts.enable_property_filter = true;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Sql", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        for (int i = 0; i < 6; ++i) {
            send_args a;
            a.topic = "Sql";
            a.body = "n" + std::to_string(i);
            a.properties = props({{"n", std::to_string(i)}, {"TAGS", i % 2 ? "odd" : "even"}});
            co_await send_ok(b, a);
        }
        auto sql = pull_all("Sql", 0, 0);
        sql.ext_fields.set("expressionType", "SQL92");
        sql.ext_fields.set("subscription", "n > 2 AND TAGS = 'odd'");
        auto resp = co_await b.call(std::move(sql));
        REQUIRE(resp.code == rs::success);
        CHECK(bodies(resp) == std::vector<std::string>{"n3", "n5"});

        auto broken = pull_all("Sql", 0, 0);
        broken.ext_fields.set("expressionType", "SQL92");
        broken.ext_fields.set("subscription", "n > > 2");
        auto parse_failed = co_await b.call(std::move(broken));
        CHECK(parse_failed.code == rs::subscription_parse_failed);
        CHECK(parse_failed.remark.value_or("") == "parse the consumer's subscription failed");

        // Registered through the heartbeat instead of inline.
        auto hb = heart_beat("sqlclient", {}, "SqlGroup", {{"Sql", "n < 2", "SQL92", 5}});
        auto hb_resp = co_await b.call(std::move(hb));
        INFO(hb_resp.remark.value_or(""));
        REQUIRE(hb_resp.code == rs::success);
        pull_args p;
        p.group = "SqlGroup";
        p.topic = "Sql";
        p.sub_version = 5;
        p.expression_type = "SQL92";
        auto registered = co_await b.call(pull(p));
        REQUIRE(registered.code == rs::success);
        CHECK(bodies(registered) == std::vector<std::string>{"n0", "n1"});
        p.sub_version = 6;
        auto newer = co_await b.call(pull(p));
        CHECK(newer.code == rs::subscription_not_latest);
        co_await b.close();
    });
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Sql", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto sql = pull_all("Sql", 0, 0);
        sql.ext_fields.set("expressionType", "SQL92");
        sql.ext_fields.set("subscription", "n > 2");
        auto resp = co_await b.call(std::move(sql));
        CHECK(resp.code == rs::system_error);
        CHECK(resp.remark.value_or("") == "The broker does not support consumer to filter message by SQL92");
        co_await b.close();
    });
}

TEST_CASE("Pull: heartbeat-registered subscriptions, SUBSCRIPTION_NOT_EXIST / NOT_LATEST, commit piggy-back")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Sub", 1);
        cluster.create_topic("Other", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        co_await send_tags(b, "Sub", 0, "TagA TagB TagA");

        pull_args p;
        p.group = "SubGroup";
        p.topic = "Sub";
        p.sub_version = 100;
        auto no_group = co_await b.call(pull(p));
        CHECK(no_group.code == rs::subscription_not_exist);
        CHECK(no_group.remark.value_or("") ==
              "the consumer's group info not exist\nSee http://rocketmq.apache.org/docs/faq/ for further details.");

        auto hb_other = heart_beat("c1", {}, "SubGroup", {{"Other", "*", "TAG", 100}});
        auto awaited13 = co_await b.call(std::move(hb_other));
        REQUIRE(awaited13.code == rs::success);
        auto no_sub = co_await b.call(pull(p));
        CHECK(no_sub.code == rs::subscription_not_exist);
        CHECK(no_sub.remark.value_or("") ==
              "the consumer's subscription not exist\nSee http://rocketmq.apache.org/docs/faq/ for further details.");

        auto hb = heart_beat("c1", {}, "SubGroup", {{"Sub", "TagA", "TAG", 100}});
        auto awaited14 = co_await b.call(std::move(hb));
        REQUIRE(awaited14.code == rs::success);
        p.sub_version = 101;
        auto newer = co_await b.call(pull(p));
        CHECK(newer.code == rs::subscription_not_latest);
        CHECK(newer.remark.value_or("") == "the consumer's subscription not latest");
        CHECK(newer.ext_fields.empty());

        p.sub_version = 100;
        p.sys_flag = 1;  // COMMIT_OFFSET
        p.commit_offset = 2;
        auto filtered = co_await b.call(pull(p));
        REQUIRE(filtered.code == rs::success);
        CHECK(bodies(filtered) == std::vector<std::string>{"body-TagA", "body-TagA"});
        auto q = header_request(rc::query_consumer_offset, {{"consumerGroup", "SubGroup"}, {"topic", "Sub"}, {"queueId", "0"}});
        auto committed = co_await b.call(std::move(q));
        CHECK(committed.code == rs::success);
        CHECK(field(committed, "offset") == 2);
        co_await b.close();
    });
}

TEST_CASE("Offsets: QUERY/UPDATE_CONSUMER_OFFSET and the young-queue rule")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Off", 2);
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto query = [](std::string group) {
            return header_request(rc::query_consumer_offset, {{"consumerGroup", group}, {"topic", "Off"}, {"queueId", "1"}});
        };
        // Nothing committed and the queue's first message is in memory: 0, not QUERY_NOT_FOUND.
        auto fresh = co_await b.call(query("G1"));
        CHECK(fresh.code == rs::success);
        CHECK(field(fresh, "offset") == 0);

        auto update = header_request(rc::update_consumer_offset,
                                     {{"consumerGroup", "G1"}, {"topic", "Off"}, {"queueId", "1"}, {"commitOffset", "7"}});
        auto updated = co_await b.call(std::move(update));
        CHECK(updated.code == rs::success);
        auto awaited15 = co_await b.call(query("G1"));
        CHECK(field(awaited15, "offset") == 7);

        auto oneway = header_request(rc::update_consumer_offset,
                                     {{"consumerGroup", "G1"}, {"topic", "Off"}, {"queueId", "1"}, {"commitOffset", "9"}});
        co_await b.oneway(std::move(oneway));
        co_await sleep_for(50ms);
        auto awaited16 = co_await b.call(query("G1"));
        CHECK(field(awaited16, "offset") == 9);
        co_await b.close();
    });
    // With a tiny "memory", the first message counts as on disk: a new group gets QUERY_NOT_FOUND.
    testing::cluster_options small;
    small.memory_bytes = 100;
    with_cluster(small, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Off", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto query = header_request(rc::query_consumer_offset, {{"consumerGroup", "G"}, {"topic", "Off"}, {"queueId", "0"}});
        auto q2 = query;
        auto awaited17 = co_await b.call(std::move(q2));
        CHECK(field(awaited17, "offset") == 0);  // empty queue: still 0
        send_args a;
        a.topic = "Off";
        for (int i = 0; i < 3; ++i)
            co_await send_ok(b, a);
        auto not_found = co_await b.call(std::move(query));
        CHECK(not_found.code == rs::query_not_found);
        CHECK(not_found.remark.value_or("") == "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
        co_await b.close();
    });
}

TEST_CASE("Offsets: GET_MAX/MIN_OFFSET, GET_EARLIEST_MSG_STORETIME, SEARCH_OFFSET_BY_TIMESTAMP")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Times", 1);
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto queue_req = [](int code) { return header_request(code, {{"topic", "Times"}, {"queueId", "0"}}); };
        auto awaited18 = co_await b.call(queue_req(rc::get_max_offset));
        CHECK(field(awaited18, "offset") == 0);
        auto awaited19 = co_await b.call(queue_req(rc::get_earliest_msg_storetime));
        CHECK(field(awaited19, "timestamp") == -1);

        const std::int64_t before = epoch_ms() - 1;
        std::vector<std::int64_t> stored;
        for (int i = 0; i < 4; ++i) {
            send_args a;
            a.topic = "Times";
            co_await send_ok(b, a);
            co_await sleep_for(30ms);
        }
        auto batch = decode_messages((co_await b.call(pull_all("Times", 0, 0))).body);
        for (const auto& m : batch.messages())
            stored.push_back(m.store_timestamp());
        REQUIRE(stored.size() == 4);
        auto awaited20 = co_await b.call(queue_req(rc::get_max_offset));
        CHECK(field(awaited20, "offset") == 4);
        auto awaited21 = co_await b.call(queue_req(rc::get_min_offset));
        CHECK(field(awaited21, "offset") == 0);
        auto awaited22 = co_await b.call(queue_req(rc::get_earliest_msg_storetime));
        CHECK(field(awaited22, "timestamp") == stored[0]);

        auto search = [&](std::int64_t ts) {
            auto r = queue_req(rc::search_offset_by_timestamp);
            r.ext_fields.set("timestamp", std::to_string(ts));
            return r;
        };
        auto awaited23 = co_await b.call(search(before));
        CHECK(field(awaited23, "offset") == 0);
        auto awaited24 = co_await b.call(search(stored[1]));
        CHECK(field(awaited24, "offset") == 1);       // exact hit
        auto awaited25 = co_await b.call(search(stored[1] + 3));
        CHECK(field(awaited25, "offset") == 1);   // nearer to the left
        auto awaited26 = co_await b.call(search(stored[2] - 3));
        CHECK(field(awaited26, "offset") == 2);   // nearer to the right
        auto awaited27 = co_await b.call(search(stored[3] + 100000));
        CHECK(field(awaited27, "offset") == 3);
        co_await b.close();
    });
}
