// An embedded NameServer + Broker cluster that behaves like Apache RocketMQ 4.9.8 for everything
// a client does: the project's test and demo broker. Clients reach it only over TCP, through the
// real remoting protocol, so the same tests can run against a real RocketMQ.
#pragma once

#include <corocket/error.hpp>
#include <corocket/logger.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::testing {

/// One account of the broker's plain ACL (conf/plain_acl.yml of a real broker).
struct acl_account {
    std::string access_key;
    std::string secret_key;
    bool admin = false;
    /// Permission strings as in plain_acl.yml: "DENY", "PUB", "SUB", "PUB|SUB".
    std::string default_topic_perm = "DENY";
    std::string default_group_perm = "SUB";
    std::map<std::string, std::string> topic_perms;  ///< topic → permission
    std::map<std::string, std::string> group_perms;  ///< consumer group → permission
};

struct cluster_options {
    /// Number of brokers (each a master with its own store), all in one cluster.
    std::size_t brokers = 1;
    /// Broker names; missing entries default to broker-a, broker-b, ...
    std::vector<std::string> broker_names;
    std::string cluster_name = "DefaultCluster";

    /// Each broker name also gets a slave (broker id 1) on a port of its own, registered with the
    /// NameServer. It serves what it has replicated, which here is always all of the master's
    /// store (a slave that has caught up); it refuses writes with the real slave's answers and
    /// copies the master's topics, groups and consumer offsets every slave_sync_interval, as
    /// SlaveSynchronize does (10 s on a real broker).
    bool slave = false;
    std::chrono::milliseconds slave_sync_interval{10000};
    /// slaveReadEnable of every broker: a master sends a consumer that lags beyond the memory
    /// window (memory_bytes) on to the slave, and the slave sends it back once it has caught up.
    /// Off (the default), a slave answers pulls with PULL_RETRY_IMMEDIATELY and "use the master".
    bool slave_read_enable = false;

    /// autoCreateTopicEnable: TBW102 exists and sends may create topics from it.
    bool auto_create_topic = true;
    /// autoCreateSubscriptionGroup.
    bool auto_create_subscription_group = true;
    /// defaultTopicQueueNums of the broker (queues of TBW102, the ceiling for auto-created topics).
    int default_topic_queue_nums = 8;
    /// retryQueueNums / retryMaxTimes of auto-created subscription groups.
    int retry_queue_nums = 1;
    int retry_max_times = 16;

    /// Delay levels (messageDelayLevel) and a factor applied to every delay, so that tests can
    /// run level 3 ("10s") in 10 ms with 0.001.
    std::string message_delay_level = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
    double delay_time_scale = 1.0;

    /// 5.x timer messages (TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS). Off: the
    /// properties are ignored, as a 4.9.8 broker does.
    bool timer_wheel_enable = false;
    std::chrono::milliseconds timer_precision{1000};
    std::int64_t timer_max_delay_sec = 3 * 24 * 3600;

    /// Transaction check-back: transactionCheckInterval, transactionTimeOut, transactionCheckMax.
    std::chrono::milliseconds transaction_check_interval{60000};
    std::chrono::milliseconds transaction_timeout{6000};
    int transaction_check_max = 15;

    /// Long polling (longPollingEnable); when off, held pulls wait short_polling_time.
    bool long_polling_enable = true;
    std::chrono::milliseconds short_polling_time{1000};
    /// Upper bound on how long a pull is held, whatever suspendTimeoutMillis says (0 = none).
    std::chrono::milliseconds long_poll_cap{0};

    /// enablePropertyFilter (SQL92 subscriptions).
    bool enable_property_filter = false;
    /// maxMessageSize (whole stored record).
    std::size_t max_message_size = 4 * 1024 * 1024;
    /// Bytes of the newest commit log kept "in memory" (accessMessageInMemoryMaxRatio × RAM on a
    /// real broker). Older messages count as on disk: smaller pull batches, and a group without
    /// an offset no longer starts from 0 on such a queue. 0 = 40 % of physical memory.
    std::uint64_t memory_bytes = 0;
    /// How long a client registration lives without a heartbeat (channelExpiredTimeout).
    std::chrono::milliseconds client_expiry{120000};
    /// Broker-side lifetime of an orderly queue lock.
    std::chrono::milliseconds lock_expiry{60000};

    /// regionId and traceOn (echoed in send responses).
    std::string region_id = "DefaultRegion";
    bool trace_on = true;

    /// aclEnable and the accounts of plain_acl.yml; global white addresses are not modelled.
    bool acl_enable = false;
    std::vector<acl_account> acl_accounts;

    /// When set, messages, topics, offsets and groups are persisted under this directory and
    /// read back by a cluster started on it later. Empty: everything lives in memory.
    std::string data_dir;

    /// TLS on the same ports: with both files set, a connection whose first byte is a TLS
    /// handshake (0x16) gets TLS, anything else plaintext ("permissive", the 4.9.8 default);
    /// tls_enforcing refuses plaintext. Empty files: plaintext only.
    std::string tls_cert_file;
    std::string tls_key_file;
    bool tls_enforcing = false;

    /// Listen ports; 0 = ephemeral. namesrv_port for the NameServer, broker_ports[i] for broker
    /// i's master, slave_ports[i] for its slave.
    std::uint16_t namesrv_port = 0;
    std::vector<std::uint16_t> broker_ports;
    std::vector<std::uint16_t> slave_ports;

    logger log;
};

/// Reads a broker.conf-style text (`key=value` lines, `#` comments) into `opts`, with the Java
/// broker's key names where one exists (brokerClusterName, brokerIP1, autoCreateTopicEnable,
/// autoCreateSubscriptionGroup, defaultTopicQueueNums, messageDelayLevel,
/// transactionCheckInterval, transactionTimeOut, transactionCheckMax, longPollingEnable,
/// shortPollingTimeMills, enablePropertyFilter, maxMessageSize, regionId, traceOn, aclEnable,
/// listenPort, namesrvPort, storePathRootDir, slaveReadEnable) plus brokerName (comma-separated
/// list), brokerCount, delayTimeScale, timerWheelEnable, tlsCertFile, tlsKeyFile, withSlave,
/// slaveListenPort, slaveSyncInterval, memoryBytes. listenPort and slaveListenPort set the first
/// broker's ports; brokerIP1 may only be 127.0.0.1 and aclEnable only false (accounts cannot be
/// given here). Returns false and sets `error` at the first malformed line, unknown key or value
/// the cluster would not honour: nothing is ignored.
bool parse_cluster_config(std::string_view text, cluster_options& opts, std::string& error);

namespace detail {
class cluster_impl;
}

/// NameServer + brokers on 127.0.0.1.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe; use from the executor given at construction.
class embedded_cluster {
public:
    using executor_type = boost::asio::any_io_executor;

    embedded_cluster(executor_type ex, cluster_options opts = {});
    ~embedded_cluster();
    embedded_cluster(const embedded_cluster&) = delete;
    embedded_cluster& operator=(const embedded_cluster&) = delete;

    executor_type get_executor() const noexcept;
    const cluster_options& options() const noexcept;

    /// Binds and starts the NameServer and every broker. An error if a listener cannot bind (the
    /// system's error; `diag` names the listener, its address and the cause, e.g. "broker
    /// broker-a: cannot listen on 127.0.0.1:10911: Address already in use"), if the TLS files
    /// cannot be loaded, or if only one of them is set (client_errc::invalid_argument). A failed
    /// start leaves nothing bound or running.
    error_code start(diagnostics* diag = nullptr);

    /// "127.0.0.1:port" of the NameServer.
    std::string namesrv_address() const;
    /// "127.0.0.1:port" of broker `i` (its master).
    std::string broker_address(std::size_t i = 0) const;
    /// "127.0.0.1:port" of broker `i`'s slave; throws std::out_of_range without
    /// cluster_options::slave.
    std::string slave_address(std::size_t i = 0) const;
    /// Name of broker `i`.
    const std::string& broker_name(std::size_t i = 0) const;
    std::size_t broker_count() const noexcept;

    /// Creates (or updates) `topic` with `queues` read and write queues on every broker, as
    /// UPDATE_AND_CREATE_TOPIC to each master does; slaves copy it at once. perm 6 = read + write.
    void create_topic(const std::string& topic, int queues = 4, int perm = 6);
    /// Number of messages currently in queue `queue_id` of `topic` on broker `i`.
    std::int64_t max_offset(const std::string& topic, int queue_id, std::size_t broker = 0) const;

    // Fault injection -------------------------------------------------------------------------

    /// Closes every client connection now (listeners stay open).
    void drop_connections();
    /// While true, new connections are accepted and closed at once.
    void refuse_connections(bool refuse);
    /// Delays every response to `request_code` by `delay` (0 removes the rule).
    void delay_responses(int request_code, std::chrono::milliseconds delay);
    /// Answers the next `count` requests with `request_code` with `response_code` instead of
    /// processing them. For sends, FLUSH_DISK_TIMEOUT / FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE
    /// store the message first (as a real broker does) and only change the code.
    void inject_response(int request_code, int response_code, int count = 1);
    /// Takes broker `i`'s master (`broker_id` 0) or slave (1) off the network as if its process
    /// had stopped: its listener closes, its connections drop, its timers stop, and the
    /// NameServer forgets its address, as it does when a broker's channel closes (when a master
    /// goes, its slave keeps the broker name routed). Its store and metadata stay; `false`
    /// brings it back on the same port. An error if the port cannot be bound again
    /// (logged with its address).
    error_code set_offline(std::size_t i, std::int64_t broker_id, bool offline);

    /// How many requests with `request_code` broker `i`'s master (0) or slave (1) has received:
    /// lets a test see where a client sent its calls.
    std::uint64_t requests_received(std::size_t i, std::int64_t broker_id, int request_code) const;

    /// Stops listeners and connections, then starts again on the same ports, keeping messages,
    /// offsets, topics and groups (client registrations, held pulls and locks are dropped).
    ///
    /// @par Completion signature
    /// `void(error_code)`: an error if a port could not be bound again (logged with its address).
    template <class Token = boost::asio::deferred_t>
    auto async_restart(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) { restart_impl(done_handler(std::move(handler))); }, token);
    }

    /// Stops everything. Completes once every session, timer and held request has finished.
    ///
    /// @par Completion signature
    /// `void(error_code)` (always success).
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) { stop_impl(done_handler(std::move(handler))); }, token);
    }

private:
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;
    void restart_impl(done_handler handler);
    void stop_impl(done_handler handler);

    std::shared_ptr<detail::cluster_impl> impl_;
};

}  // namespace corocket::testing
