// corocket's allocation strategies and its hash queue selector against the Java client's own
// classes, on many generated inputs (the peer runs the Java algorithms; no broker involved
// beyond the peer's start).
#include "interop_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>


#include <algorithm>
#include <random>
#include <set>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;

namespace {

std::string utf8(char32_t cp)
{
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

/// A key of 0-12 characters from ASCII, Cyrillic, CJK and emoji (surrogate pairs in Java).
std::string random_key(std::mt19937& rng)
{
    static constexpr std::pair<char32_t, char32_t> ranges[] = {
        {0x20, 0x7E}, {0x430, 0x44F}, {0x4E00, 0x9FFF}, {0x1F600, 0x1F64F}};
    std::string key;
    const int length = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int i = 0; i < length; ++i) {
        const auto& [lo, hi] = ranges[std::uniform_int_distribution<int>(0, 3)(rng)];
        key += utf8(std::uniform_int_distribution<char32_t>(lo, hi)(rng));
    }
    return key;
}

/// The queues of a random subset of brokers (some in machine rooms, "room<n>@name"), sorted.
std::vector<message_queue> random_queues(std::mt19937& rng)
{
    static const std::vector<std::string> brokers{"room1@broker-a", "room2@broker-b", "room3@broker-c", "broker-d"};
    std::vector<message_queue> out;
    while (out.empty())
        for (const auto& b : brokers)
            if (std::bernoulli_distribution(0.6)(rng))
                for (int q = 0, n = std::uniform_int_distribution<int>(1, 8)(rng); q < n; ++q)
                    out.push_back({"TopicA", b, q});
    std::sort(out.begin(), out.end());
    return out;
}

/// 1-7 client ids "10.0.0.<n>@room<r>-<i>", sorted.
std::vector<std::string> random_clients(std::mt19937& rng)
{
    std::vector<std::string> out;
    const int n = std::uniform_int_distribution<int>(1, 7)(rng);
    for (int i = 0; i < n; ++i)
        out.push_back("10.0.0." + std::to_string(std::uniform_int_distribution<int>(1, 250)(rng)) + "@room" +
                      std::to_string(std::uniform_int_distribution<int>(1, 3)(rng)) + "-" + std::to_string(i));
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<json::object> strategies_for(const std::vector<message_queue>& mq_all, std::mt19937& rng)
{
    std::vector<message_queue> configured;
    for (const auto& q : mq_all)
        if (std::bernoulli_distribution(0.3)(rng))
            configured.push_back(q);
    return {
        {{"name", "AVG"}},
        {{"name", "AVG_BY_CIRCLE"}},
        {{"name", "CONSISTENT_HASH"}},
        {{"name", "CONSISTENT_HASH"}, {"virtualNodes", 3}},
        {{"name", "CONFIG"}, {"queues", queues_json(configured)}},
        {{"name", "MACHINE_ROOM"}, {"idcs", json::array{"room1", "room3"}}},
        {{"name", "MACHINE_ROOM_NEARBY"}, {"inner", {{"name", "AVG"}}}},
        {{"name", "MACHINE_ROOM_NEARBY"}, {"inner", {{"name", "AVG_BY_CIRCLE"}}}},
    };
}

}  // namespace

TEST_CASE("allocation strategies: corocket's split equals the Java classes' on generated groups")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            java_peer peer(ioc.get_executor(), std::getenv("COROCKET_NAMESRV"));
            co_await peer.start();
            std::mt19937 rng(20261204);
            for (int scenario = 0; scenario < 25; ++scenario) {
                const auto mq_all = random_queues(rng);
                const auto cids = random_clients(rng);
                auto askers = cids;
                askers.push_back("10.9.9.9@room1-stranger");  // not in the group: Java allocates nothing
                for (const auto& spec : strategies_for(mq_all, rng))
                    for (const auto& cid : askers) {
                        auto allocate = json::object{{"op", "allocate"},
                                                     {"strategy", spec},
                                                     {"group", "CG"},
                                                     {"cid", cid},
                                                     {"mqAll", queues_json(mq_all)},
                                                     {"cidAll", json::value_from(cids)}};
                        auto reply = co_await peer.call(std::move(allocate));
                        const auto java = queues_of(reply.at("queues"));
                        const auto ours = corocket_strategy(spec)("CG", cid, mq_all, cids);
                        INFO("scenario " << scenario << ", " << json::serialize(spec) << ", client " << cid
                                         << " of " << json::serialize(json::value_from(cids)));
                        CHECK(queues_text(ours) == queues_text(java));
                    }
            }
            co_await peer.close();
        });
}

TEST_CASE("hash selector: corocket picks SelectMessageQueueByHash's queue for every key")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            java_peer peer(ioc.get_executor(), std::getenv("COROCKET_NAMESRV"));
            co_await peer.start();
            std::mt19937 rng(4242);
            std::vector<std::string> keys{"", "a", "order-1", "ключ", "😀", "\xF0\x9F\x98\x80\xF0\x9F\x98\x81"};
            while (keys.size() < 300)
                keys.push_back(random_key(rng));
            const auto select = queue_selectors::by_sharding_key();
            for (int n : {1, 2, 3, 4, 5, 7, 8, 16, 31}) {
                auto select_by_hash = json::object{{"op", "select"}, {"keys", json::value_from(keys)}, {"n", n}};
                auto reply = co_await peer.call(std::move(select_by_hash));
                const auto& java = reply.at("indexes").as_array();
                std::vector<message_queue> queues;
                for (int q = 0; q < n; ++q)
                    queues.push_back({"T", "b", q});
                for (std::size_t i = 0; i < keys.size(); ++i) {
                    message m("T", "");
                    m.set_sharding_key(keys[i]);
                    INFO("key '" << keys[i] << "' among " << n << " queues");
                    CHECK(select(queues, m) == java.at(i).to_number<std::size_t>());
                }
            }
            co_await peer.close();
        });
}

TEST_CASE("reserved property names: every name the Java client refuses as a user property, corocket refuses")
{
    INTEROP_OR_SKIP();
    run_interop([](asio::io_context& ioc) -> asio::awaitable<void> {
        java_peer peer(ioc.get_executor(), std::getenv("COROCKET_NAMESRV"));
        co_await peer.start();
        auto reserved = json::object{{"op", "reserved"}};  // MessageConst.STRING_HASH_SET
        auto reply = co_await peer.call(std::move(reserved));
        const auto& names = reply.at("names").as_array();
        CHECK(names.size() > 20);
        for (const auto& name : names) {
            INFO("property " << name.as_string());
            CHECK(is_reserved_property(name.as_string()));
        }
        // (corocket reserves more: the names 5.x brokers and clients use, timers, pop, DLQ origin.)
        co_await peer.close();
    });
}
