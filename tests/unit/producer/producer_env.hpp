// What producer integration tests share: a cluster (embedded, or the real one named by
// COROCKET_NAMESRV), a client on it, unique topics, and reading back what the broker stored
// through VIEW_MESSAGE_BY_ID and PULL_MESSAGE (decoded with message_batch).
#pragma once

#include <corocket/client.hpp>
#include <corocket/message.hpp>
#include <corocket/producer.hpp>
#include <corocket/remoting/codes.hpp>

#include "message/ids.hpp"
#include "run_coro.hpp"
#include "test_cluster.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace corocket::test {

inline constexpr auto tuple_token = boost::asio::as_tuple(boost::asio::deferred);

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(tuple_token);
}

/// One PULL_MESSAGE answer.
struct pull_answer {
    int code = -1;
    std::int64_t next_offset = 0;
    std::int64_t max_offset = 0;
    message_batch batch;
};

/// A producer configuration for `group` with the defaults otherwise.
inline producer_config config_for(std::string group)
{
    producer_config cfg;
    cfg.group = std::move(group);
    return cfg;
}

class producer_env {
public:
    explicit producer_env(boost::asio::io_context& ioc, testing::cluster_options opts = {},
                          const std::function<void(client_config&)>& tweak = {})
        : cluster(ioc.get_executor(), std::move(opts)), client(ioc.get_executor(), config_with(cluster, tweak))
    {
    }

    bool embedded() const noexcept { return cluster.embedded(); }
    testing::embedded_cluster& broker() { return *cluster.embedded_cluster(); }

    /// A fresh topic with `queues` queues on every broker (name prefixed by the namespace `ns`).
    boost::asio::awaitable<std::string> make_topic(std::string_view prefix, int queues = 4, std::string_view ns = {})
    {
        const std::string name = test_cluster::unique_name(prefix);
        const std::string wire = ns.empty() ? name : std::string(ns) + "%" + name;
        const auto ec = co_await cluster.create_topic(wire, queues);
        INFO("create_topic " << wire << ": " << ec.message());
        REQUIRE_FALSE(ec);
        co_return name;
    }

    /// The one message stored under an offset message id (VIEW_MESSAGE_BY_ID to its broker).
    boost::asio::awaitable<message_batch> view(const std::string& offset_msg_id)
    {
        const auto decoded = detail::decode_offset_msg_id(offset_msg_id);
        REQUIRE(decoded);
        auto req = remoting::command::request(remoting::request_code::view_message_by_id);
        req.ext_fields.set("offset", std::to_string(decoded->second));
        const remoting::call_options call{std::chrono::seconds(5)};
        auto [ec, resp] = co_await client.async_invoke(decoded->first.to_string(), std::move(req), call, tuple_token);
        REQUIRE_FALSE(ec);
        INFO("VIEW_MESSAGE_BY_ID: " << resp.code << " " << resp.remark.value_or(""));
        REQUIRE(resp.code == remoting::response_code::success);
        message_batch batch;
        REQUIRE_FALSE(message_batch::decode(std::move(resp.body), batch));
        REQUIRE(batch.size() == 1);
        co_return batch;
    }

    /// One PULL_MESSAGE (no long polling; the subscription "*" travels with the request).
    boost::asio::awaitable<pull_answer> pull(const message_queue& mq, std::int64_t offset, const std::string& wire_topic,
                                             int max = 32)
    {
        const std::string address = client.broker_address(mq.broker_name);
        REQUIRE_FALSE(address.empty());
        auto req = remoting::command::request(remoting::request_code::pull_message);
        auto& f = req.ext_fields;
        f.set("consumerGroup", "corocket_producer_readback");
        f.set("topic", wire_topic);
        f.set("queueId", std::to_string(mq.queue_id));
        f.set("queueOffset", std::to_string(offset));
        f.set("maxMsgNums", std::to_string(max));
        f.set("sysFlag", "4");  // SUBSCRIPTION: no heartbeat-registered consumer needed
        f.set("commitOffset", "0");
        f.set("suspendTimeoutMillis", "0");
        f.set("subscription", "*");
        f.set("subVersion", "0");
        f.set("expressionType", "TAG");
        const remoting::call_options call{std::chrono::seconds(10)};
        auto [ec, resp] = co_await client.async_invoke(address, std::move(req), call, tuple_token);
        REQUIRE_FALSE(ec);
        pull_answer out;
        out.code = resp.code;
        out.next_offset = resp.ext_fields.get_int("nextBeginOffset").value_or(offset);
        out.max_offset = resp.ext_fields.get_int("maxOffset").value_or(0);
        if (resp.code == remoting::response_code::success)
            REQUIRE_FALSE(message_batch::decode(std::move(resp.body), out.batch));
        co_return out;
    }

    /// Every message in a queue, as owning copies with the fields tests look at.
    struct stored {
        std::string topic;
        std::string body;
        properties props;
        std::int32_t flag = 0;
        std::int32_t sys_flag = 0;         ///< as stored
        std::int64_t queue_offset = 0;
        std::int64_t store_timestamp = 0;
        std::int64_t born_timestamp = 0;
        std::string offset_msg_id;
    };
    /// Every message in a queue, once it holds at least `at_least` of them. A broker answers
    /// SEND_MESSAGE when the commit log has the message; its consume queue, which PULL_MESSAGE
    /// reads, is built right after by another thread (Java's ReputMessageService), so a read
    /// straight after a send can come too early.
    boost::asio::awaitable<std::vector<stored>> read_queue(const message_queue& mq, const std::string& wire_topic,
                                                           std::size_t at_least = 0)
    {
        co_return co_await read_at_least(at_least, [&] { return read_queue_once(mq, wire_topic); });
    }

    /// Every message of a topic, queue by queue over every broker of its route, once it holds at
    /// least `at_least` of them (see read_queue).
    boost::asio::awaitable<std::vector<stored>> read_topic(const std::string& wire_topic, const std::string& user_topic,
                                                           std::size_t at_least = 0)
    {
        co_return co_await read_at_least(at_least, [&] { return read_topic_once(wire_topic, user_topic); });
    }

    boost::asio::awaitable<void> stop()
    {
        co_await client.async_stop(tuple_token);
        co_await cluster.stop();
    }

    test_cluster cluster;
    corocket::client client;

private:
    boost::asio::awaitable<std::vector<stored>> read_queue_once(const message_queue& mq, const std::string& wire_topic)
    {
        std::vector<stored> out;
        std::int64_t offset = 0;
        for (;;) {
            auto answer = co_await pull(mq, offset, wire_topic);
            if (answer.code != remoting::response_code::success)
                break;
            for (const auto& m : answer.batch.messages()) {
                stored s{std::string(m.topic()), std::string(m.body()), {}, m.flag(), m.stored_sys_flag(),
                         m.queue_offset(), m.store_timestamp(), m.born_timestamp(), m.offset_msg_id()};
                for (const auto& [k, v] : m.properties())
                    s.props.insert_or_assign(std::string(k), std::string(v));
                out.push_back(std::move(s));
            }
            if (answer.next_offset <= offset)
                break;
            offset = answer.next_offset;
        }
        co_return out;
    }

    boost::asio::awaitable<std::vector<stored>> read_topic_once(const std::string& wire_topic,
                                                                const std::string& user_topic)
    {
        auto [ec, route] = co_await client.async_update_route(wire_topic, tuple_token);
        REQUIRE_FALSE(ec);
        std::vector<stored> out;
        for (const auto& mq : route.subscribe_queues(user_topic)) {
            auto q = co_await read_queue_once(mq, wire_topic);
            out.insert(out.end(), q.begin(), q.end());
        }
        co_return out;
    }

    /// Reads with `read` until it returns `at_least` messages or 10 s have passed.
    template <class Read>
    static boost::asio::awaitable<std::vector<stored>> read_at_least(std::size_t at_least, Read read)
    {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        auto out = co_await read();
        while (out.size() < at_least && std::chrono::steady_clock::now() < end) {
            co_await sleep_for(std::chrono::milliseconds(20));
            out = co_await read();
        }
        co_return out;
    }

    static client_config config_with(const test_cluster& c, const std::function<void(client_config&)>& tweak)
    {
        auto cfg = c.client_config_for();
        if (tweak)
            tweak(cfg);
        return cfg;
    }
};

/// Polls `pred` every 20 ms until it holds or `limit` passes; returns whether it held.
template <class Pred>
boost::asio::awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (co_await pred())
            co_return true;
        co_await sleep_for(std::chrono::milliseconds(20));
    }
    co_return co_await pred();
}

}  // namespace corocket::test
