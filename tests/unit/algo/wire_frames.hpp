// Loads the golden captures of tests/wire (see the README there) for the algo tests.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::test {

struct wire_frame {
    std::string file;
    std::int64_t seq = 0;
    boost::json::object decoded;
    boost::json::object annot;
    std::string bytes;  ///< the whole frame, length prefix included

    std::int64_t code() const { return decoded.at("code").as_int64(); }
    bool is_request() const { return annot.at("kind").as_string() == "request"; }
    std::int64_t request_code() const
    {
        const auto* rc = annot.if_contains("request_code");
        return rc ? rc->as_int64() : -1;
    }
    /// The body: what follows the header (header length = low 24 bits of the second word).
    std::string_view body() const
    {
        const auto word = [&](std::size_t at) {
            return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
                   (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
                   (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
                   std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
        };
        const std::size_t header_len = word(4) & 0xFFFFFFu;
        return std::string_view(bytes).substr(8 + header_len);
    }
};

inline std::string from_hex(std::string_view hex)
{
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    return out;
}

inline std::vector<wire_frame> load_wire(const std::string& file)
{
    std::ifstream in(std::string(COROCKET_WIRE_DIR) + "/" + file);
    REQUIRE(in.good());
    std::vector<wire_frame> frames;
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        const auto v = boost::json::parse(line).as_object();
        wire_frame f;
        f.file = file;
        f.seq = v.at("seq").as_int64();
        f.decoded = v.at("decoded").as_object();
        f.annot = v.at("annot").as_object();
        f.bytes = from_hex(v.at("frame_hex").as_string());
        frames.push_back(std::move(f));
    }
    REQUIRE(!frames.empty());
    return frames;
}

inline const std::vector<std::string>& wire_files()
{
    static const std::vector<std::string> files = {
        "acl.jsonl",       "admin.jsonl",    "consume_broadcast_litepull.jsonl",
        "consume_orderly.jsonl", "consume_push.jsonl", "route.jsonl",
        "send_binary.jsonl", "send_json.jsonl", "trace.jsonl", "transaction.jsonl",
    };
    return files;
}

/// Every response to `request_code` with a non-empty body, across all capture files.
inline std::vector<wire_frame> responses_to(std::int64_t request_code)
{
    std::vector<wire_frame> out;
    for (const auto& file : wire_files()) {
        for (auto& f : load_wire(file)) {
            if (!f.is_request() && f.request_code() == request_code && f.code() == 0 && !f.body().empty())
                out.push_back(std::move(f));
        }
    }
    return out;
}

}  // namespace corocket::test
