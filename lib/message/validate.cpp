// Client-side send checks (Java's Validators.checkMessage and Message.putUserProperty).
#include "message/validate.hpp"

#include "message/namespace.hpp"
#include "message/properties.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace corocket::detail {

namespace {

bool is_topic_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '%' || c == '|'
        || c == '_' || c == '-';
}

// Java's `text.trim().isEmpty()`: trim() strips every char up to U+0020 (controls and space).
bool is_blank(std::string_view text) noexcept
{
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; });
}

bool has_separator(std::string_view text) noexcept
{
    return text.find_first_of(std::string_view("\x01\x02", 2)) != std::string_view::npos;
}

error_code fail(client_errc e, diagnostics& diag, std::string text)
{
    diag.client_message = std::move(text);
    return make_error_code(e);
}

error_code validate_properties(const properties& props, diagnostics& diag)
{
    std::size_t encoded = 0;
    for (const auto& [name, value] : props) {
        if (name.empty() || value.empty())
            return fail(client_errc::invalid_argument, diag,
                        fmt::format("property '{}' has an empty name or value", name));
        // Message.putUserProperty refuses blank names and values; the client's own properties
        // (TAGS, KEYS, ...) are set without that check.
        if (!is_reserved_property(name) && (is_blank(name) || is_blank(value)))
            return fail(client_errc::invalid_argument, diag,
                        fmt::format("user property '{}' has a blank name or value", name));
        if (has_separator(name) || has_separator(value))
            return fail(client_errc::invalid_argument, diag,
                        fmt::format("property '{}' contains a \\x01 or \\x02 separator byte", name));
        encoded += name.size() + value.size() + 2;
    }
    if (encoded > max_properties_length)
        return fail(client_errc::invalid_argument, diag,
                    fmt::format("properties encode to {} bytes, more than the {} allowed", encoded,
                                max_properties_length));
    return {};
}

}  // namespace

error_code validate_topic(std::string_view topic, diagnostics& diag)
{
    if (topic.empty()) return fail(client_errc::invalid_topic, diag, "the topic is empty");
    if (topic.size() > max_topic_length)
        return fail(client_errc::invalid_topic, diag,
                    fmt::format("the topic is {} bytes long, more than the {} allowed", topic.size(), max_topic_length));
    if (const auto bad = std::find_if_not(topic.begin(), topic.end(), is_topic_char); bad != topic.end())
        return fail(client_errc::invalid_topic, diag,
                    fmt::format("the topic '{}' contains a character outside [%|a-zA-Z0-9_-] at position {}", topic,
                                bad - topic.begin()));
    if (is_not_sendable_topic(topic))
        return fail(client_errc::invalid_topic, diag,
                    fmt::format("the topic '{}' is a system topic that does not accept messages", topic));
    return {};
}

error_code validate_message(const message& msg, std::size_t max_body, diagnostics& diag)
{
    if (auto ec = validate_topic(msg.topic(), diag)) return ec;
    if (msg.body().empty()) return fail(client_errc::empty_body, diag, "the message body is empty");
    if (msg.body().size() > max_body)
        return fail(client_errc::message_too_large, diag,
                    fmt::format("the message body is {} bytes, more than the {} allowed", msg.body().size(), max_body));
    if (!msg.reserved_user_property().empty())
        return fail(client_errc::reserved_property, diag,
                    fmt::format("'{}' is a property name reserved by RocketMQ", msg.reserved_user_property()));
    return validate_properties(msg.properties(), diag);
}

}  // namespace corocket::detail
