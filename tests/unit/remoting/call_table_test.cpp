#include "remoting/call_table.hpp"

#include <catch2/catch.hpp>

#include <string>

using corocket::remoting::detail::call_table;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST_CASE("call_table: take finds a call once; unknown and late opaques find nothing")
{
    call_table<std::string> t(4);
    t.insert(1, 105, "a", std::nullopt);
    t.insert(2, 310, "b", std::nullopt);
    CHECK(t.size() == 2);
    CHECK_FALSE(t.is_free(1));
    auto a = t.take(1);
    REQUIRE(a);
    CHECK(a->handler == "a");
    CHECK(a->request_code == 105);
    CHECK_FALSE(t.take(1));  // late duplicate
    CHECK_FALSE(t.take(99));
    CHECK(t.size() == 1);
}

TEST_CASE("call_table: a long-lived call makes the ring grow instead of being overwritten")
{
    call_table<int> t(4);
    t.insert(0, 11, 100, std::nullopt);  // e.g. a long-poll pull
    for (int i = 1; i < 64; ++i) {
        t.insert(i, 10, i, std::nullopt);
        CHECK(t.take(i)->handler == i);
    }
    t.insert(64, 10, 64, std::nullopt);  // maps onto slot 0 of a small ring: must grow
    CHECK(t.take(0)->handler == 100);
    CHECK(t.take(64)->handler == 64);
    CHECK(t.capacity() > 4);
}

TEST_CASE("call_table: deadlines expire in order and skip completed calls")
{
    call_table<int> t;
    const auto now = clock_type::now();
    t.insert(1, 0, 1, now + 30ms);
    t.insert(2, 0, 2, now + 10ms);
    t.insert(3, 0, 3, now + 20ms);
    t.insert(4, 0, 4, std::nullopt);
    t.take(2);
    REQUIRE(t.next_deadline());
    CHECK(*t.next_deadline() == now + 20ms);
    std::vector<int> expired;
    t.expire(now + 25ms, [&](std::int32_t opaque, auto&&) { expired.push_back(opaque); });
    CHECK(expired == std::vector<int>{3});
    t.expire(now + 1h, [&](std::int32_t opaque, auto&&) { expired.push_back(opaque); });
    CHECK(expired == std::vector<int>{3, 1});
    CHECK_FALSE(t.next_deadline());
    CHECK(t.size() == 1);
    std::vector<int> drained;
    t.drain([&](std::int32_t opaque, auto&&) { drained.push_back(opaque); });
    CHECK(drained == std::vector<int>{4});
    CHECK(t.empty());
}
