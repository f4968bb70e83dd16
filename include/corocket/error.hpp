// Error model: client_errc for what the client itself detects, broker_category() for the
// response codes a NameServer/Broker answers with, and Asio/system codes passed through untouched.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace corocket {

using error_code = boost::system::error_code;
using error_category = boost::system::error_category;

/// Errors detected by the client itself.
enum class client_errc {
    timeout = 1,           ///< the call's deadline passed before a response arrived
    connection_closed,     ///< the connection was lost or closed while the call was pending
    connect_failed,        ///< could not connect to the address (refused, unreachable, TLS handshake)
    frame_too_large,       ///< a frame's length exceeds the configured maximum
    corrupt_frame,         ///< framing is broken (bad length word, header longer than frame)
    bad_header,            ///< a command header could not be decoded (bad JSON, bad binary lengths)
    bad_body,              ///< a response body could not be decoded (JSON or stored-message format)
    bad_message,           ///< a stored message record is malformed
    invalid_argument,      ///< a caller-supplied argument is invalid (see diagnostics)
    invalid_topic,         ///< topic name violates the RocketMQ naming rules
    empty_body,            ///< message body is empty
    message_too_large,     ///< message body (or batch) exceeds the configured limit
    reserved_property,     ///< a user property uses a name reserved by RocketMQ
    no_route,              ///< no route info for the topic on any name server
    no_name_server,        ///< no name server address configured or none reachable
    no_broker_address,     ///< the route names no usable address for the broker
    not_running,           ///< the object is not started, or has been stopped
    operation_aborted,     ///< the operation was cancelled by the caller
    unexpected_response,   ///< the peer answered with something the protocol does not allow here
    compression_failed,    ///< zlib failed to compress or inflate a body
    tls_failed,            ///< TLS set-up failed (bad CA file, certificate rejected)
};

const error_category& client_category() noexcept;

/// Category for broker/NameServer response codes: value() is the numeric response code
/// (ResponseCode in the Java sources), message() its name (SYSTEM_BUSY, TOPIC_NOT_EXIST, ...).
const error_category& broker_category() noexcept;

inline error_code make_error_code(client_errc e) noexcept
{
    return {static_cast<int>(e), client_category()};
}

/// An error_code for a broker response code (code != 0).
inline error_code make_broker_error(int response_code) noexcept
{
    return {response_code, broker_category()};
}

/// The RocketMQ name of a response code ("SYSTEM_BUSY"), or "RESPONSE_CODE_<n>" when unknown.
std::string response_code_name(int code);

/// The RocketMQ name of a request code ("SEND_MESSAGE_V2"), or "REQUEST_CODE_<n>" when unknown.
std::string request_code_name(int code);

/// Whether a send that failed with this error may be retried on another broker
/// (network errors, timeouts and the broker codes Java retries: 1, 2, 14, 16, 17, 204, 205, 1500).
bool is_retriable(const error_code& ec) noexcept;

/// Server-side text that goes with an error: the broker's remark, plus what the client adds.
struct diagnostics {
    std::string remark;          ///< the broker's remark, verbatim (may be empty)
    std::string client_message;  ///< what the client knows about the failure (may be empty)

    bool empty() const noexcept { return remark.empty() && client_message.empty(); }
    void clear() { remark.clear(); client_message.clear(); }
    /// Both texts joined for a log line.
    std::string to_string() const;
};

}  // namespace corocket

template <>
struct boost::system::is_error_code_enum<corocket::client_errc> : std::true_type {};
