// Test helpers for broker_tests: an embedded cluster on a fresh io_context, driven only through
// client connections (real frames over TCP), plus builders for the requests a client sends.
//
// GCC 12 mis-compiles two constructs in coroutines, so the tests avoid them: a co_await inside a
// Catch assertion macro (await into a variable first), and a braced initializer list in the
// same full-expression as a co_await (build the argument in a statement of its own).
#pragma once

#include <corocket/message.hpp>
#include <corocket/remoting/codes.hpp>
#include <corocket/remoting/connection.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include "message/properties.hpp"
#include "run_coro.hpp"
#include "sleep.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace corocket::test {

namespace asio = boost::asio;
using remoting::command;
using namespace std::chrono_literals;

inline constexpr auto tuple_token = asio::as_tuple(asio::deferred);

/// Milliseconds since the epoch.
inline std::int64_t epoch_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// A client connection that records the broker-initiated requests it receives.
class test_client {
public:
    test_client(asio::any_io_executor ex, std::string address,
                remoting::serialize_type type = remoting::serialize_type::json, int version = 409,
                std::vector<std::shared_ptr<remoting::rpc_hook>> hooks = {})
        : inbox_(std::make_shared<std::vector<command>>())
    {
        remoting::connection_options o;
        o.serialization = type;
        o.language = remoting::language_code::java;
        o.version = version;
        o.hooks = std::move(hooks);
        conn_.emplace(std::move(ex), std::move(address), std::move(o));
        conn_->set_request_handler([inbox = inbox_](command req) { inbox->push_back(std::move(req)); });
    }

    remoting::connection& conn() { return *conn_; }
    /// Requests the broker sent to this client (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE).
    std::vector<command>& inbox() { return *inbox_; }

    /// A two-way call that must get a response.
    asio::awaitable<command> call(command req, std::chrono::milliseconds timeout = 5s)
    {
        auto [ec, resp] = co_await conn_->async_call(std::move(req), {.timeout = timeout}, tuple_token);
        INFO("call failed: " << ec.message());
        REQUIRE(!ec);
        co_return resp;
    }

    /// A two-way call that may fail (timeout, closed connection).
    asio::awaitable<std::pair<error_code, command>> try_call(command req, std::chrono::milliseconds timeout = 5s)
    {
        auto [ec, resp] = co_await conn_->async_call(std::move(req), {.timeout = timeout}, tuple_token);
        co_return std::make_pair(ec, std::move(resp));
    }

    asio::awaitable<void> oneway(command req)
    {
        auto [ec] = co_await conn_->async_oneway(std::move(req), tuple_token);
        REQUIRE(!ec);
    }

    /// Waits until the inbox holds at least `n` requests (or the time runs out).
    asio::awaitable<bool> wait_inbox(std::size_t n, std::chrono::milliseconds limit = 3s)
    {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (inbox_->size() < n && std::chrono::steady_clock::now() < end)
            co_await sleep_for(5ms);
        co_return inbox_->size() >= n;
    }

    asio::awaitable<void> close()
    {
        co_await conn_->async_close(tuple_token);
    }

private:
    std::optional<remoting::connection> conn_;
    std::shared_ptr<std::vector<command>> inbox_;
};

/// Runs `body` with a started cluster on a fresh io_context, then stops the cluster.
inline void with_cluster(testing::cluster_options opts,
                         std::function<asio::awaitable<void>(asio::io_context&, testing::embedded_cluster&)> body,
                         std::chrono::seconds limit = std::chrono::seconds(30))
{
    run_coro(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            testing::embedded_cluster cluster(ioc.get_executor(), opts);
            REQUIRE(!cluster.start());
            co_await body(ioc, cluster);
            auto [ec] = co_await cluster.async_stop(tuple_token);
            REQUIRE(!ec);
        },
        limit);
}

using property_list = std::initializer_list<std::pair<const char*, std::string>>;

/// The properties string as the 4.9.8 Java client writes it (no trailing separator).
inline std::string props(property_list list)
{
    std::string out;
    for (const auto& [k, v] : list)
        corocket::detail::append_property(out, k, v);
    if (!out.empty())
        out.pop_back();
    return out;
}

struct send_args {
    std::string group = "PG";
    std::string topic;
    std::string body = "hello";
    std::string properties;
    int queue_id = 0;
    int sys_flag = 0;
    std::string default_topic = "TBW102";
    int default_queues = 4;
    std::optional<int> reconsume_times;
    std::optional<int> max_reconsume_times;
    int flag = 0;
};

/// SEND_MESSAGE_V2 (310) with the one-letter header, as the Java client sends it.
inline command send_v2(const send_args& a)
{
    auto c = command::request(remoting::request_code::send_message_v2);
    auto& f = c.ext_fields;
    f.set("a", a.group);
    f.set("b", a.topic);
    f.set("c", a.default_topic);
    f.set("d", std::to_string(a.default_queues));
    f.set("e", std::to_string(a.queue_id));
    f.set("f", std::to_string(a.sys_flag));
    f.set("g", std::to_string(epoch_ms()));
    f.set("h", std::to_string(a.flag));
    if (!a.properties.empty())
        f.set("i", a.properties);
    f.set("j", std::to_string(a.reconsume_times.value_or(0)));
    f.set("k", "false");
    if (a.max_reconsume_times)
        f.set("l", std::to_string(*a.max_reconsume_times));
    f.set("m", "false");
    c.body = a.body;
    return c;
}

/// SEND_MESSAGE (10) with the long header names.
inline command send_v1(const send_args& a)
{
    auto c = command::request(remoting::request_code::send_message);
    auto& f = c.ext_fields;
    f.set("producerGroup", a.group);
    f.set("topic", a.topic);
    f.set("defaultTopic", a.default_topic);
    f.set("defaultTopicQueueNums", std::to_string(a.default_queues));
    f.set("queueId", std::to_string(a.queue_id));
    f.set("sysFlag", std::to_string(a.sys_flag));
    f.set("bornTimestamp", std::to_string(epoch_ms()));
    f.set("flag", std::to_string(a.flag));
    if (!a.properties.empty())
        f.set("properties", a.properties);
    f.set("reconsumeTimes", std::to_string(a.reconsume_times.value_or(0)));
    f.set("unitMode", "false");
    f.set("batch", "false");
    c.body = a.body;
    return c;
}

struct pull_args {
    std::string group = "CG";
    std::string topic;
    int queue_id = 0;
    std::int64_t offset = 0;
    int max = 32;
    int sys_flag = 0;  // 1 commit offset, 2 suspend, 4 subscription
    std::int64_t commit_offset = 0;
    std::int64_t suspend_ms = 0;
    std::int64_t sub_version = 0;
    std::string subscription = "*";
    std::string expression_type = "TAG";
};

inline command pull(const pull_args& a)
{
    auto c = command::request(remoting::request_code::pull_message);
    auto& f = c.ext_fields;
    f.set("consumerGroup", a.group);
    f.set("topic", a.topic);
    f.set("queueId", std::to_string(a.queue_id));
    f.set("queueOffset", std::to_string(a.offset));
    f.set("maxMsgNums", std::to_string(a.max));
    f.set("sysFlag", std::to_string(a.sys_flag));
    f.set("commitOffset", std::to_string(a.commit_offset));
    f.set("suspendTimeoutMillis", std::to_string(a.suspend_ms));
    f.set("subVersion", std::to_string(a.sub_version));
    if (a.sys_flag & 4)
        f.set("subscription", a.subscription);
    f.set("expressionType", a.expression_type);
    return c;
}

/// Inline-subscription pull of everything ("lite pull" style: no heartbeat needed).
inline command pull_all(std::string topic, int queue_id, std::int64_t offset, std::string group = "CG")
{
    pull_args a;
    a.group = std::move(group);
    a.topic = std::move(topic);
    a.queue_id = queue_id;
    a.offset = offset;
    a.sys_flag = 4;
    return pull(a);
}

struct subscription {
    std::string topic;
    std::string expression = "*";
    std::string type = "TAG";
    std::int64_t version = 1;
};

/// HEART_BEAT body (HeartbeatData JSON).
std::string heartbeat_body(const std::string& client_id, const std::vector<std::string>& producer_groups,
                           const std::string& consumer_group = {}, const std::vector<subscription>& subs = {},
                           const std::string& model = "CLUSTERING");

inline command heart_beat(const std::string& client_id, const std::vector<std::string>& producer_groups,
                          const std::string& consumer_group = {}, const std::vector<subscription>& subs = {},
                          const std::string& model = "CLUSTERING")
{
    auto c = command::request(remoting::request_code::heart_beat);
    c.body = heartbeat_body(client_id, producer_groups, consumer_group, subs, model);
    return c;
}

inline command header_request(int code, std::initializer_list<std::pair<const char*, std::string>> fields)
{
    auto c = command::request(code);
    for (const auto& [k, v] : fields)
        c.ext_fields.set(k, v);
    return c;
}

/// Decodes a body of stored records (pull, query, view, check-back).
inline message_batch decode_messages(const std::string& body)
{
    message_batch batch;
    INFO("stored records must decode");
    REQUIRE(!message_batch::decode(body, batch));
    return batch;
}

/// Sends one message and requires SUCCESS; returns the response.
inline asio::awaitable<command> send_ok(test_client& c, send_args a)
{
    auto resp = co_await c.call(send_v2(a));
    INFO("send remark: " << resp.remark.value_or(""));
    REQUIRE(resp.code == remoting::response_code::success);
    co_return resp;
}

}  // namespace corocket::test
