// message accessors, host_address, reserved names and message_view helpers.
#include <corocket/message.hpp>

#include "message/codec.hpp"
#include "message/properties.hpp"

#include <catch2/catch.hpp>

using namespace corocket;
using namespace std::string_view_literals;

TEST_CASE("a new message waits for the store, like Java's")
{
    message m("T", "body");
    CHECK(m.topic() == "T");
    CHECK(m.body() == "body");
    CHECK(m.flag() == 0);
    CHECK(m.wait_store_ok());
    CHECK(m.properties() == properties{{"WAIT", "true"}});
    m.set_wait_store_ok(false);
    CHECK_FALSE(m.wait_store_ok());
    CHECK(m.property("WAIT") == "false");
    m.erase_property("WAIT");
    CHECK(m.wait_store_ok());
    m.properties_mut()["WAIT"] = "TRUE";
    CHECK(m.wait_store_ok());
    m.properties_mut()["WAIT"] = "yes";
    CHECK_FALSE(m.wait_store_ok());
}

TEST_CASE("tags, keys, delay, delivery time and sharding key live in properties")
{
    message m("T", "b");
    m.set_topic("U");
    m.set_body("c");
    m.set_flag(-7);
    CHECK(m.topic() == "U");
    CHECK(m.body() == "c");
    CHECK(m.flag() == -7);

    CHECK(m.tags().empty());
    m.set_tags("TagA");
    CHECK(m.tags() == "TagA");
    CHECK(m.property("TAGS") == "TagA");
    m.set_tags("");
    CHECK_FALSE(m.property("TAGS"));

    m.set_keys({"GoldenKey1", "", "GoldenKey2"});
    CHECK(m.property("KEYS") == "GoldenKey1 GoldenKey2");
    CHECK(m.keys() == std::vector<std::string>{"GoldenKey1", "GoldenKey2"});
    m.set_key("only");
    CHECK(m.keys() == std::vector<std::string>{"only"});
    m.properties_mut()["KEYS"] = " a  b ";
    CHECK(m.keys() == std::vector<std::string>{"a", "b"});
    m.set_keys({});
    CHECK_FALSE(m.property("KEYS"));
    CHECK(m.keys().empty());

    CHECK(m.delay_level() == 0);
    m.set_delay_level(3);
    CHECK(m.property("DELAY") == "3");
    CHECK(m.delay_level() == 3);
    m.properties_mut()["DELAY"] = "x";
    CHECK(m.delay_level() == 0);
    m.set_delay_level(0);
    CHECK_FALSE(m.property("DELAY"));

    CHECK_FALSE(m.delivery_time_ms());
    m.set_delivery_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(1795319501000)));
    CHECK(m.property("TIMER_DELIVER_MS") == "1795319501000");
    CHECK(m.delivery_time_ms() == 1795319501000);

    m.set_sharding_key("order-1");
    CHECK(m.property("__SHARDINGKEY") == "order-1");
    CHECK(m.sharding_key() == "order-1");
    m.set_sharding_key("");
    CHECK(m.sharding_key().empty());

    m.set_property("orderId", "1001");
    CHECK(m.property("orderId") == "1001");
    CHECK(m.reserved_user_property().empty());
    m.set_property("TAGS", "x");
    CHECK(m.reserved_user_property() == "TAGS");
    m.erase_property("orderId");
    CHECK_FALSE(m.property("orderId"));
}

TEST_CASE("reserved property names")
{
    for (auto name : {"KEYS", "TAGS", "WAIT", "DELAY", "UNIQ_KEY", "REAL_TOPIC", "TRAN_MSG", "PGROUP", "CLUSTER",
                      "MIN_OFFSET", "CONSUME_START_TIME", "TIMER_DELIVER_MS", "__CRC32#", "1ST_POP_TIME",
                      "DLQ_ORIGIN_TOPIC", "INSTANCE_ID", "MSG_TYPE", "TTL"})
        CHECK(is_reserved_property(name));
    for (auto name : {"orderId", "", "CHECK_IMMUNITY_TIME_IN_SECONDS", "__transactionId__", "TRANSACTION_CHECK_TIMES",
                      "__SHARDINGKEY", "INNER_NUM", "TRACE_CONTEXT", "__STARTDELIVERTIME", "tags"})
        CHECK_FALSE(is_reserved_property(name));
}

TEST_CASE("host_address text forms")
{
    auto v4 = host_address::parse("127.0.0.1:10911");
    REQUIRE(v4);
    CHECK_FALSE(v4->v6);
    CHECK(v4->port == 10911);
    CHECK(v4->ip_bytes().size() == 4);
    CHECK(v4->ip_string() == "127.0.0.1");
    CHECK(v4->to_string() == "127.0.0.1:10911");

    auto v6 = host_address::parse("[fd00::2]:65535");
    REQUIRE(v6);
    CHECK(v6->v6);
    CHECK(v6->ip[0] == 0xFD);
    CHECK(v6->ip[15] == 2);
    CHECK(v6->to_string() == "[fd00::2]:65535");
    // Java's unbracketed form.
    CHECK(host_address::parse("fd00:0:0:0:0:0:0:2:10911") == host_address::parse("[fd00::2]:10911"));

    for (auto bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "host:80", "[127.0.0.1]:80",
                     "1.2.3:80", ":80", "[]:80", "127.0.0.1:8x"})
        CHECK_FALSE(host_address::parse(bad));

    const std::uint8_t four[] = {10, 0, 0, 5};
    CHECK(host_address::from_bytes(four, 54321)->to_string() == "10.0.0.5:54321");
    CHECK_FALSE(host_address::from_bytes(std::span(four, 3), 1));
}

TEST_CASE("message_view helpers: duplicates, keys, missing UNIQ_KEY, to_message")
{
    detail::stored_record rec;
    rec.queue_id = 3;
    rec.flag = 9;
    rec.commit_log_offset = 0x10;
    rec.store_host = *host_address::parse("127.0.0.1:10911");
    rec.born_host = rec.store_host;
    rec.body = "payload";
    rec.topic = "GoldenSend";
    rec.properties = "KEYS\x01k1 k2\x02TAGS\x01one\x02TAGS\x01two\x02orderId\x01" "1001\x02";
    std::string bytes;
    detail::encode_stored(rec, bytes);

    message_batch batch;
    REQUIRE_FALSE(message_batch::decode(bytes, batch));
    auto& m = batch.messages_mut()[0];
    CHECK(m.tags() == "two");
    CHECK(m.keys() == std::vector<std::string_view>{"k1", "k2"});
    CHECK(m.property("orderId") == "1001");
    CHECK_FALSE(m.property("missing"));
    CHECK(m.offset_msg_id() == "7F00000100002A9F0000000000000010");
    CHECK(m.msg_id() == m.offset_msg_id());
    CHECK(m.properties_string() == rec.properties);

    m.broker_name = "broker-a";
    m.set_queue_id(1);
    m.set_queue_offset(42);
    m.set_topic(m.topic().substr(6));
    CHECK(batch.messages()[0].broker_name == "broker-a");
    CHECK(batch.messages()[0].queue_id() == 1);
    CHECK(batch.messages()[0].queue_offset() == 42);
    CHECK(batch.messages()[0].topic() == "Send");

    const auto copy = m.to_message();
    CHECK(copy.topic() == "Send");
    CHECK(copy.body() == "payload");
    CHECK(copy.flag() == 9);
    CHECK(copy.properties() == properties{{"KEYS", "k1 k2"}, {"TAGS", "two"}, {"orderId", "1001"}});
    CHECK(copy.keys() == std::vector<std::string>{"k1", "k2"});
}
