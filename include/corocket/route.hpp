// Topic routes and cluster info as the NameServer describes them, and the queue lists derived
// from a route (protocol.md §6.2, §6.3, §7.1). Sans-I/O: parsing and serializing only.
#pragma once

#include <corocket/error.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {

/// One queue of a topic on one broker. Ordered as Java's MessageQueue.compareTo: topic, then broker
/// name, then queue id (byte order = Java String order for the ASCII names RocketMQ allows).
struct message_queue {
    std::string topic;
    std::string broker_name;
    int queue_id = 0;

    friend auto operator<=>(const message_queue&, const message_queue&) = default;
    friend bool operator==(const message_queue&, const message_queue&) = default;

    /// Java's toString: "MessageQueue [topic=T, brokerName=b, queueId=0]" (the consistent-hash key).
    std::string to_string() const;
};

/// fastjson text of a MessageQueue: {"brokerName":"b","queueId":0,"topic":"T"}.
std::string to_json(const message_queue& mq);

/// QueueData of a route: how many queues a topic has on one broker and what they allow.
struct queue_data {
    // Permission bits of `perm` (PermName in the Java sources, protocol.md §4.3.4).
    static constexpr int perm_priority = 0x8;
    static constexpr int perm_read = 0x4;
    static constexpr int perm_write = 0x2;
    static constexpr int perm_inherit = 0x1;

    std::string broker_name;
    int read_queue_nums = 0;
    int write_queue_nums = 0;
    int perm = 0;
    int topic_sys_flag = 0;

    bool readable() const noexcept { return (perm & perm_read) != 0; }
    bool writable() const noexcept { return (perm & perm_write) != 0; }

    friend bool operator==(const queue_data&, const queue_data&) = default;
};

/// BrokerData: the addresses of one broker group (id 0 = master, >= 1 = slaves).
struct broker_data {
    static constexpr std::int64_t master_id = 0;

    std::string cluster;
    std::string broker_name;
    std::map<std::int64_t, std::string> broker_addrs;

    /// The master's "ip:port", or "" when the broker has no master.
    std::string master_address() const;

    friend bool operator==(const broker_data&, const broker_data&) = default;
};

/// TopicRouteData (GET_ROUTEINFO_BY_TOPIC body).
struct topic_route {
    std::vector<queue_data> queue_datas;
    std::vector<broker_data> broker_datas;
    /// "brokerName:queueNum;brokerName:queueNum" for KV-configured ordered topics; usually empty.
    std::string order_topic_conf;

    /// Queues a producer sends to (§7.1): from order_topic_conf when set, otherwise for each
    /// QueueData sorted by broker name with WRITE permission and a master, queues
    /// [0, writeQueueNums).
    std::vector<message_queue> publish_queues(std::string_view topic) const;
    /// Queues a consumer reads (§7.1): for each QueueData with READ, queues [0, readQueueNums).
    std::vector<message_queue> subscribe_queues(std::string_view topic) const;
    /// The BrokerData of that broker, or nullptr.
    const broker_data* find_broker(std::string_view name) const;

    friend bool operator==(const topic_route&, const topic_route&) = default;
};

/// ClusterInfo (GET_BROKER_CLUSTER_INFO body).
struct cluster_info {
    std::map<std::string, broker_data> broker_addr_table;              ///< brokerName → BrokerData
    std::map<std::string, std::vector<std::string>> cluster_addr_table;  ///< cluster → brokerNames

    friend bool operator==(const cluster_info&, const cluster_info&) = default;
};

/// Parses a route body, standard or legacy (bare integer keys), accepting `topicSynFlag` for
/// `topicSysFlag`. Errors: client_errc::bad_body.
error_code parse_topic_route(std::string_view json, topic_route& out);

/// Parses a cluster info body (bare integer keys). Errors: client_errc::bad_body.
error_code parse_cluster_info(std::string_view json, cluster_info& out);

/// The route as a 4.9.8 NameServer sends it to current clients (standard JSON, quoted ids).
std::string to_json(const topic_route& route);

/// Cluster info as a 4.9.8 NameServer sends it (bare integer broker ids: not strict JSON).
std::string to_json(const cluster_info& info);

}  // namespace corocket

template <>
struct std::hash<corocket::message_queue> {
    std::size_t operator()(const corocket::message_queue& mq) const noexcept
    {
        std::size_t h = std::hash<std::string>{}(mq.topic);
        h = h * 31 + std::hash<std::string>{}(mq.broker_name);
        return h * 31 + std::hash<int>{}(mq.queue_id);
    }
};
