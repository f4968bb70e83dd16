// LZ4, ZSTD and zlib bodies against what the Java client writes, and decoding batches in which
// some records cannot be decoded (message_batch::decode_lenient).
//
// The vectors were made by Java 17 with rocketmq-common 4.9.8 (its Lz4Compressor, ZstdCompressor
// and ZlibCompressor, which DefaultMQProducerImpl uses for -Drocketmq.message.compressType),
// lz4-java 1.8.0 and zstd-jni 1.5.2-2 — the libraries 4.9.8 depends on — at level 5, Java's
// rocketmq.message.compressLevel default. Short inputs are given as bytes; for the long ones the
// length and CRC-32 of Java's output are kept, and the input is rebuilt by java_text() below
// (checked by its CRC).
#include "message/codec.hpp"
#include "test_helpers.hpp"

#include <catch2/catch.hpp>

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>

using namespace corocket;
using corocket::test::unhex;

namespace {

// The Java generator: words picked by a 32-bit LCG, a newline after one word in eight.
std::string java_text(std::size_t n)
{
    static constexpr const char* words[] = {"rocket", "queue", "broker", "offset", "topic", "tag",
                                            "commit", "pull",  "lz4",    "zstd",   "frame", "body"};
    std::string s;
    std::uint64_t x = 12345;
    while (s.size() < n) {
        x = (x * 1103515245u + 12345u) & 0xFFFFFFFFu;
        s += words[(x >> 16) % 12];
        s += ((x >> 8) & 7) == 0 ? '\n' : ' ';
    }
    s.resize(n);
    return s;
}

std::string alphabet(std::size_t n)
{
    std::string s(n, 'a');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

std::uint32_t crc(std::string_view s)
{
    return static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string compressed(compression_type type, std::string_view in, int level = 5)
{
    detail::body_compressor c;
    std::string out;
    REQUIRE_FALSE(c.compress(type, in, level, out));
    return out;
}

error_code inflate(compression_type type, std::string_view in, std::string& out, std::size_t max_out = 1 << 26)
{
    return detail::inflate_body(in, detail::compressed_sys_flag(type), max_out, out);
}

struct java_bytes {
    compression_type type;
    std::string input;
    const char* hex;
};

const java_bytes java_vectors[] = {
    {compression_type::lz4, "hello", "04224D186070730500008068656C6C6F00000000"},
    {compression_type::lz4, alphabet(5000),
     "04224D1860707338000000FF0B6162636465666768696A6B6C6D6E6F707172737475767778797A1A00FFFFFFFFFFFFFFFFFFFFFF"
     "FFFFFFFFFFFFFFFF6950646566676800000000"},
    {compression_type::zstd, "hello", "28B52FFD005828000068656C6C6F010000"},
    {compression_type::zstd, alphabet(5000),
     "28B52FFD0058140100D06162636465666768696A6B6C6D6E6F707172737475767778797A0100AE4DF7730C010000"},
    {compression_type::zlib, "hello", "785ECB48CDC9C90700062C0215"},
    {compression_type::zlib, alphabet(5000),
     "785EEDC9B70180200000B05BB17711ECD7FB8463B226146555376DD70FE3342F6BDC52DE8FF3BA9F3718638C31C618638C31C6"
     "18637E9A0F36465ADD"},
};

struct java_digest {
    compression_type type;
    std::size_t input_size;
    int level;
    std::size_t output_size;
    std::uint32_t output_crc;
};

const java_digest java_digests[] = {
    {compression_type::lz4, 5000, 5, 2463, 0x1BF923D2},
    {compression_type::lz4, 300000, 5, 128770, 0xFF44AE9C},
    {compression_type::lz4, 5000000, 5, 2137460, 0x90A64DE8},  // two 4 MiB blocks
    {compression_type::zstd, 5000, 5, 1120, 0xC8278807},
    {compression_type::zstd, 300000, 5, 57653, 0x49DFE855},
    {compression_type::zstd, 5000000, 5, 958335, 0x2B2E0267},
    {compression_type::zstd, 5000, 1, 1266, 0xE4DA1D23},
    {compression_type::zstd, 5000, 3, 1139, 0x97DC2F0C},
    {compression_type::zlib, 5000, 5, 1019, 0xA3E23B7E},
    {compression_type::zlib, 300000, 5, 51665, 0xB97D49BC},
    {compression_type::zlib, 5000000, 5, 858810, 0x18DCB218},
};

// Java's ZSTD level 19 body of java_text(5000). At levels -5, 19 and 22 the blocks differ from
// ours: zstd-jni 1.5.2-2 bundles libzstd 1.5.2, Debian bookworm has 1.5.4, whose match finders
// changed there. The frame is the same (header, flush, empty last block), and each side reads
// the other's (Java's ZstdCompressor.decompress of ours was checked by hand for all three).
const char* java_zstd_level19_text5000 =
    "28B52FFD00680C1E00B2440F14B0156A0C722AB7582177CFAE90C0B0A0150CE53AFFFF23C4D47F0392E2154FAA1846E55E20"
    "2CA6A0051932C12A256F4D4A398EEC6AB77846EA011A0A81EFA8A12F4996FD0C2104088581924AED36210C44838450828990"
    "3449D201D32FF1E5BDB6D648D0ACCC5233B57D649F574C134781512CBCE0DC48ED2C38077C9CC9CFED0A414F901FAF955190"
    "32D06E816E4834A2D4DBDEB7F7B7460B543312508DD5DE84BEE5086DE1BFEAC463B46CF3888087B0F14CAC4DE28F86C09CA9"
    "39F50072C93F88D19411C3BE58B1F49B0ACDB44A026C881CF296294D433B7511BAC2A87BE9DCECA7161E24392E898A02F98F"
    "6702EC4FC358F095280614FCB4207D02EBEE9EC5E179AE8258C4775F346308F08ED3E7148111D65B8E3F82CE9AB3AD54096C"
    "B55660514A903383E33258F4C5E58637C0E2D4519F281474407AA1921A80EA80B3214C882E738D7048E62C896A06050AA9A7"
    "4A2F2C42725B04C0C3A040241FC95D307E6C0041288E9B01349E64D20FA29B9A19DA27B1A338422F4369789013345D5FF67E"
    "67C92145526F212583C0BD7F46E62372500E92CEF94AD546F044B2E54125885696DAE1EDC5DE9264B5D2B1203E0652152618"
    "05C295B75EE3BA6AA6CC1FCB8F8C2DF2BAC12014A248207E7138922E538583412EEB04311ACBBFEE56B003E53C630F02F9DC"
    "96ABB207711CF4758C62EA97BD3A4927E4C7D8AA3DE4B00582D59F5462AEC93BF6C5FBDA00930F7653AB674E7C88A60AF2F8"
    "DB7E1E341D462E629E6B78DA5D668641882819CCE79037A2D84D5E2D4B1B7B8657B26EB5E21A49DCBE696E8161DD13459BE2"
    "EE32BCB35FD43FC787B735CE075BCF2D2E83A0482E5E68F204495920CEC0D40FF977C6ACD2DF44B7D04595571C52B7903082"
    "248B2D206D905B6198A47C085F9DB6D8D2635EEB10F790A413371E849C28CD38BE282013039479EB8E3E82716E158C4EDC74"
    "50BC02E9F9D449570E13052CE20C8F694A085EB7E6CB45619F144F813C874A564FB5A4A1860C5C2855B36BCD5B56A4B0FFCD"
    "1DA4F5831D47774CCDC1628EB16C2BF25B51DFEF5772FDA8766DCB9DBD86A5F111585C3C0C19D37F22540ABF326E72BA93A8"
    "029A6193A107F49D500DF9A9669F0028143C9BF78818825A16F6CE6927AEEDBB369494A873E8891F1AE94C8A1A6EB4DEDBF2"
    "3E571B27FADF0ACDF0542307FB5646C0C936B8F572739AD78D4F030FB34BB540588626C4EE5851FC3D402C06F51FBA228479"
    "9348014F07EE4E017F5D96BB819DE9ABA0E4F53806BE6F771D35042025D63670828627E8336691938F1A482D983529862686"
    "B639006C29540A44BB7FC1A861295E466D405B05010000";

struct java_zstd_header {
    int level;
    const char* hex;  ///< magic, frame header descriptor (no content size, no checksum), window
};

const java_zstd_header java_zstd_headers[] = {
    {-5, "28B52FFD0048"}, {1, "28B52FFD0048"}, {5, "28B52FFD0058"}, {19, "28B52FFD0068"}, {22, "28B52FFD0088"},
};

}  // namespace

TEST_CASE("the Java text generator is rebuilt exactly")
{
    CHECK(crc(java_text(5000)) == 0x3154D6A5);
    CHECK(crc(java_text(300000)) == 0xE91CC0BD);
    CHECK(crc(java_text(5000000)) == 0x255F3DEC);
}

TEST_CASE("Java's LZ4, ZSTD and zlib bodies inflate, and compressing gives Java's bytes")
{
    for (const auto& v : java_vectors) {
        INFO(to_string(v.type) << " of " << v.input.size() << " bytes");
        const auto java = unhex(v.hex);
        std::string back;
        REQUIRE_FALSE(inflate(v.type, java, back));
        CHECK(back == v.input);
        CHECK(compressed(v.type, v.input) == java);
    }
}

TEST_CASE("long bodies and other levels match Java's output byte for byte")
{
    detail::body_compressor reused;  // one context for every size and level, as a producer keeps
    for (const auto& d : java_digests) {
        INFO(to_string(d.type) << " of " << d.input_size << " bytes at level " << d.level);
        const auto text = java_text(d.input_size);
        std::string out;
        REQUIRE_FALSE(reused.compress(d.type, text, d.level, out));
        CHECK(out.size() == d.output_size);
        CHECK(crc(out) == d.output_crc);
        std::string back;
        REQUIRE_FALSE(inflate(d.type, out, back));
        CHECK(back == text);
    }
}

TEST_CASE("ZSTD at any level writes Java's frame, and reads Java's where the blocks differ")
{
    const auto text = java_text(5000);
    for (const auto& h : java_zstd_headers) {
        INFO("level " << h.level);
        const auto ours = compressed(compression_type::zstd, text, h.level);
        CHECK(ours.substr(0, 6) == unhex(h.hex));
        CHECK(ours.substr(ours.size() - 3) == unhex("010000"));  // the empty last block after the flush
        std::string back;
        REQUIRE_FALSE(inflate(compression_type::zstd, ours, back));
        CHECK(back == text);
    }
    const auto java = unhex(java_zstd_level19_text5000);
    CHECK(crc(java) == 0x645C09C7);
    std::string back;
    REQUIRE_FALSE(inflate(compression_type::zstd, java, back));
    CHECK(back == text);
}

TEST_CASE("LZ4 ignores the level, as Java's Lz4Compressor does")
{
    const auto text = java_text(5000);
    CHECK(compressed(compression_type::lz4, text, 1) == compressed(compression_type::lz4, text, 12));
    CHECK(compressed(compression_type::lz4, text, -7) == compressed(compression_type::lz4, text, 5));
}

TEST_CASE("levels are checked per algorithm")
{
    using detail::valid_compress_level;
    CHECK(valid_compress_level(compression_type::zlib, -1));
    CHECK(valid_compress_level(compression_type::zlib, 9));
    CHECK_FALSE(valid_compress_level(compression_type::zlib, 10));
    CHECK_FALSE(valid_compress_level(compression_type::zlib, -2));
    CHECK(valid_compress_level(compression_type::zstd, 22));
    CHECK(valid_compress_level(compression_type::zstd, 0));
    CHECK(valid_compress_level(compression_type::zstd, ZSTD_minCLevel()));
    CHECK_FALSE(valid_compress_level(compression_type::zstd, 23));
    CHECK_FALSE(valid_compress_level(compression_type::zstd, ZSTD_minCLevel() - 1));
    CHECK(valid_compress_level(compression_type::lz4, 1000));
    CHECK(detail::compress_level_range(compression_type::zlib) == "-1..9");
    CHECK(detail::compress_level_range(compression_type::zstd) == "-131072..22");

    detail::body_compressor c;
    std::string out = "old";
    CHECK(c.compress(compression_type::zstd, "x", 23, out) == client_errc::invalid_argument);
    CHECK(out.empty());
    CHECK(c.compress(compression_type::zlib, "x", 10, out) == client_errc::invalid_argument);
}

TEST_CASE("sysFlag carries the type in bits 8-10; stored type 0 is zlib")
{
    CHECK(detail::compressed_sys_flag(compression_type::lz4) == 0x101);
    CHECK(detail::compressed_sys_flag(compression_type::zstd) == 0x201);
    CHECK(detail::compressed_sys_flag(compression_type::zlib) == 0x301);
    CHECK(detail::compression_of(0x001) == compression_type::zlib);
    CHECK(detail::compression_of(0x301) == compression_type::zlib);
    CHECK(detail::compression_of(0x101) == compression_type::lz4);
    CHECK(detail::compression_of(0x201 | sys_flag::born_host_v6) == compression_type::zstd);
    for (std::int32_t type = 4; type <= 7; ++type) CHECK_FALSE(detail::compression_of(sys_flag::compressed | type << 8));
    CHECK(to_string(compression_type::lz4) == "LZ4");
    CHECK(to_string(compression_type::zstd) == "ZSTD");
    CHECK(to_string(compression_type::zlib) == "ZLIB");
}

TEST_CASE("other writers' frames inflate too: checksums, content size, linked blocks, several frames")
{
    const auto text = java_text(300000);
    std::string back;

    std::string zstd(ZSTD_compressBound(text.size()), '\0');
    zstd.resize(ZSTD_compress(zstd.data(), zstd.size(), text.data(), text.size(), 3));  // content size in header
    REQUIRE_FALSE(inflate(compression_type::zstd, zstd, back));
    CHECK(back == text);
    REQUIRE_FALSE(inflate(compression_type::zstd, zstd + zstd, back));
    CHECK(back == text + text);

    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockMode = LZ4F_blockLinked;
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
    prefs.frameInfo.contentSize = text.size();
    std::string lz4(LZ4F_compressFrameBound(text.size(), &prefs), '\0');
    lz4.resize(LZ4F_compressFrame(lz4.data(), lz4.size(), text.data(), text.size(), &prefs));
    REQUIRE_FALSE(inflate(compression_type::lz4, lz4, back));
    CHECK(back == text);
    REQUIRE_FALSE(inflate(compression_type::lz4, lz4 + compressed(compression_type::lz4, "tail"), back));
    CHECK(back == text + "tail");
}

TEST_CASE("corrupt, truncated and oversized LZ4 and ZSTD bodies fail with a reason")
{
    for (const auto type : {compression_type::lz4, compression_type::zstd}) {
        INFO(to_string(type));
        const auto text = java_text(300000);
        const auto good = compressed(type, text);
        std::string out;
        std::string_view why;

        CHECK(detail::inflate_body("", detail::compressed_sys_flag(type), 1 << 20, out, &why)
              == client_errc::compression_failed);
        CHECK(why == "truncated");
        for (const std::size_t cut : {std::size_t{3}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
            INFO("cut at " << cut);
            why = {};
            CHECK(detail::inflate_body(good.substr(0, cut), detail::compressed_sys_flag(type), 1 << 20, out, &why)
                  == client_errc::compression_failed);
            CHECK_FALSE(why.empty());
            CHECK(out.empty());
        }
        CHECK(detail::inflate_body("not compressed at all", detail::compressed_sys_flag(type), 1 << 20, out, &why)
              == client_errc::compression_failed);
        CHECK_FALSE(why.empty());
        CHECK(detail::inflate_body(good + "junk", detail::compressed_sys_flag(type), 1 << 20, out, &why)
              == client_errc::compression_failed);

        CHECK(detail::inflate_body(good, detail::compressed_sys_flag(type), text.size() - 1, out, &why)
              == client_errc::compression_failed);
        CHECK(why == "inflates past the size limit");
        CHECK(out.empty());
        REQUIRE_FALSE(detail::inflate_body(good, detail::compressed_sys_flag(type), text.size(), out, &why));
        CHECK(out == text);
    }
}

namespace {

detail::stored_record record_with(std::int64_t offset, std::string body, std::int32_t sys, std::string uniq)
{
    detail::stored_record rec;
    rec.queue_id = 1;
    rec.queue_offset = offset;
    rec.commit_log_offset = 1000 + offset;
    rec.sys_flag = sys;
    rec.born_host = *host_address::parse("10.0.0.5:50000");
    rec.store_host = *host_address::parse("10.0.0.1:10911");
    rec.body = std::move(body);
    rec.topic = "T";
    rec.properties = "UNIQ_KEY\x01" + uniq + "\x02";
    return rec;
}

void append(std::string& body, const detail::stored_record& rec) { detail::encode_stored(rec, body); }

}  // namespace

TEST_CASE("a batch of Java-compressed records decodes, each body inflated")
{
    std::string body;
    append(body, record_with(0, unhex(java_vectors[1].hex), 0x101, "L"));
    append(body, record_with(1, unhex(java_vectors[3].hex), 0x201, "Z"));
    append(body, record_with(2, unhex(java_vectors[5].hex), 0x301, "G"));
    message_batch batch;
    REQUIRE_FALSE(message_batch::decode(body, batch));
    REQUIRE(batch.size() == 3);
    for (const auto& m : batch.messages()) {
        CHECK(m.body() == alphabet(5000));
        CHECK_FALSE(m.undecodable());
        CHECK((m.sys_flag() & sys_flag::compressed) == 0);
        CHECK((m.stored_sys_flag() & sys_flag::compressed) != 0);
    }
    CHECK(batch.messages()[0].sys_flag() == sys_flag::compression_lz4);
    CHECK(batch.messages()[1].sys_flag() == sys_flag::compression_zstd);
}

TEST_CASE("decode_lenient keeps the good records around the ones that cannot be decoded")
{
    const auto lz4 = compressed(compression_type::lz4, java_text(6000));
    std::string body;
    append(body, record_with(10, "plain", 0, "A"));
    append(body, record_with(11, lz4.substr(0, lz4.size() / 2), 0x101, "CORRUPT"));
    append(body, record_with(12, "whatever", sys_flag::compressed | 0x400, "UNKNOWN"));
    append(body, record_with(13, compressed(compression_type::zstd, "zstd body"), 0x201, "B"));
    std::string malformed;
    append(malformed, record_with(14, "body", 0, "M"));
    malformed[85] = 0x7F;  // BODYLENGTH (offset 84 with IPv4 hosts) now runs past TOTALSIZE
    body += malformed;
    append(body, record_with(15, "last", 0, "C"));

    auto batch = message_batch::decode_lenient(body);
    CHECK(batch.unparsed_bytes() == 0);
    REQUIRE(batch.size() == 6);
    const auto m = batch.messages();
    CHECK(m[0].body() == "plain");
    CHECK(m[3].body() == "zstd body");
    CHECK(m[5].body() == "last");
    for (std::size_t i : {0, 3, 5}) CHECK_FALSE(m[i].undecodable());

    CHECK(m[1].undecodable());
    CHECK(m[1].decode_error() == client_errc::compression_failed);
    CHECK(m[1].decode_failure().starts_with("LZ4 body of " + std::to_string(lz4.size() / 2) + " bytes does not inflate: "));
    CHECK(m[1].queue_offset() == 11);
    CHECK(m[1].msg_id() == "CORRUPT");
    CHECK(m[1].body() == lz4.substr(0, lz4.size() / 2));  // as stored
    CHECK(m[1].sys_flag() == 0x101);

    CHECK(m[2].undecodable());
    CHECK(m[2].decode_failure() == "unknown compression type 4");
    CHECK(m[2].msg_id() == "UNKNOWN");
    CHECK(m[2].body() == "whatever");

    CHECK(m[4].undecodable());
    CHECK(m[4].decode_error() == client_errc::bad_message);
    CHECK(m[4].decode_failure().starts_with("malformed record"));
    CHECK(m[4].queue_offset() == 14);  // the fixed fields are still read
    CHECK(m[4].queue_id() == 1);
    CHECK(m[4].commit_log_offset() == 1014);
    CHECK(m[4].body().empty());
    CHECK(m[4].msg_id().empty());
    CHECK(m[4].raw_record() == malformed);

    message_batch strict;
    CHECK(message_batch::decode(body, strict) == client_errc::compression_failed);  // the first problem
    CHECK(strict.empty());
}

TEST_CASE("decode_lenient stops at bytes that are no records and counts them")
{
    std::string body;
    append(body, record_with(0, "one", 0, "A"));
    append(body, record_with(1, "two", 0, "B"));
    const auto good_size = body.size();
    body += std::string("\x00\x00\x00\x05garbage", 11);  // TOTALSIZE 5: below the minimum

    auto batch = message_batch::decode_lenient(body);
    CHECK(batch.unparsed_bytes() == 11);
    REQUIRE(batch.size() == 2);
    CHECK(batch.messages()[1].body() == "two");
    message_batch strict;
    CHECK(message_batch::decode(body, strict) == client_errc::bad_message);

    auto cut = message_batch::decode_lenient(body.substr(0, good_size - 1));  // TOTALSIZE past the end
    CHECK(cut.size() == 1);
    CHECK(cut.unparsed_bytes() == good_size - 1 - cut.messages()[0].raw_record().size());
}
