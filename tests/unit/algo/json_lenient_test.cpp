#include "util/json.hpp"
#include "wire_frames.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>

using corocket::client_errc;
using corocket::detail::parse_lenient_json;

namespace {

boost::json::value lenient(std::string_view text)
{
    boost::json::value v;
    const auto ec = parse_lenient_json(text, v);
    INFO(text);
    REQUIRE_FALSE(ec);
    return v;
}

}  // namespace

TEST_CASE("lenient JSON: strict JSON passes through unchanged", "[json]")
{
    const char* texts[] = {
        R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})",
        R"([1,-2.5e3,"x",{}])",
        R"("just a string")",
        R"(  { "spaced" : [ 1 , 2 ] }  )",
        R"({"tricky \"{0:\" key":"}{[]:,","esc\\":"\\"})",
    };
    for (const char* text : texts)
        CHECK(lenient(text) == boost::json::parse(text));
}

TEST_CASE("lenient JSON: bare numeric keys are quoted", "[json]")
{
    CHECK(lenient(R"({0:"10.0.0.1:10911",1:"10.0.0.2:10911"})") ==
          boost::json::parse(R"({"0":"10.0.0.1:10911","1":"10.0.0.2:10911"})"));
    CHECK(lenient(R"({ -1 : "x" , 42:{7:true}})") == boost::json::parse(R"({"-1":"x","42":{"7":true}})"));
}

TEST_CASE("lenient JSON: object and array keys become strict-JSON string keys", "[json]")
{
    const auto v = lenient(
        R"({"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:1024, { "brokerName" : "b", "queueId":1,"topic":"T"} : 998}})");
    const auto& table = v.at("offsetTable").as_object();
    REQUIRE(table.size() == 2);
    CHECK(table.at(R"({"brokerName":"broker-a","queueId":0,"topic":"T"})") == 1024);
    CHECK(table.at(R"({"brokerName":"b","queueId":1,"topic":"T"})") == 998);

    // A key that itself needs normalising, and an array key.
    const auto nested = lenient(R"({{"m":{0:"a"}}:1,[1,{2:3}]:2})");
    CHECK(nested.at(R"({"m":{"0":"a"}})") == 1);
    CHECK(nested.at(R"([1,{"2":3}])") == 2);
}

TEST_CASE("lenient JSON: GET_BROKER_CLUSTER_INFO body from the capture", "[json][wire]")
{
    const auto frames = corocket::test::responses_to(106);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].annot().at("body_strict_json") == false);
    const auto v = lenient(frames[0].body());
    const auto& broker = v.at("brokerAddrTable").at("broker-a");
    CHECK(broker.at("brokerAddrs").at("0") == "127.0.0.1:10911");
    CHECK(broker.at("cluster") == "DefaultCluster");
    CHECK(v.at("clusterAddrTable").at("DefaultCluster").as_array() == boost::json::array{"broker-a"});
}

TEST_CASE("lenient JSON: GET_TOPIC_STATS_INFO body from the capture", "[json][wire]")
{
    const auto frames = corocket::test::responses_to(202);
    REQUIRE(frames.size() == 1);
    const auto v = lenient(frames[0].body());
    const auto& table = v.at("offsetTable").as_object();
    REQUIRE(table.size() == 2);
    const auto& q0 = table.at(R"({"brokerName":"broker-a","queueId":0,"topic":"GoldenAdmin"})");
    CHECK(q0.at("maxOffset") == 4);
    CHECK(q0.at("lastUpdateTimestamp") == 1795319617990);
    CHECK(table.at(R"({"brokerName":"broker-a","queueId":1,"topic":"GoldenAdmin"})").at("maxOffset") == 0);
}

TEST_CASE("lenient JSON: every JSON body in the captures parses; strict ones as a strict parser reads them",
          "[json][wire]")
{
    int bodies = 0;
    for (const auto& file : corocket::test::wire_files()) {
        for (const auto& f : corocket::test::load_wire(file)) {
            const auto body = f.body();
            const auto* strict = f.annot().if_contains("body_strict_json");
            if (body.empty() || body.front() != '{' || !strict)
                continue;
            INFO(file << " seq " << f.seq);
            const auto v = lenient(body);
            if (strict->as_bool())
                CHECK(v == boost::json::parse(body));
            ++bodies;
        }
    }
    CHECK(bodies > 50);
}

TEST_CASE("lenient JSON: ResetOffsetBody and ConsumerRunningInfo shapes (§6.6, §6.8)", "[json]")
{
    const auto pairs = lenient(R"({"offsetTable":[[{"brokerName":"broker-a","queueId":0,"topic":"T"},1024]]})");
    CHECK(pairs.at("offsetTable").at(0).at(1) == 1024);

    const auto for_c = lenient(R"({"offsetTable":[{"brokerName":"broker-a","queueId":0,"topic":"T","offset":1024}]})");
    CHECK(for_c.at("offsetTable").at(0).at("offset") == 1024);

    const auto running = lenient(
        R"({"jstack":"","mqTable":{{"brokerName":"b","queueId":3,"topic":"T"}:{"cachedMsgCount":0,"droped":false}},)"
        R"("properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"},"statusTable":{"T":{"pullRT":1.5}},)"
        R"("subscriptionSet":[{"codeSet":[2598919],"tagsSet":["TagA"],"topic":"T"}]})");
    CHECK(running.at("mqTable").at(R"({"brokerName":"b","queueId":3,"topic":"T"})").at("droped") == false);
    CHECK(running.at("statusTable").at("T").at("pullRT") == 1.5);
}

TEST_CASE("lenient JSON: malformed input is bad_body, never a crash", "[json]")
{
    const char* bad[] = {
        "",   " ",     "{",      "}",        "{0}",        "{0:}",         R"({"a":1,})",  "[1,]",
        "[1", R"("x)", R"({"a"})", R"({"a" 1})", "{:1}",      R"({"a":1}x)",  R"({{"a":1}})", "{{\"a\":}:1}",
        "[tru]", "\"\\", R"({"a":1 "b":2})",
    };
    for (const char* text : bad) {
        INFO(text);
        boost::json::value v;
        CHECK(parse_lenient_json(text, v) == client_errc::bad_body);
    }
    // Nesting bombs stop at the depth limit instead of exhausting the stack.
    boost::json::value v;
    CHECK(parse_lenient_json(std::string(100000, '['), v) == client_errc::bad_body);
    CHECK(parse_lenient_json(std::string(100000, '{'), v) == client_errc::bad_body);
    const std::string deep_key = std::string(5000, '{') + "\"a\":1" + std::string(5000, '}');
    CHECK(parse_lenient_json("{" + deep_key + ":1}", v) == client_errc::bad_body);
}

TEST_CASE("lenient JSON: every proper prefix of a non-strict body is rejected", "[json][wire]")
{
    const auto frames = corocket::test::responses_to(202);
    REQUIRE(frames.size() == 1);
    const auto body = frames[0].body();
    for (std::size_t n = 0; n < body.size(); ++n) {
        boost::json::value v;
        INFO("prefix length " << n);
        CHECK(parse_lenient_json(body.substr(0, n), v) == client_errc::bad_body);
    }
}

TEST_CASE("lenient JSON: mutated captured bodies never crash the scanner", "[json][wire]")
{
    std::vector<std::string> bodies;
    for (auto code : {105, 106, 202})
        for (const auto& f : corocket::test::responses_to(code))
            bodies.emplace_back(f.body());
    const std::string alphabet = "{}[]:,\"\\0123abc -";
    std::uint32_t state = 7;
    const auto next = [&] {
        state = state * 1103515245u + 12345u;
        return state >> 8;
    };
    for (int round = 0; round < 20000; ++round) {
        std::string text = bodies[next() % bodies.size()];
        for (std::uint32_t m = 1 + next() % 3; m > 0; --m)
            text[next() % text.size()] = alphabet[next() % alphabet.size()];
        boost::json::value v;
        const auto ec = parse_lenient_json(text, v);
        CHECK((!ec || ec == client_errc::bad_body));
    }
}
