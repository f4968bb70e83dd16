// NameServer routes and broker sends, through real connections.
#include "broker_client.hpp"

#include "message/codec.hpp"
#include "message/ids.hpp"
#include "remoting/frame_reader.hpp"
#include "remoting/header_codec.hpp"

#include <corocket/route.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

command route_request(const std::string& topic)
{
    return header_request(rc::get_routeinfo_by_topic, {{"topic", topic}});
}

}  // namespace

TEST_CASE("NameServer: TBW102 route, created topics, unknown topics and cluster info")
{
    testing::cluster_options opts;
    opts.brokers = 2;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client ns(ioc.get_executor(), cluster.namesrv_address());

        auto tbw = co_await ns.call(route_request("TBW102"));
        REQUIRE(tbw.code == rs::success);
        topic_route route;
        REQUIRE(!parse_topic_route(tbw.body, route));
        REQUIRE(route.queue_datas.size() == 2);
        for (const auto& q : route.queue_datas) {
            CHECK(q.perm == 7);
            CHECK(q.read_queue_nums == 8);
            CHECK(q.write_queue_nums == 8);
        }
        REQUIRE(route.broker_datas.size() == 2);
        CHECK(route.find_broker("broker-a")->master_address() == cluster.broker_address(0));
        CHECK(route.find_broker("broker-b")->master_address() == cluster.broker_address(1));
        CHECK(route.broker_datas[0].cluster == "DefaultCluster");
        // A 4.9.8 NameServer answers current clients with standard JSON and no 5.x fields.
        CHECK(tbw.body.find("\"brokerAddrs\":{\"0\":") != std::string::npos);
        CHECK(tbw.body.find("enableActingMaster") == std::string::npos);
        CHECK(tbw.body.find("\"filterServerTable\":{}") != std::string::npos);

        auto missing = co_await ns.call(route_request("NoSuchTopic"));
        CHECK(missing.code == rs::topic_not_exist);
        CHECK(missing.remark.value_or("") ==
              "No topic route info in name server for the topic: NoSuchTopic\n"
              "See http://rocketmq.apache.org/docs/faq/ for further details.");
        CHECK(missing.body.empty());

        cluster.create_topic("Created", 3);
        auto created = co_await ns.call(route_request("Created"));
        REQUIRE(created.code == rs::success);
        REQUIRE(!parse_topic_route(created.body, route));
        REQUIRE(route.queue_datas.size() == 2);
        CHECK(route.queue_datas[0].perm == 6);
        CHECK(route.queue_datas[0].write_queue_nums == 3);

        // Old clients (version < V4_9_4) get fastjson's bare integer keys.
        test_client old_client(ioc.get_executor(), cluster.namesrv_address(), remoting::serialize_type::json, 373);
        auto legacy = co_await old_client.call(route_request("Created"));
        CHECK(legacy.body.find("\"brokerAddrs\":{0:\"") != std::string::npos);
        REQUIRE(!parse_topic_route(legacy.body, route));
        CHECK(route.broker_datas[0].master_address() == cluster.broker_address(0));
        co_await old_client.close();

        auto info = co_await ns.call(command::request(rc::get_broker_cluster_info));
        REQUIRE(info.code == rs::success);
        CHECK(info.body.find("{0:\"127.0.0.1:") != std::string::npos);  // always bare keys
        cluster_info ci;
        REQUIRE(!parse_cluster_info(info.body, ci));
        CHECK(ci.cluster_addr_table["DefaultCluster"] == std::vector<std::string>{"broker-a", "broker-b"});
        CHECK(ci.broker_addr_table["broker-b"].master_address() == cluster.broker_address(1));
        co_await ns.close();
    });
}

TEST_CASE("NameServer: a request code it does not know gets no answer at all (4.9.8 default processor)")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto [ec, resp] = co_await ns.try_call(command::request(12345), 300ms);
        CHECK(ec == make_error_code(client_errc::timeout));
        co_await ns.close();
    });
}

TEST_CASE("Broker: SEND_MESSAGE_V2 stores a byte-faithful record and answers like 4.9.8")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("GoldenSend", 4);
        test_client b(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "GoldenSend";
        a.queue_id = 2;
        a.body = "hello golden sync \xC3\xA9";
        a.properties = props({{"orderId", "1001"},
                              {"KEYS", "GoldenKey1 GoldenKey2"},
                              {"UNIQ_KEY", "FD00000000000000000000000000000253BF5FFD2B276CF9C8420000"},
                              {"WAIT", "true"},
                              {"TAGS", "TagA"},
                              {"golden-prop", "caf\xC3\xA9"}});
        auto resp = co_await send_ok(b, a);
        // The response header 4.9.8 sends, in its HashMap order.
        std::vector<std::string> keys;
        for (const auto& [k, v] : resp.ext_fields)
            keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"queueId", "TRACE_ON", "MSG_REGION", "msgId", "queueOffset"});
        CHECK(resp.ext_fields.get("queueId") == "2");
        CHECK(resp.ext_fields.get("queueOffset") == "0");
        CHECK(resp.ext_fields.get("TRACE_ON") == "true");
        CHECK(resp.ext_fields.get("MSG_REGION") == "DefaultRegion");
        CHECK(!resp.remark);
        CHECK(resp.language == remoting::language_code::java);
        CHECK(resp.version == 409);
        auto id = corocket::detail::decode_offset_msg_id(resp.ext_fields.get("msgId"));
        REQUIRE(id);
        CHECK(id->first.to_string() == cluster.broker_address());
        CHECK(id->second == 0);

        auto second = co_await send_ok(b, a);
        CHECK(second.ext_fields.get("queueOffset") == "1");

        // (Braced lists stay out of co_await expressions: GCC 12 mishandles their arrays.)
        auto view_req = header_request(rc::view_message_by_id, {{"offset", "0"}});
        auto view = co_await b.call(std::move(view_req));
        REQUIRE(view.code == rs::success);
        auto batch = decode_messages(view.body);
        REQUIRE(batch.size() == 1);
        const auto& m = batch.messages()[0];
        CHECK(m.topic() == "GoldenSend");
        CHECK(m.queue_id() == 2);
        CHECK(m.queue_offset() == 0);
        CHECK(m.commit_log_offset() == 0);
        CHECK(m.body() == a.body);
        CHECK(m.store_host().to_string() == cluster.broker_address());
        CHECK(m.born_host().ip_string() == "127.0.0.1");
        CHECK(m.born_host().port != m.store_host().port);
        CHECK(m.reconsume_times() == 0);
        CHECK(m.body_crc() == corocket::detail::body_crc(a.body));
        // WAIT is dropped, CLUSTER added, and the pairs come in Java HashMap order exactly as a
        // real 4.9.8 broker stored this message (consume_push.jsonl).
        CHECK(m.properties_string() ==
              props({{"orderId", "1001"},
                     {"KEYS", "GoldenKey1 GoldenKey2"},
                     {"UNIQ_KEY", "FD00000000000000000000000000000253BF5FFD2B276CF9C8420000"},
                     {"CLUSTER", "DefaultCluster"},
                     {"TAGS", "TagA"},
                     {"golden-prop", "caf\xC3\xA9"}}));
        CHECK(m.offset_msg_id() == resp.ext_fields.get("msgId"));
        // The next record starts right after this one.
        CHECK(second.ext_fields.get("msgId") ==
              corocket::detail::make_offset_msg_id(m.store_host(), static_cast<std::int64_t>(m.raw_record().size())));
        co_await b.close();
    });
}

TEST_CASE("Broker: the born host is the client's own TCP address")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("BornHost", 1);
        namespace ip = asio::ip;
        ip::tcp::socket sock(ioc);
        auto port = static_cast<std::uint16_t>(std::stoi(cluster.broker_address().substr(10)));
        auto [cec] = co_await sock.async_connect({ip::make_address("127.0.0.1"), port}, tuple_token);
        REQUIRE(!cec);
        send_args a;
        a.topic = "BornHost";
        auto req = send_v2(a);
        req.opaque = 7;
        auto frame = remoting::detail::encode_frame(req);
        auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(frame), tuple_token);
        REQUIRE(!wec);
        remoting::detail::frame_reader reader;
        std::optional<command> resp;
        while (!resp) {
            auto buf = reader.prepare(4096);
            auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf.data(), buf.size()), tuple_token);
            REQUIRE(!rec);
            reader.commit(n);
            error_code ec;
            if (auto f = reader.next(ec)) {
                remoting::command_view v;
                REQUIRE(!remoting::detail::decode_frame(*f, v));
                resp = v.to_owned();
            }
        }
        CHECK(resp->opaque == 7);
        REQUIRE(resp->code == rs::success);
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto batch = decode_messages((co_await b.call(pull_all("BornHost", 0, 0))).body);
        REQUIRE(batch.size() == 1);
        CHECK(batch.messages()[0].born_host().port == sock.local_endpoint().port());
        error_code ignored;
        sock.close(ignored);
        co_await b.close();
    });
}

TEST_CASE("Broker: sends are refused the way 4.9.8 refuses them")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("GoldenSend", 4);
        test_client b(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "GoldenSend";

        a.queue_id = 99;
        auto bad_queue = co_await b.call(send_v2(a));
        CHECK(bad_queue.code == rs::system_error);
        CHECK(bad_queue.remark.value_or("").starts_with(
            "request queueId[99] is illegal, TopicConfig [topicName=GoldenSend, readQueueNums=4, writeQueueNums=4, "
            "perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false] Producer: 127.0.0.1:"));
        std::vector<std::string> keys;
        for (const auto& [k, v] : bad_queue.ext_fields)
            keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"TRACE_ON", "MSG_REGION"});

        a.queue_id = 0;
        a.topic = "NoSuchTopic";
        a.default_topic = "NoSuchDefaultTopic";
        auto no_topic = co_await b.call(send_v2(a));
        CHECK(no_topic.code == rs::topic_not_exist);
        CHECK(no_topic.remark.value_or("") ==
              "topic[NoSuchTopic] not exist, apply first please!\nSee http://rocketmq.apache.org/docs/faq/ for further details.");

        a.default_topic = "TBW102";
        a.topic = "bad topic!";
        auto illegal = co_await b.call(send_v2(a));
        CHECK(illegal.code == rs::system_error);
        CHECK(illegal.remark.value_or("") ==
              "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
        a.topic = std::string(128, 'T');
        auto too_long = co_await b.call(send_v2(a));
        CHECK(too_long.code == rs::system_error);
        CHECK(too_long.remark.value_or("") == "The specified topic is longer than topic max length.");

        a.topic = "SCHEDULE_TOPIC_XXXX";
        auto forbidden = co_await b.call(send_v2(a));
        CHECK(forbidden.code == rs::no_permission);
        CHECK(forbidden.remark.value_or("") == "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden.");

        a.topic = "GoldenSend";
        a.body.assign(4 * 1024 * 1024, 'x');
        auto big = co_await b.call(send_v2(a));
        CHECK(big.code == rs::message_illegal);
        CHECK(big.remark.value_or("") ==
              "the message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, "
              "msg properties length limit 32k.");

        auto no_topic_field = send_v2(a);
        no_topic_field.body = "x";
        no_topic_field.ext_fields.erase("b");
        auto missing = co_await b.call(std::move(no_topic_field));
        CHECK(missing.code == rs::system_error);
        CHECK(missing.remark.value_or("").find("the custom field <b> is null") != std::string::npos);

        auto lite = co_await b.call(command::request(rc::lite_pull_message));
        CHECK(lite.code == rs::request_code_not_supported);
        CHECK(lite.remark.value_or("") == " request type 361 not supported");
        co_await b.close();
    });
}

TEST_CASE("Broker: auto-creation from TBW102 clamps to defaultTopicQueueNums and registers the route")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client b(ioc.get_executor(), cluster.broker_address());
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto awaited28 = co_await ns.call(route_request("AutoTopic"));
        CHECK(awaited28.code == rs::topic_not_exist);
        send_args a;
        a.topic = "AutoTopic";
        a.default_queues = 4;
        auto resp = co_await send_ok(b, a);
        CHECK(resp.ext_fields.get("queueOffset") == "0");
        auto route_resp = co_await ns.call(route_request("AutoTopic"));
        REQUIRE(route_resp.code == rs::success);
        topic_route route;
        REQUIRE(!parse_topic_route(route_resp.body, route));
        CHECK(route.queue_datas[0].write_queue_nums == 4);
        CHECK(route.queue_datas[0].perm == 6);  // the inherit bit is not passed on

        a.topic = "AutoTopicBig";
        a.default_queues = 100;  // clamped to TBW102's 8
        co_await send_ok(b, a);
        auto awaited29 = co_await ns.call(route_request("AutoTopicBig"));
        REQUIRE(!parse_topic_route(awaited29.body, route));
        CHECK(route.queue_datas[0].write_queue_nums == 8);
        co_await b.close();
        co_await ns.close();
    });
    testing::cluster_options no_auto;
    no_auto.auto_create_topic = false;
    with_cluster(no_auto, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto awaited30 = co_await ns.call(route_request("TBW102"));
        CHECK(awaited30.code == rs::topic_not_exist);
        test_client b(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "AutoTopic";
        auto awaited31 = co_await b.call(send_v2(a));
        CHECK(awaited31.code == rs::topic_not_exist);
        co_await b.close();
        co_await ns.close();
    });
}

TEST_CASE("Broker: SEND_MESSAGE (V1 header) and a negative queue id")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("V1Topic", 4);
        test_client b(ioc.get_executor(), cluster.broker_address(), remoting::serialize_type::rocketmq);
        send_args a;
        a.topic = "V1Topic";
        a.queue_id = 3;
        a.properties = props({{"TAGS", "T"}});
        auto resp = co_await b.call(send_v1(a));
        REQUIRE(resp.code == rs::success);
        CHECK(resp.type == remoting::serialize_type::rocketmq);  // the request's serialization
        CHECK(resp.ext_fields.get("queueId") == "3");
        a.queue_id = -1;  // the broker picks a queue
        auto any = co_await b.call(send_v1(a));
        REQUIRE(any.code == rs::success);
        const auto q = std::stoi(std::string(any.ext_fields.get("queueId")));
        CHECK((q >= 0 && q < 4));
        co_await b.close();
    });
}

TEST_CASE("Broker: SEND_BATCH_MESSAGE stores each message with the batch's properties appended")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("BatchTopic", 4);
        test_client b(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "BatchTopic";
        a.queue_id = 1;
        a.properties = props({{"WAIT", "true"}});
        auto req = send_v2(a);
        req.code = rc::send_batch_message;
        req.ext_fields.set("m", "true");
        req.body.clear();
        for (int i = 0; i < 3; ++i)
            corocket::detail::encode_batch_entry(
                0, "batch message " + std::to_string(i),
                props({{"KEYS", "K" + std::to_string(i)}, {"WAIT", "true"}, {"TAGS", "TagBatch"}}), req.body);
        auto resp = co_await b.call(std::move(req));
        REQUIRE(resp.code == rs::success);
        CHECK(resp.ext_fields.get("queueOffset") == "0");
        const std::string ids(resp.ext_fields.get("msgId"));
        CHECK(std::count(ids.begin(), ids.end(), ',') == 2);

        auto pulled = co_await b.call(pull_all("BatchTopic", 1, 0));
        REQUIRE(pulled.code == rs::success);
        auto batch = decode_messages(pulled.body);
        REQUIRE(batch.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            const auto& m = batch.messages()[i];
            CHECK(m.queue_offset() == static_cast<std::int64_t>(i));
            CHECK(m.body() == "batch message " + std::to_string(i));
            // As captured from 4.9.8: the message's own string, then CLUSTER and the batch's WAIT.
            CHECK(m.properties_string() == props({{"KEYS", "K" + std::to_string(i)},
                                                  {"WAIT", "true"},
                                                  {"TAGS", "TagBatch"},
                                                  {"CLUSTER", "DefaultCluster"},
                                                  {"WAIT", "true"}}));
        }
        co_await b.close();
    });
}
