// A push consumer: a coroutine handler gets batches of messages; offsets are committed for it.
//   push_consumer_example [--namesrv host:port]
#include "example_support.hpp"

#include <corocket/push_consumer.hpp>

#include <set>

using namespace example;

int main(int argc, char** argv)
{
    const auto namesrv = namesrv_arg(argc, argv);
    return run([&]() -> asio::awaitable<int> {
        auto ex = co_await asio::this_coro::executor;
        cluster cl(ex, namesrv);
        const auto topic = unique("PushExample");
        corocket::client client(ex, {.namesrv_addr = cl.namesrv()});
        client.start();
        if (!co_await cl.create_topic(client, topic, 4))
            co_return 1;
        constexpr int n = 20;
        if (!co_await produce(client, n, [&](int i) { return corocket::message(topic, fmt::format("order #{}", i)); }))
            co_return 1;
        corocket::push_consumer consumer(client, {{.group = unique("PushExampleGroup"),
                                                   .from_where = corocket::consume_from_where::first_offset}});
        consumer.subscribe(topic, "*");
        std::set<std::string> seen;
        consumer.async_run(
            [&](std::span<const corocket::message_view> batch) -> asio::awaitable<corocket::consume_status> {
                for (const auto& m : batch)
                    seen.emplace(m.body());
                co_return corocket::consume_status::success;  // retry_later would redeliver them later
            },
            [](corocket::error_code) {});
        const bool all = co_await wait_for([&] { return seen.size() == n; });
        co_await consumer.async_stop(tuple_token);
        const auto stats = consumer.stats();
        for (const auto& s : stats.subscriptions)
            fmt::print("{}: {} processed, {} failed, lag {}\n", s.topic, s.processed, s.failed, s.lag);
        co_await client.async_stop(tuple_token);
        co_await cl.stop();
        fmt::print("{}: {} of {} messages consumed\n", all ? "OK" : "FAILED", seen.size(), n);
        co_return all ? 0 : 1;
    });
}
