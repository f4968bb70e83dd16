// Sans-I/O header codec for both serializations (JSON and ROCKETMQ binary), and frame encoding.
#pragma once

#include <corocket/error.hpp>
#include <corocket/remoting/command.hpp>

#include <string>
#include <string_view>

namespace corocket::remoting::detail {

struct raw_frame;

/// Decodes a serialized header. JSON: lenient about key order, unknown keys, null/missing
/// remark and extFields, numbers or booleans as extFields values (stored as their text).
/// Binary: every length bounds-checked; duplicate extFields keys keep the last value; a zero
/// length string is absent. Errors: client_errc::bad_header.
error_code decode_header(serialize_type type, std::string_view bytes, command_header& out);

/// Decodes a whole raw frame into a view (header decoded, body borrowed).
error_code decode_frame(const raw_frame& frame, command_view& out);

/// Appends the 8-byte frame prefix and the serialized header of `h` (serialized as h.type) to
/// `out`, for a body of `body_size` bytes that the caller writes right after (gather-write).
/// JSON output matches Java's fastjson layout: keys in alphabetical order, null remark/extFields
/// omitted, "serializeTypeCurrentRPC":"JSON", control characters escaped as \u00XX.
void encode_header(const command_header& h, std::size_t body_size, std::string& out);

/// Convenience: the whole frame (prefix, header, body) of `c`, serialized as c.type.
std::string encode_frame(const command& c);

/// Decodes one whole frame from `bytes` (which must hold exactly one frame, prefix included)
/// into an owning command. For tests and tools.
error_code decode_frame_bytes(std::string_view bytes, command& out);

}  // namespace corocket::remoting::detail
