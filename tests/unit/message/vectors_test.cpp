// protocol.md Appendix A.3–A.8 golden vectors.
#include "message/codec.hpp"
#include "message/ids.hpp"
#include "message/properties.hpp"
#include "test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace corocket;
using corocket::test::hex;
using corocket::test::unhex;

namespace {

const std::string a3_hex =
    "00 00 00 95 DA A3 20 A7 36 10 A6 86 00 00 00 01"
    "00 00 00 00 00 00 00 00 00 00 00 05 00 00 00 00"
    "00 00 10 00 00 00 00 00 00 00 01 8B CF E5 68 00"
    "0A 00 00 05 00 00 D4 31 00 00 01 8B CF E5 68 7B"
    "0A 00 00 01 00 00 2A 9F 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 05 68 65 6C 6C 6F 01 54 00"
    "34 55 4E 49 51 5F 4B 45 59 01 30 41 30 30 30 30"
    "30 31 31 32 33 34 36 44 30 36 44 36 39 43 30 30"
    "30 46 34 32 34 30 30 30 30 37 02 54 41 47 53 01"
    "54 61 67 41 02";

detail::stored_record a3_record()
{
    detail::stored_record rec;
    rec.queue_id = 1;
    rec.flag = 0;
    rec.queue_offset = 5;
    rec.commit_log_offset = 0x1000;
    rec.sys_flag = 0;
    rec.born_timestamp = 1700000000000;
    rec.born_host = *host_address::parse("10.0.0.5:54321");
    rec.store_timestamp = 1700000000123;
    rec.store_host = *host_address::parse("10.0.0.1:10911");
    rec.body = "hello";
    rec.topic = "T";
    rec.properties = std::string("UNIQ_KEY\x01" "0A00000112346D06D69C000F42400007\x02TAGS\x01TagA\x02");
    return rec;
}

}  // namespace

TEST_CASE("A.3 stored record encodes byte for byte")
{
    const auto rec = a3_record();
    REQUIRE(rec.properties.size() == 52);
    CHECK(detail::stored_size(rec) == 149);
    std::string out;
    detail::encode_stored(rec, out);
    CHECK(hex(out) == hex(unhex(a3_hex)));
}

TEST_CASE("A.3 stored record decodes to its fields")
{
    detail::stored_record rec;
    REQUIRE_FALSE(detail::decode_stored(unhex(a3_hex), rec));
    auto expected = a3_record();
    expected.body_crc = 0x3610A686;
    CHECK(rec == expected);
}

TEST_CASE("A.3 through message_batch: views, ids and properties")
{
    message_batch batch;
    REQUIRE_FALSE(message_batch::decode(unhex(a3_hex), batch));
    REQUIRE(batch.size() == 1);
    const auto& m = batch.messages()[0];
    CHECK(m.topic() == "T");
    CHECK(m.body() == "hello");
    CHECK(m.queue_id() == 1);
    CHECK(m.queue_offset() == 5);
    CHECK(m.commit_log_offset() == 0x1000);
    CHECK(m.born_timestamp() == 1700000000000);
    CHECK(m.born_host().to_string() == "10.0.0.5:54321");
    CHECK(m.store_timestamp() == 1700000000123);
    CHECK(m.store_host().to_string() == "10.0.0.1:10911");
    CHECK(m.body_crc() == 0x3610A686);
    CHECK(m.store_size() == 149);
    CHECK(m.tags() == "TagA");
    CHECK(m.offset_msg_id() == "0A00000100002A9F0000000000001000");
    CHECK(m.msg_id() == "0A00000112346D06D69C000F42400007");
    CHECK(m.properties().size() == 2);
    CHECK(m.raw_record() == unhex(a3_hex));
}

TEST_CASE("A.4 compact batch record")
{
    const auto golden = unhex("00 00 00 1F 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 68 69 00 07 54 41 47 53 01 61 02");
    std::string out;
    detail::encode_batch_entry(0, "hi", std::string_view("TAGS\x01" "a\x02"), out);
    CHECK(hex(out) == hex(golden));
    CHECK(detail::batch_entry_size(2, 7) == 31);

    std::vector<detail::batch_entry> entries;
    REQUIRE_FALSE(detail::decode_batch(golden, entries));
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].flag == 0);
    CHECK(entries[0].body == "hi");
    CHECK(entries[0].properties == std::string_view("TAGS\x01" "a\x02"));
}

TEST_CASE("A.5 zlib level 5")
{
    std::string out;
    REQUIRE_FALSE(detail::zlib_compress("hello", 5, out));
    CHECK(hex(out) == "785ECB48CDC9C90700062C0215");
    std::string back;
    REQUIRE_FALSE(detail::zlib_inflate(out, 1024, back));
    CHECK(back == "hello");
    REQUIRE_FALSE(detail::zlib_inflate(unhex("78 5E CB 48 CD C9 C9 07 00 06 2C 02 15"), 5, back));
    CHECK(back == "hello");
}

TEST_CASE("a reused deflater gives the one-shot bytes for every message and level")
{
    detail::zlib_deflater deflater;
    std::string body;
    for (int i = 0; i < 6000; ++i)
        body.push_back(static_cast<char>('a' + (i * 7 + i / 13) % 26));
    const std::string_view inputs[] = {"hello", body, "", std::string_view(body).substr(100, 4096), "hello"};
    for (int level : {5, 5, 9, 1, 5}) {
        for (auto in : inputs) {
            std::string once, reused, back;
            REQUIRE_FALSE(detail::zlib_compress(in, level, once));
            REQUIRE_FALSE(deflater.compress(in, level, reused));
            CHECK(reused == once);
            REQUIRE_FALSE(detail::zlib_inflate(reused, body.size(), back));
            CHECK(back == in);
        }
    }
    std::string out = "stale";
    CHECK(deflater.compress("x", 10, out) == make_error_code(client_errc::invalid_argument));
    CHECK(out.empty());
    REQUIRE_FALSE(deflater.compress("hello", 5, out));  // still usable after a refused call
    CHECK(hex(out) == "785ECB48CDC9C90700062C0215");
}

TEST_CASE("A.6 body CRC")
{
    CHECK(detail::body_crc("123456789") == 0x4BF43926);
    CHECK(detail::body_crc("hello") == 0x3610A686);
    CHECK(detail::body_crc("") == 0);
}

TEST_CASE("A.7 Java String.hashCode of tags")
{
    CHECK(detail::java_string_hash("TagA") == 2598919);
    CHECK(detail::java_string_hash("TagB") == 2598920);
    CHECK(detail::java_string_hash("*") == 42);
    CHECK(detail::java_string_hash("中文") == 646394);
    CHECK(detail::java_string_hash("") == 0);
}

TEST_CASE("A.8 UNIQ_KEY and offset ids")
{
    const std::uint8_t ip[] = {10, 0, 0, 1};
    detail::uniq_id_generator gen(ip, 0x1234, 0x6D06D69C);
    CHECK(gen.prefix() == "0A00000112346D06D69C");

    // Seven ids earlier in the process, then the one 1 000 000 ms into the month.
    const auto month_start = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(detail::local_month_start_ms(1700000000000)));
    for (int i = 0; i < 7; ++i) gen.next(month_start);
    CHECK(gen.next(month_start + std::chrono::milliseconds(1000000)) == "0A00000112346D06D69C000F42400007");

    CHECK(detail::make_offset_msg_id(*host_address::parse("192.168.1.10:10911"), 0x1234)
          == "C0A8010A00002A9F0000000000001234");
    CHECK(detail::make_offset_msg_id(*host_address::parse("[fe80::1]:10911"), 4096)
          == "FE80000000000000000000000000000100002A9F0000000000001000");
}

TEST_CASE("Java String.hashCode: surrogate pairs and malformed UTF-8")
{
    // U+1F600 is the UTF-16 pair D83D DE00.
    CHECK(detail::java_string_hash("\xF0\x9F\x98\x80") == 0xD83D * 31 + 0xDE00);
    // Malformed input counts as U+FFFD per maximal ill-formed subpart.
    CHECK(detail::java_string_hash("\xFF") == 0xFFFD);
    CHECK(detail::java_string_hash("a\xE4\xB8") == 'a' * 31 + 0xFFFD);
    CHECK(detail::java_string_hash("\xED\xA0\x80") == (0xFFFD * 31 + 0xFFFD) * 31 + 0xFFFD);  // encoded surrogate
    CHECK(detail::java_string_hash("\xC0\xAF") == 0xFFFD * 31 + 0xFFFD);                      // overlong
    // Wrapping 32-bit arithmetic on long strings.
    CHECK(detail::java_string_hash("GoldenSendGoldenSendGoldenSend") == static_cast<std::int32_t>(0xCB727533u));
}
