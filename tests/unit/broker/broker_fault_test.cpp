// Fault injection, restart and the data directory.
#include "broker_client.hpp"

#include <filesystem>
#include <random>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

/// A fresh directory under the system temp dir, removed afterwards.
class temp_dir {
public:
    temp_dir()
    {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("corocket-broker-test-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string str() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

command query(const std::string& group, const std::string& topic, int queue)
{
    return header_request(rc::query_consumer_offset,
                          {{"consumerGroup", group}, {"topic", topic}, {"queueId", std::to_string(queue)}});
}

command update(const std::string& group, const std::string& topic, int queue, std::int64_t offset)
{
    return header_request(rc::update_consumer_offset, {{"consumerGroup", group},
                                                        {"topic", topic},
                                                        {"queueId", std::to_string(queue)},
                                                        {"commitOffset", std::to_string(offset)}});
}

asio::awaitable<std::vector<std::string>> bodies(test_client& c, const std::string& topic, int queue)
{
    auto resp = co_await c.call(pull_all(topic, queue, 0));
    std::vector<std::string> out;
    if (resp.code == rs::success) {
        const auto batch = decode_messages(resp.body);  // the views live in the batch
        for (const auto& m : batch.messages())
            out.emplace_back(m.body());
    }
    co_return out;
}

}  // namespace

TEST_CASE("Faults: drop_connections and refuse_connections")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client c(ioc.get_executor(), cluster.broker_address());
        auto first = co_await c.call(command::request(rc::get_max_offset));
        CHECK(first.code == rs::system_error);  // missing fields, but answered
        cluster.drop_connections();
        for (int i = 0; i < 100 && c.conn().is_open(); ++i)
            co_await sleep_for(5ms);
        CHECK(!c.conn().is_open());

        cluster.refuse_connections(true);
        test_client refused(ioc.get_executor(), cluster.broker_address());
        auto [ec, resp] = co_await refused.try_call(command::request(rc::get_max_offset), 2s);
        CHECK(ec);
        cluster.refuse_connections(false);
        test_client welcome(ioc.get_executor(), cluster.broker_address());
        auto [ok_ec, ok] = co_await welcome.try_call(command::request(rc::get_max_offset), 2s);
        CHECK(!ok_ec);
        co_await welcome.close();
    });
}

TEST_CASE("Faults: delay_responses and inject_response")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Faulty", 1);
        test_client c(ioc.get_executor(), cluster.broker_address());
        send_args a;
        a.topic = "Faulty";

        cluster.delay_responses(rc::send_message_v2, 300ms);
        const auto t0 = std::chrono::steady_clock::now();
        co_await send_ok(c, a);
        CHECK(std::chrono::steady_clock::now() - t0 >= 290ms);
        auto [ec, timed_out] = co_await c.try_call(send_v2(a), 100ms);
        CHECK(ec == make_error_code(client_errc::timeout));
        cluster.delay_responses(rc::send_message_v2, 0ms);

        cluster.inject_response(rc::send_message_v2, rs::system_busy, 2);
        auto busy = co_await c.call(send_v2(a));
        CHECK(busy.code == rs::system_busy);
        CHECK(busy.remark.value_or("") == "[REJECTREQUEST]system busy, start flow control for a while");
        auto busy2 = co_await c.call(send_v2(a));
        CHECK(busy2.code == rs::system_busy);
        co_await send_ok(c, a);

        // FLUSH_DISK_TIMEOUT means "stored, but not flushed in time": the message is there.
        const auto before = cluster.max_offset("Faulty", 0);
        cluster.inject_response(rc::send_message_v2, rs::flush_disk_timeout, 1);
        auto flush = co_await c.call(send_v2(a));
        CHECK(flush.code == rs::flush_disk_timeout);
        CHECK(flush.ext_fields.contains("msgId"));
        CHECK(cluster.max_offset("Faulty", 0) == before + 1);

        cluster.inject_response(rc::pull_message, rs::system_error, 1);
        auto failed_pull = co_await c.call(pull_all("Faulty", 0, 0));
        CHECK(failed_pull.code == rs::system_error);
        auto pull_ok = co_await c.call(pull_all("Faulty", 0, 0));
        CHECK(pull_ok.code == rs::success);
        co_await c.close();
    });
}

TEST_CASE("Restart keeps messages, offsets and topics on the same ports")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Durable", 1);
        const std::string ns_before = cluster.namesrv_address();
        const std::string broker_before = cluster.broker_address();
        {
            test_client c(ioc.get_executor(), cluster.broker_address());
            send_args a;
            a.topic = "Durable";
            a.body = "kept";
            co_await send_ok(c, a);
            co_await c.call(update("G", "Durable", 0, 1));
            auto restarted = co_await cluster.async_restart(tuple_token);
            REQUIRE(!std::get<0>(restarted));
            CHECK(!c.conn().is_open());  // the old connection was dropped
        }
        CHECK(cluster.namesrv_address() == ns_before);
        CHECK(cluster.broker_address() == broker_before);
        test_client c(ioc.get_executor(), cluster.broker_address());
        auto kept = co_await bodies(c, "Durable", 0);
        CHECK(kept == std::vector<std::string>{"kept"});
        auto offset = co_await c.call(query("G", "Durable", 0));
        CHECK(offset.ext_fields.get_int("offset") == 1);
        co_await c.close();
    });
}

TEST_CASE("Data directory: a new cluster on the same directory sees everything")
{
    temp_dir dir;
    testing::cluster_options opts;
    opts.data_dir = dir.str();
    opts.delay_time_scale = 0.001;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("Persisted", 2);
        test_client c(ioc.get_executor(), cluster.broker_address());
        for (int i = 0; i < 3; ++i) {
            send_args a;
            a.topic = "Persisted";
            a.queue_id = 1;
            a.body = "p" + std::to_string(i);
            a.properties = props({{"KEYS", "PK"}});
            co_await send_ok(c, a);
        }
        send_args auto_created;
        auto_created.topic = "PersistedAuto";
        co_await send_ok(c, auto_created);
        co_await c.call(update("PG", "Persisted", 1, 2));
        auto hb = heart_beat("c", {}, "PersistedGroup", {{"Persisted", "*", "TAG", 1}});
        co_await c.call(std::move(hb));
        co_await c.close();
    });
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client c(ioc.get_executor(), cluster.broker_address());
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto kept = co_await bodies(c, "Persisted", 1);
        CHECK(kept == std::vector<std::string>{"p0", "p1", "p2"});
        auto offset = co_await c.call(query("PG", "Persisted", 1));
        CHECK(offset.ext_fields.get_int("offset") == 2);
        auto route_req = header_request(rc::get_routeinfo_by_topic, {{"topic", "PersistedAuto"}});
        auto route = co_await ns.call(std::move(route_req));
        CHECK(route.code == rs::success);
        auto retry_req = header_request(rc::get_routeinfo_by_topic, {{"topic", "%RETRY%PersistedGroup"}});
        auto retry = co_await ns.call(std::move(retry_req));
        CHECK(retry.code == rs::success);
        // The key index is rebuilt from the commit log.
        auto q = command::request(rc::query_message);
        q.ext_fields.set("topic", "Persisted");
        q.ext_fields.set("key", "PK");
        q.ext_fields.set("maxNum", "32");
        q.ext_fields.set("beginTimestamp", "0");
        q.ext_fields.set("endTimestamp", std::to_string(epoch_ms() + 1000));
        auto found = co_await c.call(std::move(q));
        CHECK(decode_messages(found.body).size() == 3);
        // New messages continue the commit log.
        send_args a;
        a.topic = "Persisted";
        a.queue_id = 1;
        a.body = "p3";
        auto resp = co_await send_ok(c, a);
        CHECK(resp.ext_fields.get("queueOffset") == "3");
        co_await c.close();
        co_await ns.close();
    });
}
