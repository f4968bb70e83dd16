// What a push consumer reports about itself in-process (and, as ConsumerRunningInfo, to brokers
// that ask with GET_CONSUMER_RUNNING_INFO): figures per subscription and per queue, and hooks run
// around every handler call.
#pragma once

#include <corocket/message.hpp>
#include <corocket/route.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace corocket {

/// One assigned queue.
struct queue_stats {
    message_queue queue;
    /// Offset that would be committed now (lowest message not yet done).
    std::int64_t consumed_offset = -1;
    /// The queue's max offset as of the last pull.
    std::int64_t max_offset = -1;
    /// max_offset − consumed_offset (0 when unknown).
    std::int64_t lag = 0;
    std::size_t cached_messages = 0;
    bool locked = false;  ///< orderly: this client holds the broker lock now
    std::chrono::system_clock::time_point last_pull_time{};
    std::chrono::system_clock::time_point last_consume_time{};
};

/// One subscribed topic (the group's %RETRY% topic is a subscription of its own).
struct subscription_stats {
    std::string topic;
    std::chrono::system_clock::time_point start_time{};
    std::optional<std::chrono::system_clock::time_point> first_message_time;
    std::optional<std::chrono::system_clock::time_point> last_message_time;
    std::uint64_t processed = 0;  ///< messages whose handler call succeeded
    std::uint64_t failed = 0;     ///< messages whose handler call failed (retry_later, timeout, exception)
    /// Messages skipped because they could not be decoded (corrupt compressed body, unknown
    /// compression type, malformed record; see message_view::undecodable): logged, never
    /// handed to the handler, their offsets committed as consumed.
    std::uint64_t undecodable = 0;
    std::string last_error;
    std::optional<std::chrono::system_clock::time_point> last_error_time;
    std::uint64_t pulls = 0;  ///< pulls that found messages
    std::chrono::microseconds pull_latency_avg{0};
    std::chrono::microseconds pull_latency_max{0};
    std::uint64_t handler_calls = 0;
    std::chrono::microseconds consume_latency_avg{0};
    std::chrono::microseconds consume_latency_max{0};
    std::int64_t lag = 0;  ///< sum over queues
    std::vector<queue_stats> queues;
};

struct consumer_stats {
    std::string group;
    std::chrono::system_clock::time_point start_time{};
    std::vector<subscription_stats> subscriptions;
};

/// What a consume hook sees: `status` and `elapsed` are set for `after` only.
struct consume_context {
    std::string_view group;
    const message_queue& queue;
    std::span<const message_view> messages;
    bool success = false;
    std::chrono::microseconds elapsed{0};
};

/// Runs around each handler call (on the client's executor; keep it short, do not throw).
struct consume_hook {
    std::function<void(const consume_context&)> before;
    std::function<void(const consume_context&)> after;
};

}  // namespace corocket
