// Producer benchmark, modelled on RocketMQ's Java benchmark tool (Producer): N client threads
// (one io_context, client and producer each), each keeping --inflight sends (or batches) in
// flight, for --count messages or --duration seconds.
//
//   producer_bench [--threads N] [--inflight N] [--size BYTES] [--batch N] [--topic T]
//                  [--namesrv host:port] [--count N | --duration S] [--no-compress] [--v1]
//
// Without --namesrv an embedded NameServer + Broker runs in this process, on its own thread and
// io_context. Client CPU time is measured per client thread with getrusage(RUSAGE_THREAD), so the
// broker's work (and the main thread's) is not counted: "cpu us/msg" is the client's cost alone.
// Latency is from initiating a send to its completion handler (per batch with --batch).
#include <corocket/client.hpp>
#include <corocket/producer.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_token = asio::as_tuple(asio::deferred);

namespace {

struct options {
    int threads = 1;
    int inflight = 16;
    std::size_t size = 128;
    int batch = 1;
    std::string topic = "BenchmarkProducerTopic";
    std::string namesrv;
    std::int64_t count = 100000;
    double duration = 0;  // seconds; when set, wins over count
    bool compress = true;
    bool v1 = false;
};

[[noreturn]] void usage()
{
    fmt::print(stderr, "usage: producer_bench [--threads N] [--inflight N] [--size BYTES] [--batch N] [--topic T]\n"
                       "                      [--namesrv host:port] [--count N | --duration S] [--no-compress] [--v1]\n");
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (a == "--threads") o.threads = std::atoi(value());
        else if (a == "--inflight") o.inflight = std::atoi(value());
        else if (a == "--size") o.size = std::strtoull(value(), nullptr, 10);
        else if (a == "--batch") o.batch = std::atoi(value());
        else if (a == "--topic") o.topic = value();
        else if (a == "--namesrv") o.namesrv = value();
        else if (a == "--count") o.count = std::atoll(value());
        else if (a == "--duration") o.duration = std::atof(value());
        else if (a == "--no-compress") o.compress = false;
        else if (a == "--v1") o.v1 = true;
        else usage();
    }
    if (o.threads < 1 || o.inflight < 1 || o.batch < 1 || o.size < 1)
        usage();
    return o;
}

// Printable pseudo-random text: compresses about as well as typical payloads, not to nothing.
std::string make_body(std::size_t size, std::uint32_t seed)
{
    std::minstd_rand rng(seed);
    std::string body(size, ' ');
    for (auto& c : body)
        c = static_cast<char>('!' + rng() % 90);
    return body;
}

std::chrono::microseconds thread_cpu_time()
{
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct thread_result {
    std::int64_t messages = 0;
    std::int64_t failures = 0;
    std::vector<std::uint32_t> latencies_us;
    std::chrono::microseconds cpu{0};
    std::string first_error;
};

// Shared between the client threads: how many messages may still be claimed.
struct quota {
    std::atomic<std::int64_t> remaining;
    clock_type::time_point end;
    bool by_time;

    // Claims up to `n` messages; 0 when the run is over.
    std::int64_t claim(std::int64_t n)
    {
        if (by_time)
            return clock_type::now() < end ? n : 0;
        const auto before = remaining.fetch_sub(n);
        return before <= 0 ? 0 : std::min(before, n);
    }
};

asio::awaitable<void> worker(corocket::producer& p, const options& o, quota& q, thread_result& out,
                             const std::string& body)
{
    for (;;) {
        const auto n = q.claim(o.batch);
        if (n == 0)
            co_return;
        const auto t0 = clock_type::now();
        corocket::error_code ec;
        corocket::send_result r;
        if (o.batch == 1) {
            std::tie(ec, r) = co_await p.async_send(corocket::message(o.topic, body), tuple_token);
        } else {
            std::vector<corocket::message> msgs;
            msgs.reserve(static_cast<std::size_t>(n));
            for (std::int64_t i = 0; i < n; ++i)
                msgs.emplace_back(o.topic, body);
            std::tie(ec, r) = co_await p.async_send_batch(std::move(msgs), tuple_token);
        }
        out.latencies_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count()));
        if (ec) {
            out.failures += n;
            if (out.first_error.empty())
                out.first_error = ec.message() + " " + r.diag.to_string();
        } else {
            out.messages += n;
        }
    }
}

asio::awaitable<void> client_main(const options& o, quota& q, thread_result& out, int index)
{
    auto ex = co_await asio::this_coro::executor;
    corocket::client_config ccfg;
    ccfg.namesrv_addr = o.namesrv;
    corocket::client client(ex, ccfg);
    corocket::producer_config pcfg;
    pcfg.group = fmt::format("BenchmarkProducerGroup_{}", index);
    pcfg.compress_threshold = o.compress ? 4096 : 0;
    pcfg.header_version = o.v1 ? corocket::send_header_version::v1 : corocket::send_header_version::v2;
    pcfg.max_inflight_messages = 0;  // the workers are the limit here
    pcfg.max_inflight_bytes = 0;
    corocket::producer producer(client, pcfg);
    if (auto ec = producer.start()) {
        out.first_error = "start: " + ec.message();
        co_return;
    }
    const std::string body = make_body(o.size, static_cast<std::uint32_t>(index + 1));
    // Warm-up (route lookup, connection), not measured.
    auto [wec, wr] = co_await producer.async_send(corocket::message(o.topic, body), tuple_token);
    if (wec) {
        out.first_error = "warm-up: " + wec.message() + " " + wr.diag.to_string();
        co_await producer.async_stop(tuple_token);
        co_await client.async_stop(tuple_token);
        co_return;
    }
    const auto cpu0 = thread_cpu_time();
    int running = o.inflight;
    asio::steady_timer all_done(ex, clock_type::time_point::max());
    for (int i = 0; i < o.inflight; ++i)
        asio::co_spawn(ex, worker(producer, o, q, out, body), [&](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
            if (--running == 0)
                all_done.cancel();
        });
    co_await all_done.async_wait(tuple_token);
    out.cpu = thread_cpu_time() - cpu0;
    co_await producer.async_stop(tuple_token);
    co_await client.async_stop(tuple_token);
}

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p)
{
    if (sorted.empty())
        return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return sorted[i];
}

}  // namespace

int main(int argc, char** argv)
{
    options o = parse(argc, argv);

    // The embedded broker: its own io_context and thread, so that its CPU is not the client's.
    asio::io_context broker_ioc{1};
    auto broker_work = asio::make_work_guard(broker_ioc);
    std::unique_ptr<corocket::testing::embedded_cluster> cluster;
    std::thread broker_thread;
    if (o.namesrv.empty()) {
        cluster = std::make_unique<corocket::testing::embedded_cluster>(broker_ioc.get_executor());
        if (auto ec = cluster->start()) {
            fmt::print(stderr, "embedded broker: {}\n", ec.message());
            return 1;
        }
        cluster->create_topic(o.topic, 8);
        o.namesrv = cluster->namesrv_address();
        broker_thread = std::thread([&] { broker_ioc.run(); });
    }

    quota q;
    q.by_time = o.duration > 0;
    q.remaining = o.count;
    std::vector<thread_result> results(static_cast<std::size_t>(o.threads));
    std::vector<std::thread> threads;
    const auto start = clock_type::now();
    q.end = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration));
    for (int t = 0; t < o.threads; ++t)
        threads.emplace_back([&, t] {
            asio::io_context ioc{1};
            asio::co_spawn(ioc, client_main(o, q, results[static_cast<std::size_t>(t)], t), asio::detached);
            ioc.run();
        });
    for (auto& t : threads)
        t.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();

    if (cluster) {
        asio::post(broker_ioc, [&] { cluster->async_stop([&](corocket::error_code) { broker_work.reset(); }); });
        broker_thread.join();
    }

    thread_result total;
    for (auto& r : results) {
        total.messages += r.messages;
        total.failures += r.failures;
        total.cpu += r.cpu;
        total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
        if (total.first_error.empty())
            total.first_error = r.first_error;
    }
    std::sort(total.latencies_us.begin(), total.latencies_us.end());
    const double rate = static_cast<double>(total.messages) / seconds;
    const double mbps = rate * static_cast<double>(o.size) / (1024.0 * 1024.0);
    const double cpu_per_msg = total.messages ? static_cast<double>(total.cpu.count()) / static_cast<double>(total.messages) : 0;
    const auto p50 = percentile(total.latencies_us, 0.50), p99 = percentile(total.latencies_us, 0.99),
               p999 = percentile(total.latencies_us, 0.999),
               max = total.latencies_us.empty() ? 0 : total.latencies_us.back();

    fmt::print("{:>7} {:>8} {:>6} {:>5} {:>9} {:>8} {:>10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>10}\n", "threads",
               "inflight", "size", "batch", "messages", "seconds", "msg/s", "MB/s", "p50 us", "p99 us", "p999 us",
               "max us", "cpu us/msg");
    fmt::print("{:>7} {:>8} {:>6} {:>5} {:>9} {:>8.2f} {:>10.0f} {:>7.1f} {:>8} {:>8} {:>8} {:>8} {:>10.2f}\n", o.threads,
               o.inflight, o.size, o.batch, total.messages, seconds, rate, mbps, p50, p99, p999, max, cpu_per_msg);
    fmt::print("{{\"threads\":{},\"inflight\":{},\"size\":{},\"batch\":{},\"messages\":{},\"failures\":{},"
               "\"seconds\":{:.3f},\"msgs_per_sec\":{:.0f},\"mb_per_sec\":{:.2f},\"latency_us\":{{\"p50\":{},\"p99\":{},"
               "\"p999\":{},\"max\":{}}},\"client_cpu_us_per_msg\":{:.3f},\"embedded_broker\":{}}}\n",
               o.threads, o.inflight, o.size, o.batch, total.messages, total.failures, seconds, rate, mbps, p50, p99,
               p999, max, cpu_per_msg, cluster ? "true" : "false");
    if (!total.first_error.empty())
        fmt::print(stderr, "first error: {}\n", total.first_error);
    return total.failures == 0 && total.messages > 0 ? 0 : 1;
}
