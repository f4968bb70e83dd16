// Helpers shared by the message tests: hex conversion and the wire-capture loader.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::test {

inline std::string unhex(std::string_view hex)
{
    std::string out;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex digit");
    };
    std::string digits;
    for (char c : hex)
        if (c != ' ' && c != '\n') digits.push_back(c);
    if (digits.size() % 2 != 0) throw std::invalid_argument("odd hex length");
    for (std::size_t i = 0; i < digits.size(); i += 2)
        out.push_back(static_cast<char>(nibble(digits[i]) << 4 | nibble(digits[i + 1])));
    return out;
}

inline std::string hex(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

inline std::uint32_t be32(std::string_view bytes, std::size_t at)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes.at(at + i));
    return v;
}

/// One captured frame: where it came from, its JSON line and its body bytes.
struct wire_frame {
    std::string file;
    std::int64_t seq = 0;
    boost::json::object line;
    std::string body;

    const boost::json::object& annot() const { return line.at("annot").as_object(); }
    std::string where() const { return file + " seq " + std::to_string(seq); }
};

/// The frame body: after the 4-byte length, the header word (low 24 bits = header length)
/// and the header.
inline std::string frame_body(std::string_view frame)
{
    const auto total = be32(frame, 0);
    const auto header_len = be32(frame, 4) & 0xFFFFFF;
    if (total + 4 != frame.size() || 8 + header_len > frame.size()) throw std::runtime_error("bad captured frame");
    return std::string(frame.substr(8 + header_len));
}

/// Every frame of every capture file (sorted by file name) for which `keep(annot)` holds.
template <class Pred>
std::vector<wire_frame> load_wire_frames(Pred keep)
{
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(COROCKET_WIRE_DIR))
        if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
    std::sort(files.begin(), files.end());

    std::vector<wire_frame> out;
    for (const auto& path : files) {
        std::ifstream in(path);
        std::string text;
        while (std::getline(in, text)) {
            if (text.empty()) continue;
            auto line = boost::json::parse(text).as_object();
            if (!keep(line.at("annot").as_object())) continue;
            wire_frame f;
            f.file = path.filename().string();
            f.seq = line.at("seq").to_number<std::int64_t>();
            f.body = frame_body(unhex(line.at("frame_hex").as_string()));
            f.line = std::move(line);
            out.push_back(std::move(f));
        }
    }
    return out;
}

}  // namespace corocket::test
