// The slave role of an embedded broker (BrokerRole.SLAVE of 4.9.8): it reads the master's store
// (its puts fail in store_message, as checkStoreStatus makes them), copies the master's metadata
// on a timer (SlaveSynchronize.syncAll) and, since replicated messages wake no held pull on a
// slave, finds new messages for held pulls only in PullRequestHoldService's periodic check.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include <algorithm>
#include <set>

namespace corocket::testing::detail {

std::int64_t broker_core::hold_check_interval() const noexcept
{
    // PullRequestHoldService.run: waitForRunning(5 s) with long polling, else shortPollingTimeMills.
    const auto& o = settings_.options;
    return std::max<std::int64_t>(1, o.long_polling_enable ? hold_check_long_polling_ms : o.short_polling_time.count());
}

void broker_core::sync_from_master()
{
    const broker_core& m = *settings_.master;
    // syncTopicConfig: the master's table replaces ours whenever the two differ.
    if (synced_topics_version_ != m.topics_version_ || slave_topics_diverged_) {
        synced_topics_version_ = m.topics_version_;
        slave_topics_diverged_ = false;
        topics_ = m.topics_;
        ++topics_version_;
    }
    groups_ = m.groups_;
    // syncConsumerOffset merges (putAll): offsets committed to the slave itself stay until the
    // master's overwrite them.
    for (const auto& [key, queues] : m.offsets_)
        for (const auto& [queue_id, offset] : queues)
            offsets_[key][queue_id] = offset;
}

void broker_core::check_held_pulls(std::int64_t now)
{
    std::set<std::pair<std::string, int>> queues;
    for (const auto& h : held_)
        queues.emplace(h.topic, h.queue_id);
    for (const auto& [topic, queue_id] : queues)
        notify_arrival(topic, queue_id, now);
}

void broker_core::slave_tick(std::int64_t now)
{
    if (now >= next_slave_sync_) {
        if (master_reachable_)
            sync_from_master();
        next_slave_sync_ = now + std::max<std::int64_t>(1, settings_.options.slave_sync_interval.count());
    }
    if (now >= next_hold_check_) {
        check_held_pulls(now);
        next_hold_check_ = now + hold_check_interval();
    }
}

}  // namespace corocket::testing::detail
