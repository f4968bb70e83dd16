// corocket::pull_consumer — the low-level pull API (protocol.md §3.4–§3.6, §7.12): pull one
// queue at an explicit offset (long polling), list a topic's queues, read and commit consumer
// offsets, and look offsets up by time. Consumer loops are coroutines written over it (see
// lite_pull_consumer and push_consumer, which are).
#pragma once

#include <corocket/client.hpp>
#include <corocket/error.hpp>
#include <corocket/filter.hpp>
#include <corocket/message.hpp>
#include <corocket/route.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace corocket {

namespace detail {
class client_impl;
class pull_core;
}  // namespace detail

/// Outcome of a pull that reached the broker (Java's PullStatus). Not errors: values.
enum class pull_status {
    found,           ///< SUCCESS: messages returned
    no_new_msg,      ///< PULL_NOT_FOUND: caught up (after the long poll expired)
    no_matched_msg,  ///< PULL_RETRY_IMMEDIATELY: messages existed but none matched the filter
    offset_illegal,  ///< PULL_OFFSET_MOVED: the offset was out of range; use next_begin_offset
};

std::string_view to_string(pull_status) noexcept;  ///< "FOUND", "NO_NEW_MSG", ...

/// The answer to one pull. Messages are decoded (§4.4: inflated bodies, V1/V2 records, IPv4/IPv6
/// hosts, properties, ids), re-filtered by tag, presented under their original topic when they
/// came from the group's retry topic, and stripped of the namespace. Records that cannot be
/// decoded (message_view::undecodable) are left out, logged and counted in `undecodable`;
/// next_begin_offset still moves past them.
class pull_result {
public:
    pull_status status = pull_status::no_new_msg;
    /// The queue that was pulled (topic without namespace).
    message_queue queue;
    std::int64_t next_begin_offset = 0;  ///< where the next pull of this queue starts
    std::int64_t min_offset = 0;         ///< smallest offset in the queue
    std::int64_t max_offset = 0;         ///< one past the largest offset in the queue
    std::int64_t suggest_which_broker_id = 0;
    /// Records of the answer left out because they could not be decoded (corrupt compressed
    /// body, unknown compression type, malformed record). Bytes that could not be split into
    /// records at all count once: what they held cannot be located.
    std::size_t undecodable = 0;

    /// The messages that passed the filter, in queue order.
    std::span<const message_view> messages() const noexcept { return batch_.messages().first(kept_); }
    std::span<message_view> messages_mut() noexcept { return batch_.messages_mut().first(kept_); }
    std::size_t size() const noexcept { return kept_; }
    bool empty() const noexcept { return kept_ == 0; }

    /// The decoded body (every record, including the ones filtered out) — for the library.
    message_batch& batch() noexcept { return batch_; }
    /// Keeps only the first `n` views of the batch (the library compacts filtered views first).
    void keep_first(std::size_t n) noexcept { kept_ = n; }

private:
    message_batch batch_;
    std::size_t kept_ = 0;
};

struct pull_consumer_config {
    /// Consumer group (without namespace). Required.
    std::string group;
    /// How long the broker may hold a pull that finds nothing (SUSPEND bit); 0 = answer at once.
    std::chrono::milliseconds broker_suspend{20000};
    /// RPC timeout of a pull; must exceed broker_suspend (the long poll), as Java's 30 s vs 20 s.
    std::chrono::milliseconds pull_timeout{30000};
    /// Timeout of offset queries, commits and searches.
    std::chrono::milliseconds offset_timeout{5000};
    /// Send LITE_PULL_MESSAGE (361, 5.x brokers only) instead of PULL_MESSAGE (11).
    bool lite_pull_code = false;
};

/// Explicit-offset pulls for one consumer group, over a started corocket::client.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe; use from the client's executor.
/// Every handler runs on its associated executor (by default the client's), never inline.
class pull_consumer {
public:
    pull_consumer(client& c, pull_consumer_config config);
    ~pull_consumer();
    pull_consumer(const pull_consumer&) = delete;
    pull_consumer& operator=(const pull_consumer&) = delete;

    const pull_consumer_config& config() const noexcept;

    /// Pulls up to `max_messages` from `queue` starting at `offset`, with the subscription
    /// `filter` sent inline (tag expression or SQL92; parse_tag_expression builds one). If the
    /// queue has nothing new the broker holds the call up to broker_suspend.
    /// @par Completion signature
    /// `void(error_code, pull_result)`. Broker answers FOUND/NO_NEW_MSG/NO_MATCHED_MSG/
    /// OFFSET_ILLEGAL are a pull_result; other broker codes come as broker_category() errors.
    /// Records that cannot be decoded are left out of the result (pull_result::undecodable).
    /// @par Per-operation cancellation
    /// terminal: the pull is abandoned (a late answer is dropped); the connection stays usable.
    template <class Token = boost::asio::deferred_t>
    auto async_pull(message_queue queue, std::int64_t offset, int max_messages, subscription_data filter,
                    Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, pull_result)>(
            [core = core_](auto h, message_queue q, std::int64_t o, int m, subscription_data f) {
                pull_impl(core, std::move(q), o, m, std::move(f), pull_handler(std::move(h)));
            },
            token, std::move(queue), offset, max_messages, std::move(filter));
    }

    /// The readable queues of `topic`, sorted as Java sorts them (topic, broker, queue id).
    /// @par Completion signature
    /// `void(error_code, std::vector<message_queue>)`.
    template <class Token = boost::asio::deferred_t>
    auto async_fetch_queues(std::string topic, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, std::vector<message_queue>)>(
            [core = core_](auto h, std::string t) { queues_impl(core, std::move(t), queues_handler(std::move(h))); },
            token, std::move(topic));
    }

    /// The group's committed offset of `queue` (QUERY_CONSUMER_OFFSET); -1 when none is stored.
    /// @par Completion signature
    /// `void(error_code, std::int64_t)`.
    template <class Token = boost::asio::deferred_t>
    auto async_query_offset(message_queue queue, Token&& token = {})
    {
        return initiate_offset(offset_query::committed, std::move(queue), 0, std::forward<Token>(token));
    }

    /// Commits `offset` (the next offset to consume) for `queue` (UPDATE_CONSUMER_OFFSET, two-way).
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_commit_offset(message_queue queue, std::int64_t offset, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [core = core_](auto h, message_queue q, std::int64_t o) {
                commit_impl(core, std::move(q), o, done_handler(std::move(h)));
            },
            token, std::move(queue), offset);
    }

    /// Offset of the first message stored at or after `timestamp_ms` (SEARCH_OFFSET_BY_TIMESTAMP).
    template <class Token = boost::asio::deferred_t>
    auto async_search_offset(message_queue queue, std::int64_t timestamp_ms, Token&& token = {})
    {
        return initiate_offset(offset_query::by_timestamp, std::move(queue), timestamp_ms,
                               std::forward<Token>(token));
    }

    /// Smallest offset still stored in `queue` (GET_MIN_OFFSET).
    template <class Token = boost::asio::deferred_t>
    auto async_min_offset(message_queue queue, Token&& token = {})
    {
        return initiate_offset(offset_query::min, std::move(queue), 0, std::forward<Token>(token));
    }

    /// One past the last offset of `queue` (GET_MAX_OFFSET).
    template <class Token = boost::asio::deferred_t>
    auto async_max_offset(message_queue queue, Token&& token = {})
    {
        return initiate_offset(offset_query::max, std::move(queue), 0, std::forward<Token>(token));
    }

    const std::shared_ptr<detail::pull_core>& core() const noexcept { return core_; }

private:
    enum class offset_query { committed, by_timestamp, min, max };
    using pull_handler = boost::asio::any_completion_handler<void(error_code, pull_result)>;
    using queues_handler = boost::asio::any_completion_handler<void(error_code, std::vector<message_queue>)>;
    using offset_handler = boost::asio::any_completion_handler<void(error_code, std::int64_t)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    template <class Token>
    auto initiate_offset(offset_query what, message_queue queue, std::int64_t arg, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code, std::int64_t)>(
            [core = core_, what](auto h, message_queue q, std::int64_t a) {
                offset_impl(core, what, std::move(q), a, offset_handler(std::move(h)));
            },
            token, std::move(queue), arg);
    }

    static void pull_impl(const std::shared_ptr<detail::pull_core>&, message_queue, std::int64_t, int,
                          subscription_data, pull_handler);
    static void queues_impl(const std::shared_ptr<detail::pull_core>&, std::string, queues_handler);
    static void offset_impl(const std::shared_ptr<detail::pull_core>&, offset_query, message_queue, std::int64_t,
                            offset_handler);
    static void commit_impl(const std::shared_ptr<detail::pull_core>&, message_queue, std::int64_t, done_handler);

    std::shared_ptr<detail::pull_core> core_;
};

}  // namespace corocket
