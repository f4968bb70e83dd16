// Broadcasting: every consumer of the group gets every message; each keeps its offsets in a
// local file instead of on the broker.
//   broadcasting_consumer_example [--namesrv host:port]
#include "example_support.hpp"

#include <corocket/push_consumer.hpp>

#include <filesystem>
#include <set>

using namespace example;

int main(int argc, char** argv)
{
    const auto namesrv = namesrv_arg(argc, argv);
    return run([&]() -> asio::awaitable<int> {
        auto ex = co_await asio::this_coro::executor;
        cluster cl(ex, namesrv);
        const auto topic = unique("BroadcastExample");
        const auto dir = std::filesystem::temp_directory_path() / unique("corocket_broadcast_example");
        corocket::client a(ex, {.namesrv_addr = cl.namesrv(), .instance_name = "a"});
        corocket::client b(ex, {.namesrv_addr = cl.namesrv(), .instance_name = "b"});
        a.start();
        b.start();
        if (!co_await cl.create_topic(a, topic, 2))
            co_return 1;
        corocket::push_options opts;
        opts.group = unique("BroadcastExampleGroup");
        opts.model = corocket::message_model::broadcasting;
        opts.from_where = corocket::consume_from_where::first_offset;
        opts.offset_store_dir = dir.string();
        corocket::push_consumer ca(a, opts), cb(b, opts);
        ca.subscribe(topic, "*");
        cb.subscribe(topic, "*");
        std::set<std::string> seen_a, seen_b;
        auto into = [](std::set<std::string>& seen) {
            return corocket::make_consume_handler([&seen](std::span<const corocket::message_view> batch) {
                for (const auto& m : batch)
                    seen.emplace(m.body());
                return corocket::consume_status::success;
            });
        };
        ca.async_run(into(seen_a), [](corocket::error_code) {});
        cb.async_run(into(seen_b), [](corocket::error_code) {});
        constexpr int n = 10;
        if (!co_await produce(a, n, [&](int i) { return corocket::message(topic, fmt::format("notice #{}", i)); }))
            co_return 1;
        const bool all = co_await wait_for([&] { return seen_a.size() == n && seen_b.size() == n; });
        co_await ca.async_stop(tuple_token);
        co_await cb.async_stop(tuple_token);
        co_await a.async_stop(tuple_token);
        co_await b.async_stop(tuple_token);
        co_await cl.stop();
        std::filesystem::remove_all(dir);
        fmt::print("{}: consumer a got {}, consumer b got {} of {}\n", all ? "OK" : "FAILED", seen_a.size(),
                   seen_b.size(), n);
        co_return all ? 0 : 1;
    });
}
