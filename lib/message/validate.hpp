// Client-side checks before sending (the ones Java's Validators and Message do).
#pragma once

#include <corocket/error.hpp>
#include <corocket/message.hpp>

#include <cstddef>
#include <string_view>

namespace corocket::detail {

inline constexpr std::size_t max_topic_length = 127;
/// Java's default maxMessageSize (4 MiB).
inline constexpr std::size_t default_max_body_size = std::size_t{4} << 20;

/// client_errc::invalid_topic when the topic is empty, longer than 127 bytes, has a character
/// outside [%|a-zA-Z0-9_-], or is a system topic the broker refuses sends to.
error_code validate_topic(std::string_view topic, diagnostics& diag);

/// Topic rules, then: empty body → empty_body; body over `max_body` → message_too_large;
/// a reserved name set through set_property() → reserved_property; empty names/values or
/// names/values containing \x01 or \x02, or an encoded properties string over 32767 bytes
/// → invalid_argument. `diag.client_message` names the problem.
error_code validate_message(const message& msg, std::size_t max_body, diagnostics& diag);

}  // namespace corocket::detail
