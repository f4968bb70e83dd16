// HEART_BEAT / UNREGISTER_CLIENT / GET_CONSUMER_LIST_BY_GROUP, NOTIFY_CONSUMER_IDS_CHANGED,
// client expiry, orderly queue locks and CHECK_CLIENT_CONFIG.
#include "broker_client.hpp"

#include <boost/json.hpp>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

std::vector<std::string> consumer_ids(const command& resp)
{
    std::vector<std::string> ids;
    auto v = boost::json::parse(resp.body);
    for (const auto& id : v.as_object().at("consumerIdList").as_array())
        ids.emplace_back(id.as_string());
    return ids;
}

command list_request(const std::string& group)
{
    return header_request(rc::get_consumer_list_by_group, {{"consumerGroup", group}});
}

std::size_t notifies(test_client& c, const std::string& group)
{
    std::size_t n = 0;
    for (const auto& r : c.inbox())
        if (r.code == rc::notify_consumer_ids_changed && r.ext_fields.get("consumerGroup") == group)
            ++n;
    return n;
}

std::string lock_body(const std::string& group, const std::string& client, const std::vector<int>& queues)
{
    boost::json::object o;
    o["consumerGroup"] = group;
    o["clientId"] = client;
    boost::json::array set;
    for (int q : queues) {
        boost::json::object mq;
        mq["brokerName"] = "broker-a";
        mq["queueId"] = q;
        mq["topic"] = "Ordered";
        set.push_back(std::move(mq));
    }
    o["mqSet"] = std::move(set);
    return boost::json::serialize(o);
}

std::vector<int> locked_queues(const command& resp)
{
    std::vector<int> out;
    auto v = boost::json::parse(resp.body);
    for (const auto& mq : v.as_object().at("lockOKMQSet").as_array())
        out.push_back(static_cast<int>(mq.as_object().at("queueId").as_int64()));
    std::sort(out.begin(), out.end());
    return out;
}

command lock_request(const std::string& client, const std::vector<int>& queues, int code = rc::lock_batch_mq)
{
    auto c = command::request(code);
    c.body = lock_body("OrderGroup", client, queues);
    return c;
}

}  // namespace

TEST_CASE("Clients: heartbeat registration, consumer list and NOTIFY_CONSUMER_IDS_CHANGED")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Push", 4);
        test_client c1(ioc.get_executor(), cluster.broker_address());
        test_client c2(ioc.get_executor(), cluster.broker_address());
        test_client ns(ioc.get_executor(), cluster.namesrv_address());

        auto none = co_await c1.call(list_request("PushGroup"));
        CHECK(none.code == rs::system_error);
        CHECK(none.remark.value_or("") == "no consumer for this group, PushGroup");

        const std::vector<subscription> subs{{"Push", "*", "TAG", 1}, {"%RETRY%PushGroup", "*", "TAG", 1}};
        auto hb1 = heart_beat("client-1", {"CLIENT_INNER_PRODUCER"}, "PushGroup", subs);
        auto r1 = co_await c1.call(std::move(hb1));
        CHECK(r1.code == rs::success);
        CHECK(!r1.remark);
        // A new member: the group (here only itself) is told to rebalance.
        auto awaited1 = co_await c1.wait_inbox(1);
        REQUIRE(awaited1);
        CHECK(notifies(c1, "PushGroup") == 1);
        const auto& note = c1.inbox().front();
        CHECK(note.is_oneway());
        CHECK(note.type == remoting::serialize_type::json);
        {
            auto ids = consumer_ids(co_await c1.call(list_request("PushGroup")));
            CHECK(ids == std::vector<std::string>{"client-1"});
        }
        // The retry topic now exists (1 queue) and is routed.
        auto retry_route = header_request(rc::get_routeinfo_by_topic, {{"topic", "%RETRY%PushGroup"}});
        auto awaited2 = co_await ns.call(std::move(retry_route));
        CHECK(awaited2.code == rs::success);

        // The same heartbeat again changes nothing: no notification.
        auto again = heart_beat("client-1", {"CLIENT_INNER_PRODUCER"}, "PushGroup", subs);
        co_await c1.call(std::move(again));
        co_await sleep_for(50ms);
        CHECK(notifies(c1, "PushGroup") == 1);

        auto hb2 = heart_beat("client-2", {}, "PushGroup", subs);
        co_await c2.call(std::move(hb2));
        auto awaited3 = co_await c1.wait_inbox(2);
        REQUIRE(awaited3);
        auto awaited4 = co_await c2.wait_inbox(1);
        REQUIRE(awaited4);
        {
            auto ids = consumer_ids(co_await c1.call(list_request("PushGroup")));
            CHECK(ids == std::vector<std::string>{"client-1", "client-2"});
        }

        auto unregister = header_request(rc::unregister_client, {{"clientID", "client-2"}, {"consumerGroup", "PushGroup"}});
        auto ur = co_await c2.call(std::move(unregister));
        CHECK(ur.code == rs::success);
        auto awaited5 = co_await c1.wait_inbox(3);
        REQUIRE(awaited5);
        {
            auto ids = consumer_ids(co_await c1.call(list_request("PushGroup")));
            CHECK(ids == std::vector<std::string>{"client-1"});
        }

        // Closing a member's connection removes it and notifies the others.
        auto hb2b = heart_beat("client-2", {}, "PushGroup", subs);
        co_await c2.call(std::move(hb2b));
        auto awaited6 = co_await c1.wait_inbox(4);
        REQUIRE(awaited6);
        co_await c2.close();
        auto awaited7 = co_await c1.wait_inbox(5);
        REQUIRE(awaited7);
        CHECK(notifies(c1, "PushGroup") == 5);
        {
            auto ids = consumer_ids(co_await c1.call(list_request("PushGroup")));
            CHECK(ids == std::vector<std::string>{"client-1"});
        }

        auto bad = command::request(rc::heart_beat);
        bad.body = "{not json";
        auto awaited8 = co_await c1.call(std::move(bad));
        CHECK(awaited8.code == rs::system_error);
        co_await c1.close();
        co_await ns.close();
    });
}

TEST_CASE("Clients: registrations expire without heartbeats and the channel is closed")
{
    testing::cluster_options opts;
    opts.client_expiry = 300ms;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client quiet(ioc.get_executor(), cluster.broker_address());
        test_client observer(ioc.get_executor(), cluster.broker_address());
        auto hb = heart_beat("quiet", {}, "ExpGroup", {{"T", "*", "TAG", 1}});
        co_await quiet.call(std::move(hb));
        auto awaited9 = co_await observer.call(list_request("ExpGroup"));
        CHECK(awaited9.code == rs::success);
        for (int i = 0; i < 300 && quiet.conn().is_open(); ++i)
            co_await sleep_for(10ms);
        CHECK(!quiet.conn().is_open());
        auto awaited10 = co_await observer.call(list_request("ExpGroup"));
        CHECK(awaited10.code == rs::system_error);
        co_await observer.close();
    });
}

TEST_CASE("Locks: LOCK_BATCH_MQ grants free or own queues, UNLOCK releases, locks expire")
{
    testing::cluster_options opts;
    opts.lock_expiry = 300ms;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client b(ioc.get_executor(), cluster.broker_address());
        // (No braced lists in co_await expressions: GCC 12 mishandles their backing arrays.)
        const std::vector<int> q01{0, 1}, q012{0, 1, 2}, q0{0}, q1{1}, q2{2};
        auto a_locks = co_await b.call(lock_request("A", q01));
        REQUIRE(a_locks.code == rs::success);
        CHECK(locked_queues(a_locks) == q01);
        auto b_locks = co_await b.call(lock_request("B", q012));
        CHECK(locked_queues(b_locks) == q2);
        auto renewed = co_await b.call(lock_request("A", q012));
        CHECK(locked_queues(renewed) == q01);

        auto unlocked = co_await b.call(lock_request("A", q0, rc::unlock_batch_mq));
        CHECK(unlocked.code == rs::success);
        CHECK(unlocked.body.empty());
        auto b_takes_0 = co_await b.call(lock_request("B", q0));
        CHECK(locked_queues(b_takes_0) == q0);

        co_await sleep_for(400ms);  // A's lock on 1 has expired
        auto b_takes_1 = co_await b.call(lock_request("B", q1));
        CHECK(locked_queues(b_takes_1) == q1);
        co_await b.close();
    });
}

TEST_CASE("CHECK_CLIENT_CONFIG accepts TAG, and SQL92 only when it compiles on a filtering broker")
{
    auto check_request = [](std::string type, std::string expr) {
        boost::json::object sub;
        sub["topic"] = "T";
        sub["subString"] = expr;
        sub["expressionType"] = type;
        sub["tagsSet"] = boost::json::array();
        sub["codeSet"] = boost::json::array();
        sub["subVersion"] = 1;
        boost::json::object body;
        body["clientId"] = "c";
        body["group"] = "G";
        body["subscriptionData"] = std::move(sub);
        auto c = command::request(rc::check_client_config);
        c.body = boost::json::serialize(body);
        return c;
    };
    testing::cluster_options opts;
    opts.enable_property_filter = true;
    with_cluster(opts, [&](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto awaited11 = co_await b.call(check_request("TAG", "a || b"));
        CHECK(awaited11.code == rs::success);
        auto awaited12 = co_await b.call(check_request("SQL92", "a > 1"));
        CHECK(awaited12.code == rs::success);
        auto bad = co_await b.call(check_request("SQL92", "a >"));
        CHECK(bad.code == rs::subscription_parse_failed);
        co_await b.close();
    });
    with_cluster({}, [&](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client b(ioc.get_executor(), cluster.broker_address());
        auto off = co_await b.call(check_request("SQL92", "a > 1"));
        CHECK(off.code == rs::system_error);
        CHECK(off.remark.value_or("") == "The broker does not support consumer to filter message by SQL92");
        co_await b.close();
    });
}
