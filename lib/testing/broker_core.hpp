// Sans-I/O core of one embedded broker: takes decoded requests (with the client channel they
// came from and the current time) and produces responses, broker-initiated requests and
// channel closes as data. Timers (long-poll expiry, delayed delivery, transaction check-back,
// client expiry) advance through tick(). Behaviour follows Apache RocketMQ 4.9.8.
#pragma once

#include "testing/message_store.hpp"

#include <corocket/filter.hpp>
#include <corocket/logger.hpp>
#include <corocket/message.hpp>
#include <corocket/remoting/command.hpp>
#include <corocket/route.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket::testing::detail {

using channel_id = std::uint64_t;

/// The client connection a request arrived on.
struct channel_ref {
    channel_id id = 0;
    host_address remote;  ///< the client's TCP peer address (the stored born host)
};

/// Something the shell must write: a response (request_code = the request's code) or a
/// broker-initiated one-way request (request_code = 0).
struct outbound {
    channel_id channel = 0;
    remoting::command cmd;
    int request_code = 0;
};

struct core_actions {
    std::vector<outbound> out;
    std::vector<channel_id> close;  ///< channels to close (expired clients)
};

/// TopicConfig of the broker.
struct topic_config {
    std::string name;
    int read_queue_nums = 16;
    int write_queue_nums = 16;
    int perm = queue_data::perm_read | queue_data::perm_write;
    int topic_sys_flag = 0;
    bool order = false;
    std::string filter_type = "SINGLE_TAG";

    /// TopicConfig.toString of 4.9.8 (used in error remarks).
    std::string describe() const;
};

/// SubscriptionGroupConfig.
struct subscription_group {
    std::string name;
    bool consume_enable = true;
    bool consume_broadcast_enable = true;
    int retry_queue_nums = 1;
    int retry_max_times = 16;
    bool notify_consumer_ids_changed_enable = true;
    /// brokerId and whichBrokerWhenConsumeSlowly: whom a pull is sent on to (slaveReadEnable)
    /// when the consumer keeps up, and when it lags beyond the memory window.
    std::int64_t broker_id = 0;
    std::int64_t which_broker_when_consume_slowly = 1;
};

struct broker_settings {
    std::string broker_name;
    std::string cluster_name;
    host_address address;
    cluster_options options;
    std::string data_dir;  ///< this broker's store directory ("" = memory only)
    /// 0 for a master. A slave (id 1) reads `master`'s store, as one whose replication has caught
    /// up, and copies its metadata as SlaveSynchronize does.
    std::int64_t broker_id = 0;
    class broker_core* master = nullptr;
};

class broker_core {
public:
    broker_core(broker_settings settings, std::int64_t now_ms);
    ~broker_core();
    broker_core(const broker_core&) = delete;
    broker_core& operator=(const broker_core&) = delete;

    /// Handles one request from `ch`. Responses (unless one-way or held for long polling) and
    /// any notifications go to `out`.
    void handle(const channel_ref& ch, remoting::command req, std::int64_t now_ms, core_actions& out);
    /// The client channel is gone: drop its registrations and held pulls.
    void channel_closed(channel_id ch, std::int64_t now_ms, core_actions& out);
    /// Runs due timers.
    void tick(std::int64_t now_ms, core_actions& out);
    /// Epoch ms of the next timer event (max() if none).
    std::int64_t next_deadline() const noexcept;
    /// Drops everything tied to connections (restart): held pulls, registrations, locks.
    void reset_connections();

    /// Admin helper: UPDATE_AND_CREATE_TOPIC without a connection.
    void create_topic(topic_config cfg);
    /// Answers the next `count` requests with `request_code` with `response_code`.
    void inject_response(int request_code, int response_code, int count);

    const std::string& name() const noexcept { return settings_.broker_name; }
    std::int64_t broker_id() const noexcept { return settings_.broker_id; }
    bool is_slave() const noexcept { return settings_.master != nullptr; }
    /// Slave: whether the master can be reached (SlaveSynchronize fails while it cannot).
    void set_master_reachable(bool reachable) noexcept { master_reachable_ = reachable; }
    /// Slave: SlaveSynchronize.syncAll now (topics, groups, consumer offsets).
    void sync_from_master();
    const host_address& address() const noexcept { return settings_.address; }
    /// Topic configs in name order (what the broker registers with the NameServer).
    const std::map<std::string, topic_config, std::less<>>& topics() const noexcept { return topics_; }
    /// Incremented whenever the topic table changes (the NameServer re-registers then).
    std::uint64_t topics_version() const noexcept { return topics_version_; }
    const message_store& store() const noexcept { return store_; }

private:
    struct client_channel {
        channel_id id = 0;
        std::string client_id;
        remoting::language_code language = remoting::language_code::java;
        int version = 0;
        host_address remote;
        std::int64_t last_update = 0;
    };
    struct consumer_group {
        std::string consume_type;
        std::string message_model;
        std::string consume_from_where;
        std::vector<client_channel> channels;  // registration order
        std::map<std::string, subscription_data, std::less<>> subscriptions;
    };
    struct sql_filter_data {
        sql_filter filter;
        std::string expression;
        std::int64_t client_version = 0;
    };
    struct held_pull {
        channel_ref channel;
        remoting::command request;
        std::string topic;
        int queue_id = 0;
        std::int64_t offset = 0;
        std::int64_t deadline = 0;
        message_filter filter;
    };
    struct queue_lock {
        std::string client_id;
        std::int64_t last_update = 0;
    };
    struct injected_fault {
        int response_code = 0;
        int remaining = 0;
    };
    /// A resolved subscription for one pull.
    struct pull_subscription {
        subscription_data data;
        const sql_filter* sql = nullptr;
        std::shared_ptr<sql_filter> inline_sql;  // compiled from the request (SUBSCRIPTION bit)
    };
    using response = std::optional<remoting::command>;

    // dispatch (broker_core.cpp)
    response dispatch(const channel_ref& ch, remoting::command& req, std::int64_t now);
    response unsupported(const remoting::command& req) const;
    bool apply_fault(const remoting::command& req, response& out, bool& process);

    // topics and groups (broker_core.cpp)
    void add_system_topics();
    const topic_config* find_topic(std::string_view topic) const;
    const topic_config* create_topic_in_send(std::string_view topic, std::string_view default_topic,
                                             int client_queue_nums, int topic_sys_flag);
    const topic_config* create_topic_in_send_back(std::string_view topic, int queue_nums, int perm, int sys_flag);
    void put_topic(topic_config cfg);
    subscription_group* find_group(std::string_view group);
    std::int64_t query_offset(std::string_view group, std::string_view topic, int queue_id) const;
    void commit_offset(std::string_view group, std::string_view topic, int queue_id, std::int64_t offset);

    // sending (broker_send.cpp)
    response send_message(const channel_ref& ch, remoting::command& req, std::int64_t now);
    response send_batch(const channel_ref& ch, remoting::command& req, std::int64_t now);
    response consumer_send_back(remoting::command& req, std::int64_t now);
    bool msg_check(const channel_ref& ch, const remoting::command& req, std::string_view topic,
                   std::string_view default_topic, int default_queue_nums, int queue_id, remoting::command& resp);
    bool handle_retry_and_dlq(const remoting::command& req, std::string_view group_topic, int reconsume_times,
                              std::optional<std::int64_t> max_reconsume, inner_message& msg,
                              const topic_config*& topic, remoting::command& resp);
    void put_result_to_response(const put_result& r, int queue_id, remoting::command& resp);
    put_result store_message(inner_message msg, std::int64_t now);

    // pulling and offsets (broker_pull.cpp)
    response pull_message(const channel_ref& ch, remoting::command& req, std::int64_t now, bool allow_suspend);
    std::optional<pull_subscription> resolve_subscription(const remoting::command& req, std::string_view group,
                                                          std::string_view topic, remoting::command& resp);
    message_filter make_filter(const pull_subscription& sub) const;
    std::int64_t suggested_broker(const subscription_group& g, const get_result& r) const noexcept;
    void notify_arrival(std::string_view topic, int queue_id, std::int64_t now);
    void expire_held_pulls(std::int64_t now);
    void check_held_pulls(std::int64_t now);
    response query_consumer_offset(remoting::command& req);
    response update_consumer_offset(remoting::command& req);
    response queue_offset_query(remoting::command& req);
    response search_offset(remoting::command& req);

    // client registry, locks, config check (broker_clients.cpp)
    response heart_beat(const channel_ref& ch, remoting::command& req, std::int64_t now);
    response unregister_client(const channel_ref& ch, remoting::command& req);
    response consumer_list(remoting::command& req);
    response lock_batch(remoting::command& req, std::int64_t now);
    response unlock_batch(remoting::command& req);
    response check_client_config(remoting::command& req);
    bool register_consumer(const std::string& group, const client_channel& info, consumer_group proto,
                           const std::vector<subscription_data>& subs);
    void notify_consumer_ids_changed(const std::string& group);
    void register_sql_filters(const std::string& group, const std::vector<subscription_data>& subs);
    void expire_clients(std::int64_t now);
    void remove_channel(channel_id ch);
    std::int64_t client_scan_interval() const noexcept;
    std::int64_t hold_check_interval() const noexcept;

    // transactions (broker_tx.cpp)
    response end_transaction(remoting::command& req, std::int64_t now);
    void check_transactions(std::int64_t now);
    put_result put_half_message(inner_message msg, std::int64_t now);
    void put_op_message(std::int64_t half_queue_offset, std::int64_t now);
    std::optional<channel_id> producer_channel(std::string_view group);

    // delayed and timer messages (broker_tx.cpp)
    void deliver_scheduled(std::int64_t now);
    std::int64_t next_scheduled_deadline() const noexcept;

    // lookup and admin (broker_admin.cpp)
    response update_and_create_topic(remoting::command& req);
    response view_message(remoting::command& req);
    response query_message(remoting::command& req);
    response topic_stats(remoting::command& req);

    // slave role (broker_slave.cpp)
    void slave_tick(std::int64_t now);

    // ACL (broker_acl.cpp)
    std::optional<std::string> acl_check(const channel_ref& ch, const remoting::command& req) const;

    // persistence (broker_persist.cpp)
    void load_state();
    void save_state();
    void mark_dirty() noexcept { dirty_ = true; }

    broker_settings settings_;
    logger log_;
    std::unique_ptr<message_store> own_store_;  // null on a slave
    message_store& store_;                      // own_store_, or the master's
    std::map<std::string, topic_config, std::less<>> topics_;
    std::uint64_t topics_version_ = 1;
    std::map<std::string, subscription_group, std::less<>> groups_;
    // "topic@group" → queue id → offset, as consumerOffset.json
    std::map<std::string, std::map<int, std::int64_t>, std::less<>> offsets_;
    std::map<std::string, consumer_group, std::less<>> consumers_;
    std::map<std::string, std::vector<client_channel>, std::less<>> producers_;
    std::map<std::pair<std::string, std::string>, sql_filter_data, std::less<>> sql_filters_;  // (topic, group)
    std::vector<held_pull> held_;
    std::map<std::pair<std::string, message_queue>, queue_lock, std::less<>> locks_;
    std::map<int, injected_fault> faults_;
    std::map<int, std::int64_t> delay_offsets_;  // schedule queue id → next offset to deliver
    std::set<std::int64_t> timer_delivered_;     // timer-topic queue offsets already delivered
    std::set<std::int64_t> tx_resolved_;         // half-queue offsets with an op record
    std::int64_t tx_progress_ = 0;               // half-queue offset below which all is resolved
    std::int64_t next_tx_check_ = 0;
    std::int64_t next_client_scan_ = 0;
    std::int64_t next_hold_check_ = 0;      // slave: PullRequestHoldService's periodic check
    std::int64_t next_slave_sync_ = 0;      // slave: SlaveSynchronize.syncAll
    std::uint64_t synced_topics_version_ = 0;
    bool slave_topics_diverged_ = false;
    bool master_reachable_ = true;
    std::uint64_t producer_rr_ = 0;
    std::int32_t opaque_counter_ = 525000;
    core_actions* out_ = nullptr;
    int pending_store_status_ = 0;  // injected FLUSH_DISK_TIMEOUT & co. for the current send
    bool dirty_ = false;
};

/// The FAQ suffix Java appends to many remarks (FAQUrl.suggestTodo).
std::string faq_suffix(std::string_view url);
inline constexpr std::string_view faq_apply_topic = "http://rocketmq.apache.org/docs/faq/";
inline constexpr std::string_view faq_subscription_group_not_exist = "http://rocketmq.apache.org/docs/faq/";
inline constexpr std::string_view faq_same_group_different_topic = "http://rocketmq.apache.org/docs/faq/";

}  // namespace corocket::testing::detail
