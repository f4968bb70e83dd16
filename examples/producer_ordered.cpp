// Example: ordered messages. Each order's events carry the order id as sharding key; the
// by-sharding-key selector sends equal keys to the same queue (Java's SelectMessageQueueByHash),
// one attempt each, so a consumer reading that queue sees them in order.
//
//   producer_ordered [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

#include <map>

namespace asio = boost::asio;

int main(int argc, char** argv)
{
    return example::run(argc, argv, "producer_ordered", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleOrdered");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer producer(client, {.group = "ExampleOrderedGroup"});
        if (producer.start())
            co_return 1;

        const char* steps[] = {"created", "paid", "shipped", "delivered"};
        std::map<std::string, corocket::message_queue> queue_of;  // order → its queue
        bool ordered = true;
        for (const char* step : steps) {
            for (int order = 100; order < 105; ++order) {
                const std::string key = fmt::format("order-{}", order);
                corocket::message msg(topic, fmt::format("{} {}", key, step));
                msg.set_sharding_key(key);
                auto [ec, r] = co_await producer.async_send(std::move(msg), corocket::send_options::ordered(),
                                                            example::tuple_token);
                if (ec) {
                    fmt::print("send failed: {} ({})\n", ec.message(), r.diag.to_string());
                    co_return 1;
                }
                auto [it, first] = queue_of.emplace(key, r.queue);
                ordered = ordered && it->second == r.queue;
                fmt::print("{} {} -> queue {} offset {}\n", key, step, r.queue.queue_id, r.queue_offset);
            }
        }
        fmt::print("{}\n", ordered ? "every order stayed on its queue" : "an order changed queues!");
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return ordered ? 0 : 1;
    });
}
