// Example: the smallest producer. One message, co_await on the result, and what it tells you.
//
//   producer_send [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

namespace asio = boost::asio;

int main(int argc, char** argv)
{
    return example::run(argc, argv, "producer_send", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleSend");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer producer(client, {.group = "ExampleSendGroup"});
        if (auto ec = producer.start()) {
            fmt::print("start: {}\n", ec.message());
            co_return 1;
        }

        corocket::message msg(topic, "Hello, RocketMQ!");
        msg.set_tags("greeting");
        msg.set_key("hello-1");
        // The default completion token is asio::deferred: co_await gives the send_result and
        // throws a system_error on failure. Pass example::tuple_token to get the error as a value.
        auto [ec, result] = co_await producer.async_send(std::move(msg), example::tuple_token);
        if (ec) {
            fmt::print("send failed: {} ({})\n", ec.message(), result.diag.to_string());
            co_return 1;
        }
        fmt::print("{} msgId={} offsetMsgId={} {}/{} queue {} offset {}\n", corocket::to_string(result.status),
                   result.msg_id, result.offset_msg_id, result.queue.topic, result.queue.broker_name,
                   result.queue.queue_id, result.queue_offset);

        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return 0;
    });
}
