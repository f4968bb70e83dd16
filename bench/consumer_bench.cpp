// Consumer throughput and latency. Two phases on one push consumer group each:
//   drain — N messages are stored first, then a consumer reads the backlog;
//   live  — a consumer runs while a producer sends N messages (one batch send at a time).
// Reports messages/s, end-to-end latency (born timestamp → handler, ms resolution) p50/p99 and
// client CPU per message (getrusage of the client thread; the embedded broker runs on a thread of
// its own so its work is not counted). A table, then one JSON line.
//   consumer_bench [--namesrv host:port] [--messages N] [--queues Q] [--body BYTES] [--batch B]
//                  [--handler-us U]
// --batch sets consume_batch_max_size (default 32); --handler-us makes the handler wait U µs per
// batch on a timer, as a handler waiting on I/O does (the consumer's 20 slots then fill up).
#include <corocket/client.hpp>
#include <corocket/producer.hpp>
#include <corocket/push_consumer.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto tuple_token = asio::as_tuple(asio::deferred);

namespace {

struct options {
    std::string namesrv;
    int messages = 20000;
    int queues = 4;
    std::size_t body = 128;
    int batch = 32;
    int handler_us = 0;
};

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view a = argv[i];
        if (a == "--namesrv")
            o.namesrv = argv[i + 1];
        else if (a == "--messages")
            o.messages = std::atoi(argv[i + 1]);
        else if (a == "--queues")
            o.queues = std::atoi(argv[i + 1]);
        else if (a == "--body")
            o.body = static_cast<std::size_t>(std::atoi(argv[i + 1]));
        else if (a == "--batch")
            o.batch = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--handler-us")
            o.handler_us = std::max(0, std::atoi(argv[i + 1]));
        else {
            fmt::print(stderr, "usage: consumer_bench [--namesrv host:port] [--messages N] [--queues Q] [--body BYTES] "
                               "[--batch B] [--handler-us U]\n");
            std::exit(2);
        }
    }
    return o;
}

double thread_cpu_seconds()
{
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct phase_result {
    std::string name;
    int messages = 0;
    double seconds = 0;
    double cpu_seconds = 0;
    std::int64_t p50_ms = 0, p99_ms = 0;
};

std::int64_t percentile(std::vector<std::int64_t> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

asio::awaitable<bool> send_all(corocket::producer& producer, const std::string& topic, int n, std::size_t body)
{
    constexpr int batch = 64;
    for (int i = 0; i < n; i += batch) {
        std::vector<corocket::message> msgs;
        for (int j = i; j < std::min(n, i + batch); ++j)
            msgs.emplace_back(topic, std::string(body, static_cast<char>('a' + j % 26)));
        auto [ec, r] = co_await producer.async_send_batch(std::move(msgs), tuple_token);
        if (ec) {
            fmt::print(stderr, "send failed: {}\n", ec.message());
            co_return false;
        }
    }
    co_return true;
}

/// One phase: backlog first (drain) or sending while consuming (live).
asio::awaitable<phase_result> run_phase(corocket::client& client, corocket::producer& producer, const options& o,
                                        bool live, const std::string& suffix)
{
    auto ex = co_await asio::this_coro::executor;
    phase_result res;
    res.name = live ? "live" : "drain";
    res.messages = o.messages;
    const std::string topic = "ConsumerBench_" + res.name + "_" + suffix;
    if (!co_await send_all(producer, topic, std::min(o.messages, 1), o.body))  // creates the topic
        co_return res;
    if (!live && !co_await send_all(producer, topic, o.messages - 1, o.body))
        co_return res;
    corocket::push_options opts;
    opts.group = "ConsumerBench_" + res.name + "_" + suffix;
    opts.from_where = corocket::consume_from_where::first_offset;
    opts.consume_batch_max_size = o.batch;
    corocket::push_consumer consumer(client, opts);
    consumer.subscribe(topic, "*");
    std::vector<std::int64_t> latency;
    latency.reserve(static_cast<std::size_t>(o.messages));
    const int expected = live ? o.messages + 1 : o.messages;
    int received = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    consumer.async_run(
        [&](std::span<const corocket::message_view> batch) -> asio::awaitable<corocket::consume_status> {
            const auto now = now_ms();
            for (const auto& m : batch)
                latency.push_back(now - m.born_timestamp());
            received += static_cast<int>(batch.size());
            if (o.handler_us > 0) {
                asio::steady_timer wait(ex, std::chrono::microseconds(o.handler_us));
                co_await wait.async_wait(tuple_token);
            }
            co_return corocket::consume_status::success;
        },
        [](corocket::error_code) {});
    if (live)
        co_await send_all(producer, topic, o.messages, o.body);
    asio::steady_timer t(ex);
    const auto limit = std::chrono::steady_clock::now() + 120s;
    while (received < expected && std::chrono::steady_clock::now() < limit) {
        t.expires_after(1ms);
        co_await t.async_wait(tuple_token);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.cpu_seconds = thread_cpu_seconds() - cpu0;
    if (!live)  // the backlog's born times say how long it waited, not how fast it was delivered
        latency.clear();
    res.p50_ms = percentile(latency, 0.50);
    res.p99_ms = percentile(latency, 0.99);
    res.messages = received;
    co_await consumer.async_stop(tuple_token);
    co_return res;
}

}  // namespace

int main(int argc, char** argv)
{
    const auto o = parse(argc, argv);
    // The broker's own thread and io_context.
    asio::io_context broker_ioc{1};
    auto work = asio::make_work_guard(broker_ioc);
    std::unique_ptr<corocket::testing::embedded_cluster> cluster;
    std::string namesrv = o.namesrv;
    if (namesrv.empty()) {
        corocket::testing::cluster_options copts;
        copts.default_topic_queue_nums = o.queues;
        cluster = std::make_unique<corocket::testing::embedded_cluster>(broker_ioc.get_executor(), copts);
        if (auto ec = cluster->start()) {
            fmt::print(stderr, "embedded broker: {}\n", ec.message());
            return 1;
        }
        namesrv = cluster->namesrv_address();
    }
    std::thread broker_thread([&] { broker_ioc.run(); });

    asio::io_context ioc{1};
    std::vector<phase_result> results;
    const std::string suffix = std::to_string(std::random_device{}() % 1000000);
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        corocket::client client(ioc.get_executor(), {.namesrv_addr = namesrv});
        client.start();
        corocket::producer producer(client, {.group = "ConsumerBenchProducer_" + suffix});
        producer.start();
        for (bool live : {false, true})
            results.push_back(co_await run_phase(client, producer, o, live, suffix));
        co_await producer.async_stop(tuple_token);
        co_await client.async_stop(tuple_token);
    }, [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });
    ioc.run();
    if (cluster) {
        std::promise<void> stopped;
        asio::post(broker_ioc, [&] { cluster->async_stop([&](corocket::error_code) { stopped.set_value(); }); });
        stopped.get_future().wait();
    }
    work.reset();
    broker_thread.join();

    fmt::print("{:<6} {:>9} {:>10} {:>12} {:>8} {:>8} {:>14}\n", "phase", "messages", "seconds", "messages/s",
               "p50 ms", "p99 ms", "CPU us/msg");
    std::string json =
        fmt::format("{{\"bench\":\"consumer\",\"broker\":\"{}\",\"body\":{},\"queues\":{},\"batch\":{},\"handler_us\":{}",
                    o.namesrv.empty() ? "embedded" : o.namesrv, o.body, o.queues, o.batch, o.handler_us);
    bool ok = true;
    for (const auto& r : results) {
        const double rate = r.seconds > 0 ? r.messages / r.seconds : 0;
        const double cpu_us = r.messages > 0 ? r.cpu_seconds * 1e6 / r.messages : 0;
        fmt::print("{:<6} {:>9} {:>10.3f} {:>12.0f} {:>8} {:>8} {:>14.2f}\n", r.name, r.messages, r.seconds, rate,
                   r.name == "live" ? std::to_string(r.p50_ms) : "-", r.name == "live" ? std::to_string(r.p99_ms) : "-",
                   cpu_us);
        json += fmt::format(",\"{0}_messages\":{1},\"{0}_msgs_per_s\":{2:.0f},\"{0}_cpu_us_per_msg\":{3:.2f}", r.name,
                            r.messages, rate, cpu_us);
        if (r.name == "live")
            json += fmt::format(",\"live_p50_ms\":{},\"live_p99_ms\":{}", r.p50_ms, r.p99_ms);
        ok = ok && r.messages >= o.messages;
    }
    fmt::print("{}}}\n", json);
    return ok ? 0 : 1;
}
