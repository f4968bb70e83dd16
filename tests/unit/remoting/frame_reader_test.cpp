// frame_reader: the captured byte streams split at every position, fed a byte at a time and in
// random chunks, yield exactly the captured frames; broken framing is a sticky, clear error.
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
using remoting::test::concatenated;
using remoting::test::wire_frame;
using remoting::test::wire_frames;

namespace {

void feed(frame_reader& r, std::string_view bytes)
{
    auto buf = r.prepare(bytes.size());
    REQUIRE(buf.size() >= bytes.size());
    if (!bytes.empty()) std::memcpy(buf.data(), bytes.data(), bytes.size());
    r.commit(bytes.size());
}

// Checks that `f` is exactly the captured frame `expected`.
bool same_frame(const raw_frame& f, const std::string& expected)
{
    frame_prefix p;
    error_code ec;
    if (!parse_frame_prefix(expected, expected.size(), p, ec)) return false;
    return f.type == p.type && f.header == std::string_view(expected).substr(frame_prefix_size, p.header_size) &&
           f.body == std::string_view(expected).substr(frame_prefix_size + p.header_size);
}

// Drains every complete frame, comparing each with the next expected one. Returns the index of
// the next frame still expected, or frames.size() + 1 on a mismatch or an error (so that the hot
// split loops need one assertion per split, not one per frame).
std::size_t drain(frame_reader& r, const std::vector<wire_frame>& frames, std::size_t next)
{
    error_code ec;
    while (auto f = r.next(ec)) {
        if (next >= frames.size() || !same_frame(*f, frames[next].bytes)) return frames.size() + 1;
        ++next;
    }
    return ec ? frames.size() + 1 : next;
}

std::string frame_with_prefix(std::uint32_t length, std::uint32_t header_word)
{
    std::string s(8, '\0');
    store_u32(s.data(), length);
    store_u32(s.data() + 4, header_word);
    return s;
}

// Feeds `bytes` one at a time and returns the error seen once the reader gives up (or none).
error_code error_after_feeding(frame_reader& r, std::string_view bytes)
{
    error_code ec;
    for (char c : bytes) {
        feed(r, std::string_view(&c, 1));
        if (r.next(ec) || ec) break;
    }
    return ec;
}

}  // namespace

TEST_CASE("captured streams split at every position yield the captured frames")
{
    // Whole JSON captures, plus binary stretches: send_binary's first 40 frames and the signed
    // binary JVM of acl (duplicate header keys). Every split costs a pass over the stream, so the
    // streams are kept to ~10 KB each.
    struct slice {
        const char* file;
        std::size_t first, count;
    };
    for (auto [file, first, count] : {slice{"route.jsonl", 0, 28}, slice{"transaction.jsonl", 0, 25},
                                      slice{"admin.jsonl", 0, 46}, slice{"send_binary.jsonl", 0, 40},
                                      slice{"acl.jsonl", 67, 34}}) {
        const auto& all = wire_frames(file);
        REQUIRE(first + count <= all.size());
        const std::vector<wire_frame> frames(all.begin() + first, all.begin() + first + count);
        const std::string stream = concatenated(frames);
        frame_reader r;
        for (std::size_t split = 0; split <= stream.size(); ++split) {
            r.reset();
            feed(r, std::string_view(stream).substr(0, split));
            std::size_t next = drain(r, frames, 0);
            feed(r, std::string_view(stream).substr(split));
            next = drain(r, frames, next);
            if (next != frames.size() || r.buffered() != 0) FAIL(file << " split at " << split);
        }
    }
}

TEST_CASE("every captured stream fed one byte at a time yields the captured frames, decodable")
{
    for (const auto& file : remoting::test::wire_file_names()) {
        const auto& frames = wire_frames(file);
        const std::string stream = concatenated(frames);
        frame_reader r;
        std::size_t next = 0;
        error_code ec;
        for (char c : stream) {
            feed(r, std::string_view(&c, 1));
            while (auto f = r.next(ec)) {
                REQUIRE(next < frames.size());
                INFO(frames[next].where());
                REQUIRE(same_frame(*f, frames[next].bytes));
                command_view view;
                REQUIRE_FALSE(decode_frame(*f, view));
                command expected;
                REQUIRE_FALSE(decode_frame_bytes(frames[next].bytes, expected));
                CHECK(view.to_owned() == expected);
                ++next;
            }
            REQUIRE_FALSE(ec);
        }
        CHECK(next == frames.size());
        CHECK(r.buffered() == 0);
    }
}

TEST_CASE("random chunking of every capture; the buffer stops growing once warmed up")
{
    std::mt19937 rng(20261122);
    for (const auto& file : remoting::test::wire_file_names()) {
        const auto& frames = wire_frames(file);
        const std::string stream = concatenated(frames);
        frame_reader r;
        std::size_t warmed_capacity = 0;
        for (int pass = 0; pass < 3; ++pass) {
            std::size_t next = 0;
            for (std::size_t pos = 0; pos < stream.size();) {
                std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + rng() % 4096);
                // Read the way the connection does: ask for a fixed chunk, fill part of it.
                auto buf = r.prepare(4096);
                std::memcpy(buf.data(), stream.data() + pos, n);
                r.commit(n);
                pos += n;
                next = drain(r, frames, next);
            }
            INFO(file << " pass " << pass);
            CHECK(next == frames.size());
            if (pass == 0) warmed_capacity = r.capacity();
            else CHECK(r.capacity() == warmed_capacity);  // no allocation in steady state
        }
        // One largest frame plus one read chunk, rounded up by doubling.
        CHECK(warmed_capacity <= 4 * (4096 + 4096));
    }
}

TEST_CASE("truncated input is not an error")
{
    const std::string frame = wire_frames("route.jsonl").front().bytes;
    for (std::size_t n = 0; n < frame.size(); ++n) {
        frame_reader r;
        feed(r, std::string_view(frame).substr(0, n));
        error_code ec;
        CHECK_FALSE(r.next(ec));
        CHECK_FALSE(ec);
        CHECK(r.buffered() == n);
    }
}

TEST_CASE("frames may be as large as the maximum, not larger")
{
    frame_reader r(64);
    std::string frame = frame_with_prefix(60, 0) + std::string(56, 'x');  // 64 bytes in all
    feed(r, frame);
    error_code ec;
    auto f = r.next(ec);
    REQUIRE(f);
    CHECK(f->header.empty());
    CHECK(f->body.size() == 56);

    // 65 bytes: rejected as soon as the length word is in, before the rest arrives.
    CHECK(error_after_feeding(r, frame_with_prefix(61, 0)) == client_errc::frame_too_large);
    CHECK(r.buffered() == 4);
}

TEST_CASE("corrupt framing is a sticky error")
{
    struct bad_case {
        const char* what;
        std::string bytes;
        client_errc expected;
    };
    const bad_case cases[] = {
        {"negative length", frame_with_prefix(0x80000000u, 0), client_errc::corrupt_frame},
        {"length -1", frame_with_prefix(0xFFFFFFFFu, 0), client_errc::corrupt_frame},
        {"length shorter than the header word", frame_with_prefix(3, 0), client_errc::corrupt_frame},
        {"length zero", frame_with_prefix(0, 0), client_errc::corrupt_frame},
        {"length above the default 16 MiB", frame_with_prefix(16 * 1024 * 1024 - 3, 0), client_errc::frame_too_large},
        {"largest positive length", frame_with_prefix(0x7FFFFFFF, 0), client_errc::frame_too_large},
        {"header longer than the frame", frame_with_prefix(10, 7), client_errc::corrupt_frame},
        {"binary header longer than the frame", frame_with_prefix(4, 0x01000001), client_errc::corrupt_frame},
        {"serialize type 2", frame_with_prefix(10, 0x02000000), client_errc::corrupt_frame},
        {"serialize type 0xFF", frame_with_prefix(10, 0xFF000002), client_errc::corrupt_frame},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        frame_reader r;
        CHECK(error_after_feeding(r, c.bytes) == c.expected);
        CHECK(r.error() == c.expected);
        // Sticky: a valid frame afterwards does not help, until reset().
        feed(r, wire_frames("route.jsonl").front().bytes);
        error_code ec;
        CHECK_FALSE(r.next(ec));
        CHECK(ec == c.expected);
        r.reset();
        CHECK_FALSE(r.error());
        feed(r, wire_frames("route.jsonl").front().bytes);
        CHECK(r.next(ec));
        CHECK_FALSE(ec);
    }
    // A frame exactly filled by its header word is fine (no header, no body).
    frame_reader r;
    feed(r, frame_with_prefix(4, 0));
    error_code ec;
    auto f = r.next(ec);
    REQUIRE(f);
    CHECK(f->header.empty());
    CHECK(f->body.empty());
}

TEST_CASE("parse_frame_prefix reports each rule as soon as its bytes are there")
{
    frame_prefix p;
    error_code ec;
    std::string ok = frame_with_prefix(100, 0x01000010);
    for (std::size_t n = 0; n < 8; ++n) {
        CHECK_FALSE(parse_frame_prefix(std::string_view(ok).substr(0, n), 1000, p, ec));
        CHECK_FALSE(ec);
    }
    REQUIRE(parse_frame_prefix(ok, 1000, p, ec));
    CHECK(p.frame_size == 104);
    CHECK(p.type == serialize_type::rocketmq);
    CHECK(p.header_size == 16);
    CHECK_FALSE(parse_frame_prefix(std::string_view(ok).substr(0, 4), 103, p, ec));
    CHECK(ec == client_errc::frame_too_large);
}

TEST_CASE("decode_frame_bytes wants exactly one whole frame")
{
    const std::string frame = wire_frames("route.jsonl").front().bytes;
    command c;
    CHECK(decode_frame_bytes(frame.substr(0, frame.size() - 1), c) == client_errc::corrupt_frame);
    CHECK(decode_frame_bytes(frame.substr(0, 5), c) == client_errc::corrupt_frame);
    CHECK(decode_frame_bytes(frame + "x", c) == client_errc::corrupt_frame);
    CHECK(decode_frame_bytes("", c) == client_errc::corrupt_frame);
    CHECK(decode_frame_bytes(frame_with_prefix(4, 0x03000000), c) == client_errc::corrupt_frame);
    CHECK_FALSE(decode_frame_bytes(frame, c));
}
