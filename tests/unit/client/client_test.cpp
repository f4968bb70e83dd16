// The client runtime against in-process peers playing name server and broker: name-server
// failover, route cache, heartbeats to the routed brokers, peer-request dispatch, structured stop.
#include <corocket/client.hpp>
#include <corocket/remoting/codes.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include "client/heartbeat.hpp"
#include "client/name_servers.hpp"
#include "loopback_peer.hpp"
#include "run_coro.hpp"
#include "sleep.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::remoting;
using corocket::test::loopback_peer;
using corocket::test::run_coro;
using corocket::test::sleep_for;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);


// A fake cluster: one peer answers as name server (routes pointing at the other), the other as
// broker (records heartbeats and unregisters).
struct fake_cluster {
    std::vector<command> broker_requests;
    std::vector<connection> broker_sessions;
    int route_requests = 0;
    loopback_peer broker;
    loopback_peer namesrv;

    explicit fake_cluster(asio::any_io_executor ex)
        : broker(ex, [this](connection& s) {
              broker_sessions.push_back(s);
              s.set_request_handler([this, w = std::weak_ptr(s.impl())](command req) {
                  broker_requests.push_back(req);
                  if (auto impl = w.lock())
                      connection(impl).send_response(command::response_to(req, response_code::success));
              });
          }),
          namesrv(ex, [this](connection& s) {
              s.set_request_handler([this, w = std::weak_ptr(s.impl())](command req) {
                  auto impl = w.lock();
                  if (!impl)
                      return;
                  ++route_requests;
                  connection(impl).send_response(answer(req));
              });
          })
    {
    }

    command answer(const command& req)
    {
        if (req.code == request_code::get_routeinfo_by_topic && req.ext_fields.get("topic") == "Known") {
            auto resp = command::response_to(req, response_code::success);
            resp.body = R"({"brokerDatas":[{"brokerAddrs":{"0":")" + broker.address() +
                        R"("},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},)"
                        R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})";
            return resp;
        }
        if (req.code == request_code::get_routeinfo_by_topic)
            return command::response_to(req, response_code::topic_not_exist, "No topic route info in name server");
        return command::response_to(req, response_code::system_error, "unexpected");
    }

    std::size_t count(int code) const
    {
        return std::count_if(broker_requests.begin(), broker_requests.end(),
                             [code](const command& c) { return c.code == code; });
    }

    void close()
    {
        broker.close();
        namesrv.close();
    }
};

std::string dead_address(asio::io_context& ioc)
{
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    return fmt::format("127.0.0.1:{}", a.local_endpoint().port());
}

}  // namespace

TEST_CASE("name_servers: parses the list and rotates on failure")
{
    corocket::detail::name_servers ns(" a:1; b:2 ;;c:3", 1);
    REQUIRE(ns.size() == 3);
    CHECK(ns.current() == "b:2");
    ns.rotate();
    CHECK(ns.current() == "c:3");
    ns.rotate();
    CHECK(ns.current() == "a:1");
    CHECK(corocket::detail::name_servers("", 0).empty());
}

TEST_CASE("heartbeat body carries the groups and subscriptions as HeartbeatData")
{
    consumer_registration c;
    c.group = "CG";
    c.from_where = consume_from_where::first_offset;
    c.subscriptions.push_back(subscription_data{"T", "TagA", "TAG", {"TagA"}, {2598919}, 17});
    auto body = boost::json::parse(corocket::detail::heartbeat_body("1.2.3.4@x", {"PG"}, {c})).as_object();
    CHECK(body.at("clientID") == "1.2.3.4@x");
    CHECK(body.at("producerDataSet").as_array().at(0).at("groupName") == "PG");
    auto& consumer = body.at("consumerDataSet").as_array().at(0).as_object();
    CHECK(consumer.at("consumeFromWhere") == "CONSUME_FROM_FIRST_OFFSET");
    CHECK(consumer.at("messageModel") == "CLUSTERING");
    auto& sub = consumer.at("subscriptionDataSet").as_array().at(0).as_object();
    CHECK(sub.at("codeSet").as_array().at(0) == 2598919);
    CHECK(sub.at("subVersion") == 17);
}

TEST_CASE("client id is ip@instance and unique per client object")
{
    asio::io_context ioc;
    client a(ioc.get_executor(), {.namesrv_addr = "127.0.0.1:9876"});
    client b(ioc.get_executor(), {.namesrv_addr = "127.0.0.1:9876"});
    CHECK(a.client_id() != b.client_id());
    CHECK(a.client_id().find('@') != std::string::npos);
    client named(ioc.get_executor(), {.namesrv_addr = "x:1", .instance_name = "inst", .unit_name = "u",
                                      .client_ip = "10.0.0.5"});
    CHECK(named.client_id() == "10.0.0.5@inst@u");
}

TEST_CASE("route lookup fails over to the next name server and caches the route")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster fake(ioc.get_executor());
        // The dead name server comes first half of the time (random start): either way it works.
        client c(ioc.get_executor(), {.namesrv_addr = dead_address(ioc) + ";" + fake.namesrv.address()});
        auto [ec, route] = co_await c.async_route("Known", tuple_token);
        REQUIRE_FALSE(ec);
        REQUIRE(route.broker_datas.size() == 1);
        CHECK(route.publish_queues("Known").size() == 4);
        CHECK(c.broker_address("broker-a") == fake.broker.address());
        const int asked = fake.route_requests;
        auto [ec2, cached] = co_await c.async_route("Known", tuple_token);
        CHECK_FALSE(ec2);
        CHECK(fake.route_requests == asked);  // served from the cache
        auto [ec3, missing] = co_await c.async_route("Missing", tuple_token);
        CHECK(ec3 == make_broker_error(response_code::topic_not_exist));
        co_await c.async_stop(tuple_token);
        fake.close();
    });
}

TEST_CASE("no reachable name server is an error, not a hang")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        client c(ioc.get_executor(), {.namesrv_addr = dead_address(ioc) + ";" + dead_address(ioc)});
        auto [ec, route] = co_await c.async_route("Known", tuple_token);
        CHECK(ec == client_errc::connect_failed);
        client none(ioc.get_executor(), {.namesrv_addr = ""});
        auto [ec2, r2] = co_await none.async_route("Known", tuple_token);
        CHECK(ec2 == client_errc::no_name_server);
    });
}

TEST_CASE("registered groups are heartbeated to routed brokers and unregistered on stop")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster fake(ioc.get_executor());
        client c(ioc.get_executor(), {.namesrv_addr = fake.namesrv.address()});
        c.start();
        CHECK(c.register_producer("PG"));
        CHECK_FALSE(c.register_producer("PG"));
        auto [ec, route] = co_await c.async_route("Known", tuple_token);
        REQUIRE_FALSE(ec);
        auto [hec] = co_await c.async_heartbeat(tuple_token);
        CHECK_FALSE(hec);
        REQUIRE(fake.count(request_code::heart_beat) >= 1);
        auto hb = std::find_if(fake.broker_requests.begin(), fake.broker_requests.end(),
                               [](const command& r) { return r.code == request_code::heart_beat; });
        auto body = boost::json::parse(hb->body).as_object();
        CHECK(body.at("clientID").as_string() == c.client_id());
        CHECK(body.at("producerDataSet").as_array().at(0).at("groupName") == "PG");
        co_await c.async_stop(tuple_token);
        CHECK_FALSE(c.running());
        REQUIRE(fake.count(request_code::unregister_client) == 1);
        auto un = std::find_if(fake.broker_requests.begin(), fake.broker_requests.end(),
                               [](const command& r) { return r.code == request_code::unregister_client; });
        CHECK(un->ext_fields.get("producerGroup") == "PG");
        CHECK(un->ext_fields.get("clientID") == c.client_id());
        auto [after, r] = co_await c.async_route("Known", tuple_token);
        CHECK(after == client_errc::not_running);
        fake.close();
    });
}

TEST_CASE("requests from a broker reach the handler registered for their code")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster fake(ioc.get_executor());
        client c(ioc.get_executor(), {.namesrv_addr = fake.namesrv.address()});
        std::vector<std::string> groups;
        c.set_request_handler(request_code::notify_consumer_ids_changed, [&](connection, command req) {
            groups.emplace_back(req.ext_fields.get("consumerGroup"));
        });
        auto [ec, route] = co_await c.async_route("Known", tuple_token);
        auto [iec, resp] = co_await c.async_invoke(fake.broker.address(), command::request(request_code::heart_beat), {},
                                                   tuple_token);
        REQUIRE_FALSE(iec);
        REQUIRE(fake.broker_sessions.size() == 1);
        auto notify = command::request(request_code::notify_consumer_ids_changed);
        notify.ext_fields.set("consumerGroup", "CG");
        fake.broker_sessions[0].post_oneway(std::move(notify));
        auto [rec, running] = co_await fake.broker_sessions[0].async_call(
            command::request(request_code::get_consumer_running_info), {.timeout = 5s}, tuple_token);
        CHECK_FALSE(rec);
        CHECK(running.code == response_code::request_code_not_supported);  // no handler for 307
        CHECK(groups == std::vector<std::string>{"CG"});
        co_await c.async_stop(tuple_token);
        fake.close();
    });
}

TEST_CASE("two clients in one process and a client created again after stop just work")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster fake(ioc.get_executor());
        for (int round = 0; round < 2; ++round) {
            client a(ioc.get_executor(), {.namesrv_addr = fake.namesrv.address()});
            client b(ioc.get_executor(), {.namesrv_addr = fake.namesrv.address()});
            a.start();
            b.start();
            auto [ea, ra] = co_await a.async_route("Known", tuple_token);
            auto [eb, rb] = co_await b.async_route("Known", tuple_token);
            CHECK_FALSE(ea);
            CHECK_FALSE(eb);
            co_await a.async_stop(tuple_token);
            co_await b.async_stop(tuple_token);
        }
        fake.close();
    });
}

TEST_CASE("group requests reach the handler of the group they name")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        fake_cluster fake(ioc.get_executor());
        client c(ioc.get_executor(), {.namesrv_addr = fake.namesrv.address()});
        std::vector<std::string> seen;
        for (std::string g : {"CG1", "CG2"})
            c.set_request_handler(request_code::notify_consumer_ids_changed,
                                  [&seen, g](connection, command) { seen.push_back(g); }, g);
        auto [iec, resp] = co_await c.async_invoke(fake.broker.address(), command::request(request_code::heart_beat), {},
                                                   tuple_token);
        REQUIRE_FALSE(iec);
        for (const char* g : {"CG2", "CG1", "CG3"}) {
            auto notify = command::request(request_code::notify_consumer_ids_changed);
            notify.ext_fields.set("consumerGroup", g);
            fake.broker_sessions[0].post_oneway(std::move(notify));
        }
        auto running = command::request(request_code::get_consumer_running_info);
        running.ext_fields.set("consumerGroup", "CG9");
        auto [rec, answer] = co_await fake.broker_sessions[0].async_call(std::move(running), {.timeout = 5s},
                                                                          tuple_token);
        CHECK_FALSE(rec);
        CHECK(answer.code == response_code::system_error);
        CHECK(answer.remark == "The Consumer Group <CG9> not exist in this consumer");
        CHECK(seen == std::vector<std::string>{"CG2", "CG1"});  // CG3 has no handler: ignored
        co_await c.async_stop(tuple_token);
        fake.close();
    });
}

TEST_CASE("an operation cancelled half-way completes with an error, never with an exception out of run()")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        testing::cluster_options opts;
        opts.brokers = 2;
        testing::embedded_cluster cluster(ioc.get_executor(), opts);
        REQUIRE_FALSE(cluster.start());
        cluster.create_topic("CancelMe", 2);
        client c(ioc.get_executor(), {.namesrv_addr = cluster.namesrv_address()});
        c.start();
        CHECK(c.register_producer("PG"));
        auto [ec, route] = co_await c.async_route("CancelMe", tuple_token);
        REQUIRE_FALSE(ec);
        REQUIRE(route.broker_datas.size() == 2);
        // The heartbeat to the first broker is still waiting when the timer wins and cancels the
        // operation; it then goes on to the second broker in a cancelled coroutine.
        cluster.delay_responses(request_code::heart_beat, 300ms);
        asio::steady_timer timer(ioc, 50ms);
        using namespace asio::experimental::awaitable_operators;
        auto first = co_await (c.async_heartbeat(asio::as_tuple(asio::use_awaitable)) ||
                               timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        CHECK(first.index() == 1);
        cluster.delay_responses(request_code::heart_beat, 0ms);
        co_await c.async_stop(tuple_token);
        auto [sec] = co_await cluster.async_stop(tuple_token);
        CHECK_FALSE(sec);
    });
}
