// The golden wire captures (tests/wire/*.jsonl: real frames between the Java client and a real
// RocketMQ 4.9.8 broker), loaded once per process, and hex helpers. Shared by every layer's tests.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::test {

/// Hex (upper or lower case; spaces and newlines ignored) to bytes.
inline std::string unhex(std::string_view hex)
{
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
    std::string out;
    out.reserve(digits.size() / 2);
    for (std::size_t i = 0; i < digits.size(); i += 2)
        out.push_back(static_cast<char>(nibble(digits[i]) << 4 | nibble(digits[i + 1])));
    return out;
}

/// Bytes to upper-case hex (readable diffs in failed CHECKs).
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

/// One captured frame: the whole frame (length prefix included) and the capture's description.
struct wire_frame {
    std::string file;
    std::int64_t seq = 0;
    std::string bytes;
    boost::json::object line;  ///< the whole JSONL record ("decoded", "annot", ...)

    const boost::json::object& decoded() const { return line.at("decoded").as_object(); }
    const boost::json::object& annot() const { return line.at("annot").as_object(); }
    std::string where() const { return file + " seq " + std::to_string(seq); }
    std::int64_t code() const { return decoded().at("code").as_int64(); }
    bool is_request() const { return annot().at("kind").as_string() == "request"; }
    /// For responses: the code of the request they answer (-1 for requests).
    std::int64_t request_code() const
    {
        const auto* rc = annot().if_contains("request_code");
        return rc ? rc->as_int64() : -1;
    }
    /// The body: what follows the header (header length = low 24 bits of the second word).
    std::string_view body() const
    {
        auto byte = [&](std::size_t i) { return std::uint32_t{static_cast<unsigned char>(bytes.at(i))}; };
        const std::size_t header_len = (byte(5) << 16) | (byte(6) << 8) | byte(7);
        return std::string_view(bytes).substr(8 + header_len);
    }
};

inline const std::vector<std::string>& wire_file_names()
{
    static const std::vector<std::string> names = {
        "acl.jsonl",          "admin.jsonl",     "consume_broadcast_litepull.jsonl",
        "consume_orderly.jsonl", "consume_push.jsonl", "route.jsonl",
        "send_binary.jsonl",  "send_json.jsonl", "trace.jsonl",
        "transaction.jsonl",
    };
    return names;
}

/// The frames of one capture file, in capture order (loaded once per process).
inline const std::vector<wire_frame>& wire_frames(const std::string& file)
{
    static std::map<std::string, std::vector<wire_frame>> cache;
    if (auto it = cache.find(file); it != cache.end())
        return it->second;
    std::ifstream in(std::string(COROCKET_WIRE_DIR) + "/" + file);
    if (!in)
        throw std::runtime_error("cannot open wire capture " + file);
    std::vector<wire_frame> frames;
    for (std::string text; std::getline(in, text);) {
        if (text.empty())
            continue;
        wire_frame f;
        f.file = file;
        f.line = boost::json::parse(text).as_object();
        f.seq = f.line.at("seq").as_int64();
        f.bytes = unhex(f.line.at("frame_hex").as_string());
        frames.push_back(std::move(f));
    }
    return cache.emplace(file, std::move(frames)).first->second;
}

/// Every captured frame of every file.
inline std::vector<const wire_frame*> all_wire_frames()
{
    std::vector<const wire_frame*> all;
    for (const auto& name : wire_file_names())
        for (const auto& f : wire_frames(name))
            all.push_back(&f);
    return all;
}

/// Every frame whose annotation satisfies `keep(annot)`, across all files.
template <class Pred>
std::vector<const wire_frame*> select_wire_frames(Pred keep)
{
    std::vector<const wire_frame*> out;
    for (const wire_frame* f : all_wire_frames())
        if (keep(f->annot()))
            out.push_back(f);
    return out;
}

/// Every successful response to `request_code` with a non-empty body, across all files.
inline std::vector<wire_frame> responses_to(std::int64_t request_code)
{
    std::vector<wire_frame> out;
    for (const wire_frame* f : all_wire_frames())
        if (!f->is_request() && f->request_code() == request_code && f->code() == 0 && !f->body().empty())
            out.push_back(*f);
    return out;
}

/// The frames of a file laid end to end, as they would arrive on one stream.
inline std::string concatenated(const std::vector<wire_frame>& frames)
{
    std::string all;
    for (const auto& f : frames)
        all += f.bytes;
    return all;
}

}  // namespace corocket::test
