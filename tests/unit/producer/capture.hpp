// Loads one frame of the golden wire captures (tests/wire/*.jsonl) as a decoded command.
#pragma once

#include <corocket/remoting/command.hpp>

#include "message/properties.hpp"
#include "remoting/header_codec.hpp"
#include "util/json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corocket::test {

struct capture_frame {
    remoting::command cmd;
    boost::json::object line;

    const boost::json::object& annot() const { return line.at("annot").as_object(); }
};

inline std::string unhex_capture(std::string_view hex)
{
    const auto nibble = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return c - 'A' + 10;
    };
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    return out;
}

/// Frame `seq` of `file` (e.g. "send_json.jsonl").
inline capture_frame load_capture(std::string_view file, std::int64_t seq)
{
    std::ifstream in(std::string(COROCKET_WIRE_DIR) + "/" + std::string(file));
    REQUIRE(in.good());
    for (std::string line; std::getline(in, line);) {
        boost::json::value v;
        REQUIRE_FALSE(detail::parse_lenient_json(line, v));
        auto& o = v.as_object();
        if (o.at("seq").to_number<std::int64_t>() != seq)
            continue;
        capture_frame f;
        f.line = o;
        REQUIRE_FALSE(remoting::detail::decode_frame_bytes(unhex_capture(o.at("frame_hex").as_string()), f.cmd));
        return f;
    }
    throw std::runtime_error("no such capture frame");
}

/// ext fields as a sorted map, with a properties field ("i" / "properties") decoded, so that
/// two headers compare regardless of key and property order.
inline std::map<std::string, std::string> comparable_fields(const remoting::ext_fields& f)
{
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : f) {
        if (k == "i" || k == "properties") {
            properties props;
            detail::decode_properties(v, props);
            for (const auto& [pk, pv] : props)
                out["property " + pk] = pv;
            continue;
        }
        out[k] = v;
    }
    return out;
}

}  // namespace corocket::test
