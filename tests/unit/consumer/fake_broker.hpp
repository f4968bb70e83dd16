// A small in-process NameServer + Broker for the consumer tests of requests that brokers send
// to clients (GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY, RESET_CONSUMER_CLIENT_OFFSET):
// a real broker only sends them when an administrator asks, so a test cannot make it (the other
// consumer tests run on the embedded broker or a real one, see consumer_env.hpp). It follows the
// broker behaviour of protocol.md §3.4–§3.11 closely enough for the consumer's protocol:
// long-polled pulls, tag filtering, offset tables, consumer lists with NOTIFY_CONSUMER_IDS_CHANGED,
// send-back to %RETRY%/%DLQ% with (scaled) delays, queue locks; plus fault injection.
#pragma once

#include <corocket/remoting/connection.hpp>
#include <corocket/route.hpp>

#include "loopback_peer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace corocket::test {

struct fake_options {
    int brokers = 1;
    /// Delays of send-back levels are multiplied by this (0.001 runs "10s" in 10 ms).
    double delay_time_scale = 0.001;
    int retry_max_times = 16;
    /// A group without a committed offset reads 0 on a queue whose first message is "in memory".
    bool young_queue_reads_zero = true;
    /// Cap of how long a pull is held (whatever suspendTimeoutMillis says).
    std::chrono::milliseconds long_poll_cap{2000};
};

class fake_cluster {
public:
    fake_cluster(boost::asio::any_io_executor ex, fake_options opts = {});
    ~fake_cluster();

    std::string namesrv_address() const;
    std::string broker_address(int i = 0) const;
    std::string broker_name(int i = 0) const { return "broker-" + std::string(1, static_cast<char>('a' + i)); }

    /// Creates `topic` with `queues` queues on every broker.
    void create_topic(const std::string& topic, int queues = 4);
    /// Keeps only the first `keep` messages of a queue, as a topic deleted and created again
    /// looks to a consumer: its offsets are beyond the end and the broker moves them back.
    void truncate_queue(const std::string& topic, int queue_id, std::size_t keep, int broker = 0);
    /// Messages in a queue (its max offset).
    std::int64_t max_offset(const std::string& topic, int queue_id, int broker = 0) const;
    /// The committed offset of a group on a queue (-1 when none).
    std::int64_t committed(const std::string& group, const std::string& topic, int queue_id, int broker = 0) const;
    /// Bodies of every message stored in `topic` (all queues, all brokers).
    std::vector<std::string> bodies(const std::string& topic) const;
    /// Requests received with `code` (all brokers).
    int requests(int code) const;
    /// Answers the next `count` requests with `request_code` with `response_code`.
    void inject_response(int request_code, int response_code, int count = 1);
    /// Sends `req` to a member of `group` on broker 0, as a broker relays an admin request
    /// (§3.15); two-way requests complete with the answer, one-way ones with an empty command.
    boost::asio::awaitable<std::tuple<error_code, remoting::command>> ask_client(const std::string& group,
                                                                                remoting::command req,
                                                                                bool oneway = false);
    /// Closes every client connection.
    void drop_connections();
    void close();

private:
    struct broker;
    std::vector<std::unique_ptr<broker>> brokers_;
    fake_options opts_;
    std::map<int, std::pair<int, int>> injected_;  ///< request code → (response code, count)
    std::map<int, int> counts_;
    friend struct broker;
};

}  // namespace corocket::test
