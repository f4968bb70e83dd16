// corocket::lite_pull_consumer — Java's DefaultLitePullConsumer (protocol.md §7.12): subscribe
// (queues rebalanced among the group) or assign (a fixed queue list); pull loops run in the
// background as children of the consumer and fill a bounded buffer; `co_await async_poll()`
// hands out the next batch. Polled = consumed: commit (or auto-commit every 5 s) stores the
// position after what poll returned.
#pragma once

#include <corocket/client.hpp>
#include <corocket/consumer_options.hpp>
#include <corocket/consumer_stats.hpp>
#include <corocket/pull_consumer.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace corocket {

namespace detail {
class lite_pull_impl;
}

struct lite_pull_options : consumer_options {
    lite_pull_options()
    {
        pull_batch_size = 10;
        broker_suspend = std::chrono::milliseconds(20000);
    }
    /// Commit polled offsets every persist_interval (and on stop).
    bool auto_commit = true;
    /// How long async_poll() waits for messages by default.
    std::chrono::milliseconds poll_timeout{5000};
    /// Batches buffered for poll across all queues before pulling pauses.
    std::size_t max_buffered_batches = 1000;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe; use from the client's executor.
class lite_pull_consumer {
public:
    lite_pull_consumer(client& c, lite_pull_options options);
    ~lite_pull_consumer();
    lite_pull_consumer(const lite_pull_consumer&) = delete;
    lite_pull_consumer& operator=(const lite_pull_consumer&) = delete;

    /// Before start: subscribe to a topic with a tag expression ("*", "TagA || TagB").
    /// Errors: client_errc::invalid_argument after start.
    error_code subscribe(std::string topic, std::string expression = "*");
    /// Before start: SQL92 subscription (the broker must enable property filtering).
    error_code subscribe_sql92(std::string topic, std::string expression);
    /// Before start: consume exactly these queues (no rebalance).
    void assign(std::vector<message_queue> queues);

    /// Registers with the brokers and starts the rebalance, pull and auto-commit loops.
    void start();

    /// The queues currently assigned to this consumer.
    std::vector<message_queue> assignment() const;

    /// Figures per subscription and queue, as push_consumer::stats(): pulls, lag, offsets and
    /// the messages skipped as undecodable. Lite pull calls no handler, so processed, failed
    /// and the handler figures stay 0.
    consumer_stats stats() const;

    /// The next batch of one queue. Waits up to the timeout (options().poll_timeout by default);
    /// on timeout completes with success and an empty result.
    /// @par Completion signature
    /// `void(error_code, pull_result)`; client_errc::not_running once stopped.
    /// @par Per-operation cancellation
    /// terminal: the wait ends with operation_aborted; buffered batches stay.
    template <class Token = boost::asio::deferred_t>
    auto async_poll(std::chrono::milliseconds timeout, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, pull_result)>(
            [impl = impl_](auto h, std::chrono::milliseconds t) { poll_impl(impl, t, poll_handler(std::move(h))); },
            token, timeout);
    }
    template <class Token = boost::asio::deferred_t>
    auto async_poll(Token&& token = {})
    {
        return async_poll(default_poll_timeout(), std::forward<Token>(token));
    }

    /// Continue `queue` at `offset` (buffered messages of the queue are dropped). No-op for a
    /// queue not assigned.
    void seek(const message_queue& queue, std::int64_t offset);

    /// Seek to the queue's first offset, its end, or the first message stored at/after a time.
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_seek_to_begin(message_queue queue, Token&& token = {})
    {
        return initiate_seek(seek_kind::begin, std::move(queue), 0, std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    auto async_seek_to_end(message_queue queue, Token&& token = {})
    {
        return initiate_seek(seek_kind::end, std::move(queue), 0, std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    auto async_seek_to_timestamp(message_queue queue, std::int64_t timestamp_ms, Token&& token = {})
    {
        return initiate_seek(seek_kind::timestamp, std::move(queue), timestamp_ms, std::forward<Token>(token));
    }

    /// Stop / restart pulling these queues. What was buffered before pause() can still be
    /// polled; a pull the broker answers after it is dropped, and resume() pulls those messages
    /// again, so nothing that reaches a paused queue later is polled before resume().
    void pause(const std::vector<message_queue>& queues);
    void resume(const std::vector<message_queue>& queues);

    /// Commits the polled position of every assigned queue (two-way).
    /// @par Completion signature
    /// `void(error_code)`: the first commit error, if any.
    template <class Token = boost::asio::deferred_t>
    auto async_commit(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { commit_impl(impl, done_handler(std::move(h))); }, token);
    }

    /// Stops pulling, commits (when auto-commit is on), unregisters, and completes once every
    /// loop of this consumer has finished.
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { stop_impl(impl, done_handler(std::move(h))); }, token);
    }

private:
    enum class seek_kind { begin, end, timestamp };
    using poll_handler = boost::asio::any_completion_handler<void(error_code, pull_result)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    template <class Token>
    auto initiate_seek(seek_kind kind, message_queue queue, std::int64_t ts, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_, kind](auto h, message_queue q, std::int64_t t) {
                seek_impl(impl, kind, std::move(q), t, done_handler(std::move(h)));
            },
            token, std::move(queue), ts);
    }

    std::chrono::milliseconds default_poll_timeout() const noexcept;
    static void poll_impl(const std::shared_ptr<detail::lite_pull_impl>&, std::chrono::milliseconds, poll_handler);
    static void seek_impl(const std::shared_ptr<detail::lite_pull_impl>&, seek_kind, message_queue, std::int64_t,
                          done_handler);
    static void commit_impl(const std::shared_ptr<detail::lite_pull_impl>&, done_handler);
    static void stop_impl(const std::shared_ptr<detail::lite_pull_impl>&, done_handler);

    std::shared_ptr<detail::lite_pull_impl> impl_;
};

}  // namespace corocket
