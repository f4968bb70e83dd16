// UPDATE_AND_CREATE_TOPIC, VIEW_MESSAGE_BY_ID, QUERY_MESSAGE and GET_TOPIC_STATS_INFO.
#include "broker_client.hpp"

#include "message/ids.hpp"
#include "util/json.hpp"

#include <corocket/route.hpp>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

command create_topic_request(const std::string& topic, int queues, int perm = 6)
{
    auto c = command::request(rc::update_and_create_topic);
    c.ext_fields.set("topic", topic);
    c.ext_fields.set("defaultTopic", "TBW102");
    c.ext_fields.set("readQueueNums", std::to_string(queues));
    c.ext_fields.set("writeQueueNums", std::to_string(queues));
    c.ext_fields.set("perm", std::to_string(perm));
    c.ext_fields.set("topicFilterType", "SINGLE_TAG");
    c.ext_fields.set("topicSysFlag", "0");
    c.ext_fields.set("order", "false");
    return c;
}

command query_request(const std::string& topic, const std::string& key, bool uniq, std::int64_t begin, std::int64_t end)
{
    auto c = command::request(rc::query_message);
    c.ext_fields.set("topic", topic);
    c.ext_fields.set("key", key);
    c.ext_fields.set("maxNum", "32");
    c.ext_fields.set("beginTimestamp", std::to_string(begin));
    c.ext_fields.set("endTimestamp", std::to_string(end));
    c.ext_fields.set("_UNIQUE_KEY_QUERY", uniq ? "true" : "false");
    return c;
}

}  // namespace

TEST_CASE("Admin: UPDATE_AND_CREATE_TOPIC answers like 4.9.8 and updates the route")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client b(ioc.get_executor(), cluster.broker_address());
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto created = co_await b.call(create_topic_request("AdminTopic", 2));
        CHECK(created.code == rs::success);
        // Java never clears the remark createResponseCommand starts with.
        CHECK(created.remark.value_or("") == "not set any response code");
        auto route_req = header_request(rc::get_routeinfo_by_topic, {{"topic", "AdminTopic"}});
        auto route_resp = co_await ns.call(std::move(route_req));
        REQUIRE(route_resp.code == rs::success);
        topic_route route;
        REQUIRE(!parse_topic_route(route_resp.body, route));
        CHECK(route.queue_datas[0].read_queue_nums == 2);

        // An update replaces the config; without the READ bit pulls are refused.
        auto write_only = co_await b.call(create_topic_request("AdminTopic", 3, 2));
        CHECK(write_only.code == rs::success);
        auto pull_denied = co_await b.call(pull_all("AdminTopic", 0, 0));
        CHECK(pull_denied.code == rs::no_permission);
        CHECK(pull_denied.remark.value_or("") == "the topic[AdminTopic] pulling message is forbidden");

        auto system = co_await b.call(create_topic_request("SCHEDULE_TOPIC_XXXX", 2));
        CHECK(system.code == rs::system_error);
        CHECK(system.remark.value_or("") == "The topic[SCHEDULE_TOPIC_XXXX] is conflict with system topic.");
        auto illegal = co_await b.call(create_topic_request("bad/topic", 2));
        CHECK(illegal.code == rs::system_error);
        co_await b.close();
        co_await ns.close();
    });
}

TEST_CASE("Admin: VIEW_MESSAGE_BY_ID, QUERY_MESSAGE by key and by unique key, GET_TOPIC_STATS_INFO")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Lookup", 2);
        // Binary requests: zero-copy responses still come back in the broker's JSON.
        test_client b(ioc.get_executor(), cluster.broker_address(), remoting::serialize_type::rocketmq);
        const std::int64_t begin = epoch_ms() - 1000;
        std::vector<std::string> ids;
        for (int i = 0; i < 4; ++i) {
            send_args a;
            a.topic = "Lookup";
            a.body = "lookup " + std::to_string(i);
            a.properties = props({{"KEYS", "Key" + std::to_string(i % 2) + " Shared"},
                                  {"UNIQ_KEY", "UNIQ" + std::to_string(i)},
                                  {"TAGS", "T"}});
            auto resp = co_await send_ok(b, a);
            ids.emplace_back(resp.ext_fields.get("msgId"));
        }
        const std::int64_t end = epoch_ms() + 1000;

        auto offset = corocket::detail::decode_offset_msg_id(ids[1])->second;
        auto view_req = header_request(rc::view_message_by_id, {{"offset", std::to_string(offset)}});
        auto view = co_await b.call(std::move(view_req));
        REQUIRE(view.code == rs::success);
        CHECK(view.type == remoting::serialize_type::json);
        auto viewed = decode_messages(view.body);
        REQUIRE(viewed.size() == 1);
        CHECK(viewed.messages()[0].body() == "lookup 1");
        auto bad_view_req = header_request(rc::view_message_by_id, {{"offset", "3"}});
        auto bad_view = co_await b.call(std::move(bad_view_req));
        CHECK(bad_view.code == rs::system_error);
        CHECK(bad_view.remark.value_or("") == "can not find message by the offset, 3");
        CHECK(bad_view.type == remoting::serialize_type::rocketmq);

        auto by_key = co_await b.call(query_request("Lookup", "Key1", false, begin, end));
        REQUIRE(by_key.code == rs::success);
        CHECK(by_key.type == remoting::serialize_type::json);
        auto hits = decode_messages(by_key.body);
        REQUIRE(hits.size() == 2);
        CHECK(hits.messages()[0].body() == "lookup 1");
        CHECK(hits.messages()[1].body() == "lookup 3");
        CHECK(by_key.ext_fields.get_int("indexLastUpdatePhyoffset") ==
              corocket::detail::decode_offset_msg_id(ids[3])->second);
        CHECK(by_key.ext_fields.get_int("indexLastUpdateTimestamp") > 0);
        auto shared = co_await b.call(query_request("Lookup", "Shared", false, begin, end));
        CHECK(decode_messages(shared.body).size() == 4);

        auto by_uniq = co_await b.call(query_request("Lookup", "UNIQ2", true, begin, end));
        REQUIRE(by_uniq.code == rs::success);
        auto uniq_hits = decode_messages(by_uniq.body);
        REQUIRE(uniq_hits.size() == 1);
        CHECK(uniq_hits.messages()[0].body() == "lookup 2");

        auto none = co_await b.call(query_request("Lookup", "Key1", false, begin - 100000, begin - 50000));
        CHECK(none.code == rs::query_not_found);
        CHECK(none.remark.value_or("") == "can not find message, maybe time range not correct");
        CHECK(none.ext_fields.contains("indexLastUpdateTimestamp"));

        auto stats_req = header_request(rc::get_topic_stats_info, {{"topic", "Lookup"}});
        auto stats = co_await b.call(std::move(stats_req));
        REQUIRE(stats.code == rs::success);
        boost::json::value v;
        REQUIRE(!corocket::detail::parse_lenient_json(stats.body, v));  // MessageQueue objects as keys
        const auto& table = v.as_object().at("offsetTable").as_object();
        CHECK(table.size() == 2);
        for (const auto& [mq, offsets] : table) {
            const auto& o = offsets.as_object();
            if (std::string_view(mq).find("\"queueId\":0") != std::string_view::npos) {
                CHECK(o.at("maxOffset").as_int64() == 4);
                CHECK(o.at("lastUpdateTimestamp").as_int64() > 0);
            } else {
                CHECK(o.at("maxOffset").as_int64() == 0);
                CHECK(o.at("lastUpdateTimestamp").as_int64() == 0);
            }
        }
        co_await b.close();
    });
}
