// Example: delayed messages. A delay level (1..18: 1s 5s 10s 30s 1m ... 2h on a default broker)
// parks the message in SCHEDULE_TOPIC_XXXX until it is due. 5.x brokers also take an absolute
// delivery time (TIMER_DELIVER_MS); 4.x brokers deliver those at once.
//
//   producer_delayed [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main(int argc, char** argv)
{
    corocket::testing::cluster_options opts;
    opts.delay_time_scale = 0.01;  // the embedded broker runs level 3 ("10s") in 100 ms
    return example::run(argc, argv, "producer_delayed", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleDelayed");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer producer(client, {.group = "ExampleDelayedGroup"});
        if (producer.start())
            co_return 1;

        corocket::message reminder(topic, "check the oven");
        reminder.set_delay_level(3);
        auto [ec, r] = co_await producer.async_send(std::move(reminder), example::tuple_token);
        if (ec) {
            fmt::print("send failed: {} ({})\n", ec.message(), r.diag.to_string());
            co_return 1;
        }
        // The offset is in the schedule topic; the broker writes a new copy when it is due.
        fmt::print("delay level 3: {} (schedule offset {})\n", corocket::to_string(r.status), r.queue_offset);

        corocket::message at(topic, "happy new minute");
        at.set_delivery_time(std::chrono::system_clock::now() + 30s);
        auto [ec2, r2] = co_await producer.async_send(std::move(at), example::tuple_token);
        if (ec2) {
            fmt::print("send failed: {} ({})\n", ec2.message(), r2.diag.to_string());
            co_return 1;
        }
        fmt::print("delivery time in 30 s: {} msgId={}\n", corocket::to_string(r2.status), r2.msg_id);
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return 0;
    }, opts);
}
