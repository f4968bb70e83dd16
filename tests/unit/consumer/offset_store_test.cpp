// Offset table JSON (fastjson object keys, gson pairs, "for C" arrays), the local offset file
// (atomic replace, backup fallback) and the in-flight tracker's commit discipline.
#include <corocket/offset_store.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace corocket;

TEST_CASE("offset table JSON round-trips with MessageQueue object keys")
{
    offset_table t{{{"T", "broker-a", 0}, 1024}, {{"T", "broker-a", 1}, 998}, {{"%RETRY%G", "broker-b", 0}, 7}};
    const auto json = offset_table_json(t);
    CHECK(json.find(R"({"brokerName":"broker-a","queueId":0,"topic":"T"}:1024)") != std::string::npos);
    offset_table back;
    REQUIRE_FALSE(parse_offset_table_json(json, back));
    CHECK(back == t);
}

TEST_CASE("offset table accepts the gson pair shape and the for-C shape (§6.8)")
{
    offset_table out;
    REQUIRE_FALSE(parse_offset_table_json(
        R"({"offsetTable":[[{"brokerName":"broker-a","queueId":0,"topic":"T"},1024],[{"brokerName":"broker-a","queueId":1,"topic":"T"},998]]})",
        out));
    CHECK(out == offset_table{{{"T", "broker-a", 0}, 1024}, {{"T", "broker-a", 1}, 998}});
    REQUIRE_FALSE(parse_offset_table_json(
        R"({"offsetTable":[{"brokerName":"broker-a","queueId":3,"topic":"T","offset":5}]})", out));
    CHECK(out == offset_table{{{"T", "broker-a", 3}, 5}});
    REQUIRE_FALSE(parse_offset_table_json(R"({"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:"12"}})", out));
    CHECK(out == offset_table{{{"T", "b", 0}, 12}});
    CHECK(parse_offset_table_json("{", out) == client_errc::bad_body);
    CHECK(parse_offset_table_json(R"({"offsetTable":[1]})", out) == client_errc::bad_body);
    CHECK(parse_offset_table_json(R"({"offsetTable":{{"queueId":"x"}:1}})", out) == client_errc::bad_body);
    REQUIRE_FALSE(parse_offset_table_json(R"({"offsetTable":{}})", out));
    CHECK(out.empty());
}

TEST_CASE("local offset file: missing, save, replace, backup fallback")
{
    const auto dir = std::filesystem::temp_directory_path() /
                     ("corocket_offsets_" + std::to_string(std::random_device{}()));
    const auto path = local_offset_file::default_path(dir.string(), "10.0.0.1@inst", "CG");
    CHECK(path == dir / "10.0.0.1@inst" / "CG" / "offsets.json");
    local_offset_file file(path);
    offset_table t;
    REQUIRE_FALSE(file.load(t));
    CHECK(t.empty());

    offset_table first{{{"T", "broker-a", 0}, 10}};
    REQUIRE_FALSE(file.save(first));
    REQUIRE_FALSE(file.load(t));
    CHECK(t == first);
    offset_table second{{{"T", "broker-a", 0}, 20}, {{"T", "broker-a", 1}, 3}};
    REQUIRE_FALSE(file.save(second));
    REQUIRE_FALSE(file.load(t));
    CHECK(t == second);
    CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));

    // A torn main file falls back to the backup (the previous content).
    std::ofstream(path, std::ios::trunc) << "{\"offsetTable\":{{\"brok";
    REQUIRE_FALSE(file.load(t));
    CHECK(t == first);
    std::ofstream(path.string() + ".bak", std::ios::trunc) << "garbage";
    CHECK(file.load(t) == client_errc::bad_body);
    std::filesystem::remove_all(dir);
}

TEST_CASE("tracker commits the lowest unfinished offset, never past a failed one")
{
    offset_tracker t;
    t.reset(100);
    CHECK(t.committable() == 100);
    for (std::int64_t o = 100; o < 105; ++o)
        t.add(o, 10);
    CHECK(t.count() == 5);
    CHECK(t.bytes() == 50);
    CHECK(t.span() == 4);
    CHECK(t.committable() == 100);
    t.remove(101);
    t.remove(103);
    CHECK(t.committable() == 100);  // 100 still in flight
    t.remove(100);
    CHECK(t.committable() == 102);
    t.remove(102);
    t.remove(104);
    CHECK(t.committable() == 105);
    CHECK(t.count() == 0);
    CHECK(t.bytes() == 0);
    t.remove(104);  // unknown: ignored
    t.skip_to(110);  // filtered-out range
    CHECK(t.committable() == 110);
    t.skip_to(90);  // never backwards
    CHECK(t.committable() == 110);
    t.add(110, 1);
    t.skip_to(120);
    CHECK(t.committable() == 110);  // in flight wins
    t.remove(110);
    CHECK(t.committable() == 120);
    t.reset(5);  // explicit seek / reset
    CHECK(t.committable() == 5);
    CHECK(t.min_cached() == -1);
}
