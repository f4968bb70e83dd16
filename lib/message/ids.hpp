// Message identifiers (protocol.md §5): the client unique id (UNIQ_KEY) and the offset id.
#pragma once

#include <corocket/message.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace corocket::detail {

/// Uppercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);
/// Decode hex (either case); nullopt on odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);

/// Start of the calendar month containing `now_ms`, in local time, as epoch ms.
std::int64_t local_month_start_ms(std::int64_t now_ms);
/// Start of the following calendar month, in local time, as epoch ms.
std::int64_t local_next_month_start_ms(std::int64_t now_ms);

/// Generates UNIQ_KEY values: ip | pid16 | discriminator32 | ms-since-local-month-start32 |
/// counter16, uppercase hex (32 chars for IPv4, 56 for IPv6). Not thread-safe: one
/// generator per executor, or external synchronisation.
class uniq_id_generator {
public:
    /// `ip` must be 4 or 16 bytes (anything else is treated as 4 zero bytes).
    uniq_id_generator(std::span<const std::uint8_t> ip, std::uint32_t pid, std::uint32_t discriminator);

    std::string next(std::chrono::system_clock::time_point now);

    /// The constant part (ip, pid, discriminator) in hex.
    const std::string& prefix() const noexcept { return prefix_; }

private:
    void roll_month(std::int64_t now_ms);

    std::string prefix_;
    std::int64_t month_start_ms_ = 0;
    std::int64_t next_month_start_ms_ = 0;  ///< 0 = not computed yet
    std::uint16_t counter_ = 0;
};

/// A generator for this process: default host address, getpid(), a random discriminator.
uniq_id_generator make_process_uniq_id_generator();

/// Offset message id (§5.2): store host address bytes, port (int32), commit-log offset (int64).
std::string make_offset_msg_id(const host_address& store_host, std::int64_t commit_log_offset);

/// Inverse of make_offset_msg_id (case-insensitive): 32 hex chars → IPv4, 56 → IPv6.
std::optional<std::pair<host_address, std::int64_t>> decode_offset_msg_id(std::string_view id);

/// The host address for ids and the client id (§5.1): the first non-private IPv4, else a
/// private non-loopback IPv4, else a global/ULA IPv6, else 127.0.0.1. Port 0.
host_address default_host_address();

}  // namespace corocket::detail
