// One io_context per thread: each thread runs its own client and push consumer (members of one
// group, sharing the topic's queues); the broker (embedded, unless --namesrv) has a thread too.
// Nothing is shared between threads but an atomic counter.
//   threads_example [--namesrv host:port]
#include "example_support.hpp"

#include <corocket/push_consumer.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace example;

namespace {

asio::awaitable<bool> make_topic(cluster& cl, std::string namesrv, std::string topic)
{
    corocket::client_config cfg;  // a named local: GCC 12 mis-destroys aggregate temporaries in coroutines
    cfg.namesrv_addr = std::move(namesrv);
    corocket::client admin(co_await asio::this_coro::executor, cfg);
    admin.start();
    const bool ok = co_await cl.create_topic(admin, topic, 6);
    co_await admin.async_stop(tuple_token);
    co_return ok;
}

}  // namespace

int main(int argc, char** argv)
{
    auto namesrv = namesrv_arg(argc, argv);
    const auto topic = unique("ThreadsExample");
    const auto group = unique("ThreadsExampleGroup");
    constexpr int threads = 3, n = 60;

    // The broker's own thread.
    asio::io_context broker_ioc{1};
    auto work = asio::make_work_guard(broker_ioc);
    std::unique_ptr<cluster> cl;
    asio::post(broker_ioc, [&] { cl = std::make_unique<cluster>(broker_ioc.get_executor(), namesrv); });
    std::thread broker_thread([&] { broker_ioc.run(); });
    while (true) {  // ask the broker thread for the address once the cluster is up
        auto done = std::make_shared<std::promise<std::string>>();
        auto f = done->get_future();
        asio::post(broker_ioc, [&, done] { done->set_value(cl ? cl->namesrv() : std::string{}); });
        namesrv = f.get();
        if (!namesrv.empty())
            break;
    }
    // The topic, with 6 queues, made on the broker's thread (the embedded cluster lives there; a
    // real one is asked by a client of that thread).
    std::promise<bool> created;
    asio::co_spawn(broker_ioc, make_topic(*cl, namesrv, topic),
                   [&](std::exception_ptr e, bool ok) { created.set_value(!e && ok); });
    if (!created.get_future().get())
        return 1;

    std::mutex seen_mutex;
    std::set<std::string> seen;  // bodies (a queue moving between members may repeat a message)
    std::atomic<int> consumed{0};
    std::atomic<int> ready{0};
    std::vector<int> status(threads, 1);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            status[t] = run([&, t]() -> asio::awaitable<int> {
                auto ex = co_await asio::this_coro::executor;
                corocket::client client(ex, {.namesrv_addr = namesrv, .instance_name = fmt::format("worker{}", t)});
                client.start();
                corocket::push_consumer consumer(client, {{.group = group,
                                                           .from_where = corocket::consume_from_where::first_offset}});
                consumer.subscribe(topic, "*");
                int mine = 0;
                consumer.async_run(corocket::make_consume_handler([&](std::span<const corocket::message_view> batch) {
                    mine += static_cast<int>(batch.size());
                    std::lock_guard lock(seen_mutex);
                    for (const auto& m : batch)
                        seen.emplace(m.body());
                    consumed = static_cast<int>(seen.size());
                    return corocket::consume_status::success;
                }), [](corocket::error_code) {});
                // Produce once the group has settled: every member owns its share of the 6 queues.
                const bool settled = co_await wait_for([&] {
                    const auto queues = consumer.assignment();
                    return std::count_if(queues.begin(), queues.end(),
                                         [&](const auto& q) { return q.topic == topic; }) == 6 / threads;
                });
                ++ready;
                if (t == 0) {
                    co_await wait_for([&] { return ready == threads; });
                    const bool sent = co_await produce(client, n, [&](int i) {
                        return corocket::message(topic, fmt::format("job #{}", i));
                    });
                    if (!sent)
                        co_return 1;
                }
                const bool all = settled && co_await wait_for([&] { return consumed == n; });
                co_await consumer.async_stop(tuple_token);
                co_await client.async_stop(tuple_token);
                fmt::print("thread {}: consumed {}\n", t, mine);
                co_return all ? 0 : 1;
            });
        });
    for (auto& w : workers)
        w.join();
    asio::post(broker_ioc, [&] {
        asio::co_spawn(broker_ioc, cl->stop(), [&](std::exception_ptr) { work.reset(); });
    });
    broker_thread.join();
    const bool ok = consumed == n && std::all_of(status.begin(), status.end(), [](int s) { return s == 0; });
    fmt::print("{}: {} of {} messages consumed by {} threads\n", ok ? "OK" : "FAILED", consumed.load(), n, threads);
    return ok ? 0 : 1;
}
