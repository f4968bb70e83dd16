// async_create_topic: UPDATE_AND_CREATE_TOPIC on every master, then wait for the route.
#include <corocket/remoting/codes.hpp>
#include <corocket/testing/topics.hpp>

#include "util/launch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace asio = boost::asio;

namespace corocket::testing::detail {
namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);

remoting::command create_topic_request(const std::string& topic, int queues)
{
    auto req = remoting::command::request(remoting::request_code::update_and_create_topic);
    req.ext_fields.set("topic", topic);
    req.ext_fields.set("defaultTopic", "TBW102");
    req.ext_fields.set("readQueueNums", std::to_string(queues));
    req.ext_fields.set("writeQueueNums", std::to_string(queues));
    req.ext_fields.set("perm", "6");
    req.ext_fields.set("topicFilterType", "SINGLE_TAG");
    req.ext_fields.set("topicSysFlag", "0");
    req.ext_fields.set("order", "false");
    return req;
}

asio::awaitable<error_code> create_on_masters(client& c, const std::string& topic, int queues)
{
    auto [ec, info] = co_await c.async_cluster_info(tuple_token);
    if (ec)
        co_return ec;
    for (const auto& [name, broker] : info.broker_addr_table) {
        auto [cec, resp] = co_await c.async_invoke(broker.master_address(), create_topic_request(topic, queues), {},
                                                    tuple_token);
        if (cec)
            co_return cec;
        if (resp.code != remoting::response_code::success)
            co_return make_broker_error(resp.code);
    }
    co_return error_code{};
}

// Brokers tell the name server of a new topic with their next registration (every 30 s, or at
// once on 4.9 when the topic config changes): poll the route until it is there.
asio::awaitable<error_code> wait_for_route(client& c, const std::string& topic)
{
    asio::steady_timer timer(c.get_executor());
    for (int i = 0; i < 100; ++i) {
        auto [ec, route] = co_await c.async_update_route(topic, tuple_token);
        if (!ec)
            co_return error_code{};
        timer.expires_after(std::chrono::milliseconds(300));
        co_await timer.async_wait(tuple_token);
    }
    co_return make_error_code(client_errc::timeout);
}

asio::awaitable<std::tuple<error_code>> create_topic(client& c, std::string topic, int queues)
{
    if (auto ec = co_await create_on_masters(c, topic, queues))
        co_return ec;
    co_return co_await wait_for_route(c, topic);
}

}  // namespace

void create_topic_impl(client& c, std::string topic, int queues, asio::any_completion_handler<void(error_code)> handler)
{
    corocket::detail::launch_op(c.get_executor(), create_topic(c, std::move(topic), queues), std::move(handler), [] {});
}

}  // namespace corocket::testing::detail
