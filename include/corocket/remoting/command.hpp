// One remoting frame as a value: the logical header (code, language, version, opaque, flag,
// remark, extFields) and the body. `command` owns everything; `command_view` owns the small
// header but borrows the body from the connection's read buffer (valid until the next read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket::remoting {

/// Header serialization: the high byte of the frame's header-length word.
enum class serialize_type : std::uint8_t { json = 0, rocketmq = 1 };

/// LanguageCode of the Java sources. In JSON headers it travels as the name, in binary as the byte.
enum class language_code : std::uint8_t {
    java = 0, cpp = 1, dotnet = 2, python = 3, delphi = 4, erlang = 5, ruby = 6, other = 7,
    http = 8, go = 9, php = 10, oms = 11, rust = 12, node_js = 13,
};

/// "JAVA", "CPP", ...; nullptr for a value outside the table.
const char* language_name(language_code) noexcept;
/// Inverse of language_name; std::nullopt for an unknown name.
std::optional<language_code> language_from_name(std::string_view) noexcept;

inline constexpr std::int32_t flag_response = 0x1;
inline constexpr std::int32_t flag_oneway = 0x2;

/// MQVersion ordinal advertised by default: V5_3_3 (what the current Java client sends).
inline constexpr int default_version = 479;

/// The extFields map: string keys to string values, in insertion order. Small (a handful of
/// entries), so a vector beats a tree. A key occurs at most once; set() replaces.
class ext_fields {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    /// Sets key to value, replacing the value of an existing entry in place (binary headers may
    /// repeat a key: the last one wins, as in Java). New keys go to the end.
    void set(std::string_view key, std::string value);
    /// The same for a key that is already a std::string (moved in: decoders use this to avoid
    /// copying the key). Replacing keeps the entry's position.
    void set(value_type entry);
    /// Removes the key if present; returns whether it was.
    bool erase(std::string_view key);
    /// The value for key, or nullptr.
    const std::string* find(std::string_view key) const noexcept;
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    /// The value parsed as a decimal integer (Long.parseLong rules); nullopt if absent or malformed.
    std::optional<std::int64_t> get_int(std::string_view key) const noexcept;
    /// The value parsed as Boolean.parseBoolean does (case-insensitive "true"); nullopt if absent.
    std::optional<bool> get_bool(std::string_view key) const noexcept;
    /// The value or an empty string.
    std::string_view get(std::string_view key) const noexcept;

    void reserve(std::size_t n) { items_.reserve(n); }
    void clear() noexcept { items_.clear(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }

    friend bool operator==(const ext_fields&, const ext_fields&) = default;

private:
    std::vector<value_type> items_;
};

/// Everything of a frame but its body.
struct command_header {
    int code = 0;
    language_code language = language_code::cpp;
    int version = default_version;
    std::int32_t opaque = 0;
    std::int32_t flag = 0;
    std::optional<std::string> remark;
    remoting::ext_fields ext_fields;
    /// How this header was (or will be) serialized.
    serialize_type type = serialize_type::json;

    bool is_response() const noexcept { return (flag & flag_response) != 0; }
    bool is_oneway() const noexcept { return (flag & flag_oneway) != 0; }

    friend bool operator==(const command_header&, const command_header&) = default;
};

/// An owning command.
struct command : command_header {
    std::string body;  ///< raw body bytes (empty = no body)

    /// A request with the given code (opaque is assigned by the connection).
    static command request(int code)
    {
        command c;
        c.code = code;
        return c;
    }
    /// A response to `req`: same opaque and serialization, RESPONSE flag set.
    static command response_to(const command_header& req, int code, std::optional<std::string> remark = {})
    {
        command c;
        c.code = code;
        c.opaque = req.opaque;
        c.flag = flag_response;
        c.type = req.type;
        c.remark = std::move(remark);
        return c;
    }

    friend bool operator==(const command&, const command&) = default;
};

/// A decoded header with the body borrowed from a read buffer.
struct command_view {
    command_header header;
    std::string_view body;

    command to_owned() const
    {
        command c;
        static_cast<command_header&>(c) = header;
        c.body.assign(body);
        return c;
    }
};

}  // namespace corocket::remoting
