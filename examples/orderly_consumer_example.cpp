// Orderly consumption: messages of one order (same sharding key → same queue) are handled in
// the order they were sent, even when a handler call fails and is retried.
//   orderly_consumer_example [--namesrv host:port]
#include "example_support.hpp"

#include <corocket/push_consumer.hpp>

#include <map>
#include <vector>

using namespace example;

int main(int argc, char** argv)
{
    const auto namesrv = namesrv_arg(argc, argv);
    return run([&]() -> asio::awaitable<int> {
        auto ex = co_await asio::this_coro::executor;
        cluster cl(ex, namesrv);
        const auto topic = unique("OrderlyExample");
        corocket::client client(ex, {.namesrv_addr = cl.namesrv()});
        client.start();
        if (!co_await cl.create_topic(client, topic, 4))
            co_return 1;
        constexpr int orders = 4, steps = 5;
        const bool sent = co_await produce(client, orders * steps, [&](int i) {
            corocket::message m(topic, fmt::format("order-{}:step-{}", i % orders, i / orders));
            m.set_sharding_key(fmt::format("order-{}", i % orders));
            return m;
        }, corocket::send_options::ordered());
        if (!sent)
            co_return 1;
        corocket::push_options opts;
        opts.group = unique("OrderlyExampleGroup");
        opts.from_where = corocket::consume_from_where::first_offset;
        opts.orderly = true;
        opts.suspend_current_queue_time = std::chrono::milliseconds(100);
        corocket::push_consumer consumer(client, opts);
        consumer.subscribe(topic, "*");
        std::map<std::string, std::vector<int>> steps_seen;  // order → steps in handling order
        bool failed_once = false;
        int handled = 0;
        consumer.async_run(corocket::make_consume_handler([&](std::span<const corocket::message_view> batch) {
            const std::string body(batch[0].body());
            if (!failed_once && body.ends_with("step-2")) {
                failed_once = true;  // this queue waits and the same message comes again
                return corocket::consume_status::retry_later;
            }
            const auto colon = body.find(':');
            steps_seen[body.substr(0, colon)].push_back(std::stoi(body.substr(colon + 6)));
            ++handled;
            return corocket::consume_status::success;
        }), [](corocket::error_code) {});
        const bool all = co_await wait_for([&] { return handled == orders * steps; });
        co_await consumer.async_stop(tuple_token);
        co_await client.async_stop(tuple_token);
        co_await cl.stop();
        bool in_order = all;
        for (const auto& [order, s] : steps_seen) {
            fmt::print("{}: steps {}\n", order, fmt::join(s, " "));
            for (std::size_t i = 0; i < s.size(); ++i)
                in_order = in_order && s[i] == static_cast<int>(i);
        }
        fmt::print("{}\n", in_order ? "OK: every order handled step by step" : "FAILED");
        co_return in_order ? 0 : 1;
    });
}
