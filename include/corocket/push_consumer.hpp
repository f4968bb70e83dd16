// corocket::push_consumer — Java's DefaultMQPushConsumer, concurrently consuming (protocol.md
// §7.6–§7.9), written as structured coroutines: `co_await consumer.async_run(handler)` runs one
// pull loop per assigned queue, the rebalance loop and the offset loop as children, and hands
// batches of messages to `handler` (at most max_concurrency at once; a slow handler slows the
// pulls). A batch the handler rejects goes back to the broker (CONSUMER_SEND_MSG_BACK, retried
// later from %RETRY%<group>, then %DLQ%<group>); if that fails it is consumed again locally.
// The committed offset of a queue never passes a message that is not done. Brokers' requests
// for this group are answered: GET_CONSUMER_RUNNING_INFO (figures, §6.6), CONSUME_MESSAGE_DIRECTLY
// (the handler on one message, §6.7), RESET_CONSUMER_CLIENT_OFFSET (queues restart at the new
// offsets, §7.18). With
// push_options::orderly the same consumer consumes each queue in order under broker locks.
#pragma once

#include <corocket/client.hpp>
#include <corocket/consumer_options.hpp>
#include <corocket/consumer_stats.hpp>
#include <corocket/message.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace corocket {

namespace detail {
class push_impl;
}

enum class consume_status {
    success,      ///< CONSUME_SUCCESS
    retry_later,  ///< RECONSUME_LATER (orderly: SUSPEND_CURRENT_QUEUE_A_MOMENT): the batch is retried
};

/// The application's handler: a coroutine over one batch (views valid until it completes).
using consume_handler = std::function<boost::asio::awaitable<consume_status>(std::span<const message_view>)>;

/// Wraps a plain callable as a consume_handler.
consume_handler make_consume_handler(std::function<consume_status(std::span<const message_view>)> fn);

struct push_options : consumer_options {
    /// consumeMessageBatchMaxSize: messages per handler call.
    int consume_batch_max_size = 1;
    /// Handler calls running at once (Java's consume thread count).
    std::size_t max_concurrency = 20;
    /// A handler call running longer counts as retry_later (it is cancelled).
    std::chrono::milliseconds consume_timeout{15 * 60 * 1000};
    /// After this many deliveries the broker moves a message to %DLQ%<group>.
    int max_reconsume_times = 16;
    /// Delay before consuming a message again locally when sending it back failed.
    std::chrono::milliseconds local_retry_delay{5000};
    /// How long stop (and a queue's release) waits for handlers in flight.
    std::chrono::milliseconds drain_timeout{30000};

    // Orderly consumption (Java's MessageListenerOrderly, protocol.md §7.10) ----------------------
    /// Consume each queue strictly in offset order, one batch after another. In clustering mode a
    /// queue is consumed only while this client holds its broker lock (LOCK_BATCH_MQ before the
    /// queue is taken — not granted: skipped until the next rebalance; renewed every
    /// lock_renew_interval; considered lost lock_expiry after the last successful renewal;
    /// UNLOCK_BATCH_MQ on release). The start offset of a queue is read after locking it.
    /// A batch the handler rejects (retry_later, Java's SUSPEND_CURRENT_QUEUE_A_MOMENT) is not
    /// sent back: it is offered again after suspend_current_queue_time, and the queue waits.
    bool orderly = false;
    std::chrono::milliseconds lock_renew_interval{20000};
    std::chrono::milliseconds lock_expiry{30000};
    std::chrono::milliseconds suspend_current_queue_time{1000};
    /// Orderly: a message rejected while its reconsume count (stored count + local attempts so far)
    /// has reached this goes to %RETRY%<group> through the fallback path (§7.9), which the broker
    /// diverts to %DLQ%<group>, and the queue moves on. -1 = unlimited (Java's default).
    int orderly_max_reconsume_times = -1;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe; use from the client's executor.
class push_consumer {
public:
    push_consumer(client& c, push_options options);
    ~push_consumer();
    push_consumer(const push_consumer&) = delete;
    push_consumer& operator=(const push_consumer&) = delete;

    /// Before async_run: subscribe with a tag expression ("*", "TagA || TagB").
    error_code subscribe(std::string topic, std::string expression = "*");
    error_code subscribe_sql92(std::string topic, std::string expression);

    /// The queues currently assigned to this consumer (including %RETRY%<group> ones).
    std::vector<message_queue> assignment() const;

    /// Figures per subscription (the %RETRY% topic included) and per assigned queue. The same
    /// figures answer brokers' GET_CONSUMER_RUNNING_INFO.
    consumer_stats stats() const;
    /// Adds hooks run before and after every handler call (also usable while running).
    void add_hook(consume_hook hook);

    /// Consumes until async_stop (or terminal cancellation of this operation, which stops too).
    /// Completes after the stop has finished: pulls stopped, handlers drained, offsets committed,
    /// group unregistered.
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_run(consume_handler handler, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h, consume_handler fn) { run_impl(impl, std::move(fn), done_handler(std::move(h))); },
            token, std::move(handler));
    }

    /// Stops the consumer; completes when async_run's work is finished.
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { stop_impl(impl, done_handler(std::move(h))); }, token);
    }

private:
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;
    static void run_impl(const std::shared_ptr<detail::push_impl>&, consume_handler, done_handler);
    static void stop_impl(const std::shared_ptr<detail::push_impl>&, done_handler);

    std::shared_ptr<detail::push_impl> impl_;
};

}  // namespace corocket
