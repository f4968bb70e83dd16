// The message properties string (protocol.md §4.1): name\x01value\x02 pairs.
#pragma once

#include <corocket/message.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket::detail {

inline constexpr char name_value_separator = '\x01';
inline constexpr char property_separator = '\x02';
/// The stored record keeps the properties length in a signed short.
inline constexpr std::size_t max_properties_length = 32767;

/// Encode every entry as name\x01value\x02 (the last pair included); empty map → "".
std::string encode_properties(const properties& props);
/// Append the encoding of one pair to `out`.
void append_property(std::string& out, std::string_view name, std::string_view value);

/// Parse with Java's tolerant rules (skip short/ill-formed segments; later duplicates win),
/// adding to `out` (existing entries with the same names are overwritten).
void decode_properties(std::string_view text, properties& out);
/// The same parser producing views into `text`, in wire order (duplicates kept; a lookup
/// should take the last one).
void decode_properties(std::string_view text, std::vector<std::pair<std::string_view, std::string_view>>& out);

}  // namespace corocket::detail
