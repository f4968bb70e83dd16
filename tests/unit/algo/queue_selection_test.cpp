#include "routing/queue_selection.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using corocket::message_queue;
using corocket::detail::latency_fault_table;
using corocket::detail::queue_picker;
using namespace std::chrono_literals;

namespace {

const latency_fault_table::time_point t0{std::chrono::hours(1)};

std::vector<message_queue> publish_list()
{
    return {{"T", "a", 0}, {"T", "a", 1}, {"T", "b", 0}, {"T", "b", 1}, {"T", "c", 0}};
}

}  // namespace

TEST_CASE("latency_fault_table: the 5.x isolation table", "[queue_selection]")
{
    const std::pair<std::chrono::milliseconds, std::chrono::milliseconds> table[] = {
        {0ms, 0ms},        {49ms, 0ms},       {50ms, 0ms},       {549ms, 0ms},      {550ms, 2000ms},
        {1799ms, 2000ms},  {1800ms, 5000ms},  {3000ms, 6000ms},  {4999ms, 6000ms},  {5000ms, 10000ms},
        {14999ms, 10000ms}, {15000ms, 30000ms}, {600000ms, 30000ms}, {-5ms, 0ms},
    };
    for (const auto& [latency, isolation] : table) {
        INFO(latency.count());
        CHECK(latency_fault_table::isolation_for(latency) == isolation);
    }
}

TEST_CASE("latency_fault_table: isolation windows on a manual clock", "[queue_selection]")
{
    latency_fault_table faults;
    CHECK(faults.is_available("a", t0));

    faults.update("a", 600ms, false, t0);  // 2 s
    CHECK_FALSE(faults.is_available("a", t0));
    CHECK_FALSE(faults.is_available("a", t0 + 1999ms));
    CHECK(faults.is_available("a", t0 + 2000ms));
    CHECK(faults.is_available("b", t0));

    faults.update("b", 20ms, true, t0);  // failures cost 10 s whatever the latency
    CHECK_FALSE(faults.is_available("b", t0 + 9999ms));
    CHECK(faults.is_available("b", t0 + 10s));

    faults.update("a", 10ms, false, t0 + 1s);  // a fast answer clears the isolation at once
    CHECK(faults.is_available("a", t0 + 1s));
    CHECK(faults.size() == 2);
    faults.remove("a");
    faults.remove("nope");
    CHECK(faults.size() == 1);
}

TEST_CASE("queue_picker: plain round robin from the start position", "[queue_selection]")
{
    const auto mqs = publish_list();
    queue_picker picker(0);
    std::vector<message_queue> got;
    for (int i = 0; i < 6; ++i)
        got.push_back(*picker.pick(mqs, "", nullptr, t0));
    // The counter is incremented before use: start 0 → index 1.
    CHECK(got == std::vector<message_queue>{mqs[1], mqs[2], mqs[3], mqs[4], mqs[0], mqs[1]});
    CHECK_FALSE(picker.pick({}, "", nullptr, t0));
}

TEST_CASE("queue_picker: the counter's sign bit is masked off as in Java", "[queue_selection]")
{
    const auto mqs = publish_list();
    queue_picker picker(0x7FFFFFFFu);  // next: 0x80000000 & 0x7FFFFFFF = 0
    CHECK(*picker.pick(mqs, "", nullptr, t0) == mqs[0]);
    queue_picker wrap(0xFFFFFFFFu);  // next: 0
    CHECK(*wrap.pick(mqs, "", nullptr, t0) == mqs[0]);
    CHECK(wrap.counter() == 0u);
}

TEST_CASE("queue_picker: avoids the last broker", "[queue_selection]")
{
    const auto mqs = publish_list();
    queue_picker picker(0);  // would pick index 1 (broker a)
    CHECK(*picker.pick(mqs, "a", nullptr, t0) == mqs[2]);
    // Only one broker: nothing else to choose, the plain next pick is used.
    const std::vector<message_queue> only_a = {{"T", "a", 0}, {"T", "a", 1}};
    queue_picker single(0);
    CHECK(*single.pick(only_a, "a", nullptr, t0) == only_a[1]);
}

TEST_CASE("queue_picker: fault avoidance skips isolated brokers, then falls back", "[queue_selection]")
{
    const auto mqs = publish_list();
    latency_fault_table faults;
    faults.update("a", 0ms, true, t0);
    faults.update("b", 0ms, true, t0);

    queue_picker picker(0);
    // Available and not last: only c.
    CHECK(picker.pick(mqs, "", &faults, t0)->broker_name == "c");
    // c is the last broker and a, b are isolated: the second pass ignores availability.
    CHECK(picker.pick(mqs, "c", &faults, t0)->broker_name == "a");
    // Once the isolation expires, a and b are eligible again.
    std::map<std::string, int> seen;
    for (int i = 0; i < 10; ++i)
        ++seen[picker.pick(mqs, "c", &faults, t0 + 10s)->broker_name];
    CHECK(seen["a"] == 5);
    CHECK(seen["b"] == 5);
    CHECK(seen["c"] == 0);
    // All isolated and the only broker is the last one: the plain pick still returns a queue.
    const std::vector<message_queue> only_a = {{"T", "a", 0}};
    CHECK(*picker.pick(only_a, "a", &faults, t0) == only_a[0]);
}

TEST_CASE("queue_picker: random starts and reset", "[queue_selection]")
{
    const auto mqs = publish_list();
    // Many fresh pickers do not all start on the same queue.
    std::map<int, int> first;
    for (int i = 0; i < 200; ++i) {
        queue_picker picker;
        const auto mq = *picker.pick(mqs, "", nullptr, t0);
        ++first[mq.queue_id * 10 + mq.broker_name[0]];
    }
    CHECK(first.size() > 1);
    queue_picker picker(5);
    bool moved = false;
    for (int i = 0; i < 8 && !moved; ++i) {
        picker.reset();
        moved = picker.counter() != 5;
    }
    CHECK(moved);
}
