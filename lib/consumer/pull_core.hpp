// The shell under every consumer: one group's requests to brokers as coroutines on the client's
// executor (pull, offsets, consumer list, send-back, locks), with namespace wrapping, address
// selection (suggestWhichBrokerId) and route look-ups. Decisions live in requests.hpp.
#pragma once

#include <corocket/pull_consumer.hpp>

#include "client/client_impl.hpp"
#include "consumer/requests.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace corocket::detail {

class pull_core : public std::enable_shared_from_this<pull_core> {
public:
    template <class... Ts>
    using op = client_impl::op<Ts...>;

    /// What one pull asks for beyond queue, offset and filter.
    struct pull_options {
        int max_messages = 32;
        std::chrono::milliseconds suspend{20000};  ///< 0 = no SUSPEND bit
        std::chrono::milliseconds timeout{30000};
        std::int64_t commit_offset = -1;           ///< >= 0: piggy-backed commit (COMMIT_OFFSET bit)
        bool inline_subscription = true;           ///< SUBSCRIPTION bit
        int max_bytes = 0;
        bool lite = false;
    };

    pull_core(std::shared_ptr<client_impl> client, pull_consumer_config cfg);

    client_impl& client() noexcept { return *client_; }
    const std::shared_ptr<client_impl>& client_ptr() const noexcept { return client_; }
    const pull_consumer_config& config() const noexcept { return cfg_; }
    const logger& log() const noexcept { return client_->log(); }

    /// Names as on the wire (namespace applied) and back.
    const std::string& wire_group() const noexcept { return wire_group_; }
    const std::string& wire_retry_topic() const noexcept { return wire_retry_topic_; }
    std::string wire_topic(std::string_view user_topic) const;
    std::string user_topic(std::string_view wire_topic) const;
    message_queue to_wire(const message_queue& user_queue) const;
    message_queue to_user(const message_queue& wire_queue) const;

    pull_options default_pull_options() const;

    op<pull_result> pull(message_queue queue, std::int64_t offset, subscription_data filter, pull_options opts);
    /// Readable queues of a topic, sorted; `refresh` asks the name servers even if cached.
    op<std::vector<message_queue>> fetch_queues(std::string topic, bool refresh);
    op<std::int64_t> query_offset(message_queue queue);
    op<std::int64_t> queue_offset(int code, message_queue queue, std::int64_t timestamp_ms);
    op<> commit_offset(message_queue queue, std::int64_t offset);
    /// UPDATE_CONSUMER_OFFSET one-way (periodic persistence, as Java does).
    op<> commit_offset_oneway(message_queue queue, std::int64_t offset);
    /// The group's live members (sorted), asked of a broker that serves `topic`.
    op<std::vector<std::string>> consumer_ids(std::string topic);
    /// CONSUMER_SEND_MSG_BACK for a received message, to the master that stored it.
    op<> send_back(const message_view& m, int delay_level, int max_reconsume_times);
    /// The fallback when send-back fails (§7.9): sends a copy of `m` to %RETRY%<group> as a normal
    /// message carrying `reconsume_times` (the broker diverts it to %DLQ% at the maximum, which
    /// `dead_letter` says is the case: the copy then goes without a delay level).
    op<> resend_to_retry(const message_view& m, int reconsume_times, int max_reconsume_times, bool dead_letter);
    /// LOCK_BATCH_MQ of `queues` (all on one broker); returns those now locked.
    op<std::vector<message_queue>> lock(std::vector<message_queue> queues);
    op<> unlock(std::vector<message_queue> queues, bool oneway);

    /// Address of the queue's broker: `broker_id` (slave suggested), else the master, else any
    /// address of the broker name (a slave while its master is gone); the route is refreshed
    /// once when none is known.
    op<std::string> address_of(const message_queue& user_queue, std::int64_t broker_id);

private:
    /// The master's address only, refreshing the route once when it is not known: queue locks
    /// live on the master (a slave would grant the same queue from a lock table of its own).
    op<std::string> master_address_of(const message_queue& user_queue);
    op<std::string> lookup_address(const message_queue& user_queue, std::function<std::string()> pick);
    op<remoting::command> call_master(const message_queue& user_queue, remoting::command req,
                                      std::chrono::milliseconds timeout);

    std::shared_ptr<client_impl> client_;
    pull_consumer_config cfg_;
    std::string wire_group_;
    std::string wire_retry_topic_;
    std::map<message_queue, std::int64_t> suggested_broker_;  ///< user queue → broker id
    std::size_t retry_queue_turn_ = 0;
};

}  // namespace corocket::detail
