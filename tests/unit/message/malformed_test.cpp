// Malformed stored records, batch bodies and compressed data: errors, never crashes.
#include "message/bytes.hpp"
#include "message/codec.hpp"
#include "test_helpers.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace corocket;

namespace {

detail::stored_record sample_record(std::string body = "hello", std::int32_t sys = 0)
{
    detail::stored_record rec;
    rec.queue_id = 2;
    rec.queue_offset = 7;
    rec.commit_log_offset = 4096;
    rec.sys_flag = sys;
    rec.born_timestamp = 1795319652712;
    rec.born_host = *host_address::parse("127.0.0.1:46544");
    rec.store_timestamp = 1795319652739;
    rec.store_host = *host_address::parse("127.0.0.1:10931");
    rec.body = std::move(body);
    rec.topic = "GoldenAcl";
    rec.properties = std::string("UNIQ_KEY\x01" "ABC\x02TAGS\x01t\x02");
    return rec;
}

std::string encoded(const detail::stored_record& rec)
{
    std::string out;
    detail::encode_stored(rec, out);
    return out;
}

// A body of three records: plain, IPv6 hosts, compressed.
std::string sample_body()
{
    std::string body = encoded(sample_record());
    auto v6 = sample_record("six");
    v6.born_host = *host_address::parse("[fd00::2]:5000");
    v6.store_host = *host_address::parse("[fe80::1]:10911");
    body += encoded(v6);
    std::string compressed;
    REQUIRE_FALSE(detail::zlib_compress(std::string(5000, 'z'), 5, compressed));
    body += encoded(sample_record(compressed, sys_flag::compressed | sys_flag::compression_zlib));
    return body;
}

void set_be32(std::string& bytes, std::size_t at, std::uint32_t value)
{
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

error_code decode(std::string bytes)
{
    message_batch batch;
    const auto ec = message_batch::decode(std::move(bytes), batch);
    if (ec) CHECK(batch.empty());
    // Touch everything a consumer would read, so sanitizers see any bad view.
    for (const auto& m : batch.messages()) {
        std::size_t sum = m.topic().size() + m.body().size() + m.msg_id().size() + m.offset_msg_id().size();
        for (const auto& [k, v] : m.properties()) sum += k.size() + v.size();
        CHECK(sum > 0);
    }
    return ec;
}

}  // namespace

TEST_CASE("the sample body decodes, including IPv6 hosts and an inflated body")
{
    message_batch batch;
    REQUIRE_FALSE(message_batch::decode(sample_body(), batch));
    REQUIRE(batch.size() == 3);
    const auto& v6 = batch.messages()[1];
    CHECK(v6.born_host().to_string() == "[fd00::2]:5000");
    CHECK(v6.store_host().to_string() == "[fe80::1]:10911");
    CHECK(v6.stored_sys_flag() == (sys_flag::born_host_v6 | sys_flag::store_host_v6));
    CHECK(v6.offset_msg_id() == "FE80000000000000000000000000000100002A9F0000000000001000");
    CHECK(v6.body() == "six");
    const auto& z = batch.messages()[2];
    CHECK(z.body() == std::string(5000, 'z'));
    CHECK(z.sys_flag() == sys_flag::compression_zlib);
    CHECK(z.stored_sys_flag() == (sys_flag::compression_zlib | sys_flag::compressed));

    // Views survive moving the batch (inflated bodies are heap-held).
    const auto body_ptr = z.body().data();
    message_batch moved = std::move(batch);
    CHECK(moved.messages()[2].body().data() == body_ptr);
    CHECK(moved.messages()[2].body() == std::string(5000, 'z'));
}

TEST_CASE("an empty body is an empty batch")
{
    message_batch batch;
    CHECK_FALSE(message_batch::decode("", batch));
    CHECK(batch.empty());
}

TEST_CASE("every truncation of a valid body is an error")
{
    const auto body = sample_body();
    for (std::size_t n = 1; n < body.size(); ++n) {
        INFO("length " << n);
        // Cuts exactly at a record boundary leave a valid shorter body.
        const auto ec = decode(body.substr(0, n));
        std::vector<std::string_view> records;
        if (detail::split_stored_records(body.substr(0, n), records))
            CHECK(ec == client_errc::bad_message);
        else
            CHECK_FALSE(ec);
    }
}

TEST_CASE("bad magic, sizes and lengths are bad_message")
{
    const auto good = encoded(sample_record());

    auto bad_magic = good;
    set_be32(bad_magic, 4, 0xCBD43194);  // commit-log end-of-file blank magic
    CHECK(decode(bad_magic) == client_errc::bad_message);

    auto too_small = good;
    set_be32(too_small, 0, 90);
    CHECK(decode(too_small) == client_errc::bad_message);

    auto past_end = good;
    set_be32(past_end, 0, static_cast<std::uint32_t>(good.size() + 1));
    CHECK(decode(past_end) == client_errc::bad_message);

    auto negative_size = good;
    set_be32(negative_size, 0, 0x80000000);
    CHECK(decode(negative_size) == client_errc::bad_message);

    auto body_past_end = good;
    set_be32(body_past_end, 84, 1000);
    CHECK(decode(body_past_end) == client_errc::bad_message);

    auto negative_body = good;
    set_be32(negative_body, 84, 0xFFFFFFFF);
    CHECK(decode(negative_body) == client_errc::bad_message);

    auto negative_topic = good;
    negative_topic[88 + 5] = static_cast<char>(0x80);
    CHECK(decode(negative_topic) == client_errc::bad_message);

    auto bad_port = good;
    set_be32(bad_port, 52, 70000);
    CHECK(decode(bad_port) == client_errc::bad_message);

    // The IPv6 flag makes the host fields longer than the record allows.
    auto flag_lies = good;
    set_be32(flag_lies, 36, sys_flag::born_host_v6 | sys_flag::store_host_v6);
    CHECK(decode(flag_lies) == client_errc::bad_message);

    // Trailing bytes after the properties but inside TOTALSIZE are tolerated.
    auto trailing = good + "xyz";
    set_be32(trailing, 0, static_cast<std::uint32_t>(trailing.size()));
    CHECK_FALSE(decode(trailing));
}

TEST_CASE("V2 records carry a 2-byte topic length; long topics select V2")
{
    auto rec = sample_record();
    rec.topic = std::string(200, 't');
    const auto bytes = encoded(rec);
    CHECK(test::be32(bytes, 4) == 0xDAA320ABu);
    CHECK(bytes.size() == detail::stored_size(rec));
    detail::stored_record back;
    REQUIRE_FALSE(detail::decode_stored(bytes, back));
    CHECK(back.version == detail::record_version::v2);
    CHECK(back.topic == rec.topic);

    // An explicit V2 record with a short topic stays V2 when re-encoded.
    auto short_v2 = sample_record();
    short_v2.version = detail::record_version::v2;
    const auto v2_bytes = encoded(short_v2);
    CHECK(v2_bytes.size() == encoded(sample_record()).size() + 1);
    REQUIRE_FALSE(detail::decode_stored(v2_bytes, back));
    CHECK(encoded(back) == v2_bytes);

    message_batch batch;
    REQUIRE_FALSE(message_batch::decode(bytes, batch));
    CHECK(batch.messages()[0].topic() == rec.topic);
}

TEST_CASE("encode_stored sets the IPv6 sysflag bits from the hosts")
{
    auto rec = sample_record();
    rec.sys_flag = sys_flag::born_host_v6;  // wrong: both hosts are IPv4
    detail::stored_record back;
    REQUIRE_FALSE(detail::decode_stored(encoded(rec), back));
    CHECK(back.sys_flag == 0);
    rec.store_host = *host_address::parse("[::1]:1");
    REQUIRE_FALSE(detail::decode_stored(encoded(rec), back));
    CHECK(back.sys_flag == sys_flag::store_host_v6);
    CHECK(back.store_host == rec.store_host);
}

TEST_CASE("bad compressed bodies are compression_failed")
{
    SECTION("not zlib")
    {
        CHECK(decode(encoded(sample_record("not zlib at all", sys_flag::compressed))) == client_errc::compression_failed);
    }
    SECTION("truncated zlib")
    {
        std::string z;
        REQUIRE_FALSE(detail::zlib_compress("hello hello hello", 5, z));
        CHECK(decode(encoded(sample_record(z.substr(0, z.size() - 3), sys_flag::compressed)))
              == client_errc::compression_failed);
    }
    SECTION("zlib bytes under the LZ4 or ZSTD type, or an unknown type, fail; type 0 means zlib")
    {
        std::string z;
        REQUIRE_FALSE(detail::zlib_compress("hello", 5, z));
        CHECK(decode(encoded(sample_record(z, sys_flag::compressed | sys_flag::compression_lz4)))
              == client_errc::compression_failed);
        CHECK(decode(encoded(sample_record(z, sys_flag::compressed | sys_flag::compression_zstd)))
              == client_errc::compression_failed);
        CHECK(decode(encoded(sample_record(z, sys_flag::compressed | 0x400))) == client_errc::compression_failed);
        CHECK_FALSE(decode(encoded(sample_record(z, sys_flag::compressed))));
    }
    SECTION("raw deflate and gzip are not the zlib container")
    {
        std::string out;
        CHECK(detail::zlib_inflate(test::unhex("CB48CDC9C90700"), 100, out) == client_errc::compression_failed);
        CHECK(detail::zlib_inflate(test::unhex("1F8B0800000000000003CB48CDC9C90700863BA63605000000"), 100, out)
              == client_errc::compression_failed);
    }
    SECTION("inflating past the limit")
    {
        std::string z, out;
        REQUIRE_FALSE(detail::zlib_compress(std::string(100000, 'a'), 9, z));
        CHECK(detail::zlib_inflate(z, 99999, out) == client_errc::compression_failed);
        CHECK(out.empty());
        REQUIRE_FALSE(detail::zlib_inflate(z, 100000, out));
        CHECK(out.size() == 100000);
    }
    SECTION("a bad compression level")
    {
        std::string out;
        CHECK(detail::zlib_compress("x", 10, out) == client_errc::invalid_argument);
    }
}

TEST_CASE("malformed batch bodies are bad_message")
{
    std::string good;
    detail::encode_batch_entry(3, "body", std::string_view("a\x01" "b\x02"), good);
    detail::encode_batch_entry(0, "", "", good);
    std::vector<detail::batch_entry> entries;
    REQUIRE_FALSE(detail::decode_batch(good, entries));
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].flag == 3);
    CHECK(entries[1].body.empty());

    for (std::size_t n = 1; n < good.size(); ++n) {
        if (n == detail::batch_entry_size(4, 4)) continue;  // a valid one-entry body
        INFO("length " << n);
        entries.clear();
        CHECK(detail::decode_batch(good.substr(0, n), entries) == client_errc::bad_message);
    }
    auto wrong_total = good;
    set_be32(wrong_total, 0, 31);
    CHECK(detail::decode_batch(wrong_total, entries) == client_errc::bad_message);
    auto negative_body = good;
    set_be32(negative_body, 16, 0xFFFFFFF0);
    CHECK(detail::decode_batch(negative_body, entries) == client_errc::bad_message);
}

TEST_CASE("mutation fuzzing never crashes the decoders")
{
    const auto seed_body = sample_body();
    std::string batch_body;
    detail::encode_batch_entry(1, "hi", std::string_view("TAGS\x01" "a\x02"), batch_body);
    detail::encode_batch_entry(2, "there", "", batch_body);

    std::mt19937 rng(20261122);  // deterministic
    // Each random draw is its own statement: argument evaluation order differs between
    // compilers, and the mutation sequence must be the same everywhere.
    auto mutate = [&rng](std::string bytes) {
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !bytes.empty(); ++e) {
            const auto at = rng() % bytes.size();
            const auto kind = rng() % 5;
            const auto count = 1 + rng() % 8;
            const auto value = static_cast<char>(rng());
            switch (kind) {
            case 0: bytes[at] = value; break;                                            // random byte
            case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (count - 1))); break;  // bit flip
            case 2: bytes.erase(at, count); break;                                       // deletion
            case 3: bytes.insert(at, std::string(count, value)); break;                  // insertion
            default: bytes.resize(at); break;                                            // truncation
            }
        }
        return bytes;
    };

    std::size_t ok = 0, failed = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto bytes = mutate(seed_body);
        const auto strict = decode(bytes);
        (strict ? failed : ok)++;
        // The lenient decoder fails exactly where the strict one does, record by record.
        const auto lenient = message_batch::decode_lenient(bytes);
        std::size_t bad = lenient.unparsed_bytes() > 0 ? 1 : 0;
        for (const auto& m : lenient.messages()) bad += m.undecodable() ? 1 : 0;
        CHECK((bad > 0) == static_cast<bool>(strict));
        std::vector<std::string_view> records;
        if (!detail::split_stored_records(bytes, records)) {
            for (const auto r : records) {
                detail::stored_record rec;
                if (!detail::decode_stored(r, rec)) {
                    // Whatever decodes re-encodes to something that decodes to the same record.
                    std::string again;
                    detail::encode_stored(rec, again);
                    detail::stored_record back;
                    REQUIRE_FALSE(detail::decode_stored(again, back));
                    rec.body_crc = back.body_crc;
                    CHECK(back == rec);
                }
            }
        }
        std::vector<detail::batch_entry> entries;
        (void)detail::decode_batch(mutate(batch_body), entries);
        std::string out;
        (void)detail::zlib_inflate(mutate(bytes), 1 << 20, out);
    }
    CHECK(failed > 0);
    CHECK(ok > 0);
}
