// Reading fields of fastjson objects the way fastjson does: a missing or null field keeps its
// default; a field of the wrong type is an error (the body is not what we think it is).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace corocket::detail {

/// A JSON integer, or a string of decimal digits (fastjson's BrowserCompatible mode writes longs
/// outside ±2^53 as strings), as int64.
inline bool json_to_int64(const boost::json::value& v, std::int64_t& out) noexcept
{
    if (v.is_int64()) {
        out = v.get_int64();
        return true;
    }
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return false;
        out = static_cast<std::int64_t>(v.get_uint64());
        return true;
    }
    if (v.is_string()) {
        const auto& s = v.get_string();
        const char* end = s.data() + s.size();
        auto [p, ec] = std::from_chars(s.data(), end, out);
        return ec == std::errc{} && p == end && !s.empty();
    }
    return false;
}

/// Sets `out` from obj[key] if present and not null. False on a type mismatch.
inline bool read_field(const boost::json::object& obj, std::string_view key, std::string& out)
{
    const auto* v = obj.if_contains(key);
    if (!v || v->is_null())
        return true;
    if (!v->is_string())
        return false;
    out.assign(v->get_string().data(), v->get_string().size());
    return true;
}

inline bool read_field(const boost::json::object& obj, std::string_view key, std::int64_t& out)
{
    const auto* v = obj.if_contains(key);
    if (!v || v->is_null())
        return true;
    return json_to_int64(*v, out);
}

inline bool read_field(const boost::json::object& obj, std::string_view key, int& out)
{
    std::int64_t wide = out;
    if (!read_field(obj, key, wide) || wide < std::numeric_limits<int>::min() ||
        wide > std::numeric_limits<int>::max())
        return false;
    out = static_cast<int>(wide);
    return true;
}

}  // namespace corocket::detail
