// The corocket demo: a producer, a transactional producer and a push consumer, all coroutines on
// one io_context. With no arguments it starts an embedded NameServer + Broker in-process, so it
// runs with nothing installed; with --namesrv host:port (or COROCKET_NAMESRV) it uses a real
// Apache RocketMQ cluster.
//
//   demo [--namesrv host:port] [--messages N]
#include <corocket/client.hpp>
#include <corocket/producer.hpp>
#include <corocket/push_consumer.hpp>
#include <corocket/testing/embedded_cluster.hpp>
#include <corocket/transactional_producer.hpp>

#include "namesrv_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto tuple_token = asio::as_tuple(asio::deferred);

namespace {

struct options {
    std::string namesrv;  // empty: embedded cluster
    int messages = 5;
};

options parse(int argc, char** argv)
{
    options o;
    o.namesrv = example::namesrv_from_env();
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--namesrv" && i + 1 < argc)
            o.namesrv = argv[++i];
        else if (a == "--messages" && i + 1 < argc)
            o.messages = std::atoi(argv[++i]);
        else {
            fmt::print(stderr, "usage: demo [--namesrv host:port] [--messages N]\n");
            std::exit(2);
        }
    }
    return o;
}

// Everything the consumer must see before the demo ends: the plain messages and the committed
// transactional one, never the rolled-back one.
struct expectations {
    std::set<std::string> waiting;  // UNIQ_KEYs not seen yet
    std::string rolled_back;
    bool saw_rolled_back = false;
};

asio::awaitable<int> run(options opt)
{
    auto ex = co_await asio::this_coro::executor;
    std::unique_ptr<corocket::testing::embedded_cluster> cluster;
    if (opt.namesrv.empty()) {
        cluster = std::make_unique<corocket::testing::embedded_cluster>(ex);
        if (auto ec = cluster->start()) {
            fmt::print("could not start the embedded broker: {}\n", ec.message());
            co_return 1;
        }
        opt.namesrv = cluster->namesrv_address();
        fmt::print("embedded NameServer at {}, broker at {}\n", opt.namesrv, cluster->broker_address());
    }
    const std::string suffix = std::to_string(std::random_device{}() % 100000);
    const std::string topic = "CorocketDemo_" + suffix;

    corocket::client client(ex, {.namesrv_addr = opt.namesrv});
    client.start();
    corocket::producer producer(client, {.group = "DemoProducer_" + suffix});
    // The broker asks this handler about transactions whose outcome was left unknown.
    corocket::transactional_producer tx_producer(
        client, {.producer = {.group = "DemoTxProducer_" + suffix}},
        [](const corocket::message_view& m) -> asio::awaitable<corocket::transaction_state> {
            fmt::print("  check-back for {} -> commit\n", m.msg_id());
            co_return corocket::transaction_state::commit;
        });
    corocket::push_consumer consumer(client, {{.group = "DemoConsumer_" + suffix,
                                               .from_where = corocket::consume_from_where::first_offset}});
    if (producer.start() || tx_producer.start() || consumer.subscribe(topic, "*")) {
        fmt::print("could not start the producers or the consumer\n");
        co_return 1;
    }

    expectations expect;
    fmt::print("sending {} messages to {}\n", opt.messages, topic);
    for (int i = 0; i < opt.messages; ++i) {
        corocket::message msg(topic, fmt::format("hello corocket #{}", i));
        msg.set_tags(i % 2 ? "odd" : "even");
        msg.set_key(fmt::format("order-{}", i));
        auto [ec, r] = co_await producer.async_send(std::move(msg), tuple_token);
        if (ec) {
            fmt::print("send failed: {} {}\n", ec.message(), r.diag.to_string());
            co_return 1;
        }
        fmt::print("  sent {} -> {} queue {} offset {}\n", r.msg_id, r.queue.broker_name, r.queue.queue_id,
                   r.queue_offset);
        expect.waiting.insert(r.msg_id);
    }

    for (auto outcome : {corocket::transaction_state::commit, corocket::transaction_state::rollback}) {
        corocket::message msg(topic, fmt::format("transactional {}", corocket::to_string(outcome)));
        auto [ec, r] = co_await tx_producer.async_send_in_transaction(
            std::move(msg),
            [outcome](const corocket::message&, const corocket::send_result&) -> asio::awaitable<corocket::transaction_state> {
                co_return outcome;  // a real application would commit its database work here
            },
            tuple_token);
        if (ec) {
            fmt::print("transactional send failed: {}\n", ec.message());
            co_return 1;
        }
        fmt::print("  transaction {} -> {}\n", r.half.msg_id, corocket::to_string(r.state));
        if (outcome == corocket::transaction_state::commit)
            expect.waiting.insert(r.half.msg_id);
        else
            expect.rolled_back = r.half.msg_id;
    }

    fmt::print("consuming\n");
    asio::steady_timer deadline(ex);
    deadline.expires_after(60s);
    bool stopped = false;
    auto stop_consumer = [&] {
        if (!stopped) {
            stopped = true;
            consumer.async_stop([](corocket::error_code) {});
        }
    };
    deadline.async_wait([&](corocket::error_code ec) {
        if (!ec)
            stop_consumer();
    });
    auto handler = [&](std::span<const corocket::message_view> batch) -> asio::awaitable<corocket::consume_status> {
        for (const auto& m : batch) {
            fmt::print("  received {} [{}] {}\n", m.msg_id(), m.tags(), m.body());
            expect.waiting.erase(std::string(m.msg_id()));
            expect.saw_rolled_back = expect.saw_rolled_back || m.msg_id() == expect.rolled_back;
        }
        if (expect.waiting.empty())
            stop_consumer();
        co_return corocket::consume_status::success;
    };
    auto [run_ec] = co_await consumer.async_run(handler, tuple_token);
    deadline.cancel();

    co_await producer.async_stop(tuple_token);
    co_await tx_producer.async_stop(tuple_token);
    co_await client.async_stop(tuple_token);
    if (cluster)
        co_await cluster->async_stop(tuple_token);

    if (run_ec || !expect.waiting.empty() || expect.saw_rolled_back) {
        fmt::print("demo FAILED: {} message(s) not received{}{}\n", expect.waiting.size(),
                   expect.saw_rolled_back ? ", rolled-back message was delivered" : "",
                   run_ec ? ", consumer: " + run_ec.message() : "");
        co_return 1;
    }
    fmt::print("demo OK: every message arrived once sent, the rolled-back one never did\n");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    asio::io_context ioc{1};
    int status = 1;
    asio::co_spawn(ioc, run(parse(argc, argv)), [&](std::exception_ptr e, int s) {
        if (e)
            std::rethrow_exception(e);
        status = s;
    });
    ioc.run();
    return status;
}
