// Malformed headers give client_errc::bad_header, never a crash; plus a deterministic mutation
// fuzz loop over the captured frames through the frame reader and both decoders.
#include "remoting/byte_order.hpp"
#include "remoting/frame_reader.hpp"
#include "remoting/header_codec.hpp"

#include "codec_test_support.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>

using namespace corocket;
using namespace corocket::remoting;
using namespace corocket::remoting::detail;
using remoting::test::from_hex;

namespace {

error_code decode_as(serialize_type type, std::string_view bytes)
{
    command_header h;
    return decode_header(type, bytes, h);
}

// A binary header: the 13 fixed bytes, then the given remark and extFields sections verbatim.
std::string binary_header(std::string_view rest)
{
    return from_hex("00 69 01 01 91 00 00 00 01 00 00 00 00") + from_hex(rest);
}

}  // namespace

TEST_CASE("malformed JSON headers are bad_header")
{
    const char* cases[] = {
        "",
        " ",
        "not json",
        "{",
        R"({"code":1)",
        R"({"code":1,})",
        R"({"code":1}x)",
        R"({"code":1}{})",
        "[1,2]",
        R"("a string")",
        "123",
        "null",
        R"({"code":"105"})",
        R"({"code":1.5})",
        R"({"code":true})",
        R"({"code":{}})",
        R"({"code":[]})",
        R"({"code":2147483648})",
        R"({"opaque":-2147483649})",
        R"({"flag":18446744073709551616})",
        R"({"version":1e3})",
        R"({"language":300})",
        R"({"language":-1})",
        R"({"language":1.0})",
        R"({"language":{}})",
        R"({"extFields":"topic=T"})",
        R"({"extFields":1})",
        R"({"extFields":[{"topic":"T"}]})",
        R"({"extFields":{"a":{"b":"c"}}})",
        R"({"extFields":{"a":["b"]}})",
        "{\"remark\":\"\xC3\"}",       // truncated UTF-8
        "{\"remark\":\"\xFF\"}",       // invalid UTF-8
        "{\"remark\":\"a\x01\"}",      // raw control character
        R"({"remark":"\x41"})",        // not a JSON escape
        R"({"remark":"\ud800"})",      // lone surrogate
        R"({'code':1})",
    };
    for (const char* text : cases) {
        INFO(text);
        CHECK(decode_as(serialize_type::json, text) == client_errc::bad_header);
    }
}

TEST_CASE("malformed binary headers are bad_header")
{
    struct bad_case {
        const char* what;
        std::string bytes;
    };
    const bad_case cases[] = {
        {"empty", ""},
        {"shorter than the fixed part", from_hex("00 69 01 01 91 00 00 00 01 00 00 00")},
        {"no remark length", binary_header("")},
        {"remark length cut", binary_header("00 00")},
        {"no extFields length", binary_header("00 00 00 00")},
        {"remark past the end", binary_header("00 00 00 09 41 42 00 00 00 00")},
        {"negative remark length", binary_header("FF FF FF FF 00 00 00 00")},
        {"huge remark length", binary_header("7F FF FF FF 00 00 00 00")},
        {"extFields past the end", binary_header("00 00 00 00 00 00 00 0C 00 05 74 6F 70 69 63")},
        {"negative extFields length", binary_header("00 00 00 00 80 00 00 00")},
        {"key length cut", binary_header("00 00 00 00 00 00 00 01 00")},
        {"negative key length", binary_header("00 00 00 00 00 00 00 07 FF FF 00 00 00 00 00")},
        {"key past the section", binary_header("00 00 00 00 00 00 00 06 00 09 61 62 63 64")},
        {"no value length", binary_header("00 00 00 00 00 00 00 03 00 01 61")},
        {"value length cut", binary_header("00 00 00 00 00 00 00 05 00 01 61 00 00")},
        {"negative value length", binary_header("00 00 00 00 00 00 00 08 00 01 61 FF FF FF FE 00")},
        {"value past the section", binary_header("00 00 00 00 00 00 00 08 00 01 61 00 00 00 02 54 55")},
        {"value past the end", binary_header("00 00 00 00 00 00 00 08 00 01 61 00 00 00 09 54")},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(decode_as(serialize_type::rocketmq, c.bytes) == client_errc::bad_header);
    }
    // The well-formed reference the cases above are cut from.
    CHECK_FALSE(decode_as(serialize_type::rocketmq, binary_header("00 00 00 00 00 00 00 0C 00 05 74 6F 70 69 63 00 00 00 01 54")));
}

TEST_CASE("a header with more than 4096 extFields entries is bad_header, in JSON and binary")
{
    // Each entry is found by a scan of the ones before: an unbounded count would let one frame
    // keep the executor busy for minutes (320,000 entries took 100 s).
    auto json_with = [](int n) {
        std::string h = R"({"code":0,"extFields":{)";
        for (int i = 0; i < n; ++i)
            h += (i ? "," : "") + std::string("\"k") + std::to_string(i) + R"(":"v")";
        return h + "}}";
    };
    CHECK_FALSE(decode_as(serialize_type::json, json_with(4096)));
    CHECK(decode_as(serialize_type::json, json_with(4097)) == client_errc::bad_header);

    auto binary_with = [](int n) {
        std::string section;
        for (int i = 0; i < n; ++i) {
            const std::string key = "k" + std::to_string(i);
            char len[6] = {0, static_cast<char>(key.size()), 0, 0, 0, 1};
            section.append(len, 2).append(key).append(len + 2, 4).append("v");
        }
        std::string out = from_hex("00 69 01 01 91 00 00 00 01 00 00 00 00 00 00 00 00");
        const auto size = static_cast<std::uint32_t>(section.size());
        for (int shift = 24; shift >= 0; shift -= 8)
            out += static_cast<char>((size >> shift) & 0xFF);
        return out + section;
    };
    CHECK_FALSE(decode_as(serialize_type::rocketmq, binary_with(4096)));
    CHECK(decode_as(serialize_type::rocketmq, binary_with(4097)) == client_errc::bad_header);
}

TEST_CASE("a bad header inside a well-framed frame is reported by decode_frame")
{
    std::string frame = from_hex("00 00 00 0A 00 00 00 06") + "{oops}";
    frame_reader r;
    auto buf = r.prepare(frame.size());
    std::memcpy(buf.data(), frame.data(), frame.size());
    r.commit(frame.size());
    error_code ec;
    auto raw = r.next(ec);
    REQUIRE(raw);
    command_view view;
    CHECK(decode_frame(*raw, view) == client_errc::bad_header);
    // Framing is intact: the reader is not in error and goes on with the next frame.
    CHECK_FALSE(r.error());
}

TEST_CASE("mutated captured frames never crash the reader or the decoders")
{
    // Seeds: a spread of JSON and binary frames, small and large.
    std::vector<std::string> seeds;
    for (const auto& file : remoting::test::wire_file_names()) {
        const auto& frames = remoting::test::wire_frames(file);
        for (std::size_t i = 0; i < frames.size(); i += 7) seeds.push_back(frames[i].bytes);
    }
    std::mt19937 rng(4242);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const std::uint32_t interesting[] = {0, 1, 3, 4, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
                                         0x80000000, 0xFFFFFFFF, 0x01000000, 0x00FFFFFF};

    std::size_t frames_seen = 0, decoded = 0, rejected = 0;
    for (int iteration = 0; iteration < 6000; ++iteration) {
        std::string s = seeds[pick(seeds.size())];
        int mutations = 1 + static_cast<int>(pick(4));
        for (int m = 0; m < mutations && !s.empty(); ++m) {
            switch (pick(5)) {
            case 0: s[pick(s.size())] ^= static_cast<char>(1u << pick(8)); break;
            case 1: s[pick(s.size())] = static_cast<char>(rng()); break;
            case 2: s.resize(pick(s.size() + 1)); break;
            case 3: {
                // Separate statements: argument evaluation order would differ between compilers.
                std::size_t at = pick(s.size() + 1);
                std::size_t n = 1 + pick(8);
                s.insert(at, std::string(n, static_cast<char>(rng())));
                break;
            }
            default:
                if (s.size() >= 4) {
                    // Big-endian 16- or 32-bit edge values land on length fields now and then.
                    std::uint32_t v = interesting[pick(std::size(interesting))];
                    std::size_t at = pick(s.size() - 3);
                    if (rng() % 2) store_u32(s.data() + at, v);
                    else store_u16(s.data() + at, static_cast<std::uint16_t>(v));
                }
            }
        }
        // Through the reader (small maximum, random chunks), decoding what comes out.
        frame_reader r(64 * 1024);
        error_code ec;
        for (std::size_t pos = 0; pos < s.size() && !ec;) {
            std::size_t n = std::min(s.size() - pos, 1 + pick(512));
            auto buf = r.prepare(n);
            std::memcpy(buf.data(), s.data() + pos, n);
            r.commit(n);
            pos += n;
            while (auto raw = r.next(ec)) {
                ++frames_seen;
                command_view view;
                if (decode_frame(*raw, view)) {
                    ++rejected;
                    continue;
                }
                ++decoded;
                // Whatever decodes re-encodes to the same header (the encoder only emits language
                // names, so an unknown ordinal cannot come back in JSON).
                if (language_name(view.header.language) == nullptr && view.header.type == serialize_type::json)
                    continue;
                std::string again;
                encode_header(view.header, view.body.size(), again);
                command_header back;
                REQUIRE_FALSE(decode_header(view.header.type, std::string_view(again).substr(frame_prefix_size), back));
                CHECK(back == view.header);
            }
        }
        // And straight into both header decoders, whatever the type byte says.
        std::string_view header = std::string_view(s).substr(std::min<std::size_t>(8, s.size()));
        command_header h;
        (void)decode_header(serialize_type::json, header, h);
        (void)decode_header(serialize_type::rocketmq, header, h);
        command c;
        (void)decode_frame_bytes(s, c);
    }
    // The loop must have exercised both outcomes.
    INFO("frames " << frames_seen << ", decoded " << decoded << ", rejected " << rejected);
    CHECK(frames_seen > 2000);
    CHECK(decoded > 400);
    CHECK(rejected > 1000);
}
