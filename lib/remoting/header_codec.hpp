// Sans-I/O header codec for both serializations (JSON and ROCKETMQ binary), and frame encoding.
#pragma once

#include <corocket/error.hpp>
#include <corocket/remoting/command.hpp>

#include <string>
#include <string_view>

namespace corocket::remoting::detail {

struct raw_frame;

/// Decodes a serialized header into `out` (every field overwritten; out.type = type).
/// JSON (strict JSON, UTF-8 validated, trailing whitespace allowed): lenient about key order,
/// unknown keys (any value, skipped), null/missing remark and extFields, numbers or booleans as
/// extFields values (stored as their JSON text; a null value is absent), "language" as a name or
/// an ordinal (an unknown name reads as OTHER). Fields the JSON leaves out take Java's
/// RemotingCommand defaults (language JAVA, version 0, the rest 0). Duplicate keys: last wins.
/// Binary: every length bounds-checked against the bytes left (negative or too long: error);
/// code and version are sign-extended 16-bit values; duplicate extFields keys keep the last
/// value (in the position of the first); a zero-length remark or value is absent (a zero-length
/// value also removes an earlier occurrence), an entry with a zero-length key is skipped;
/// bytes after the extFields section are ignored, as Java does. Errors: client_errc::bad_header.
error_code decode_header(serialize_type type, std::string_view bytes, command_header& out);

/// Decodes a whole raw frame into a view (header decoded, body borrowed).
error_code decode_frame(const raw_frame& frame, command_view& out);

/// Appends the 8-byte frame prefix and the serialized header of `h` (serialized as h.type) to
/// `out`, for a body of `body_size` bytes that the caller writes right after (gather-write).
/// Reserves an estimate up front (heavily escaped JSON may grow `out` once more); no other
/// allocation.
///
/// JSON output is byte for byte what Java's fastjson writes: keys in alphabetical order, null
/// remark omitted, "serializeTypeCurrentRPC":"JSON", extFields entries in ext_fields order;
/// escapes \" \\ \b \t \n \f \r, \u00XX (upper-case hex) for the other control characters,
/// DEL and U+0080..U+009F, \u2028/\u2029; all other UTF-8 raw. An empty ext_fields is omitted:
/// Java writes "extFields":{} for an empty-but-present map (responses built from a custom
/// header), which this type cannot tell apart from absent, so those frames differ by exactly
/// that text. A language outside the table is written as "OTHER".
///
/// Binary output is what Java's RocketMQSerializable writes: code and version as 16 bits
/// (truncated, as Java's casts do), remark length 0 for no or an empty remark, extFields total
/// length then entries in ext_fields order (empty values written with length 0; an entry whose
/// key exceeds 32767 bytes cannot be represented and is left out).
///
/// Preconditions: the header is shorter than 16 MiB and 4 + header + body fits in an int32
/// (the connection enforces the frame maximum before sending).
void encode_header(const command_header& h, std::size_t body_size, std::string& out);

/// Convenience: the whole frame (prefix, header, body) of `c`, serialized as c.type.
std::string encode_frame(const command& c);

/// Decodes one whole frame from `bytes` (which must hold exactly one frame, prefix included)
/// into an owning command. For tests and tools. No size limit; a truncated frame or extra bytes
/// are client_errc::corrupt_frame, framing errors as in parse_frame_prefix, header errors as in
/// decode_header.
error_code decode_frame_bytes(std::string_view bytes, command& out);

}  // namespace corocket::remoting::detail
