// Producer queue selection with optional broker fault avoidance (protocol.md §7.2, 5.x rules).
// Sans-I/O: the caller supplies the time.
#pragma once

#include <corocket/route.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

/// Per broker, the time until which it should be avoided, derived from the latency of the last
/// attempt (5.x table: latency ≥ {50,100,550,1800,3000,5000,15000} ms → isolated for
/// {0,0,2000,5000,6000,10000,30000} ms).
class latency_fault_table {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    /// Latency charged for a failed attempt (network error or broker error response).
    static constexpr std::chrono::milliseconds failure_penalty{10000};

    /// How long a broker is avoided after an attempt with this latency.
    static std::chrono::milliseconds isolation_for(std::chrono::milliseconds latency) noexcept;

    /// Records an attempt; `failed` charges failure_penalty instead of `latency`.
    void update(std::string_view broker, std::chrono::milliseconds latency, bool failed, time_point now);
    /// False while the broker is isolated. Unknown brokers are available.
    bool is_available(std::string_view broker, time_point now) const;
    /// Forgets a broker (e.g. when it leaves every route).
    void remove(std::string_view broker);
    std::size_t size() const noexcept { return not_available_until_.size(); }

private:
    std::map<std::string, time_point, std::less<>> not_available_until_;
};

/// Round-robin over a topic's publish queues starting at a random position, skipping the broker
/// of the previous attempt and, with a fault table, isolated brokers.
class queue_picker {
public:
    /// Starts at a random position (as Java's ThreadLocalIndex).
    queue_picker();
    explicit queue_picker(std::uint32_t start) noexcept : counter_(start) {}

    /// The next queue: the first (in round-robin order, one full turn at most) whose broker is
    /// available and is not `last_broker`; else the first not on `last_broker`; else the plain
    /// next one. Empty `last_broker` means none; null `faults` skips the availability pass.
    /// nullopt only for an empty queue list.
    std::optional<message_queue> pick(const std::vector<message_queue>& publish_queues,
                                      std::string_view last_broker, const latency_fault_table* faults,
                                      latency_fault_table::time_point now);

    /// Restarts at a random position (5.x does this before a retry when fault avoidance is on).
    void reset();

    std::uint32_t counter() const noexcept { return counter_; }

private:
    std::size_t next_index(std::size_t size) noexcept;

    std::uint32_t counter_;
};

}  // namespace corocket::detail
