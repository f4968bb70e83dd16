// JSON in and out of Java servers. Parsing goes through Boost.JSON after normalising fastjson's
// non-standard output (bare integer map keys, JSON objects as map keys).
#pragma once

#include <corocket/error.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace corocket::detail {

/// Parses fastjson output leniently: `{0:"a"}` reads as `{"0":"a"}`; an object or array used as
/// a map key (`{{"topic":"T","queueId":0}:5}`) becomes a string key holding that JSON text
/// (normalised to strict JSON). Errors: client_errc::bad_body.
error_code parse_lenient_json(std::string_view text, boost::json::value& out);

/// Serializes a JSON value as compact standard JSON.
std::string to_json(const boost::json::value& v);

}  // namespace corocket::detail
