// Consumer groups with Java and corocket members side by side: for every allocation strategy the
// settled split is what Java's own strategy computes for the group, and every message is consumed
// once, by the member owning its queue; an orderly group keeps each queue in order; in a
// broadcasting group every member gets everything.
#include "interop_env.hpp"
#include "run_coro.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

using queue_list = std::vector<message_queue>;

std::string queues_text(const queue_list& qs)
{
    std::string out;
    for (const auto& q : qs)
        out += q.to_string() + " ";
    return out;
}

/// One member of the group: a consumer on the Java peer (`java_id`) or a corocket one.
struct member {
    std::string cid;
    json::object strategy;
    std::string java_id;                        // empty for a corocket member
    std::unique_ptr<recording_consumer> corocket;  // null for a Java member
};

class mixed_group {
public:
    mixed_group(asio::io_context& ioc) : ex_(ioc.get_executor()), cluster(ex_), peer(ex_, cluster.namesrv()), sender(ex_, cluster.config()) {}

    /// Creates the topic and starts the peer with a Java producer "p".
    asio::awaitable<void> start(std::string_view prefix, int queues)
    {
        topic = unique_name(prefix);
        group = unique_name("CGM");
        sender.start();
        co_await cluster.create_topic(topic, queues);
        co_await peer.start();
        co_await peer.call({{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}});
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
        auto rc = std::make_unique<recording_consumer>(ex_, interop_client_config(cluster, std::move(instance)), std::move(opts));
        rc->start(topic);
        members.push_back({rc->client_id(), std::move(strategy), {}, std::move(rc)});
    }

    /// What a member holds now, of `topics`.
    asio::awaitable<queue_list> held(member& m, const std::set<std::string>& topics)
    {
        queue_list all;
        if (m.corocket)
            all = m.corocket->consumer().assignment();
        else
            all = queues_of((co_await peer.call({{"op", "assignment"}, {"id", m.java_id}})).at("queues"));
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
            cids.push_back(m.cid);
        std::sort(cids.begin(), cids.end());
        std::vector<queue_list> out(members.size());
        for (const auto& t : topics) {
            auto [ec, route] = co_await sender.async_update_route(t, tuple_token);
            REQUIRE_FALSE(ec);
            auto mq_all = route.subscribe_queues(t);
            std::sort(mq_all.begin(), mq_all.end());
            for (std::size_t i = 0; i < members.size(); ++i) {
                auto reply = co_await peer.call({{"op", "allocate"},
                                                 {"strategy", members[i].strategy},
                                                 {"group", group},
                                                 {"cid", members[i].cid},
                                                 {"mqAll", queues_json(mq_all)},
                                                 {"cidAll", json::value_from(cids)}});
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
            for (auto& s : co_await java_send(peer, "p", "sync", {message(topic, "java-" + std::to_string(i))}))
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
            if (m.corocket)
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
    std::vector<member> members;
};

/// Two Java and two corocket members with the strategies `strategy_of(i)` share a 6-queue topic:
/// the settled split is Java's, and 40 messages are each consumed once, by their queue's owner.
/// (`strategy_of` gets the member's index, the topic and its broker.)
using strategy_maker = std::function<json::object(std::size_t, const std::string&, const std::string&)>;
void clustering_case(std::string_view name, strategy_maker strategy_of, bool retry_topic = true)
{
    run_coro(
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
        },
        interop_time_limit);
}

json::object named(std::string name) { return {{"name", std::move(name)}}; }

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
        return json::object{{"name", "MACHINE_ROOM_NEARBY"}, {"inner", named("AVG")}, {"brokerRooms", {{broker, "roomA"}}}};
    });
}
