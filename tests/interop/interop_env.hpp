// What the interop tests share: corocket's messages, send results and queues written in the
// JSON shape the Java peer prints them in (Peer.java's describe), field-by-field comparisons of
// the two, and a corocket push consumer that records every message it is handed.
#pragma once

#include <corocket/client.hpp>
#include <corocket/message.hpp>
#include <corocket/push_consumer.hpp>
#include <corocket/rebalance.hpp>
#include <corocket/route.hpp>
#include <corocket/send_result.hpp>

#include "consumer_env.hpp"
#include "java_peer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

/// The first statement of every interop test case.
#define INTEROP_OR_SKIP()                                                                              \
    if (!corocket::test::interop_enabled()) {                                                         \
        WARN("skipped: the interop suite runs against the real broker only (set COROCKET_NAMESRV)"); \
        return;                                                                                        \
    }

namespace corocket::test {

namespace json = boost::json;

/// Time limit of one interop test case (JVM start, consumer starts, broker check-backs).
inline constexpr std::chrono::seconds interop_time_limit{240};
/// How long the tests wait for deliveries and settled assignments (a retry takes 10 s, a
/// check-back up to 8 s on the real broker).
inline constexpr std::chrono::seconds delivery_wait{30};

/// Runs a test coroutine like run_coro, under interop_time_limit, but returns as soon as it has
/// finished: a failed REQUIRE leaves consumers running that would keep run_coro's io_context
/// busy until the limit.
void run_interop(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body);

std::string base64(std::string_view bytes);
/// The string `o[key]` holds, empty when absent or not a string.
std::string text(const json::object& o, std::string_view key);

json::object queue_json(const message_queue& q);
message_queue queue_of(const json::value& v);
std::vector<message_queue> queues_of(const json::value& array);
json::array queues_json(const std::vector<message_queue>& queues);

/// A message as the peer's "send" command takes it.
json::object to_peer(const message& m);

/// What corocket delivered, as Peer.describe(MessageExt) prints a Java-delivered message.
json::object describe(const message_view& m);
/// What corocket sent, as Peer.describe(Message) prints a message after a Java send: `m` with the
/// UNIQ_KEY the send gave it.
json::object describe_sent(const message& m, std::string_view uniq_key);
/// corocket's send result, as Peer.describe(SendResult).
json::object describe(const send_result& r);

/// The Java consumer and corocket present the same stored message alike: every field, every
/// property (but CONSUME_START_TIME, MIN_OFFSET and MAX_OFFSET, which the Java consumer puts on
/// every message it hands to a listener, and the transactionId it derives from the UNIQ_KEY of a
/// transactional message).
void check_same_view(const json::object& java, const json::object& corocket);

/// How a message was sent (what check_delivered expects of where it was stored).
enum class sent_as {
    plain,
    delayed,
    transactional,  ///< committed by the sender after the half message was stored
    checked,        ///< committed by the sender's checker when the broker checked back
};

/// `view` (a delivered message in describe shape, from either client) is what the sender
/// described (`sent`: describe(Message) shape; `result`: describe(SendResult) shape or null for a
/// one-way send): body, flag, tags, keys, every property the sender set, the ids; and the queue,
/// offset and offset id the send result named, for what each kind of send names.
void check_delivered(const json::object& view, const json::object& sent, const json::object* result, sent_as kind);

/// One message a sender reported: the message after the send (describe(Message) shape), the
/// send result (describe(SendResult) shape; null for one-way sends) and the kind of send.
struct sent_record {
    json::object msg;
    json::value result;
    sent_as kind = sent_as::plain;
};

/// The result of message `index` of a batch send: its own msgId, offsetMsgId and queue offset
/// out of the comma-separated lists and the first offset the batch result holds.
json::object batch_member_result(const json::object& batch_result, std::size_t index);

/// Sends `msgs` through the peer's producer `producer` in `mode` ("sync", "oneway", "batch",
/// "ordered" with extra {"key":...}, "tx" with extra {"local":...}); returns what it reported.
boost::asio::awaitable<std::vector<sent_record>> java_send(java_peer& peer, std::string_view producer,
                                                            std::string_view mode, const std::vector<message>& msgs,
                                                            json::object extra = {}, sent_as kind = sent_as::plain);

/// java_send of one message.
boost::asio::awaitable<std::vector<sent_record>> java_send_one(java_peer& peer, std::string_view producer,
                                                               std::string_view mode, message msg,
                                                               json::object extra = {}, sent_as kind = sent_as::plain);
/// The extra argument of an "ordered" send: Java's SelectMessageQueueByHash gets `key`.
json::object by_key(std::string_view key);
/// The extra argument of a "tx" send: the local transaction answers `state` (a
/// LocalTransactionState name).
json::object local_state(std::string_view state);

// (GCC 12 cannot keep a braced list alive across a co_await: commands are built in a statement of
// their own, `auto cmd = json::object{...}; co_await peer.call(std::move(cmd));`.)

/// Every sent message was delivered exactly once to each of `java` and `corocket` (views of two
/// consumer groups), the two views agree field by field, and each is what was sent.
void check_all_delivered(const std::vector<sent_record>& sent, const std::vector<json::object>& java,
                         const std::vector<json::object>& corocket);

/// The JSON text of a description with a long body cut short (for test messages).
std::string brief(const json::object& o);

/// Two half messages the broker checked back, one shown by a Java checker, one by a corocket
/// checker, are presented alike: the same fields and property names, and the same values where
/// they do not depend on the message (topic, flags, hosts, the transaction properties).
void check_same_half_message_shape(const json::object& java, const json::object& corocket);

/// The message with this msgId (UNIQ_KEY), or nullptr.
const json::object* find_message(const std::vector<json::object>& views, std::string_view msg_id);

/// `m` with these user properties.
message with_properties(message m, std::initializer_list<std::pair<std::string, std::string>> props);
/// What the plain cases send: no tag; a tag, two keys and a flag; user properties with non-ASCII
/// text, '=', ';' and spaces in names and values.
std::vector<message> sample_messages(const std::string& topic);
/// A batch of five, each with a key and an "index" property.
std::vector<message> sample_batch(const std::string& topic);
/// Sharding keys for ordered sends (Cyrillic, and an emoji: a surrogate pair in Java).
const std::vector<std::string>& ordering_keys();
/// "MessageQueue [...] MessageQueue [...] " (for comparing and printing lists of queues).
std::string queues_text(const std::vector<message_queue>& queues);

/// A compressible text body of `size` bytes.
std::string text_body(std::size_t size, std::string_view seed);

/// A corocket push consumer on a client of its own that records, in delivery order, every
/// message it is handed (describe shape), and answers what `answer` says (success by default).
class recording_consumer {
public:
    recording_consumer(boost::asio::any_io_executor ex, client_config cfg, push_options opts);
    ~recording_consumer();

    push_consumer& consumer() noexcept { return *consumer_; }
    const std::string& client_id() const noexcept { return client_.client_id(); }
    /// Subscribes (with a tag expression, or an SQL92 one) and runs in the background.
    void start(const std::string& topic, const std::string& expression = "*");
    void start_sql92(const std::string& topic, const std::string& expression);
    /// Stops the consumer and its client.
    boost::asio::awaitable<void> stop();

    std::vector<json::object> received;
    std::function<consume_status(const message_view&)> answer = [](const message_view&) {
        return consume_status::success;
    };

private:
    void run();

    client client_;
    std::unique_ptr<push_consumer> consumer_;
    bool running_ = false;
    bool done_ = false;
};

/// A topic with two consumer groups on it, a Java consumer ("c" on the peer) and a corocket
/// one, to compare their views of every message; a client for corocket producers; the peer for
/// Java producers.
class delivery_env {
public:
    /// With a namespace `ns`, every client (the Java ones too) works in it.
    explicit delivery_env(boost::asio::any_io_executor ex, std::string ns = {});

    /// Creates the topic ("<prefix>_<n>", "<ns>%<prefix>_<n>" on the wire), starts the peer and
    /// both consumers. Java producers are the test's to start (peer.call({{"op", "producer"},
    /// ...}), with java_namespace()).
    boost::asio::awaitable<void> start(std::string_view prefix, int queues = 4);
    /// Waits until both consumers have at least `n` messages.
    boost::asio::awaitable<void> wait_for(std::size_t n);
    /// check_all_delivered on what both consumers received.
    void check(const std::vector<sent_record>& sent) const;
    std::vector<json::object> java_received() const { return peer.messages("recv", "c"); }
    const std::vector<json::object>& corocket_received() const { return corocket->received; }
    boost::asio::awaitable<void> close();
    /// {"namespace": ns} for a peer command, or {} without a namespace.
    json::object java_namespace() const;

    boost::asio::any_io_executor ex;
    std::string name_space;
    consumer_cluster cluster;
    java_peer peer;
    client sender;
    std::string topic;
    std::unique_ptr<recording_consumer> corocket;
};

/// corocket's allocation strategy for a spec the peer reads too (Peer.strategy): {"name": "AVG" |
/// "AVG_BY_CIRCLE" | "CONSISTENT_HASH" (+ "virtualNodes") | "CONFIG" (+ "queues") | "MACHINE_ROOM"
/// (+ "idcs") | "MACHINE_ROOM_NEARBY" (+ "inner", "brokerRooms")}. The nearby resolver is the
/// peer's: a queue's room is brokerRooms[broker] if given, else the broker name before '@'; a
/// client's room is its instance name (after the client id's first '@') up to the first '-'.
allocate_strategy corocket_strategy(const json::object& spec);

/// The consumer options the interop tests use (test_consumer_options: from the first offset,
/// quick rebalances).
push_options interop_push_options(std::string group);

/// A client_config on `cluster` with instance name `instance` (empty: the default).
client_config interop_client_config(const consumer_cluster& cluster, std::string instance = {});

}  // namespace corocket::test
