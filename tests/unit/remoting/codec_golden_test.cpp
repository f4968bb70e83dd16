// Golden bytes (protocol.md appendix A), fastjson layout and escaping, decoder tolerance, and the
// small value types (ext_fields, language names).
#include "remoting/frame_reader.hpp"
#include "remoting/header_codec.hpp"

#include "codec_test_support.hpp"

#include <corocket/remoting/codes.hpp>

#include <catch2/catch.hpp>

using namespace corocket;
using namespace corocket::remoting;
using namespace corocket::remoting::detail;
using remoting::test::from_hex;

namespace {

command route_request(serialize_type type)
{
    command c = command::request(request_code::get_routeinfo_by_topic);
    c.language = language_code::cpp;
    c.version = 401;
    c.opaque = 1;
    c.ext_fields.set("topic", "T");
    c.type = type;
    return c;
}

constexpr std::string_view a2_header =
    R"({"code":105,"extFields":{"topic":"T"},"flag":0,"language":"CPP","opaque":1,"serializeTypeCurrentRPC":"JSON","version":401})";

command_header decode_json(std::string_view text)
{
    command_header h;
    auto ec = decode_header(serialize_type::json, text, h);
    INFO(text);
    REQUIRE_FALSE(ec);
    return h;
}

std::string json_of(const command_header& h)
{
    std::string out;
    encode_header(h, 0, out);
    return out.substr(frame_prefix_size);
}

}  // namespace

TEST_CASE("A.1: binary GET_ROUTEINFO_BY_TOPIC request, both directions")
{
    const std::string golden = from_hex("00 00 00 25 01 00 00 21 00 69 01 01 91 00 00 00 01 00 00 00 00 00 00 00 00"
                                        " 00 00 00 0C 00 05 74 6F 70 69 63 00 00 00 01 54");
    CHECK(encode_frame(route_request(serialize_type::rocketmq)) == golden);

    command c;
    REQUIRE_FALSE(decode_frame_bytes(golden, c));
    CHECK(c == route_request(serialize_type::rocketmq));
    CHECK(c.body.empty());
}

TEST_CASE("A.2: JSON GET_ROUTEINFO_BY_TOPIC request, both directions")
{
    REQUIRE(a2_header.size() == 122);
    const std::string golden = from_hex("00 00 00 7E 00 00 00 7A") + std::string(a2_header);
    CHECK(encode_frame(route_request(serialize_type::json)) == golden);

    command c;
    REQUIRE_FALSE(decode_frame_bytes(golden, c));
    CHECK(c == route_request(serialize_type::json));
}

TEST_CASE("encode_header appends the prefix for a body written separately")
{
    command c = route_request(serialize_type::json);
    std::string out = "already queued";
    encode_header(c, 1000, out);
    REQUIRE(out.size() == 14 + 8 + 122);
    CHECK(out.compare(0, 14, "already queued") == 0);
    CHECK(out.substr(14, 8) == from_hex("00 00 04 66 00 00 00 7A"));  // 4 + 122 + 1000 = 1126

    c.type = serialize_type::rocketmq;
    out.clear();
    encode_header(c, 3, out);
    CHECK(out.substr(0, 8) == from_hex("00 00 00 28 01 00 00 21"));
}

TEST_CASE("frames with a body round-trip in both serializations")
{
    for (auto type : {serialize_type::json, serialize_type::rocketmq}) {
        command c = command::response_to(route_request(type), response_code::topic_not_exist, "no route");
        c.language = language_code::java;
        c.body = std::string("\x00\x01 body \xff", 9);
        std::string bytes = encode_frame(c);
        command back;
        REQUIRE_FALSE(decode_frame_bytes(bytes, back));
        CHECK(back == c);
        CHECK(back.is_response());
        CHECK_FALSE(back.is_oneway());
    }
}

TEST_CASE("JSON encoding follows fastjson: key order, omitted nulls, escapes")
{
    command_header h;
    h.code = -3;
    h.language = language_code::java;
    h.version = 409;
    h.opaque = -2147483647 - 1;
    h.flag = flag_oneway;
    CHECK(json_of(h) ==
          R"({"code":-3,"flag":2,"language":"JAVA","opaque":-2147483648,"serializeTypeCurrentRPC":"JSON","version":409})");

    h.remark = "";
    CHECK(json_of(h).find(R"("opaque":-2147483648,"remark":"","serializeTypeCurrentRPC")") != std::string::npos);

    SECTION("control characters, quotes and backslashes")
    {
        std::string all;
        for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
        all += "\"\\/ok\x7f";
        h.remark = all;
        CHECK(json_of(h).find(R"("remark":"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r)"
                              R"(\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A)"
                              R"(\u001B\u001C\u001D\u001E\u001F\"\\/ok\u007F")") != std::string::npos);
    }
    SECTION("non-ASCII is raw UTF-8 except C1 controls and the line/paragraph separators")
    {
        h.ext_fields.set("k\x01", "caf\xC3\xA9 \xC2\x80\xC2\x9F\xC2\xA0 \xE2\x80\xA8\xE2\x80\xA9\xE2\x80\xA7 "
                                  "\xE2\x82\xAC \xF0\x9F\x98\x80 \xC2");
        CHECK(json_of(h).find(R"("extFields":{"k\u0001":"caf)"
                              "\xC3\xA9"
                              R"( \u0080\u009F)"
                              "\xC2\xA0"
                              R"( \u2028\u2029)"
                              "\xE2\x80\xA7 \xE2\x82\xAC \xF0\x9F\x98\x80 \xC2\"}") != std::string::npos);
    }
    SECTION("an empty extFields is left out; entries keep their insertion order")
    {
        CHECK(json_of(h).find("extFields") == std::string::npos);
        h.ext_fields.set("z", "1");
        h.ext_fields.set("a", "2");
        CHECK(json_of(h).find(R"("extFields":{"z":"1","a":"2"},"flag")") != std::string::npos);
    }
    SECTION("a language outside the table is sent as OTHER")
    {
        h.language = static_cast<language_code>(99);
        CHECK(json_of(h).find(R"("language":"OTHER")") != std::string::npos);
    }
}

TEST_CASE("escaped JSON decodes back to the original bytes")
{
    command_header h;
    std::string all;
    for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
    all += "\xC2\x80\xC2\x9F\xC2\xA0\xE2\x80\xA8\xE2\x80\xA9\xF0\x9F\x98\x80";
    h.remark = all;
    h.ext_fields.set(all, all);
    command_header back = decode_json(json_of(h));
    CHECK(back.remark == h.remark);
    CHECK(back.ext_fields == h.ext_fields);
}

TEST_CASE("JSON decoding is lenient where Java peers differ")
{
    SECTION("any key order, unknown keys of any shape, missing fields take Java's defaults")
    {
        auto h = decode_json(R"({"version":7,"x":{"a":[1,{"b":null}]},"opaque":9,"y":[[]],"flag":1,)"
                             R"("code":17,"serializeTypeCurrentRPC":"ROCKETMQ","z":"s"})");
        CHECK(h.code == 17);
        CHECK(h.version == 7);
        CHECK(h.opaque == 9);
        CHECK(h.flag == 1);
        CHECK(h.language == language_code::java);
        CHECK_FALSE(h.remark);
        CHECK(h.ext_fields.empty());
        CHECK(h.type == serialize_type::json);

        auto empty = decode_json("{}");
        CHECK(empty.code == 0);
        CHECK(empty.version == 0);
        CHECK(empty.language == language_code::java);
    }
    SECTION("null remark and extFields")
    {
        auto h = decode_json(R"({"code":1,"remark":null,"extFields":null})");
        CHECK_FALSE(h.remark);
        CHECK(h.ext_fields.empty());
    }
    SECTION("numbers, booleans and nulls inside extFields")
    {
        auto h = decode_json(R"({"extFields":{"a":1,"b":-2.50,"c":true,"d":false,"e":null,)"
                             R"("f":12345678901234567890,"g":1e400,"h":"s"}})");
        CHECK(h.ext_fields.get("a") == "1");
        CHECK(h.ext_fields.get("b") == "-2.50");
        CHECK(h.ext_fields.get("c") == "true");
        CHECK(h.ext_fields.get("d") == "false");
        CHECK_FALSE(h.ext_fields.contains("e"));
        CHECK(h.ext_fields.get("f") == "12345678901234567890");
        CHECK(h.ext_fields.get("g") == "1e400");
        CHECK(h.ext_fields.get("h") == "s");
        CHECK(h.ext_fields.size() == 7);
    }
    SECTION("language as a name or an ordinal")
    {
        CHECK(decode_json(R"({"language":"CPP"})").language == language_code::cpp);
        CHECK(decode_json(R"({"language":"NODE_JS"})").language == language_code::node_js);
        CHECK(decode_json(R"({"language":12})").language == language_code::rust);
        CHECK(decode_json(R"({"language":"\u0047O"})").language == language_code::go);
        CHECK(decode_json(R"({"language":"ZIG"})").language == language_code::other);
    }
    SECTION("every JSON escape, and a trailing newline as jsoncpp writes it")
    {
        auto h = decode_json("{\"remark\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\\u00e9\\ud83d\\ude00\","
                             "\"extFields\":{\"k\\u0065y\":\"v\"}}\n");
        CHECK(*h.remark == "/\b\f\n\r\t\"\\\xC3\xA9\xF0\x9F\x98\x80");
        CHECK(h.ext_fields.get("key") == "v");
    }
    SECTION("duplicate keys: the last one wins")
    {
        auto h = decode_json(R"({"code":1,"code":2,"extFields":{"a":"1","b":"2","a":"3","b":null}})");
        CHECK(h.code == 2);
        CHECK(h.ext_fields.size() == 1);
        CHECK(h.ext_fields.get("a") == "3");
    }
    SECTION("long strings with escapes arrive in pieces")
    {
        std::string value;
        for (int i = 0; i < 3000; ++i) value += "name\x01value\x02";
        command_header h;
        h.ext_fields.set(std::string(5000, 'k') + "\x01", value);
        h.remark = value;
        command_header back = decode_json(json_of(h));
        CHECK(back.ext_fields == h.ext_fields);
        CHECK(back.remark == h.remark);
    }
}

TEST_CASE("binary decoding: duplicates, empty strings, signed 16-bit fields, trailing bytes")
{
    // code 0xFFFF (-1), language 0x2A (unknown), version 0x8000, opaque 7, flag 1, no remark;
    // entries a=1, b=2, a=3 (last wins), b="" (hides b), ""=x (skipped); 2 trailing bytes.
    std::string header = from_hex("FF FF 2A 80 00 00 00 00 07 00 00 00 01 00 00 00 00 00 00 00 26"
                                  " 00 01 61 00 00 00 01 31  00 01 62 00 00 00 01 32  00 01 61 00 00 00 01 33"
                                  " 00 01 62 00 00 00 00  00 00 00 00 00 01 78  EE EE");
    command_header h;
    REQUIRE_FALSE(decode_header(serialize_type::rocketmq, header, h));
    CHECK(h.code == -1);
    CHECK(static_cast<int>(h.language) == 42);
    CHECK(h.version == -32768);
    CHECK(h.opaque == 7);
    CHECK(h.is_response());
    CHECK_FALSE(h.remark);
    REQUIRE(h.ext_fields.size() == 1);
    CHECK(h.ext_fields.get("a") == "3");
    CHECK(h.type == serialize_type::rocketmq);

    // A zero-length remark reads as none; a present one is kept byte for byte.
    std::string with_remark = from_hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03 41 00 42 00 00 00 00");
    REQUIRE_FALSE(decode_header(serialize_type::rocketmq, with_remark, h));
    CHECK(h.remark == std::string("A\0B", 3));
}

TEST_CASE("binary encoding writes what Java writes")
{
    command_header h;
    h.type = serialize_type::rocketmq;
    h.code = 40000;  // does not fit: truncated to 16 bits as Java's (short) cast does
    h.language = language_code::java;
    h.version = 409;
    h.remark = "";  // empty remark: length 0
    h.ext_fields.set("e", "");
    std::string out;
    encode_header(h, 0, out);
    CHECK(out == from_hex("00 00 00 20 01 00 00 1C 9C 40 00 01 99 00 00 00 00 00 00 00 00 00 00 00 00"
                          " 00 00 00 07 00 01 65 00 00 00 00"));
    // A key too long for the int16 length cannot be written; it is left out.
    h.ext_fields.set(std::string(32768, 'k'), "v");
    out.clear();
    encode_header(h, 0, out);
    CHECK(out.size() == 8 + 21 + 7);
}

TEST_CASE("ext_fields keeps insertion order and replaces in place")
{
    ext_fields f;
    f.set("b", "1");
    f.set("a", "2");
    f.set({std::string("b"), std::string("3")});
    f.set({std::string("c"), std::string("4")});
    std::vector<ext_fields::value_type> items(f.begin(), f.end());
    CHECK(items == std::vector<ext_fields::value_type>{{"b", "3"}, {"a", "2"}, {"c", "4"}});
    CHECK(f.erase("a"));
    CHECK_FALSE(f.erase("a"));
    CHECK(f.size() == 2);
    CHECK(f.find("zz") == nullptr);
    CHECK(*f.find("c") == "4");
    CHECK(f.get("zz").empty());
    f.clear();
    CHECK(f.empty());
}

TEST_CASE("ext_fields::get_int follows Long.parseLong")
{
    ext_fields f;
    auto parse = [&](std::string text) {
        f.set("k", std::move(text));
        return f.get_int("k");
    };
    CHECK(parse("0") == 0);
    CHECK(parse("+5") == 5);
    CHECK(parse("-0") == 0);
    CHECK(parse("1795319509058") == 1795319509058);
    CHECK(parse("9223372036854775807") == INT64_MAX);
    CHECK(parse("-9223372036854775808") == INT64_MIN);
    CHECK_FALSE(parse("9223372036854775808"));
    CHECK_FALSE(parse("-9223372036854775809"));
    CHECK_FALSE(parse(""));
    CHECK_FALSE(parse("-"));
    CHECK_FALSE(parse("+"));
    CHECK_FALSE(parse(" 1"));
    CHECK_FALSE(parse("1a"));
    CHECK_FALSE(parse("1.0"));
    CHECK_FALSE(parse("--1"));
    CHECK_FALSE(f.get_int("absent"));
}

TEST_CASE("ext_fields::get_bool follows Boolean.parseBoolean")
{
    ext_fields f;
    f.set("a", "true");
    f.set("b", "TrUe");
    f.set("c", "false");
    f.set("d", "1");
    f.set("e", "truee");
    CHECK(f.get_bool("a") == true);
    CHECK(f.get_bool("b") == true);
    CHECK(f.get_bool("c") == false);
    CHECK(f.get_bool("d") == false);
    CHECK(f.get_bool("e") == false);
    CHECK_FALSE(f.get_bool("absent"));
}

TEST_CASE("language names match the Java LanguageCode enum")
{
    const char* names[] = {"JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
                           "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS"};
    for (int i = 0; i < 14; ++i) {
        auto code = static_cast<language_code>(i);
        CHECK(std::string_view(language_name(code)) == names[i]);
        CHECK(language_from_name(names[i]) == code);
    }
    CHECK(language_name(static_cast<language_code>(14)) == nullptr);
    CHECK_FALSE(language_from_name("cpp"));
    CHECK_FALSE(language_from_name(""));
}

TEST_CASE("a repeated or null extFields replaces the whole map")
{
    auto h = decode_json(R"({"extFields":{"a":"1","b":"2"},"extFields":{"b":"3"}})");
    REQUIRE(h.ext_fields.size() == 1);
    CHECK(h.ext_fields.get("b") == "3");
    CHECK(decode_json(R"({"extFields":{"a":"1"},"extFields":null})").ext_fields.empty());
}
