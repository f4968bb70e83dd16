// Shared helpers of the remoting codec tests: the golden wire captures and byte utilities.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::remoting::test {

/// One captured frame: the whole frame (length prefix included) and the capture's description.
struct wire_frame {
    std::string file;
    std::int64_t seq = 0;
    std::string bytes;
    boost::json::object line;  ///< the whole JSONL record ("decoded", "annot", ...)

    const boost::json::object& decoded() const { return line.at("decoded").as_object(); }
    const boost::json::object& annot() const { return line.at("annot").as_object(); }
    std::string where() const { return file + " seq " + std::to_string(seq); }
};

inline std::string from_hex(std::string_view hex)
{
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex digit");
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        while (i < hex.size() && hex[i] == ' ') ++i;
        if (i + 1 >= hex.size()) break;
        out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    }
    return out;
}

inline const std::vector<std::string>& wire_file_names()
{
    static const std::vector<std::string> names = {
        "acl.jsonl",       "admin.jsonl",       "consume_broadcast_litepull.jsonl",
        "consume_orderly.jsonl", "consume_push.jsonl", "route.jsonl",
        "send_binary.jsonl", "send_json.jsonl", "trace.jsonl",
        "transaction.jsonl",
    };
    return names;
}

/// The frames of one capture file, in capture order (loaded once per process).
inline const std::vector<wire_frame>& wire_frames(const std::string& file)
{
    static std::map<std::string, std::vector<wire_frame>> cache;
    auto it = cache.find(file);
    if (it != cache.end()) return it->second;
    std::ifstream in(std::string(COROCKET_WIRE_DIR) + "/" + file);
    if (!in) throw std::runtime_error("cannot open wire capture " + file);
    std::vector<wire_frame> frames;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        wire_frame f;
        f.file = file;
        f.line = boost::json::parse(line).as_object();
        f.seq = f.line.at("seq").as_int64();
        f.bytes = from_hex(f.line.at("frame_hex").as_string());
        frames.push_back(std::move(f));
    }
    return cache.emplace(file, std::move(frames)).first->second;
}

/// Every captured frame of every file.
inline std::vector<const wire_frame*> all_wire_frames()
{
    std::vector<const wire_frame*> all;
    for (const auto& name : wire_file_names())
        for (const auto& f : wire_frames(name)) all.push_back(&f);
    return all;
}

/// The frames of a file laid end to end, as they would arrive on one stream.
inline std::string concatenated(const std::vector<wire_frame>& frames)
{
    std::string all;
    for (const auto& f : frames) all += f.bytes;
    return all;
}

}  // namespace corocket::remoting::test
