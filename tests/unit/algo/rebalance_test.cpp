#include <corocket/rebalance.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

using corocket::allocate_strategy;
using corocket::message_queue;

namespace {

std::vector<message_queue> make_queues(int n, std::string broker = "broker-a", std::string topic = "T")
{
    std::vector<message_queue> out;
    for (int q = 0; q < n; ++q)
        out.push_back({topic, broker, q});
    return out;
}

std::vector<std::string> make_clients(int c)
{
    std::vector<std::string> out;
    for (int i = 0; i < c; ++i)
        out.push_back("c" + std::to_string(i));
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<int> ids(const std::vector<message_queue>& mqs)
{
    std::vector<int> out;
    for (const auto& mq : mqs)
        out.push_back(mq.queue_id);
    return out;
}

std::vector<std::vector<int>> allocation(const allocate_strategy& s, const std::vector<message_queue>& mqs,
                                         const std::vector<std::string>& cids)
{
    std::vector<std::vector<int>> out;
    for (const auto& cid : cids)
        out.push_back(ids(s("G", cid, mqs, cids)));
    return out;
}

using alloc = std::vector<std::vector<int>>;

}  // namespace

TEST_CASE("rebalance AVG and AVG_BY_CIRCLE: Appendix A.10", "[rebalance]")
{
    const auto mqs = make_queues(8);
    const auto cids = make_clients(3);
    CHECK(allocation(corocket::allocate_averagely(), mqs, cids) == alloc{{0, 1, 2}, {3, 4, 5}, {6, 7}});
    CHECK(allocation(corocket::allocate_averagely_by_circle(), mqs, cids) == alloc{{0, 3, 6}, {1, 4, 7}, {2, 5}});
}

TEST_CASE("rebalance AVG: fewer queues than consumers (n=2, c=3)", "[rebalance]")
{
    const auto mqs = make_queues(2);
    const auto cids = make_clients(3);
    CHECK(allocation(corocket::allocate_averagely(), mqs, cids) == alloc{{0}, {1}, {}});
    CHECK(allocation(corocket::allocate_averagely_by_circle(), mqs, cids) == alloc{{0}, {1}, {}});
    // 10 queues, 4 consumers: 3,3,2,2.
    CHECK(allocation(corocket::allocate_averagely(), make_queues(10), make_clients(4)) ==
          alloc{{0, 1, 2}, {3, 4, 5}, {6, 7}, {8, 9}});
}

TEST_CASE("rebalance: guards return nothing", "[rebalance]")
{
    const auto mqs = make_queues(4);
    const auto cids = make_clients(2);
    for (const auto& s : {corocket::allocate_averagely(), corocket::allocate_averagely_by_circle(),
                          corocket::allocate_consistent_hash(), corocket::allocate_by_machine_room({"idc"})}) {
        CHECK(s("G", "", mqs, cids).empty());
        CHECK(s("G", "stranger", mqs, cids).empty());
        CHECK(s("G", "c0", {}, cids).empty());
        CHECK(s("G", "c0", mqs, {}).empty());
    }
    CHECK_THROWS_AS(corocket::allocate_consistent_hash(-1), std::invalid_argument);
    CHECK(corocket::allocate_consistent_hash(0)("G", "c0", mqs, cids).empty());
}

TEST_CASE("rebalance CONSISTENT_HASH: Java's MD5 ring", "[rebalance]")
{
    // Values computed independently from Java's algorithm: the MD5 of each virtual node
    // ("c0-0" ... "c2-9") and of each MessageQueue.toString(), first four bytes big-endian
    // (e.g. MD5("c0-0") starts 8a 18 b9 3e → 2316876094).
    const auto mqs = make_queues(8);
    const auto cids = make_clients(3);
    const auto strategy = corocket::allocate_consistent_hash();
    CHECK(allocation(strategy, mqs, cids) == alloc{{0, 1, 5, 6}, {3, 4}, {2, 7}});
    // Deterministic, and independent of other groups' members: dropping c1 only moves c1's queues.
    CHECK(allocation(strategy, mqs, cids) == allocation(strategy, mqs, cids));
    CHECK(allocation(strategy, mqs, {"c0", "c2"}) == alloc{{0, 1, 5, 6}, {2, 3, 4, 7}});
    // One virtual node each.
    CHECK(allocation(corocket::allocate_consistent_hash(1), mqs, cids) == alloc{{0, 6, 7}, {1, 3, 4}, {2, 5}});
}

TEST_CASE("rebalance MACHINE_ROOM: only brokers of the configured rooms", "[rebalance]")
{
    std::vector<message_queue> mqs;
    for (const char* broker : {"hz@broker-a", "sh@broker-b", "hz@broker-c", "plain", "hz@x@y", "hz@"}) {
        for (int q = 0; q < 3; ++q)
            mqs.push_back({"T", broker, q});
    }
    std::sort(mqs.begin(), mqs.end());
    const auto strategy = corocket::allocate_by_machine_room({"hz"});
    const auto cids = make_clients(4);
    // 6 eligible (hz@broker-a, hz@broker-c): mod = 1, rem = 2.
    std::vector<std::vector<message_queue>> got;
    for (const auto& cid : cids)
        got.push_back(strategy("G", cid, mqs, cids));
    CHECK(got[0] == std::vector<message_queue>{{"T", "hz@broker-a", 0}, {"T", "hz@broker-c", 1}});
    CHECK(got[1] == std::vector<message_queue>{{"T", "hz@broker-a", 1}, {"T", "hz@broker-c", 2}});
    CHECK(got[2] == std::vector<message_queue>{{"T", "hz@broker-a", 2}});
    CHECK(got[3] == std::vector<message_queue>{{"T", "hz@broker-c", 0}});
}

TEST_CASE("rebalance MACHINE_ROOM_NEARBY: my room first, orphan rooms shared", "[rebalance]")
{
    // Brokers "<room>-b<n>", clients "<room>:<n>".
    const auto room_of_broker = [](const message_queue& mq) { return mq.broker_name.substr(0, 2); };
    const auto room_of_client = [](std::string_view cid) { return std::string(cid.substr(0, 2)); };
    const auto strategy =
        corocket::allocate_machine_room_nearby(corocket::allocate_averagely(), room_of_broker, room_of_client);
    std::vector<message_queue> mqs;
    for (const char* broker : {"hz-b1", "sh-b1", "sz-b1"}) {
        for (int q = 0; q < 4; ++q)
            mqs.push_back({"T", broker, q});
    }
    const std::vector<std::string> cids = {"hz:1", "hz:2", "sh:1"};
    // hz queues split by hz:1/hz:2; sh queues all to sh:1; sz has no consumer: split among all three.
    CHECK(strategy("G", "hz:1", mqs, cids) ==
          std::vector<message_queue>{{"T", "hz-b1", 0}, {"T", "hz-b1", 1}, {"T", "sz-b1", 0}, {"T", "sz-b1", 1}});
    CHECK(strategy("G", "hz:2", mqs, cids) ==
          std::vector<message_queue>{{"T", "hz-b1", 2}, {"T", "hz-b1", 3}, {"T", "sz-b1", 2}});
    CHECK(strategy("G", "sh:1", mqs, cids) == std::vector<message_queue>{
                                                  {"T", "sh-b1", 0}, {"T", "sh-b1", 1}, {"T", "sh-b1", 2},
                                                  {"T", "sh-b1", 3}, {"T", "sz-b1", 3}});
    // An unresolvable room aborts the round, as in Java.
    const auto broken = corocket::allocate_machine_room_nearby(
        corocket::allocate_averagely(), [](const message_queue&) { return std::string(); }, room_of_client);
    CHECK_THROWS_AS(broken("G", "hz:1", mqs, cids), std::invalid_argument);
}

TEST_CASE("rebalance CONFIG: the configured list whatever the membership", "[rebalance]")
{
    const std::vector<message_queue> mine = {{"T", "b", 5}, {"T", "a", 1}};
    const auto strategy = corocket::allocate_by_config(mine);
    CHECK(strategy("G", "c9", make_queues(2), make_clients(3)) == mine);
    CHECK(strategy("G", "", {}, {}) == mine);
}

TEST_CASE("rebalance: every strategy assigns every queue exactly once across the group", "[rebalance]")
{
    const std::set<std::string> rooms = {"r0", "r1"};
    const std::map<std::string, allocate_strategy> strategies = {
        {"AVG", corocket::allocate_averagely()},
        {"AVG_BY_CIRCLE", corocket::allocate_averagely_by_circle()},
        {"CONSISTENT_HASH", corocket::allocate_consistent_hash()},
        {"MACHINE_ROOM", corocket::allocate_by_machine_room(rooms)},
        {"NEARBY", corocket::allocate_machine_room_nearby(
                       corocket::allocate_averagely_by_circle(),
                       [](const message_queue& mq) { return mq.broker_name.substr(0, 2); },
                       [](std::string_view cid) { return std::string(cid.substr(0, 2)); })},
    };
    for (int n = 1; n <= 24; ++n) {
        for (int c = 1; c <= 9; ++c) {
            // Queues over three brokers in rooms r0, r1, r2 ("r2" is not configured for MACHINE_ROOM).
            std::vector<message_queue> mqs;
            for (int q = 0; q < n; ++q)
                mqs.push_back({"T", "r" + std::to_string(q % 3) + "@b", q / 3});
            std::sort(mqs.begin(), mqs.end());
            // Clients spread over rooms r0 and r1 (so r2 queues are orphans for NEARBY).
            std::vector<std::string> cids;
            for (int i = 0; i < c; ++i)
                cids.push_back("r" + std::to_string(i % 2) + "@client-" + std::to_string(i));
            std::sort(cids.begin(), cids.end());
            for (const auto& [name, strategy] : strategies) {
                INFO(name << " n=" << n << " c=" << c);
                std::map<message_queue, int> owners;
                for (const auto& cid : cids) {
                    for (const auto& mq : strategy("G", cid, mqs, cids))
                        ++owners[mq];
                }
                for (const auto& mq : mqs) {
                    const bool eligible = name != "MACHINE_ROOM" || mq.broker_name.substr(0, 2) != "r2";
                    CHECK(owners[mq] == (eligible ? 1 : 0));
                }
                CHECK(owners.size() == mqs.size());
            }
        }
    }
}
