// Consumer groups with Java and corocket members side by side: for every allocation strategy the
// settled split is what Java's own strategy computes for the group, and every message is consumed
// once, by the member owning its queue; an orderly group keeps each queue in order; in a
// broadcasting group every member gets everything.
#include "interop_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

using queue_list = std::vector<message_queue>;

/// One member of the group: a consumer on the Java peer (`java_id`) or a corocket one.
struct member {
    std::string cid;
    json::object strategy;
    std::string java_id;                        // empty for a corocket member
    std::unique_ptr<recording_consumer> corocket;  // null for a Java member
    bool active = true;                          // false once it left the group (see leave)
};

class mixed_group {
public:
    explicit mixed_group(asio::io_context& ioc)
        : ex_(ioc.get_executor()), cluster(ex_), peer(ex_, cluster.namesrv()), sender(ex_, cluster.config())
    {
    }

    /// Creates the topic (or uses `existing`) and starts the peer with a Java producer "p".
    asio::awaitable<void> start(std::string_view prefix, int queues, std::string existing = {})
    {
        topic = existing.empty() ? unique_name(prefix) : existing;
        group = unique_name("CGM");
        sender.start();
        queue_count = queues;
        co_await cluster.create_topic(topic, queues);
        co_await peer.start();
        auto java_producer = json::object{{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}};
        co_await peer.call(std::move(java_producer));
    }

    /// Adds a Java member (`extra`: model, orderly).
    asio::awaitable<void> add_java(std::string instance, json::object strategy, json::object extra = {})
    {
        const std::string id = "m" + std::to_string(members.size());
        extra["op"] = "consumer";
        extra["id"] = id;
        extra["group"] = group;
        extra["topic"] = topic;
        extra["instance"] = instance;
        extra["strategy"] = strategy;
        auto reply = co_await peer.call(std::move(extra));
        members.push_back({std::string(reply.at("clientId").as_string()), std::move(strategy), id, nullptr});
    }

    /// Adds a corocket member with `opts` (strategy set from `strategy`).
    void add_corocket(std::string instance, json::object strategy, push_options opts)
    {
        opts.group = group;
        opts.strategy = corocket_strategy(strategy);
        auto rc = std::make_unique<recording_consumer>(ex_, interop_client_config(cluster, std::move(instance)),
                                                       std::move(opts));
        rc->start(topic);
        members.push_back({rc->client_id(), std::move(strategy), {}, std::move(rc)});
    }

    /// What a member holds now, of `topics`.
    asio::awaitable<queue_list> held(member& m, const std::set<std::string>& topics)
    {
        queue_list all;
        if (m.corocket) {
            all = m.corocket->consumer().assignment();
        } else {
            auto assignment = json::object{{"op", "assignment"}, {"id", m.java_id}};
            all = queues_of((co_await peer.call(std::move(assignment))).at("queues"));
        }
        queue_list out;
        for (auto& q : all)
            if (topics.contains(q.topic))
                out.push_back(std::move(q));
        std::sort(out.begin(), out.end());
        co_return out;
    }

    /// The split Java's strategies compute for this membership, topic by topic; corocket's
    /// strategies are REQUIREd to compute the same.
    asio::awaitable<std::vector<queue_list>> expected_split(const std::set<std::string>& topics)
    {
        std::vector<std::string> cids;
        for (const auto& m : members)
            if (m.active)
                cids.push_back(m.cid);
        std::sort(cids.begin(), cids.end());
        std::vector<queue_list> out(members.size());
        for (const auto& t : topics) {
            auto [ec, route] = co_await sender.async_update_route(t, tuple_token);
            REQUIRE_FALSE(ec);
            auto mq_all = route.subscribe_queues(t);
            std::sort(mq_all.begin(), mq_all.end());
            for (std::size_t i = 0; i < members.size(); ++i) {
                if (!members[i].active)
                    continue;
                auto allocate = json::object{
                    {"op", "allocate"},      {"strategy", members[i].strategy}, {"group", group},
                    {"cid", members[i].cid}, {"mqAll", queues_json(mq_all)},    {"cidAll", json::value_from(cids)}};
                auto reply = co_await peer.call(std::move(allocate));
                const auto java = queues_of(reply.at("queues"));
                const auto ours = corocket_strategy(members[i].strategy)(group, members[i].cid, mq_all, cids);
                INFO("member " << members[i].cid << " on " << t);
                REQUIRE(queues_text(ours) == queues_text(java));
                out[i].insert(out[i].end(), java.begin(), java.end());
            }
        }
        for (auto& q : out)
            std::sort(q.begin(), q.end());
        co_return out;
    }

    /// Waits until every member holds its share of `topics` (and has for 3 s: rebalances are
    /// 300 ms apart in corocket, 1 s in Java); REQUIREs it.
    asio::awaitable<void> wait_settled(const std::vector<queue_list>& expected, const std::set<std::string>& topics)
    {
        const auto end = std::chrono::steady_clock::now() + delivery_wait;
        auto since = std::chrono::steady_clock::now();
        std::string last;
        bool settled = false;
        while (!settled && std::chrono::steady_clock::now() < end) {
            bool all = true;
            last.clear();
            for (std::size_t i = 0; i < members.size(); ++i) {
                if (!members[i].active)
                    continue;
                const auto now = co_await held(members[i], topics);
                last += members[i].cid + ": " + queues_text(now) + "\n";
                all = all && now == expected[i];
            }
            if (!all)
                since = std::chrono::steady_clock::now();
            settled = all && std::chrono::steady_clock::now() - since >= 3s;
            co_await sleep_for(100ms);
        }
        std::string want;
        for (std::size_t i = 0; i < members.size(); ++i)
            want += members[i].cid + ": " + queues_text(expected[i]) + "\n";
        INFO("expected:\n" << want << "held:\n" << last);
        REQUIRE(settled);
    }

    /// Member `i` leaves the group: a Java member shuts down, a corocket one stops (both commit
    /// their offsets and unregister). What it received stays.
    asio::awaitable<void> leave(std::size_t i)
    {
        auto& m = members[i];
        if (m.corocket) {
            co_await m.corocket->stop();
        } else {
            auto shutdown = json::object{{"op", "shutdown"}, {"id", m.java_id}};
            co_await peer.call(std::move(shutdown));
        }
        m.active = false;
    }

    /// Waits until the broker holds the group's committed offset at the end of every queue.
    asio::awaitable<void> wait_all_committed()
    {
        for (int q = 0; q < queue_count; ++q) {
            const auto end = co_await cluster.max_offset(topic, q);
            const bool committed = co_await cluster.wait_committed(group, topic, q, end, delivery_wait);
            INFO("queue " << q << ": committed offset " << end);
            CHECK(committed);
        }
    }

    /// The member that holds `q` (by `expected`), or nullptr.
    member* owner(const std::vector<queue_list>& expected, const message_queue& q)
    {
        for (std::size_t i = 0; i < members.size(); ++i)
            if (std::binary_search(expected[i].begin(), expected[i].end(), q))
                return &members[i];
        return nullptr;
    }

    /// What member `i` received, in order.
    std::vector<json::object> received(std::size_t i) const
    {
        const auto& m = members[i];
        return m.corocket ? m.corocket->received : peer.messages("recv", m.java_id);
    }

    /// Sends `n` messages from each of the Java producer and a corocket producer; returns their ids.
    asio::awaitable<std::set<std::string>> send_from_both(int n)
    {
        std::set<std::string> ids;
        producer p(sender, {.group = unique_name("PGC"), .send_timeout = 15s});
        REQUIRE_FALSE(p.start());
        for (int i = 0; i < n; ++i) {
            auto [ec, r] = co_await p.async_send(message(topic, "corocket-" + std::to_string(i)), tuple_token);
            REQUIRE_FALSE(ec);
            ids.insert(r.msg_id);
            for (auto& s : co_await java_send_one(peer, "p", "sync", message(topic, "java-" + std::to_string(i))))
                ids.insert(text(s.msg.at("props").as_object(), property_name::uniq_key));
        }
        co_await p.async_stop(tuple_token);
        co_return ids;
    }

    /// Waits until the members together have received `ids`.
    asio::awaitable<void> wait_received(const std::set<std::string>& ids)
    {
        const bool all = co_await wait_until(
            [&] {
                std::set<std::string> got;
                for (std::size_t i = 0; i < members.size(); ++i)
                    for (const auto& v : received(i))
                        got.insert(text(v, "msgId"));
                return std::includes(got.begin(), got.end(), ids.begin(), ids.end());
            },
            delivery_wait);
        CHECK(all);
    }

    asio::awaitable<void> close()
    {
        for (auto& m : members)
            if (m.corocket && m.active)
                co_await m.corocket->stop();
        co_await sender.async_stop(tuple_token);
        co_await peer.close();
        co_await cluster.close();
    }

private:
    asio::any_io_executor ex_;

public:
    consumer_cluster cluster;
    java_peer peer;
    client sender;
    std::string topic;
    std::string group;
    int queue_count = 0;
    std::vector<member> members;
};

/// Two Java and two corocket members with the strategies `strategy_of(i)` share a 6-queue topic:
/// the settled split is Java's, and 40 messages are each consumed once, by their queue's owner.
/// (`strategy_of` gets the member's index, the topic and its broker.)
using strategy_maker = std::function<json::object(std::size_t, const std::string&, const std::string&)>;
void clustering_case(std::string_view name, strategy_maker strategy_of, bool retry_topic = true)
{
    run_interop(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            mixed_group g(ioc);
            co_await g.start("IopMix", 6);
            const auto& broker = g.cluster.broker_name();
            co_await g.add_java("roomA-j0", strategy_of(0, g.topic, broker));
            co_await g.add_java("roomB-j1", strategy_of(1, g.topic, broker));
            g.add_corocket("roomA-c0", strategy_of(2, g.topic, broker), interop_push_options(g.group));
            g.add_corocket("roomB-c1", strategy_of(3, g.topic, broker), interop_push_options(g.group));
            std::set<std::string> topics{g.topic};
            if (retry_topic)
                topics.insert("%RETRY%" + g.group);
            INFO("strategy " << name);
            co_await sleep_for(1s);  // the retry topic is created by the members' first heartbeats
            const auto expected = co_await g.expected_split(topics);
            co_await g.wait_settled(expected, topics);
            const auto ids = co_await g.send_from_both(20);
            co_await g.wait_received(ids);
            std::map<std::string, int> deliveries;
            for (std::size_t i = 0; i < g.members.size(); ++i) {
                INFO("member " << g.members[i].cid << " owns " << queues_text(expected[i]));
                const bool owns_topic_queues = std::any_of(expected[i].begin(), expected[i].end(),
                                                           [&](const auto& q) { return q.topic == g.topic; });
                CHECK(g.received(i).empty() != owns_topic_queues);
                for (const auto& v : g.received(i)) {
                    ++deliveries[text(v, "msgId")];
                    const message_queue q{text(v, "topic"), text(v, "brokerName"), v.at("queueId").to_number<int>()};
                    INFO("member " << g.members[i].cid << " got " << brief(v));
                    CHECK(std::binary_search(expected[i].begin(), expected[i].end(), q));
                }
            }
            for (const auto& id : ids) {
                INFO("message " << id);
                CHECK(deliveries[id] == 1);
            }
            co_await g.close();
        });
}

json::object named(std::string name) { return {{"name", std::move(name)}}; }
json::object orderly_member() { return {{"orderly", true}}; }
json::object broadcasting_member() { return {{"model", "BROADCASTING"}}; }

strategy_maker same_for_all(json::object spec)
{
    return [spec](std::size_t, const std::string&, const std::string&) { return spec; };
}

}  // namespace

TEST_CASE("mixed group, clustering: AllocateMessageQueueAveragely")
{
    INTEROP_OR_SKIP();
    clustering_case("AVG", same_for_all(named("AVG")));
}

TEST_CASE("mixed group, clustering: AllocateMessageQueueAveragelyByCircle")
{
    INTEROP_OR_SKIP();
    clustering_case("AVG_BY_CIRCLE", same_for_all(named("AVG_BY_CIRCLE")));
}

TEST_CASE("mixed group, clustering: AllocateMessageQueueConsistentHash")
{
    INTEROP_OR_SKIP();
    clustering_case("CONSISTENT_HASH", same_for_all(named("CONSISTENT_HASH")));
}

TEST_CASE("mixed group, clustering: AllocateMessageQueueByConfig")
{
    INTEROP_OR_SKIP();
    // Member i is configured with queues {i, i + 4} of the 6 (the last two members get one each).
    // Java's ByConfig hands the same list out for the %RETRY% topic's rebalance too, so that
    // topic's queue is nobody's: it is left out of the comparison.
    clustering_case(
        "CONFIG",
        [](std::size_t i, const std::string& topic, const std::string& broker) {
            queue_list mine{{topic, broker, static_cast<int>(i)}};
            if (i + 4 < 6)
                mine.push_back({topic, broker, static_cast<int>(i + 4)});
            return json::object{{"name", "CONFIG"}, {"queues", queues_json(mine)}};
        },
        false);
}

TEST_CASE("mixed group, clustering: AllocateMachineRoomNearby over AllocateMessageQueueAveragely")
{
    INTEROP_OR_SKIP();
    // broker-a is in roomA: the roomA members share its queues, the roomB members get none.
    clustering_case("MACHINE_ROOM_NEARBY", [](std::size_t, const std::string&, const std::string& broker) {
        return json::object{
            {"name", "MACHINE_ROOM_NEARBY"}, {"inner", named("AVG")}, {"brokerRooms", {{broker, "roomA"}}}};
    });
}

TEST_CASE("mixed orderly group: every key's messages consumed in order, by the one member owning its queue")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            mixed_group g(ioc);
            co_await g.start("IopMixOrd", 4);
            co_await g.add_java("roomA-j0", named("AVG"), orderly_member());
            auto opts = interop_push_options(g.group);
            opts.orderly = true;
            opts.lock_renew_interval = 500ms;
            g.add_corocket("roomA-c0", named("AVG"), opts);
            const std::set<std::string> topics{g.topic, "%RETRY%" + g.group};
            co_await sleep_for(1s);  // the retry topic is created by the members' first heartbeats
            const auto expected = co_await g.expected_split(topics);
            co_await g.wait_settled(expected, topics);
            // Each key's first half comes from the Java producer (SelectMessageQueueByHash), its
            // second half from corocket's (queue_selectors::by_sharding_key): one queue, in order.
            producer p(g.sender, {.group = unique_name("PGC"), .send_timeout = 15s});
            REQUIRE_FALSE(p.start());
            const std::vector<std::string> keys{"k0", "k1", "k2", "k3", "ключ", "😀", "k6", "k7"};
            std::map<std::string, std::pair<std::string, int>> key_and_seq;  // by msgId
            std::set<std::string> ids;
            for (int seq = 0; seq < 10; ++seq)
                for (const auto& key : keys) {
                    const auto body = key + "#" + std::to_string(seq);
                    std::string id;
                    if (seq < 5) {
                        auto s = co_await java_send_one(g.peer, "p", "ordered", message(g.topic, body), by_key(key));
                        id = text(s.front().msg.at("props").as_object(), property_name::uniq_key);
                    } else {
                        message m(g.topic, body);
                        m.set_sharding_key(key);
                        auto [ec, r] = co_await p.async_send(m, send_options::ordered(), tuple_token);
                        REQUIRE_FALSE(ec);
                        id = r.msg_id;
                    }
                    key_and_seq[id] = {key, seq};
                    ids.insert(id);
                }
            co_await p.async_stop(tuple_token);
            co_await g.wait_received(ids);
            std::map<std::string, std::set<std::size_t>> members_of_key;
            for (std::size_t i = 0; i < g.members.size(); ++i) {
                std::map<std::string, std::vector<int>> seqs;
                for (const auto& v : g.received(i)) {
                    const auto& [key, seq] = key_and_seq.at(text(v, "msgId"));
                    seqs[key].push_back(seq);
                    members_of_key[key].insert(i);
                }
                for (const auto& [key, got] : seqs) {
                    INFO("member " << g.members[i].cid << ", key " << key);
                    CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
                }
            }
            for (const auto& key : keys) {
                INFO("key " << key);
                CHECK(members_of_key[key].size() == 1);
            }
            co_await g.close();
        });
}

TEST_CASE("mixed broadcasting group: every member gets every message once")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            mixed_group g(ioc);
            co_await g.start("IopMixBc", 4);
            co_await g.add_java("roomA-j0", named("AVG"), broadcasting_member());
            auto opts = interop_push_options(g.group);
            opts.model = message_model::broadcasting;
            opts.offset_store_dir = std::string(COROCKET_INTEROP_OUT_DIR) + "/corocket-offsets";
            g.add_corocket("roomA-c0", named("AVG"), opts);
            // Every member holds every queue of the topic (and, broadcasting, no %RETRY% queue).
            const std::set<std::string> topics{g.topic, "%RETRY%" + g.group};
            auto [ec, route] = co_await g.sender.async_route(g.topic, tuple_token);
            REQUIRE_FALSE(ec);
            auto all = route.subscribe_queues(g.topic);
            std::sort(all.begin(), all.end());
            const std::vector<queue_list> everything(2, all);
            co_await g.wait_settled(everything, topics);
            const auto ids = co_await g.send_from_both(10);
            for (std::size_t i = 0; i < g.members.size(); ++i) {
                const bool all_arrived = co_await wait_until(
                    [&] {
                        std::set<std::string> got;
                        for (const auto& v : g.received(i))
                            got.insert(text(v, "msgId"));
                        return std::includes(got.begin(), got.end(), ids.begin(), ids.end());
                    },
                    delivery_wait);
                INFO("member " << g.members[i].cid);
                CHECK(all_arrived);
                std::map<std::string, int> deliveries;
                for (const auto& v : g.received(i))
                    ++deliveries[text(v, "msgId")];
                for (const auto& [id, n] : deliveries)
                    CHECK(n == 1);
            }
            co_await g.close();
        });
}

namespace {

/// A Java and a corocket member that reject every first delivery (RECONSUME_LATER): the
/// messages come back through %RETRY%<group>, to the member owning its one queue: the Java
/// member when `java_owns_retry` (its instance name sorts first), else the corocket one.
asio::awaitable<std::vector<queue_list>> start_rejecting_members(mixed_group& g, bool java_owns_retry)
{
    auto rejecting = json::object{{"reject", "FIRST"}};
    const std::string java_instance = java_owns_retry ? "a-j" : "b-j";  // (GCC 12: no ?: in a co_await)
    co_await g.add_java(java_instance, named("AVG"), std::move(rejecting));
    g.add_corocket(java_owns_retry ? "b-c" : "a-c", named("AVG"), interop_push_options(g.group));
    g.members[1].corocket->answer = [](const message_view& m) {
        return m.reconsume_times() == 0 ? consume_status::retry_later : consume_status::success;
    };
    const std::set<std::string> topics{g.topic, "%RETRY%" + g.group};
    co_await sleep_for(1s);  // the retry topic is created by the members' first heartbeats
    auto expected = co_await g.expected_split(topics);
    co_await g.wait_settled(expected, topics);
    const auto* retry_owner = g.owner(expected, {"%RETRY%" + g.group, g.cluster.broker_name(), 0});
    INFO("the %RETRY% queue's owner decides which client presents the retried messages");
    REQUIRE(retry_owner);
    REQUIRE(retry_owner->java_id.empty() != java_owns_retry);
    co_return expected;
}

/// Member `i`'s delivery of `id` with `reconsume_times`, or nullptr.
const json::object* delivery(const std::vector<json::object>& received, const std::string& id, int reconsume_times)
{
    for (const auto& v : received)
        if (text(v, "msgId") == id && v.at("reconsumeTimes").to_number<int>() == reconsume_times)
            return &v;
    return nullptr;
}

}  // namespace

TEST_CASE(
    "mixed groups: rejected messages come back through %RETRY% alike, sent back by either client, shown by either")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            // Two groups on one 2-queue topic; in each, the Java and the corocket member own one
            // queue each, and the retried messages go to Java in the first, to corocket in the second.
            mixed_group java_shows(ioc), corocket_shows(ioc);
            co_await java_shows.start("IopMixRetry", 2);
            co_await corocket_shows.start("", 2, java_shows.topic);
            co_await start_rejecting_members(java_shows, true);
            co_await start_rejecting_members(corocket_shows, false);
            const auto ids = co_await java_shows.send_from_both(2);  // Java's go round robin, so do corocket's
            // Every delivery of each group; the retries only by the member owning the %RETRY% queue.
            auto all_of = [](const mixed_group& g) {
                auto out = g.received(0);
                for (auto& v : g.received(1))
                    out.push_back(std::move(v));
                return out;
            };
            std::vector<json::object> java_all, corocket_all;
            const bool retried = co_await wait_until(
                [&] {
                    java_all = all_of(java_shows), corocket_all = all_of(corocket_shows);
                    return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
                        return delivery(java_all, id, 1) && delivery(corocket_all, id, 1);
                    });
                },
                delivery_wait);
            REQUIRE(retried);
            const auto not_shown_by_corocket = java_shows.received(1), not_shown_by_java = corocket_shows.received(0);
            for (const auto& id : ids) {
                const auto* first = delivery(java_all, id, 0);
                const auto* by_java = delivery(java_all, id, 1);
                const auto* by_corocket = delivery(corocket_all, id, 1);
                REQUIRE(first);
                REQUIRE(by_java);
                REQUIRE(by_corocket);
                CHECK_FALSE(delivery(not_shown_by_corocket, id, 1));
                CHECK_FALSE(delivery(not_shown_by_java, id, 1));
                INFO("first delivery: " << brief(*first));
                INFO("retried, shown by Java: " << brief(*by_java));
                INFO("retried, shown by corocket: " << brief(*by_corocket));
                for (const auto* retry : {by_java, by_corocket}) {
                    CHECK(text(*retry, "topic") == java_shows.topic);  // presented under the original topic
                    CHECK(text(*retry, "body") == text(*first, "body"));
                    CHECK(text(retry->at("props").as_object(), property_name::retry_topic) == java_shows.topic);
                    CHECK(text(retry->at("props").as_object(), property_name::origin_message_id) ==
                          text(*first, "offsetMsgId"));
                }
                // Both stores of the retry hold the same: only the group names and where and when
                // each was stored differ.
                auto comparable = [](json::object v, const mixed_group& g) {
                    for (auto k : {"queueOffset", "offsetMsgId", "commitLogOffset", "storeTimestamp", "bornTimestamp",
                                   "bornHost", "storeSize", "storedBodyCrc"})
                        v.erase(k);
                    auto& props = v.at("props").as_object();
                    CHECK(text(props, property_name::real_topic) == "%RETRY%" + g.group);
                    props.erase(property_name::real_topic);
                    return v;
                };
                check_same_view(comparable(*by_java, java_shows), comparable(*by_corocket, corocket_shows));
            }
            co_await java_shows.close();
            co_await corocket_shows.close();
        });
}

TEST_CASE("mixed group: queues handed over between Java and corocket members resume at the committed offsets")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            mixed_group g(ioc);
            co_await g.start("IopMixHand", 4);
            const std::set<std::string> topics{g.topic};
            auto settle = [&]() -> asio::awaitable<void> {
                co_await g.wait_settled(co_await g.expected_split(topics), topics);
            };
            std::set<std::string> ids;
            auto send_and_consume = [&]() -> asio::awaitable<void> {
                const auto batch = co_await g.send_from_both(5);
                co_await g.wait_received(batch);
                co_await g.wait_all_committed();  // so that no hand-over can deliver a message twice
                ids.insert(batch.begin(), batch.end());
            };
            co_await g.add_java("a-j0", named("AVG"));
            g.add_corocket("b-c0", named("AVG"), interop_push_options(g.group));
            co_await settle();
            co_await send_and_consume();
            // The Java member leaves: corocket takes its queues at the offsets Java committed.
            co_await g.leave(0);
            co_await settle();
            co_await send_and_consume();
            // A Java member joins, then corocket leaves: Java takes over at corocket's offsets.
            co_await g.add_java("a-j1", named("AVG"));
            co_await settle();
            co_await send_and_consume();
            co_await g.leave(1);
            co_await settle();
            co_await send_and_consume();
            std::map<std::string, int> deliveries;
            for (std::size_t i = 0; i < g.members.size(); ++i)
                for (const auto& v : g.received(i))
                    ++deliveries[text(v, "msgId")];
            CHECK(deliveries.size() == ids.size());
            for (const auto& id : ids) {
                INFO("message " << id);
                CHECK(deliveries[id] == 1);
            }
            co_await g.close();
        });
}
