// The slave of each broker name (cluster_options::slave): how it is routed, what it refuses, how
// it serves pulls and when it sends a consumer elsewhere, what it copies from its master, and
// how a master that goes offline leaves its slave routed.
#include "broker_client.hpp"
#include "message/codec.hpp"
#include "message/ids.hpp"

#include <corocket/route.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

testing::cluster_options with_slave(bool slave_read_enable = false)
{
    testing::cluster_options o;
    o.slave = true;
    o.slave_read_enable = slave_read_enable;
    o.slave_sync_interval = 100ms;
    return o;
}

std::int64_t field(const command& c, std::string_view key) { return c.ext_fields.get_int(key).value_or(-999); }

std::vector<std::string> bodies(const command& resp)
{
    std::vector<std::string> out;
    const auto batch = decode_messages(resp.body);
    for (const auto& m : batch.messages())
        out.emplace_back(m.body());
    return out;
}

asio::awaitable<topic_route> route_of(test_client& ns, const std::string& topic)
{
    auto req = header_request(rc::get_routeinfo_by_topic, {{"topic", topic}});
    auto resp = co_await ns.call(std::move(req));
    topic_route route;
    if (resp.code == rs::success)
        REQUIRE(!parse_topic_route(resp.body, route));
    co_return route;
}

asio::awaitable<void> send_bodies(test_client& c, const std::string& topic, int n, std::size_t body_size = 5)
{
    for (int i = 0; i < n; ++i) {
        send_args a;
        a.topic = topic;
        a.body = "m" + std::to_string(i);
        a.body.resize(std::max(a.body.size(), body_size), '.');
        co_await send_ok(c, a);
    }
}

command query_offset(const std::string& group, const std::string& topic)
{
    return header_request(rc::query_consumer_offset, {{"consumerGroup", group}, {"topic", topic}, {"queueId", "0"}});
}

command update_offset(const std::string& group, const std::string& topic, std::int64_t offset)
{
    return header_request(rc::update_consumer_offset, {{"consumerGroup", group},
                                                        {"topic", topic},
                                                        {"queueId", "0"},
                                                        {"commitOffset", std::to_string(offset)}});
}

/// Polls QUERY_CONSUMER_OFFSET on `c` until it answers `expected` (or 5 s pass).
asio::awaitable<std::int64_t> wait_offset(test_client& c, const std::string& group, const std::string& topic,
                                          std::int64_t expected)
{
    std::int64_t seen = -1;
    for (int i = 0; i < 250 && seen != expected; ++i) {
        auto resp = co_await c.call(query_offset(group, topic));
        seen = resp.code == rs::success ? field(resp, "offset") : -1;
        if (seen != expected)
            co_await sleep_for(20ms);
    }
    co_return seen;
}

/// Makes a call and stores its response in `out` (for a call left running in the background).
asio::awaitable<void> call_into(test_client& c, command req, std::optional<command>& out)
{
    out = co_await c.call(std::move(req), 25s);
}

}  // namespace

TEST_CASE("Slave: routed as broker id 1 next to its master, with the master's queues only")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveRouted", 2);
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        const auto route = co_await route_of(ns, "SlaveRouted");
        REQUIRE(route.broker_datas.size() == 1);
        REQUIRE(route.queue_datas.size() == 1);
        CHECK(route.queue_datas[0].write_queue_nums == 2);
        const std::map<std::int64_t, std::string> expected{{0, cluster.broker_address()}, {1, cluster.slave_address()}};
        CHECK(route.broker_datas[0].broker_addrs == expected);
        CHECK(cluster.broker_address() != cluster.slave_address());

        auto info_resp = co_await ns.call(command::request(rc::get_broker_cluster_info));
        REQUIRE(info_resp.code == rs::success);
        cluster_info info;
        REQUIRE(!parse_cluster_info(info_resp.body, info));
        CHECK(info.broker_addr_table.at("broker-a").broker_addrs == expected);
        co_await ns.close();
    });
}

TEST_CASE("Slave: refuses sends, batches, send-backs and END_TRANSACTION with a real slave's answers")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveWrites", 1);
        test_client master(ioc.get_executor(), cluster.broker_address());
        test_client slave(ioc.get_executor(), cluster.slave_address());
        send_args a;
        a.topic = "SlaveWrites";
        auto stored = co_await send_ok(master, a);

        auto sent = co_await slave.call(send_v2(a));
        CHECK(sent.code == rs::service_not_available);
        CHECK(sent.remark.value_or("").starts_with("service not available now."));
        CHECK(sent.remark.value_or("").find("messages are put to the slave") != std::string::npos);

        auto batch = send_v2(a);
        batch.code = rc::send_batch_message;
        batch.ext_fields.set("m", "true");
        batch.body.clear();
        corocket::detail::encode_batch_entry(0, "in a batch", "", batch.body);
        auto batched = co_await slave.call(std::move(batch));
        CHECK(batched.code == rs::service_not_available);

        const auto offset_id = corocket::detail::decode_offset_msg_id(std::string(stored.ext_fields.get("msgId")));
        REQUIRE(offset_id);
        auto back = header_request(rc::consumer_send_msg_back, {{"offset", std::to_string(offset_id->second)},
                                                                {"group", "SlaveGroup"},
                                                                {"delayLevel", "0"},
                                                                {"originMsgId", "x"},
                                                                {"originTopic", "SlaveWrites"},
                                                                {"unitMode", "false"},
                                                                {"maxReconsumeTimes", "16"}});
        auto sent_back = co_await slave.call(std::move(back));
        CHECK(sent_back.code == rs::system_error);
        CHECK(sent_back.remark.value_or("") == "SERVICE_NOT_AVAILABLE");

        auto end = header_request(rc::end_transaction, {{"producerGroup", "TxGroup"},
                                                        {"tranStateTableOffset", "0"},
                                                        {"commitLogOffset", "0"},
                                                        {"commitOrRollback", "8"},
                                                        {"fromTransactionCheck", "false"},
                                                        {"msgId", "x"}});
        auto ended = co_await slave.call(std::move(end));
        CHECK(ended.code == rs::slave_not_available);
        CHECK(!ended.remark);

        // Nothing reached the store but the one message sent to the master.
        CHECK(cluster.max_offset("SlaveWrites", 0) == 1);
        CHECK(cluster.max_offset("%RETRY%SlaveGroup", 0) == 0);
        co_await master.close();
        co_await slave.close();
    });
}

TEST_CASE("Slave: serves pulls from its master's store, sends the consumer back, never commits")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveReads", 1);
        test_client master(ioc.get_executor(), cluster.broker_address());
        test_client slave(ioc.get_executor(), cluster.slave_address());
        co_await send_bodies(master, "SlaveReads", 3);

        auto found = co_await slave.call(pull_all("SlaveReads", 0, 0));
        REQUIRE(found.code == rs::success);
        CHECK(found.remark.value_or("") == "FOUND");
        CHECK(bodies(found) == std::vector<std::string>{"m0...", "m1...", "m2..."});
        CHECK(field(found, "suggestWhichBrokerId") == 0);  // without slaveReadEnable: back to the master
        const auto batch = decode_messages(found.body);  // stored by the master
        CHECK(batch.messages()[0].store_host().to_string() == cluster.broker_address());

        // A moved offset is the master's business: the slave asks for a retry at the master and
        // leaves the consumer's offset where it was.
        auto beyond = co_await slave.call(pull_all("SlaveReads", 0, 10));
        CHECK(beyond.code == rs::pull_retry_immediately);
        CHECK(beyond.remark.value_or("") == "OFFSET_OVERFLOW_BADLY");
        CHECK(field(beyond, "nextBeginOffset") == 10);
        CHECK(field(beyond, "suggestWhichBrokerId") == 0);
        auto caught_up = co_await slave.call(pull_all("SlaveReads", 0, 3));
        CHECK(caught_up.code == rs::pull_not_found);
        CHECK(field(caught_up, "nextBeginOffset") == 3);

        // The commit flag of a pull is ignored on a slave, on the master it commits.
        pull_args p;
        p.topic = "SlaveReads";
        p.group = "SlaveCommitGroup";
        p.sys_flag = 1 | 4;
        p.commit_offset = 2;
        auto via_slave = co_await slave.call(pull(p));
        CHECK(via_slave.code == rs::success);
        // (A group that never committed reads 0 on this young queue.)
        auto on_master = co_await master.call(query_offset("SlaveCommitGroup", "SlaveReads"));
        CHECK(field(on_master, "offset") == 0);
        auto on_slave = co_await slave.call(query_offset("SlaveCommitGroup", "SlaveReads"));
        CHECK(field(on_slave, "offset") == 0);
        p.commit_offset = 1;
        auto via_master = co_await master.call(pull(p));
        CHECK(via_master.code == rs::success);
        auto committed = co_await master.call(query_offset("SlaveCommitGroup", "SlaveReads"));
        CHECK(field(committed, "offset") == 1);
        co_await master.close();
        co_await slave.close();
    });
}

TEST_CASE("Slave: with slaveReadEnable, a lagging consumer is sent to the slave and back once it catches up")
{
    auto opts = with_slave(true);
    opts.memory_bytes = 4096;  // ~13 records of 300 bytes are "in memory"
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveLag", 1);
        test_client master(ioc.get_executor(), cluster.broker_address());
        test_client slave(ioc.get_executor(), cluster.slave_address());
        co_await send_bodies(master, "SlaveLag", 60, 200);

        auto head = pull_all("SlaveLag", 0, 0);
        head.ext_fields.set("maxMsgNums", "4");
        auto lagging = co_await master.call(std::move(head));
        REQUIRE(lagging.code == rs::success);
        CHECK(field(lagging, "suggestWhichBrokerId") == 1);  // whichBrokerWhenConsumeSlowly
        auto from_slave = co_await slave.call(pull_all("SlaveLag", 0, 4));
        REQUIRE(from_slave.code == rs::success);
        CHECK(field(from_slave, "suggestWhichBrokerId") == 1);  // still behind: stay

        auto tail = co_await slave.call(pull_all("SlaveLag", 0, 56));
        REQUIRE(tail.code == rs::success);
        CHECK(bodies(tail).size() == 4);
        CHECK(field(tail, "suggestWhichBrokerId") == 0);  // caught up: the group's brokerId
        auto master_tail = co_await master.call(pull_all("SlaveLag", 0, 56));
        CHECK(field(master_tail, "suggestWhichBrokerId") == 0);
        auto empty = co_await slave.call(pull_all("SlaveLag", 0, 60));
        CHECK(empty.code == rs::pull_not_found);
        CHECK(field(empty, "suggestWhichBrokerId") == 0);
        co_await master.close();
        co_await slave.close();
    });
}

TEST_CASE("Slave: without slaveReadEnable, the master keeps a lagging consumer")
{
    auto opts = with_slave(false);
    opts.memory_bytes = 4096;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveLagOff", 1);
        test_client master(ioc.get_executor(), cluster.broker_address());
        co_await send_bodies(master, "SlaveLagOff", 60, 200);
        auto head = pull_all("SlaveLagOff", 0, 0);
        head.ext_fields.set("maxMsgNums", "4");
        auto lagging = co_await master.call(std::move(head));
        REQUIRE(lagging.code == rs::success);
        CHECK(field(lagging, "suggestWhichBrokerId") == 0);
        co_await master.close();
    });
}

TEST_CASE("Slave: copies topics and consumer offsets from its master on the sync interval")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        test_client master(ioc.get_executor(), cluster.broker_address());
        test_client slave(ioc.get_executor(), cluster.slave_address());
        // A topic created on the master after start (UPDATE_AND_CREATE_TOPIC goes to masters).
        auto create = header_request(rc::update_and_create_topic, {{"topic", "SlaveSynced"},
                                                                   {"defaultTopic", "TBW102"},
                                                                   {"readQueueNums", "1"},
                                                                   {"writeQueueNums", "1"},
                                                                   {"perm", "6"},
                                                                   {"topicFilterType", "SINGLE_TAG"},
                                                                   {"topicSysFlag", "0"},
                                                                   {"order", "false"}});
        auto created = co_await master.call(std::move(create));
        REQUIRE(created.code == rs::success);
        co_await send_bodies(master, "SlaveSynced", 2);
        int code = rs::topic_not_exist;
        for (int i = 0; i < 250 && code != rs::success; ++i) {
            auto resp = co_await slave.call(pull_all("SlaveSynced", 0, 0));
            code = resp.code;
            if (code != rs::success)
                co_await sleep_for(20ms);
        }
        CHECK(code == rs::success);

        auto commit = co_await master.call(update_offset("SyncGroup", "SlaveSynced", 2));
        REQUIRE(commit.code == rs::success);
        const auto synced = co_await wait_offset(slave, "SyncGroup", "SlaveSynced", 2);
        CHECK(synced == 2);
        // An offset committed to the slave itself is accepted, and the master's wins at the next sync.
        auto local = co_await slave.call(update_offset("SyncGroup", "SlaveSynced", 1));
        CHECK(local.code == rs::success);
        const auto overwritten = co_await wait_offset(slave, "SyncGroup", "SlaveSynced", 2);
        CHECK(overwritten == 2);
        co_await master.close();
        co_await slave.close();
    });
}

TEST_CASE("Slave: a held pull finds new messages in the hold service's periodic check")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveHeld", 1);
        test_client master(ioc.get_executor(), cluster.broker_address());
        test_client slave(ioc.get_executor(), cluster.slave_address());
        pull_args p;
        p.topic = "SlaveHeld";
        p.sys_flag = 2 | 4;
        p.suspend_ms = 20000;
        std::optional<command> answer;
        asio::co_spawn(ioc, call_into(slave, pull(p), answer), asio::detached);
        co_await sleep_for(100ms);
        CHECK(!answer);  // held
        co_await send_bodies(master, "SlaveHeld", 1);
        // Replication wakes nothing on a slave: PullRequestHoldService finds it within its 5 s
        // check, well before the 20 s suspend timeout would answer PULL_NOT_FOUND.
        for (int i = 0; i < 1000 && !answer; ++i)
            co_await sleep_for(10ms);
        REQUIRE(answer);
        CHECK(answer->code == rs::success);
        CHECK(bodies(*answer) == std::vector<std::string>{"m0..."});
        co_await master.close();
        co_await slave.close();
    });
}

TEST_CASE("Slave: a master taken offline leaves the broker routed through its slave, and comes back")
{
    with_cluster(with_slave(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("SlaveFailover", 1);
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        {
            test_client master(ioc.get_executor(), cluster.broker_address());
            co_await send_bodies(master, "SlaveFailover", 2);
            REQUIRE(!cluster.set_offline(0, 0, true));
            for (int i = 0; i < 100 && master.conn().is_open(); ++i)
                co_await sleep_for(5ms);
            CHECK(!master.conn().is_open());
        }
        const auto degraded = co_await route_of(ns, "SlaveFailover");
        REQUIRE(degraded.broker_datas.size() == 1);
        const std::map<std::int64_t, std::string> only_slave{{1, cluster.slave_address()}};
        CHECK(degraded.broker_datas[0].broker_addrs == only_slave);
        CHECK(degraded.queue_datas.size() == 1);  // the queues stay routed

        test_client refused(ioc.get_executor(), cluster.broker_address());
        auto [ec, ignored] = co_await refused.try_call(command::request(rc::get_max_offset), 2s);
        CHECK(ec);
        test_client slave(ioc.get_executor(), cluster.slave_address());
        auto read = co_await slave.call(pull_all("SlaveFailover", 0, 0));
        CHECK(bodies(read).size() == 2);

        REQUIRE(!cluster.set_offline(0, 0, false));
        const auto healed = co_await route_of(ns, "SlaveFailover");
        REQUIRE(healed.broker_datas.size() == 1);
        CHECK(healed.broker_datas[0].broker_addrs.size() == 2);
        test_client master(ioc.get_executor(), cluster.broker_address());
        co_await send_bodies(master, "SlaveFailover", 1);
        CHECK(cluster.max_offset("SlaveFailover", 0) == 3);

        // Both gone: the broker name leaves the route, queues and all.
        REQUIRE(!cluster.set_offline(0, 0, true));
        REQUIRE(!cluster.set_offline(0, 1, true));
        const auto gone = co_await route_of(ns, "SlaveFailover");
        CHECK(gone.broker_datas.empty());
        CHECK(gone.queue_datas.empty());
        co_await ns.close();
    });
}
