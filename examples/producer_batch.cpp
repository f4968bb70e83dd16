// Example: batches. Many messages of one topic in a SEND_BATCH_MESSAGE; a batch over the request
// size limit (4 MiB by default, 64 KiB here) is split into several requests automatically.
//
//   producer_batch [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

#include <vector>

namespace asio = boost::asio;

int main(int argc, char** argv)
{
    return example::run(argc, argv, "producer_batch", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleBatch");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer_config cfg;
        cfg.group = "ExampleBatchGroup";
        cfg.max_batch_request_size = 64 * 1024;
        corocket::producer producer(client, cfg);
        if (producer.start())
            co_return 1;

        std::vector<corocket::message> batch;
        for (int i = 0; i < 200; ++i) {
            corocket::message m(topic, fmt::format("reading #{}: {}", i, std::string(1000, 'x')));
            m.set_tags("sensor");
            m.set_key(fmt::format("reading-{}", i));
            batch.push_back(std::move(m));
        }
        auto [ec, r] = co_await producer.async_send_batch(std::move(batch), example::tuple_token);
        if (ec) {
            fmt::print("batch failed: {} ({})\n", ec.message(), r.diag.to_string());
            co_return 1;
        }
        fmt::print("200 messages stored in {} request(s):\n", r.batch_parts.size());
        for (const auto& part : r.batch_parts)
            fmt::print("  messages {}..{} -> {} queue {} offsets {}..{}\n", part.first_index,
                       part.first_index + part.count - 1, part.queue.broker_name, part.queue.queue_id,
                       part.queue_offset, part.queue_offset + static_cast<std::int64_t>(part.count) - 1);
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return r.batch_parts.size() > 1 ? 0 : 1;
    });
}
