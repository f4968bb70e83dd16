// Small helpers shared by the embedded broker's request handlers.
#pragma once

#include <corocket/remoting/command.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::testing::detail {

inline constexpr std::string_view auto_create_topic_key = "TBW102";
/// ClientHousekeepingService scans for expired channels every 10 s.
inline constexpr std::int64_t client_scan_interval_ms = 10000;
/// PullRequestHoldService's check interval with long polling on.
inline constexpr std::int64_t hold_check_long_polling_ms = 5000;
/// Group whose consumer offsets track the transaction check progress (as in Java).
inline constexpr std::string_view tx_check_group = "CID_RMQ_SYS_TRANS";

/// TopicValidator.validateTopic of 4.9.8: the SYSTEM_ERROR remark, or nullopt if valid.
std::optional<std::string> validate_topic(std::string_view topic);

/// messageDelayLevel ("1s 5s 10s ... 2h") in ms, each multiplied by `scale`.
std::vector<std::int64_t> parse_delay_levels(std::string_view text, double scale);

/// consumerOffset.json key: "topic@group".
std::string offset_key(std::string_view topic, std::string_view group);

/// Remark of an injected failure (the text a real broker uses for that code where it has one).
std::string injected_remark(int response_code);

/// Reads request header fields the way RemotingCommand.decodeCommandCustomHeader does: a
/// mandatory field that is missing (or not a number) makes the request fail with the
/// RemotingCommandException text Java sends back.
class header_reader {
public:
    explicit header_reader(const remoting::ext_fields& f) : f_(f) {}

    std::string str(std::string_view key);
    std::int64_t num(std::string_view key);
    std::optional<std::string> opt_str(std::string_view key) const;
    std::optional<std::int64_t> opt_num(std::string_view key) const;
    bool opt_bool(std::string_view key, bool fallback = false) const;

    /// The error remark once a mandatory field was missing.
    const std::optional<std::string>& error() const noexcept { return error_; }

private:
    void missing(std::string_view key);

    const remoting::ext_fields& f_;
    std::optional<std::string> error_;
};

/// Parses a JSON request body (fastjson output is accepted). nullopt when malformed.
std::optional<boost::json::value> parse_body(std::string_view body);

/// Compact JSON of a value (keys in the order they were inserted).
std::string json_text(const boost::json::value& v);

/// Member access with defaults on a parsed object.
std::string json_string(const boost::json::object& o, std::string_view key);
std::int64_t json_int(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0);
bool json_bool(const boost::json::object& o, std::string_view key, bool fallback = false);

}  // namespace corocket::testing::detail
