// corocket::producer — sends messages through a corocket::client: validation, UNIQ_KEY,
// namespace, compression, queue selection with fault avoidance, retries on other brokers,
// batches and back-pressure (protocol.md §7.2, §7.3). Every send is one initiating function
// that serves coroutines (co_await, the default asio::deferred token), callbacks and futures.
#pragma once

#include <corocket/client.hpp>
#include <corocket/error.hpp>
#include <corocket/message.hpp>
#include <corocket/route.hpp>
#include <corocket/send_result.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace corocket {

namespace detail {
class producer_impl;
}

/// SEND_MESSAGE_V2 (310, one-letter header keys, what Java sends by default) or SEND_MESSAGE (10).
enum class send_header_version { v1, v2 };

/// How a send reaches the broker.
enum class send_mode {
    normal,  ///< request/response; completes with the broker's answer
    oneway,  ///< one-way request; completes once written (no result, no broker error)
    batch,   ///< SEND_BATCH_MESSAGE
    half,    ///< the half message of a transaction
};

/// What send hooks see, once before and once after each attempt (Java's SendMessageContext).
struct send_context {
    std::string_view producer_group;  ///< as configured (without namespace)
    std::string_view name_space;      ///< the client's namespace, empty if none
    send_mode mode = send_mode::normal;
    int attempt = 0;                  ///< 0 for the first attempt
    std::string_view broker_name;
    std::string_view broker_address;
    message_queue queue;              ///< the chosen queue (topic without namespace)
    /// The message (for a batch request: its first message); topic without namespace.
    const message* msg = nullptr;
    std::size_t message_count = 1;    ///< messages in the request (batches)
    /// After the attempt: the result when the broker stored it, else nullptr.
    const send_result* result = nullptr;
    /// After the attempt: its error (empty on success and before the attempt).
    error_code error;
    /// After the attempt: how long it took.
    std::chrono::milliseconds latency{0};
};

/// Observer of every send attempt (tracing, metrics). Runs on the producer's executor, inline:
/// keep it short and do not throw.
class send_hook {
public:
    virtual ~send_hook() = default;
    virtual void before_send(const send_context&) {}
    virtual void after_send(const send_context&) {}
};

/// Chooses a queue for a send among the topic's writable queues (the publish queues, in Java's
/// order). Returns an index into `queues`; an index out of range fails the send.
using queue_selector = std::function<std::size_t(std::span<const message_queue> queues, const message& msg)>;

/// Built-in selectors.
namespace queue_selectors {
/// Java's SelectMessageQueueByHash over the message's sharding key (message::set_sharding_key):
/// `abs(javaStringHash(key) % n)`, so the same key lands on the same queue as with a Java
/// producer using the key string as selector argument. A message without a key uses queue 0.
queue_selector by_sharding_key();
/// A uniformly random queue.
queue_selector random();
}  // namespace queue_selectors

/// Per-send choices.
struct send_options {
    /// Send to exactly this queue (its topic must be the message's). One attempt, no retry.
    std::optional<message_queue> queue;
    /// Let this function choose the queue. One attempt, no retry and no broker avoidance, so
    /// that ordered messages never move to another queue.
    queue_selector selector;
    /// Overrides producer_config::send_timeout for this send.
    std::optional<std::chrono::milliseconds> timeout;

    /// Ordered send: messages with the same sharding key go to the same queue.
    static send_options ordered()
    {
        send_options o;
        o.selector = queue_selectors::by_sharding_key();
        return o;
    }
    /// Send to an explicit queue.
    static send_options to_queue(message_queue mq)
    {
        send_options o;
        o.queue = std::move(mq);
        return o;
    }
};

struct producer_config {
    /// Producer group (without namespace; the client's namespace is applied on the wire).
    std::string group;
    /// Bound on one whole send: back-pressure wait, route lookup, connect, every retry.
    std::chrono::milliseconds send_timeout{3000};
    /// Extra attempts on other brokers for retriable failures (is_retriable).
    int retries = 2;
    /// Also retry on another broker when the broker stored the message but answered
    /// FLUSH_DISK_TIMEOUT / FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE (creates duplicates).
    bool retry_another_broker_when_not_store_ok = false;
    /// Largest message body accepted (before compression).
    std::size_t max_message_size = std::size_t{4} << 20;
    /// Largest SEND_BATCH_MESSAGE body; bigger batches are split into several requests.
    std::size_t max_batch_request_size = std::size_t{4} << 20;
    /// Bodies of at least this many bytes are compressed (not batches); 0 = never.
    std::size_t compress_threshold = 4096;
    /// The algorithm, as Java's `-Drocketmq.message.compressType` (ZLIB by default). The
    /// sysFlag sent says which (COMPRESSED | type << 8: 0x301 zlib, 0x101 LZ4, 0x201 ZSTD), and
    /// the bytes are exactly what Java 4.9.8 / 5.x writes. Java consumers before 4.9.8 / 5.0 only
    /// read zlib: choose LZ4 or ZSTD only when every consumer of the topic is newer.
    compression_type compression = compression_type::zlib;
    /// Level, as Java's `rocketmq.message.compressLevel` (default 5), checked by start() for the
    /// algorithm: zlib -1..9 (-1 = zlib's default), zstd -131072..22 (0 = zstd's default, 3);
    /// LZ4 ignores it, as Java's LZ4 compressor does (lz4-java's fast compressor has no level).
    int compress_level = 5;
    /// Avoid brokers that answered slowly or failed recently (5.x latency table, protocol.md §7.2).
    bool latency_fault_avoidance = true;
    send_header_version header_version = send_header_version::v2;
    /// Template topic for topics that do not exist yet, and its queue count.
    std::string default_topic = "TBW102";
    int default_topic_queue_nums = 4;
    /// Back-pressure: most messages and bytes (bodies after compression plus properties) in
    /// flight at once; a send over either limit waits for room (0 = unlimited). A single request
    /// larger than max_inflight_bytes is let through alone.
    std::size_t max_inflight_messages = 2048;
    std::size_t max_inflight_bytes = std::size_t{64} << 20;
    /// Topics to resolve when the producer starts, so that the brokers hosting them learn this
    /// group from the heartbeat at once (transaction check-backs need that). The default topic
    /// is always resolved, as the Java client does.
    std::vector<std::string> topics;
    std::vector<std::shared_ptr<send_hook>> hooks;
};

/// A producer on a client's executor.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. Use it from the client's executor.
/// @par Object lifetimes
/// The producer handle may be destroyed while sends are pending (they finish on their own);
/// the client must outlive them. Stop producers before stopping the client.
class producer {
public:
    using executor_type = boost::asio::any_io_executor;

    producer(client& c, producer_config config);
    ~producer();
    producer(const producer&) = delete;
    producer& operator=(const producer&) = delete;

    executor_type get_executor() const noexcept;
    const producer_config& config() const noexcept;

    /// Registers the group with the client (heartbeats) and starts the client if needed.
    /// client_errc::invalid_argument (see `diag`) when the group is invalid or already has a
    /// producer on this client, or when compress_level does not suit the compression.
    error_code start(diagnostics* diag = nullptr);
    bool running() const noexcept;

    /// Sends one message and completes with the broker's answer.
    ///
    /// Validation (topic, body, properties) happens before anything is sent; the message gets
    /// a UNIQ_KEY if it has none; bodies over the compression threshold are compressed.
    /// Retriable failures are retried on other brokers, all within the send timeout.
    ///
    /// @par Completion signature
    /// `void(error_code, send_result)`. Errors: client_errc (validation, timeout, no_route,
    /// not_running, operation_aborted, connection failures) or a broker response code in
    /// broker_category(); `send_result::diag` says more. FLUSH_*_TIMEOUT / SLAVE_NOT_AVAILABLE
    /// are statuses of a successful send, not errors.
    /// @par Per-operation cancellation
    /// terminal, partial and total: completes with client_errc::operation_aborted; other sends
    /// are unaffected. A request already written may still be stored by the broker.
    /// @par Executor
    /// The handler runs on its associated executor (by default the producer's), never inline.
    template <class Token = boost::asio::deferred_t>
        requires(!std::is_same_v<std::decay_t<Token>, send_options>)
    auto async_send(message msg, Token&& token = {})
    {
        return async_send(std::move(msg), send_options{}, std::forward<Token>(token));
    }

    /// async_send with per-send options: explicit queue, selector (ordered sends), timeout.
    template <class Token = boost::asio::deferred_t>
    auto async_send(message msg, send_options opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, send_result)>(
            [impl = impl_](auto h, message m, send_options o) {
                send_impl(impl, std::move(m), std::move(o), result_handler(std::move(h)));
            },
            token, std::move(msg), std::move(opts));
    }

    /// One-way send: completes once the request is written. No broker answer, so broker-side
    /// failures are not reported; connection failures are retried on other brokers.
    /// @par Completion signature
    /// `void(error_code)`.
    /// @par Per-operation cancellation
    /// terminal, partial and total until the request is queued for writing.
    template <class Token = boost::asio::deferred_t>
        requires(!std::is_same_v<std::decay_t<Token>, send_options>)
    auto async_send_oneway(message msg, Token&& token = {})
    {
        return async_send_oneway(std::move(msg), send_options{}, std::forward<Token>(token));
    }

    /// async_send_oneway with per-send options.
    template <class Token = boost::asio::deferred_t>
    auto async_send_oneway(message msg, send_options opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h, message m, send_options o) {
                oneway_impl(impl, std::move(m), std::move(o), done_handler(std::move(h)));
            },
            token, std::move(msg), std::move(opts));
    }

    /// Sends messages of one topic as SEND_BATCH_MESSAGE, split into several requests when the
    /// encoded batch exceeds producer_config::max_batch_request_size. Batches may not carry
    /// delay levels, may not go to retry topics, and all messages must agree on WAIT. Each part
    /// is a send of its own (queue choice, retries, timeout); parts go out in order.
    ///
    /// @par Completion signature
    /// `void(error_code, send_result)`; the result covers every message (see batch_parts).
    /// @par Per-operation cancellation
    /// As async_send; parts not yet sent are not sent.
    template <class Token = boost::asio::deferred_t>
        requires(!std::is_same_v<std::decay_t<Token>, send_options>)
    auto async_send_batch(std::vector<message> msgs, Token&& token = {})
    {
        return async_send_batch(std::move(msgs), send_options{}, std::forward<Token>(token));
    }

    /// async_send_batch with per-send options (queue, selector, timeout; applied to every part).
    template <class Token = boost::asio::deferred_t>
    auto async_send_batch(std::vector<message> msgs, send_options opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, send_result)>(
            [impl = impl_](auto h, std::vector<message> m, send_options o) {
                batch_impl(impl, std::move(m), std::move(o), result_handler(std::move(h)));
            },
            token, std::move(msgs), std::move(opts));
    }

    /// The same for a span (the messages are copied before the function returns).
    template <class Token = boost::asio::deferred_t>
        requires(!std::is_same_v<std::decay_t<Token>, send_options>)
    auto async_send_batch(std::span<const message> msgs, Token&& token = {})
    {
        return async_send_batch(std::vector<message>(msgs.begin(), msgs.end()), send_options{},
                                std::forward<Token>(token));
    }

    /// The same for a span, with options.
    template <class Token = boost::asio::deferred_t>
    auto async_send_batch(std::span<const message> msgs, send_options opts, Token&& token = {})
    {
        return async_send_batch(std::vector<message>(msgs.begin(), msgs.end()), std::move(opts),
                                std::forward<Token>(token));
    }

    /// Stops accepting sends, waits for the pending ones, unregisters the group.
    /// @par Completion signature
    /// `void(error_code)` (always success).
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { stop_impl(impl, done_handler(std::move(h))); }, token);
    }

    /// Messages and bytes currently holding back-pressure budget, and sends waiting for it.
    std::size_t inflight_messages() const noexcept;
    std::size_t inflight_bytes() const noexcept;
    std::size_t waiting_sends() const noexcept;

    const std::shared_ptr<detail::producer_impl>& impl() const noexcept { return impl_; }

private:
    using result_handler = boost::asio::any_completion_handler<void(error_code, send_result)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    static void send_impl(const std::shared_ptr<detail::producer_impl>&, message, send_options, result_handler);
    static void oneway_impl(const std::shared_ptr<detail::producer_impl>&, message, send_options, done_handler);
    static void batch_impl(const std::shared_ptr<detail::producer_impl>&, std::vector<message>, send_options,
                           result_handler);
    static void stop_impl(const std::shared_ptr<detail::producer_impl>&, done_handler);

    std::shared_ptr<detail::producer_impl> impl_;
};

}  // namespace corocket
