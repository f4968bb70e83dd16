#include <corocket/route.hpp>

#include "wire_frames.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <unordered_set>

using corocket::broker_data;
using corocket::client_errc;
using corocket::cluster_info;
using corocket::message_queue;
using corocket::queue_data;
using corocket::topic_route;

namespace {

topic_route parse_route(std::string_view json)
{
    topic_route route;
    INFO(json);
    REQUIRE_FALSE(corocket::parse_topic_route(json, route));
    return route;
}

std::vector<message_queue> queues(std::string_view topic, std::initializer_list<std::pair<const char*, int>> spec)
{
    std::vector<message_queue> out;
    for (const auto& [broker, count] : spec) {
        for (int q = 0; q < count; ++q)
            out.push_back({std::string(topic), broker, q});
    }
    return out;
}

}  // namespace

TEST_CASE("message_queue: Java toString, JSON, ordering and hashing", "[route]")
{
    const message_queue mq{"TopicTest", "broker-a", 3};
    CHECK(mq.to_string() == "MessageQueue [topic=TopicTest, brokerName=broker-a, queueId=3]");
    CHECK(corocket::to_json(mq) == R"({"brokerName":"broker-a","queueId":3,"topic":"TopicTest"})");

    // Topic first, then broker name, then queue id (Java's compareTo).
    std::vector<message_queue> v = {{"B", "a", 0}, {"A", "b", 0}, {"A", "a", 2}, {"A", "a", 10}, {"A", "B", 5}};
    std::sort(v.begin(), v.end());
    const std::vector<message_queue> expected = {
        {"A", "B", 5}, {"A", "a", 2}, {"A", "a", 10}, {"A", "b", 0}, {"B", "a", 0}};
    CHECK(v == expected);

    std::unordered_set<message_queue> set(v.begin(), v.end());
    CHECK(set.size() == 5);
    CHECK(set.contains({"A", "a", 10}));
}

TEST_CASE("topic route: every captured route body parses and re-serializes byte for byte", "[route][wire]")
{
    const auto frames = corocket::test::responses_to(105);
    REQUIRE(frames.size() > 40);
    for (const auto& f : frames) {
        INFO(f.file << " seq " << f.seq);
        const auto route = parse_route(f.body());
        CHECK(corocket::to_json(route) == f.body());
    }
}

TEST_CASE("topic route: captured GoldenRoute route, fields and queues", "[route][wire]")
{
    const auto frames = corocket::test::load_wire("route.jsonl");
    auto it = std::find_if(frames.begin(), frames.end(), [](const auto& f) { return f.seq == 3; });
    REQUIRE(it != frames.end());
    const auto route = parse_route(it->body());
    REQUIRE(route.queue_datas.size() == 1);
    CHECK(route.queue_datas[0] == queue_data{"broker-a", 4, 4, 6, 0});
    REQUIRE(route.broker_datas.size() == 1);
    const auto* bd = route.find_broker("broker-a");
    REQUIRE(bd);
    CHECK(bd->cluster == "DefaultCluster");
    CHECK(bd->master_address() == "127.0.0.1:10911");
    CHECK(route.find_broker("broker-b") == nullptr);
    CHECK(route.publish_queues("GoldenRoute") == queues("GoldenRoute", {{"broker-a", 4}}));
    CHECK(route.subscribe_queues("GoldenRoute") == queues("GoldenRoute", {{"broker-a", 4}}));
}

TEST_CASE("topic route: legacy bare keys, topicSynFlag, 5.x fields, orderTopicConf", "[route]")
{
    const auto legacy = parse_route(
        R"({"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a",)"
        R"("cluster":"DefaultCluster"}],"filterServerTable":{},)"
        R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":3,"writeQueueNums":2}]})");
    CHECK(legacy.queue_datas[0].topic_sys_flag == 3);
    CHECK(legacy.broker_datas[0].broker_addrs == std::map<std::int64_t, std::string>{{0, "10.0.0.1:10911"},
                                                                                     {1, "10.0.0.2:10911"}});

    // The §6.2 standard example, with 5.x's enableActingMaster (ignored).
    const auto standard = parse_route(
        R"({"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a",)"
        R"("cluster":"DefaultCluster","enableActingMaster":false,"zoneName":"z"}],"filterServerTable":{},)"
        R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}],)"
        R"("topicQueueMappingByBroker":null})");
    CHECK(standard.broker_datas == legacy.broker_datas);
    CHECK(corocket::to_json(standard) ==
          R"({"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a",)"
          R"("cluster":"DefaultCluster"}],"filterServerTable":{},)"
          R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})");

    auto ordered = standard;
    ordered.order_topic_conf = "broker-b:2;broker-a:1;junk;broker-c:x";
    CHECK(ordered.publish_queues("T") == queues("T", {{"broker-b", 2}, {"broker-a", 1}}));
    const auto json = corocket::to_json(ordered);
    CHECK(json.find(R"("filterServerTable":{},"orderTopicConf":"broker-b:2;broker-a:1;junk;broker-c:x","queueDatas")") !=
          std::string::npos);
    CHECK(parse_route(json) == ordered);
}

TEST_CASE("topic route: publish and subscribe queues (§7.1)", "[route]")
{
    topic_route route;
    route.queue_datas = {
        {"broker-c", 2, 3, queue_data::perm_read | queue_data::perm_write, 0},
        {"broker-a", 4, 2, queue_data::perm_read | queue_data::perm_write, 0},
        {"broker-b", 1, 1, queue_data::perm_read, 0},          // read-only: not publishable
        {"broker-d", 2, 2, queue_data::perm_write, 0},         // write-only: not subscribable
        {"broker-e", 1, 1, queue_data::perm_read | queue_data::perm_write, 0},  // no master
    };
    route.broker_datas = {
        {"c1", "broker-a", {{0, "a:1"}}},
        {"c1", "broker-b", {{0, "b:1"}}},
        {"c1", "broker-c", {{0, "c:1"}, {1, "c:2"}}},
        {"c1", "broker-d", {{0, "d:1"}}},
        {"c1", "broker-e", {{1, "e:2"}}},
    };
    // Sorted by broker name, write queue counts, master required.
    CHECK(route.publish_queues("T") == queues("T", {{"broker-a", 2}, {"broker-c", 3}, {"broker-d", 2}}));
    // Read permission, read queue counts, sorted; the master does not matter.
    CHECK(route.subscribe_queues("T") ==
          queues("T", {{"broker-a", 4}, {"broker-b", 1}, {"broker-c", 2}, {"broker-e", 1}}));
    CHECK(route.find_broker("broker-e")->master_address().empty());

    // A QueueData whose broker is missing from brokerDatas publishes nothing.
    route.broker_datas.erase(route.broker_datas.begin());
    CHECK(route.publish_queues("T") == queues("T", {{"broker-c", 3}, {"broker-d", 2}}));
}

TEST_CASE("topic route: malformed bodies are bad_body", "[route]")
{
    const char* bad[] = {
        "",
        "[]",
        R"({"queueDatas":{}})",
        R"({"queueDatas":[1]})",
        R"({"queueDatas":[{"brokerName":5}]})",
        R"({"queueDatas":[{"brokerName":"a","readQueueNums":-1}]})",
        R"({"queueDatas":[{"brokerName":"a","writeQueueNums":100000000}]})",
        R"({"queueDatas":[{"brokerName":"a","perm":9999999999}]})",
        R"({"brokerDatas":[{"brokerAddrs":{"x":"a"}}]})",
        R"({"brokerDatas":[{"brokerAddrs":{0:1}}]})",
        R"({"brokerDatas":[{"brokerAddrs":[]}]})",
        R"({"orderTopicConf":1})",
        R"({"brokerDatas":[{"brokerAddrs":{0:"a"}}])",
    };
    for (const char* text : bad) {
        INFO(text);
        topic_route route;
        route.order_topic_conf = "unchanged";
        CHECK(corocket::parse_topic_route(text, route) == client_errc::bad_body);
        CHECK(route.order_topic_conf == "unchanged");
    }
    // Missing and null fields keep their defaults, as fastjson does.
    const auto empty = parse_route(R"({"queueDatas":null,"brokerDatas":[{"brokerName":"x","brokerAddrs":null}]})");
    CHECK(empty.queue_datas.empty());
    CHECK(empty.broker_datas[0].broker_addrs.empty());
    CHECK(parse_route(R"({"queueDatas":[{"readQueueNums":"7"}]})").queue_datas[0].read_queue_nums == 7);
}

TEST_CASE("cluster info: captured body parses and re-serializes byte for byte", "[route][wire]")
{
    const auto frames = corocket::test::responses_to(106);
    REQUIRE(frames.size() == 1);
    cluster_info info;
    REQUIRE_FALSE(corocket::parse_cluster_info(frames[0].body(), info));
    REQUIRE(info.broker_addr_table.size() == 1);
    const auto& bd = info.broker_addr_table.at("broker-a");
    CHECK(bd == broker_data{"DefaultCluster", "broker-a", {{0, "127.0.0.1:10911"}}});
    CHECK(info.cluster_addr_table.at("DefaultCluster") == std::vector<std::string>{"broker-a"});
    CHECK(corocket::to_json(info) == frames[0].body());
}

TEST_CASE("cluster info: several brokers and clusters round-trip; errors", "[route]")
{
    cluster_info info;
    info.broker_addr_table["a"] = {"c1", "a", {{0, "1:1"}, {2, "1:3"}}};
    info.broker_addr_table["b"] = {"c2", "b", {{1, "2:2"}}};
    info.cluster_addr_table["c1"] = {"a"};
    info.cluster_addr_table["c2"] = {"b", "x"};
    const auto json = corocket::to_json(info);
    CHECK(json == R"({"brokerAddrTable":{"a":{"brokerAddrs":{0:"1:1",2:"1:3"},"brokerName":"a","cluster":"c1"},)"
                  R"("b":{"brokerAddrs":{1:"2:2"},"brokerName":"b","cluster":"c2"}},)"
                  R"("clusterAddrTable":{"c1":["a"],"c2":["b","x"]}})");
    cluster_info back;
    REQUIRE_FALSE(corocket::parse_cluster_info(json, back));
    CHECK(back == info);

    for (const char* text : {R"({"brokerAddrTable":[]})", R"({"clusterAddrTable":{"c":"a"}})",
                             R"({"clusterAddrTable":{"c":[1]}})", R"({"brokerAddrTable":{"a":1}})", "{"}) {
        INFO(text);
        CHECK(corocket::parse_cluster_info(text, back) == client_errc::bad_body);
    }
}
