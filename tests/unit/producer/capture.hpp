// One frame of the golden wire captures (tests/support/wire_captures.hpp) as a decoded command,
// and headers in a form that compares regardless of key and property order.
#pragma once

#include <corocket/remoting/command.hpp>

#include "message/properties.hpp"
#include "remoting/header_codec.hpp"
#include "wire_captures.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corocket::test {

struct capture_frame {
    remoting::command cmd;
    const wire_frame* frame = nullptr;
};

/// Frame `seq` of `file` (e.g. "send_json.jsonl").
inline capture_frame load_capture(const std::string& file, std::int64_t seq)
{
    for (const auto& f : wire_frames(file)) {
        if (f.seq != seq)
            continue;
        capture_frame out;
        out.frame = &f;
        REQUIRE_FALSE(remoting::detail::decode_frame_bytes(f.bytes, out.cmd));
        return out;
    }
    throw std::runtime_error("no frame " + std::to_string(seq) + " in " + file);
}

/// ext fields as a sorted map, with a properties field ("i" / "properties") decoded.
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
