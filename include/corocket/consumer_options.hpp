// Settings shared by lite_pull_consumer and push_consumer (Java defaults, protocol.md §9).
#pragma once

#include <corocket/client.hpp>
#include <corocket/rebalance.hpp>

#include <chrono>
#include <string>

namespace corocket {

struct consumer_options {
    /// Consumer group (without namespace). Required.
    std::string group;
    message_model model = message_model::clustering;
    /// Where a queue without a stored offset starts (§7.8).
    consume_from_where from_where = consume_from_where::last_offset;
    /// For consume_from_where::timestamp: store time to start from (default: now − 30 min).
    std::chrono::system_clock::time_point consume_timestamp =
        std::chrono::system_clock::now() - std::chrono::minutes(30);
    /// Queue allocation among the group's members (clustering).
    allocate_strategy strategy = allocate_averagely();

    int pull_batch_size = 32;
    /// Pause between two pulls of one queue (0 = pull again at once).
    std::chrono::milliseconds pull_interval{0};
    std::chrono::milliseconds broker_suspend{15000};
    std::chrono::milliseconds pull_timeout{30000};
    /// Wait after a failed pull (Java 3000 ms).
    std::chrono::milliseconds pull_error_delay{3000};

    /// Flow control: a queue is not pulled while it caches more than these.
    std::size_t pull_threshold_for_queue = 1000;
    std::size_t pull_threshold_size_for_queue = 100 * 1024 * 1024;
    /// ... nor while the whole consumer caches more than this many body bytes (0 = no limit).
    std::size_t memory_budget = 0;
    /// Delay before re-checking a queue held back by flow control (Java 50 ms).
    std::chrono::milliseconds flow_control_delay{50};

    std::chrono::milliseconds rebalance_interval{20000};
    /// Offsets are committed this often, and on stop (Java 5 s).
    std::chrono::milliseconds persist_interval{5000};
    /// Broadcasting: directory of the local offset file; empty = $HOME/.rocketmq_offsets.
    std::string offset_store_dir;
};

}  // namespace corocket
