// Requests a broker relays to a consumer (§3.15, §7.18), sent by the fake broker because a real
// one sends them only when an administrator asks: GET_CONSUMER_RUNNING_INFO with real figures
// and object-keyed mqTable (§6.6), CONSUME_MESSAGE_DIRECTLY (§6.7), RESET_CONSUMER_CLIENT_OFFSET.
#include <corocket/offset_store.hpp>
#include <corocket/pull_consumer.hpp>
#include <corocket/push_consumer.hpp>
#include <corocket/remoting/codes.hpp>

#include "consumer_env.hpp"
#include "fake_broker.hpp"
#include "run_coro.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;
namespace rq = corocket::remoting::request_code;
namespace rc = corocket::remoting::response_code;

TEST_CASE("broker requests: running info, consume directly, reset offsets")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("Admin");
        cluster.create_topic(topic, 2);
        client_config cfg;
        cfg.namesrv_addr = cluster.namesrv_address();
        client c(ioc.get_executor(), cfg);
        c.start();
        {
            const bool sent = co_await send_many(c, topic, 6, 2);
            REQUIRE(sent);
        }
        const auto group = unique_name("CG");
        push_options o;
        o.group = group;
        o.from_where = consume_from_where::first_offset;
        o.broker_suspend = 200ms;
        o.rebalance_interval = 300ms;
        o.persist_interval = 100ms;
        push_consumer pc(c, o);
        REQUIRE_FALSE(pc.subscribe(topic, "*"));
        std::map<std::string, int> seen;
        pc.async_run(make_consume_handler([&](std::span<const message_view> batch) {
            for (const auto& m : batch)
                ++seen[std::string(m.body())];
            return batch[0].body() == "later" ? consume_status::retry_later : consume_status::success;
        }), [](error_code ec) { CHECK_FALSE(ec); });
        {
            const bool all = co_await wait_until([&] { return seen.size() == 6; });
            REQUIRE(all);
        }

        // GET_CONSUMER_RUNNING_INFO
        auto info_req = remoting::command::request(rq::get_consumer_running_info);
        info_req.ext_fields.set("consumerGroup", group);
        info_req.ext_fields.set("clientId", c.client_id());
        info_req.ext_fields.set("jstackEnable", "false");
        auto [iec, info] = co_await cluster.ask_client(group, std::move(info_req));
        REQUIRE_FALSE(iec);
        REQUIRE(info.code == rc::success);
        const std::string body = info.body;
        const auto key0 = to_json(message_queue{topic, "broker-a", 0});
        CHECK(key0 == R"({"brokerName":"broker-a","queueId":0,"topic":")" + topic + R"("})");
        CHECK(body.find("\"mqTable\":{") != std::string::npos);
        CHECK(body.find(key0 + ":{\"commitOffset\":3,") != std::string::npos);
        CHECK(body.find(to_json(message_queue{topic, "broker-a", 1}) + ":{\"commitOffset\":3,") != std::string::npos);
        CHECK(body.find("\"PROP_CONSUME_TYPE\":\"CONSUME_PASSIVELY\"") != std::string::npos);
        CHECK(body.find("\"PROP_CONSUMEORDERLY\":\"false\"") != std::string::npos);
        CHECK(body.find("\"PROP_CONSUMER_START_TIMESTAMP\":\"") != std::string::npos);
        CHECK(body.find("\"consumeFailedMsgs\":0") != std::string::npos);
        CHECK(body.find("\"subscriptionSet\":[") != std::string::npos);
        CHECK(body.find("\"topic\":\"%RETRY%" + group + "\"") != std::string::npos);

        // ... for a group this client does not have: refused.
        auto other_req = remoting::command::request(rq::get_consumer_running_info);
        other_req.ext_fields.set("consumerGroup", "NoSuchGroup");
        auto [oec, other] = co_await cluster.ask_client(group, std::move(other_req));
        REQUIRE_FALSE(oec);
        CHECK(other.code != rc::success);

        // CONSUME_MESSAGE_DIRECTLY with a stored record (taken from the broker by a pull)
        pull_consumer puller(c, {.group = "CG_PEEK", .broker_suspend = 0ms});
        const message_queue q0{topic, "broker-a", 0};
        const auto all = parse_tag_expression(topic, "*");
        auto [pec, pulled] = co_await puller.async_pull(q0, 0, 1, all, tuple_token);
        REQUIRE_FALSE(pec);
        REQUIRE(pulled.size() == 1);
        const std::string first_body(pulled.messages()[0].body());
        auto direct = remoting::command::request(rq::consume_message_directly);
        direct.ext_fields.set("consumerGroup", group);
        direct.ext_fields.set("clientId", c.client_id());
        direct.ext_fields.set("msgId", std::string(pulled.messages()[0].msg_id()));
        direct.ext_fields.set("brokerName", "broker-a");
        direct.body = std::string(pulled.messages()[0].raw_record());
        auto [dec, dresp] = co_await cluster.ask_client(group, std::move(direct));
        REQUIRE_FALSE(dec);
        REQUIRE(dresp.code == rc::success);
        CHECK(dresp.body.find("\"consumeResult\":\"CR_SUCCESS\"") != std::string::npos);
        CHECK(dresp.body.find("\"order\":false") != std::string::npos);
        CHECK(dresp.body.find("\"spentTimeMills\":") != std::string::npos);
        CHECK(seen[first_body] == 2);

        auto bad = remoting::command::request(rq::consume_message_directly);
        bad.ext_fields.set("consumerGroup", group);
        bad.body = "not a stored message";
        auto [bec, bresp] = co_await cluster.ask_client(group, std::move(bad));
        REQUIRE_FALSE(bec);
        CHECK(bresp.code == rc::system_error);

        // ... with a record whose body does not inflate: SYSTEM_ERROR naming the cause, counted,
        // and the handler is not called (Java's decode gives null and its handler call fails).
        auto undecodable = remoting::command::request(rq::consume_message_directly);
        undecodable.ext_fields.set("consumerGroup", group);
        undecodable.ext_fields.set("brokerName", "broker-a");
        undecodable.body = std::string(pulled.messages()[0].raw_record());
        undecodable.body.replace(36, 4, std::string("\x00\x00\x01\x01", 4));  // sysFlag: LZ4-compressed
        auto [uec, uresp] = co_await cluster.ask_client(group, std::move(undecodable));
        REQUIRE_FALSE(uec);
        CHECK(uresp.code == rc::system_error);
        CHECK(uresp.remark.value_or("").starts_with("undecodable message: LZ4 body of "));
        CHECK(seen[first_body] == 2);
        for (const auto& sub : pc.stats().subscriptions)
            CHECK(sub.undecodable == (sub.topic == topic ? 1u : 0u));

        // RESET_CONSUMER_CLIENT_OFFSET (one-way): queue 0 starts over at 1
        auto reset = remoting::command::request(rq::reset_consumer_client_offset);
        reset.ext_fields.set("topic", topic);
        reset.ext_fields.set("group", group);
        reset.ext_fields.set("timestamp", "0");
        reset.ext_fields.set("isForce", "true");
        reset.body = R"({"offsetTable":{)" + key0 + R"(:1}})";
        const auto before = seen;
        auto [rec, rresp] = co_await cluster.ask_client(group, std::move(reset), true);
        REQUIRE_FALSE(rec);
        {
            const bool again = co_await wait_until([&] {
                int more = 0;
                for (const auto& [b, n] : seen)
                    more += n - before.at(b);
                return more == 2;  // offsets 1 and 2 of queue 0
            });
            CHECK(again);
        }
        {
            const bool stored = co_await wait_until([&] { return cluster.committed(group, topic, 0) == 3; });
            CHECK(stored);
        }
        CHECK(cluster.committed(group, topic, 1) == 3);
        co_await pc.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
    });
}
