// What lite_pull_consumer and push_consumer share: subscriptions, queue assignment (rebalance
// on NOTIFY_CONSUMER_IDS_CHANGED and every rebalance_interval), start offsets (§7.8), one pull
// loop per assigned queue, offset persistence (broker or local file), and a structured stop.
// Every loop is a child coroutine in one task_group on the client's executor.
#pragma once

#include <corocket/consumer_options.hpp>
#include <corocket/consumer_stats.hpp>
#include <corocket/offset_store.hpp>

#include "consumer/pull_core.hpp"
#include "consumer/task_group.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace corocket::detail {

class consumer_base : public std::enable_shared_from_this<consumer_base> {
public:
    struct queue_state {
        queue_state(message_queue q, boost::asio::any_io_executor ex) : mq(std::move(q)), wake(ex) {}
        message_queue mq;
        offset_tracker tracker;
        std::int64_t next_pull = -1;
        bool paused = false;
        bool dropped = false;
        task_group::handle loop;
        boost::asio::steady_timer wake;  ///< cancelled to wake the pull loop early
        std::int64_t last_pull_ms = 0;
        std::int64_t last_consume_ms = 0;
        std::int64_t max_offset = -1;  ///< as of the last pull
        int inflight = 0;  ///< handler calls running for this queue (push)
        std::int64_t committed = -1;  ///< manual commit: the offset last committed on request
    };
    using state_ptr = std::shared_ptr<queue_state>;

    consumer_base(client& c, consumer_options opts, consume_type type);
    virtual ~consumer_base();

    const consumer_options& options() const noexcept { return opts_; }
    pull_core& core() noexcept { return *core_; }
    client_impl& rt() noexcept { return core_->client(); }
    bool running() const noexcept { return started_ && !stopping_; }

    /// Before start: subscribe to `topic` with a tag or SQL92 expression (rebalanced queues).
    error_code subscribe(std::string topic, std::string expression, std::string_view expression_type);
    /// Before start: a fixed queue list instead of rebalancing.
    void assign(std::vector<message_queue> queues);

    void start();
    /// Stops pulling, drains, commits, unregisters; completes when every child has finished.
    boost::asio::awaitable<void> stop();
    /// Commits the offsets of every assigned queue now (two-way).
    boost::asio::awaitable<error_code> commit_all();

    std::vector<message_queue> assignment() const;
    state_ptr find(const message_queue& q) const;
    /// Replaces a queue's state with a fresh one starting at `offset` (seek).
    void restart_queue(const message_queue& q, std::int64_t offset);
    void set_paused(const std::vector<message_queue>& queues, bool paused);
    /// Schedules a rebalance now (NOTIFY_CONSUMER_IDS_CHANGED).
    void trigger_rebalance();

    /// Figures per subscription and queue (§6.6 is built from these too).
    consumer_stats stats() const;
    const std::map<std::string, subscription_data>& subscriptions() const noexcept { return subscriptions_; }

protected:
    /// A pull found messages (already tracked in `st`).
    virtual boost::asio::awaitable<void> on_found(state_ptr st, pull_result r) = 0;
    /// A queue is being released: its loop has ended; wait for in-flight work.
    virtual boost::asio::awaitable<void> drain(state_ptr) { co_return; }
    /// A queue was dropped or restarted: forget what is buffered for it.
    virtual void forget(const queue_state&) {}
    /// Before a queue is added by rebalance: false keeps it out (orderly: lock not granted).
    virtual boost::asio::awaitable<bool> acquire(const message_queue&) { co_return true; }
    /// After a queue was released (offset committed) or at stop.
    virtual boost::asio::awaitable<void> release(const message_queue&) { co_return; }
    /// Stop has begun (stopping_ is set): end loops of the derived class so the stop can join them.
    virtual void on_stopping() {}
    /// Extra reason not to pull now.
    virtual bool hold_back(const queue_state&) const { return false; }
    /// COMMIT_OFFSET piggy-backed on pulls.
    virtual bool piggyback_commit() const { return false; }
    /// Whether a queue being released must stay (locked, not committed) because a handler still
    /// runs on it after the drain: orderly push, as Java's removeUnnecessaryMessageQueue refuses
    /// while it cannot take the queue's consume lock.
    virtual bool busy_with_lock(const queue_state&) const { return false; }

    /// Handles broker request `code` addressed to this consumer's group (cleared on stop).
    void on_peer_request(int code, peer_request_handler handler);

    /// Whether this client holds the broker lock of `q` (orderly).
    virtual bool is_locked(const message_queue&) const { return false; }

    /// A message that could not be decoded was skipped (logged already).
    void record_undecodable(const std::string& topic, std::size_t n)
    {
        if (n > 0)
            counters_[topic].undecodable += n;
    }
    /// What one handler call did, for the figures of its subscription.
    void record_consume(const std::string& topic, std::size_t messages, bool success, std::chrono::microseconds took,
                        std::string_view error);

    const subscription_data* subscription_for(const std::string& topic) const;
    std::size_t cached_bytes() const;
    std::int64_t now_ms() const;

    std::shared_ptr<pull_core> core_;
    consumer_options opts_;
    consume_type type_;
    std::map<std::string, subscription_data> subscriptions_;  ///< user topic → wire-free filter
    std::optional<std::vector<message_queue>> assigned_;
    std::map<message_queue, state_ptr> queues_;
    task_group tasks_;
    bool started_ = false;
    bool stopping_ = false;
    /// Offsets are committed only when the user asks (lite pull without auto-commit): neither
    /// a stop nor a rebalance commits what was merely polled.
    bool manual_commit_ = false;
    std::int64_t start_ms_ = 0;
    std::optional<local_offset_file> file_;
    offset_table file_offsets_;

private:
    boost::asio::awaitable<void> pull_loop(state_ptr st);
    boost::asio::awaitable<void> rebalance_loop();
    boost::asio::awaitable<void> persist_loop();
    boost::asio::awaitable<void> rebalance_once();
    boost::asio::awaitable<void> rebalance_topic(const std::string& topic);
    boost::asio::awaitable<void> add_queue(message_queue q);
    /// Adds `q` unless held; a held state that was kept while its handler ran is replaced.
    boost::asio::awaitable<void> ensure_queue(message_queue q);
    boost::asio::awaitable<void> remove_queue(message_queue q);
    boost::asio::awaitable<std::tuple<error_code, std::int64_t>> start_offset(const message_queue& q);
    boost::asio::awaitable<error_code> persist(bool final);
    boost::asio::awaitable<void> wait(queue_state& st, std::chrono::milliseconds d);
    void spawn_loop(const state_ptr& st);
    consumer_registration registration() const;
    void clear_peer_handlers();

    boost::asio::steady_timer rebalance_cv_;
    bool rebalance_wanted_ = false;  ///< a trigger came since the current round began
    boost::asio::steady_timer persist_timer_;
    task_group::handle rebalance_task_;
    task_group::handle persist_task_;
    std::vector<int> peer_request_codes_;

    struct topic_counters {
        std::int64_t first_ms = 0, last_ms = 0, last_error_ms = 0;
        std::uint64_t processed = 0, failed = 0, undecodable = 0;
        std::string last_error;
        std::uint64_t pulls = 0, calls = 0;
        std::int64_t pull_us = 0, pull_us_max = 0, consume_us = 0, consume_us_max = 0;
    };
    std::map<std::string, topic_counters> counters_;  ///< subscription topic → figures
};

}  // namespace corocket::detail
