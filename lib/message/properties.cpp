#include "message/properties.hpp"

namespace corocket::detail {

void append_property(std::string& out, std::string_view name, std::string_view value)
{
    out.append(name);
    out.push_back(name_value_separator);
    out.append(value);
    out.push_back(property_separator);
}

std::string encode_properties(const properties& props)
{
    std::size_t size = 0;
    for (const auto& [name, value] : props) size += name.size() + value.size() + 2;
    std::string out;
    out.reserve(size);
    for (const auto& [name, value] : props) append_property(out, name, value);
    return out;
}

namespace {

// Java's MessageDecoder.string2messageProperties: split at \x02, skip segments shorter than
// 3 characters, and accept a pair only when the first \x01 leaves both sides non-empty.
template <class Sink>
void for_each_property(std::string_view text, Sink&& sink)
{
    while (!text.empty()) {
        const auto end = text.find(property_separator);
        const auto segment = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (segment.size() < 3) continue;
        const auto sep = segment.find(name_value_separator);
        if (sep == std::string_view::npos || sep == 0 || sep == segment.size() - 1) continue;
        sink(segment.substr(0, sep), segment.substr(sep + 1));
    }
}

}  // namespace

void decode_properties(std::string_view text, properties& out)
{
    for_each_property(text, [&](std::string_view name, std::string_view value) {
        auto it = out.find(name);
        if (it == out.end())
            out.emplace(std::string(name), std::string(value));
        else
            it->second.assign(value);
    });
}

void decode_properties(std::string_view text, std::vector<std::pair<std::string_view, std::string_view>>& out)
{
    for_each_property(text, [&](std::string_view name, std::string_view value) { out.emplace_back(name, value); });
}

}  // namespace corocket::detail
