// A lite pull loop: the application polls batches at its own pace and commits what it handled.
//   lite_pull_example [--namesrv host:port]
#include "example_support.hpp"

#include <corocket/lite_pull_consumer.hpp>

#include <set>

using namespace example;

int main(int argc, char** argv)
{
    const auto namesrv = namesrv_arg(argc, argv);
    return run([&]() -> asio::awaitable<int> {
        auto ex = co_await asio::this_coro::executor;
        cluster cl(ex, namesrv);
        const auto topic = unique("LitePullExample");
        corocket::client client(ex, {.namesrv_addr = cl.namesrv()});
        client.start();
        if (!co_await cl.create_topic(client, topic, 2))
            co_return 1;
        constexpr int n = 20;
        if (!co_await produce(client, n, [&](int i) { return corocket::message(topic, fmt::format("event #{}", i)); }))
            co_return 1;
        corocket::lite_pull_options opts;
        opts.group = unique("LitePullExampleGroup");
        opts.from_where = corocket::consume_from_where::first_offset;
        opts.auto_commit = false;
        corocket::lite_pull_consumer consumer(client, opts);
        consumer.subscribe(topic, "*");
        consumer.start();
        std::set<std::string> seen;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (seen.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto [ec, batch] = co_await consumer.async_poll(std::chrono::milliseconds(1000), tuple_token);
            if (ec)
                break;
            for (const auto& m : batch.messages())
                seen.emplace(m.body());
            auto [cec] = co_await consumer.async_commit(tuple_token);  // what was polled is done
            if (cec)
                fmt::print("commit failed: {}\n", cec.message());
        }
        co_await consumer.async_stop(tuple_token);
        co_await client.async_stop(tuple_token);
        co_await cl.stop();
        const bool ok = seen.size() == n;
        fmt::print("{}: polled {} of {} messages\n", ok ? "OK" : "FAILED", seen.size(), n);
        co_return ok ? 0 : 1;
    });
}
