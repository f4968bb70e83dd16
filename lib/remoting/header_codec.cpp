// Header codec. JSON is decoded with Boost.JSON's SAX parser straight into command_header (no DOM,
// no per-field allocation beyond the strings kept) and encoded by hand in fastjson's exact layout;
// the binary (ROCKETMQ) form is read and written with explicit bounds checks.
#include "remoting/header_codec.hpp"

#include "remoting/byte_order.hpp"
#include "remoting/frame_reader.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

namespace corocket::remoting::detail {
namespace {

/// extFields entries a header may carry. Real headers have a few dozen; each set() scans the
/// ones before it, so an unbounded count would let a peer stall the executor for minutes.
constexpr std::size_t max_ext_fields = 4096;

// ------------------------------------------------------------------------------------------------
// JSON decoding

enum class json_field { unknown, code, language, version, opaque, flag, remark, ext_fields };

json_field classify_field(std::string_view key) noexcept
{
    struct entry {
        std::string_view name;
        json_field field;
    };
    static constexpr entry fields[] = {
        {"code", json_field::code},       {"extFields", json_field::ext_fields},
        {"flag", json_field::flag},       {"language", json_field::language},
        {"opaque", json_field::opaque},   {"remark", json_field::remark},
        {"version", json_field::version},
    };
    for (const auto& f : fields)
        if (f.name == key) return f.field;
    return json_field::unknown;
}

// A scalar JSON value as the parser reports it (its text travels separately).
struct json_scalar {
    enum kind_t { string, integer, number, boolean, null } kind;
    std::int64_t int_value = 0;  // for integer
};

// SAX handler filling a command_header. Nesting: depth 1 is the top-level object; depth 2 inside
// "extFields" holds the entries; everything else (unknown keys' values) is skipped. Any
// structural surprise (top level not an object, an object where a number belongs) fails the parse.
class json_header_handler {
public:
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);

    explicit json_header_handler(command_header& out) : out_(out) {}

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code& ec)
    {
        if (depth_ == 1 && field_ == json_field::ext_fields) {
            in_ext_ = true;
            out_.ext_fields.clear();  // a repeated "extFields" replaces the whole map
        } else if (depth_ > 0 && !skipping_nested()) {
            return fail(ec);
        }
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, error_code&)
    {
        if (--depth_ == 1) in_ext_ = false;
        return true;
    }
    bool on_array_begin(error_code& ec)
    {
        if (depth_ == 0 || !skipping_nested()) return fail(ec);
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, error_code&)
    {
        --depth_;
        return true;
    }

    bool on_key_part(boost::json::string_view s, std::size_t, error_code&)
    {
        if (keeps_key()) text_.append(s.data(), s.size());
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, error_code&)
    {
        if (depth_ == 1) {
            text_.append(s.data(), s.size());
            field_ = classify_field(text_);
            text_.clear();
        } else if (in_ext_entry()) {
            ext_key_ = take_text(s);
        }
        return true;
    }

    bool on_string_part(boost::json::string_view s, std::size_t, error_code&)
    {
        if (keeps_value()) text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, error_code& ec)
    {
        return on_scalar({json_scalar::string}, s, ec);
    }
    bool on_number_part(boost::json::string_view s, error_code&)
    {
        if (keeps_value()) text_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t v, boost::json::string_view s, error_code& ec)
    {
        return on_scalar({json_scalar::integer, v}, s, ec);
    }
    bool on_uint64(std::uint64_t, boost::json::string_view s, error_code& ec)
    {
        // Only values above INT64_MAX arrive here: too large for every integer field.
        return on_scalar({json_scalar::number}, s, ec);
    }
    bool on_double(double, boost::json::string_view s, error_code& ec)
    {
        return on_scalar({json_scalar::number}, s, ec);
    }
    bool on_bool(bool b, error_code& ec)
    {
        return on_scalar({json_scalar::boolean}, b ? "true" : "false", ec);
    }
    bool on_null(error_code& ec) { return on_scalar({json_scalar::null}, {}, ec); }

    bool on_comment_part(boost::json::string_view, error_code&) { return true; }
    bool on_comment(boost::json::string_view, error_code&) { return true; }

private:
    static bool fail(error_code& ec)
    {
        ec = client_errc::bad_header;
        return false;
    }

    // Below the top object, objects and arrays are fine only as (or inside) the value of an
    // unknown key, which is skipped; an extFields value must be a scalar.
    bool skipping_nested() const noexcept
    {
        if (depth_ == 1) return field_ == json_field::unknown;
        return !(in_ext_ && depth_ == 2);
    }
    bool in_ext_entry() const noexcept { return in_ext_ && depth_ == 2; }
    bool keeps_key() const noexcept { return depth_ == 1 || in_ext_entry(); }
    bool keeps_value() const noexcept
    {
        return in_ext_entry() ||
               (depth_ == 1 && (field_ == json_field::remark || field_ == json_field::language));
    }

    // The complete text of a string or number whose last piece is `last`.
    std::string take_text(boost::json::string_view last)
    {
        if (text_.empty()) return std::string(last.data(), last.size());
        text_.append(last.data(), last.size());
        std::string s = std::move(text_);
        text_.clear();
        return s;
    }

    bool on_scalar(json_scalar v, boost::json::string_view text, error_code& ec)
    {
        if (depth_ == 0) return fail(ec);  // the header must be an object
        if (in_ext_entry()) return on_ext_value(v, text) || fail(ec);
        if (depth_ == 1) return on_field_value(v, text, ec);
        return true;  // inside a skipped value
    }

    bool on_ext_value(json_scalar v, boost::json::string_view text)
    {
        // Null reads as absent (a Java HashMap<String,String> holding null); anything else is
        // kept as its JSON text, so numbers and booleans from non-Java clients survive as strings.
        if (v.kind == json_scalar::null) out_.ext_fields.erase(ext_key_);
        else out_.ext_fields.set({std::move(ext_key_), take_text(text)});
        ext_key_.clear();
        return out_.ext_fields.size() <= max_ext_fields;
    }

    bool on_field_value(json_scalar v, boost::json::string_view text, error_code& ec)
    {
        if (v.kind == json_scalar::null) {
            if (field_ == json_field::remark) out_.remark.reset();
            if (field_ == json_field::ext_fields) out_.ext_fields.clear();
            return true;  // a null number or language keeps its default
        }
        switch (field_) {
        case json_field::code: return set_int(out_.code, v, ec);
        case json_field::version: return set_int(out_.version, v, ec);
        case json_field::opaque: return set_int(out_.opaque, v, ec);
        case json_field::flag: return set_int(out_.flag, v, ec);
        case json_field::language: return set_language(v, text, ec);
        case json_field::remark: out_.remark = take_text(text); return true;
        case json_field::ext_fields: return fail(ec);  // a scalar where the map belongs
        case json_field::unknown: return true;           // e.g. serializeTypeCurrentRPC
        }
        return true;
    }

    static bool set_int(int& field, json_scalar v, error_code& ec)
    {
        if (v.kind != json_scalar::integer || v.int_value < std::numeric_limits<std::int32_t>::min() ||
            v.int_value > std::numeric_limits<std::int32_t>::max())
            return fail(ec);
        field = static_cast<int>(v.int_value);
        return true;
    }

    bool set_language(json_scalar v, boost::json::string_view text, error_code& ec)
    {
        if (v.kind == json_scalar::string) {
            // A name this client does not know (a newer language) is informational only.
            std::string name = take_text(text);
            out_.language = language_from_name(name).value_or(language_code::other);
            return true;
        }
        // fastjson also reads an enum from its ordinal.
        if (v.kind != json_scalar::integer || v.int_value < 0 || v.int_value > 255) return fail(ec);
        out_.language = static_cast<language_code>(v.int_value);
        return true;
    }

    command_header& out_;
    int depth_ = 0;
    bool in_ext_ = false;
    json_field field_ = json_field::unknown;
    std::string text_;     // pieces of the key, string or number being read
    std::string ext_key_;  // key of the extFields entry whose value comes next
};

error_code decode_json_header(std::string_view bytes, command_header& out)
{
    boost::json::basic_parser<json_header_handler> parser(boost::json::parse_options{}, out);
    error_code ec;
    std::size_t used = parser.write_some(false, bytes.data(), bytes.size(), ec);
    if (ec || used != bytes.size() || !parser.done()) return client_errc::bad_header;
    return {};
}

// ------------------------------------------------------------------------------------------------
// Binary decoding

// Reads big-endian fields from a header, failing (not crashing) on any length past the end.
class byte_reader {
public:
    explicit byte_reader(std::string_view bytes) noexcept : rest_(bytes) {}

    bool read_i16(std::int16_t& v) noexcept
    {
        if (rest_.size() < 2) return false;
        v = static_cast<std::int16_t>(load_u16(rest_.data()));
        rest_.remove_prefix(2);
        return true;
    }
    bool read_i32(std::int32_t& v) noexcept
    {
        if (rest_.size() < 4) return false;
        v = static_cast<std::int32_t>(load_u32(rest_.data()));
        rest_.remove_prefix(4);
        return true;
    }
    bool read_u8(std::uint8_t& v) noexcept
    {
        if (rest_.empty()) return false;
        v = static_cast<unsigned char>(rest_.front());
        rest_.remove_prefix(1);
        return true;
    }
    /// `len` bytes; false for a negative length or one past the end.
    template <class Int>
    bool read_bytes(Int len, std::string_view& v) noexcept
    {
        if (len < 0 || static_cast<std::size_t>(len) > rest_.size()) return false;
        v = rest_.substr(0, static_cast<std::size_t>(len));
        rest_.remove_prefix(static_cast<std::size_t>(len));
        return true;
    }
    /// A string with a length prefix of type Int.
    template <class Int>
    bool read_string(std::string_view& v) noexcept
    {
        Int len = 0;
        if constexpr (sizeof(Int) == 2) {
            if (!read_i16(len)) return false;
        } else {
            if (!read_i32(len)) return false;
        }
        return read_bytes(len, v);
    }
    bool empty() const noexcept { return rest_.empty(); }

private:
    std::string_view rest_;
};

bool decode_binary_ext_fields(std::string_view section, ext_fields& out)
{
    byte_reader r(section);
    while (!r.empty()) {
        std::string_view key, value;
        if (!r.read_string<std::int16_t>(key) || !r.read_string<std::int32_t>(value)) return false;
        // Java reads a zero-length string as null: a null key is meaningless, a null value is
        // absent (and, being the last occurrence, hides an earlier one).
        if (key.empty()) continue;
        if (value.empty()) out.erase(key);
        else out.set({std::string(key), std::string(value)});
        if (out.size() > max_ext_fields) return false;
    }
    return true;
}

error_code decode_binary_header(std::string_view bytes, command_header& out)
{
    byte_reader r(bytes);
    std::int16_t code = 0, version = 0;
    std::uint8_t language = 0;
    std::int32_t opaque = 0, flag = 0;
    std::string_view remark, ext;
    if (!r.read_i16(code) || !r.read_u8(language) || !r.read_i16(version) || !r.read_i32(opaque) ||
        !r.read_i32(flag) || !r.read_string<std::int32_t>(remark) || !r.read_string<std::int32_t>(ext))
        return client_errc::bad_header;
    out.code = code;
    out.language = static_cast<language_code>(language);
    out.version = version;
    out.opaque = opaque;
    out.flag = flag;
    if (!remark.empty()) out.remark.emplace(remark);
    // Bytes after the extFields section are ignored, as Java's decoder does.
    if (!decode_binary_ext_fields(ext, out.ext_fields)) return client_errc::bad_header;
    return {};
}

// ------------------------------------------------------------------------------------------------
// JSON encoding, fastjson style

// Which bytes need a look when escaping: the control characters, '"', '\\', DEL, and the lead
// bytes of U+0080..U+009F (0xC2) and U+2028/U+2029 (0xE2), which fastjson escapes too.
constexpr std::array<bool, 256> make_escape_table()
{
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = t[0x7F] = t[0xC2] = t[0xE2] = true;
    return t;
}
constexpr std::array<bool, 256> escape_table = make_escape_table();

void append_unicode_escape(std::string& out, unsigned code_point)
{
    static constexpr char hex[] = "0123456789ABCDEF";  // fastjson writes upper-case digits
    const char esc[6] = {'\\', 'u', hex[(code_point >> 12) & 0xF], hex[(code_point >> 8) & 0xF],
                         hex[(code_point >> 4) & 0xF], hex[code_point & 0xF]};
    out.append(esc, 6);
}

// Escapes the special byte (sequence) at s[i]; returns how many input bytes it consumed, or 0 if
// the byte is a lead byte that turned out to start an ordinary character.
std::size_t append_escape(std::string& out, std::string_view s, std::size_t i)
{
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    switch (c) {
    case '"': out.append("\\\"", 2); return 1;
    case '\\': out.append("\\\\", 2); return 1;
    case '\b': out.append("\\b", 2); return 1;
    case '\t': out.append("\\t", 2); return 1;
    case '\n': out.append("\\n", 2); return 1;
    case '\f': out.append("\\f", 2); return 1;
    case '\r': out.append("\\r", 2); return 1;
    case 0xC2:  // U+0080..U+009F
        if (i + 1 < s.size() && byte(i + 1) <= 0x9F && byte(i + 1) >= 0x80) {
            append_unicode_escape(out, byte(i + 1));
            return 2;
        }
        return 0;
    case 0xE2:  // U+2028, U+2029
        if (i + 2 < s.size() && byte(i + 1) == 0x80 && (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9)) {
            append_unicode_escape(out, 0x2000 | (byte(i + 2) - 0xA8 + 0x28));
            return 3;
        }
        return 0;
    default:  // other control characters and DEL
        append_unicode_escape(out, c);
        return 1;
    }
}

void append_json_string(std::string& out, std::string_view s)
{
    out.push_back('"');
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < s.size();) {
        if (!escape_table[static_cast<unsigned char>(s[i])]) {
            ++i;
            continue;
        }
        out.append(s.data() + run, i - run);
        std::size_t used = append_escape(out, s, i);
        if (used == 0) {
            out.push_back(s[i]);
            used = 1;
        }
        i += used;
        run = i;
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_int(std::string& out, std::int64_t v)
{
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

std::size_t json_size_estimate(const command_header& h)
{
    std::size_t n = 128;  // the fixed keys and numbers
    if (h.remark) n += h.remark->size() + 12;
    // Quotes, colon and comma, plus room for a few escapes (properties carry \u0001/\u0002).
    for (const auto& [k, v] : h.ext_fields) n += k.size() + v.size() + v.size() / 8 + 6;
    return n;
}

// Keys in alphabetical order, null remark and empty extFields omitted, like fastjson's output
// of a RemotingCommand. (Java writes an empty-but-present extFields as {}, which an empty
// ext_fields cannot tell apart from absent; we omit it, as for requests without a custom header.)
void encode_json_header(const command_header& h, std::string& out)
{
    out.append("{\"code\":");
    append_int(out, h.code);
    if (!h.ext_fields.empty()) {
        out.append(",\"extFields\":{");
        bool first = true;
        for (const auto& [k, v] : h.ext_fields) {
            if (!first) out.push_back(',');
            first = false;
            append_json_string(out, k);
            out.push_back(':');
            append_json_string(out, v);
        }
        out.push_back('}');
    }
    out.append(",\"flag\":");
    append_int(out, h.flag);
    out.append(",\"language\":\"");
    const char* name = language_name(h.language);
    out.append(name != nullptr ? name : "OTHER");
    out.append("\",\"opaque\":");
    append_int(out, h.opaque);
    if (h.remark) {
        out.append(",\"remark\":");
        append_json_string(out, *h.remark);
    }
    out.append(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    append_int(out, h.version);
    out.push_back('}');
}

// ------------------------------------------------------------------------------------------------
// Binary encoding

constexpr std::size_t binary_fixed_size = 21;  // code..flag (13) + remark length + extFields length
constexpr std::size_t max_binary_key = std::numeric_limits<std::int16_t>::max();

// A key too long for the int16 length cannot be represented; such entries are left out.
bool binary_encodable(const ext_fields::value_type& entry) noexcept
{
    return entry.first.size() <= max_binary_key;
}

void encode_binary_header(const command_header& h, std::string& out)
{
    std::size_t remark_size = h.remark ? h.remark->size() : 0;
    std::size_t ext_size = 0;
    for (const auto& entry : h.ext_fields)
        if (binary_encodable(entry)) ext_size += 2 + entry.first.size() + 4 + entry.second.size();

    std::size_t start = out.size();
    out.resize(start + binary_fixed_size + remark_size + ext_size);
    char* p = out.data() + start;
    auto put = [&p](const std::string& s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    };
    // code and version are 16 bits on the wire; larger values are truncated exactly as Java does.
    store_u16(p, static_cast<std::uint16_t>(h.code));
    p[2] = static_cast<char>(h.language);
    store_u16(p + 3, static_cast<std::uint16_t>(h.version));
    store_u32(p + 5, static_cast<std::uint32_t>(h.opaque));
    store_u32(p + 9, static_cast<std::uint32_t>(h.flag));
    store_u32(p + 13, static_cast<std::uint32_t>(remark_size));
    p += 17;
    if (remark_size > 0) put(*h.remark);
    store_u32(p, static_cast<std::uint32_t>(ext_size));
    p += 4;
    for (const auto& entry : h.ext_fields) {
        if (!binary_encodable(entry)) continue;
        store_u16(p, static_cast<std::uint16_t>(entry.first.size()));
        p += 2;
        put(entry.first);
        store_u32(p, static_cast<std::uint32_t>(entry.second.size()));
        p += 4;
        put(entry.second);
    }
}

std::size_t header_size_estimate(const command_header& h)
{
    // The JSON estimate also bounds the binary size, so one reserve serves both.
    return frame_prefix_size + json_size_estimate(h);
}

}  // namespace

error_code decode_header(serialize_type type, std::string_view bytes, command_header& out)
{
    out.code = 0;
    out.language = language_code::java;  // Java's defaults for fields a JSON header leaves out
    out.version = 0;
    out.opaque = 0;
    out.flag = 0;
    out.remark.reset();
    out.ext_fields.clear();
    out.type = type;
    switch (type) {
    case serialize_type::json: return decode_json_header(bytes, out);
    case serialize_type::rocketmq: return decode_binary_header(bytes, out);
    }
    return client_errc::bad_header;
}

error_code decode_frame(const raw_frame& frame, command_view& out)
{
    out.body = frame.body;
    return decode_header(frame.type, frame.header, out.header);
}

void encode_header(const command_header& h, std::size_t body_size, std::string& out)
{
    std::size_t start = out.size();
    out.reserve(start + header_size_estimate(h));
    out.append(frame_prefix_size, '\0');
    if (h.type == serialize_type::rocketmq) encode_binary_header(h, out);
    else encode_json_header(h, out);
    std::size_t header_size = out.size() - start - frame_prefix_size;
    store_u32(out.data() + start, static_cast<std::uint32_t>(4 + header_size + body_size));
    store_u32(out.data() + start + 4,
              (static_cast<std::uint32_t>(h.type) << 24) | (static_cast<std::uint32_t>(header_size) & 0x00FFFFFF));
}

std::string encode_frame(const command& c)
{
    std::string out;
    out.reserve(header_size_estimate(c) + c.body.size());
    encode_header(c, c.body.size(), out);
    out.append(c.body);
    return out;
}

error_code decode_frame_bytes(std::string_view bytes, command& out)
{
    frame_prefix prefix;
    error_code ec;
    if (!parse_frame_prefix(bytes, std::numeric_limits<std::size_t>::max(), prefix, ec))
        return ec ? ec : error_code(client_errc::corrupt_frame);  // a truncated frame is corrupt here
    if (prefix.frame_size != bytes.size()) return client_errc::corrupt_frame;
    std::size_t body_at = frame_prefix_size + prefix.header_size;
    if (auto err = decode_header(prefix.type, bytes.substr(frame_prefix_size, prefix.header_size), out)) return err;
    out.body.assign(bytes.substr(body_at));
    return {};
}

}  // namespace corocket::remoting::detail
