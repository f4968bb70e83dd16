// Example: corocket inside an application that already has an io_context doing other work. The
// client and producer live on the application's io_context; they add no threads. Work from
// another thread reaches the producer by posting to its executor (the thread-safety rule:
// use a client and its producers from their executor only).
//
//   producer_embedded [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

#include <boost/asio/post.hpp>

#include <atomic>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// The application's own work: a periodic job on the same io_context.
asio::awaitable<void> housekeeping(int& ticks, const bool& stop)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stop) {
        timer.expires_after(10ms);
        co_await timer.async_wait(example::tuple_token);
        ++ticks;
    }
}

}  // namespace

int main(int argc, char** argv)
{
    return example::run(argc, argv, "producer_embedded", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleEmbedded");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer producer(client, {.group = "ExampleEmbeddedGroup"});
        if (producer.start())
            co_return 1;

        int ticks = 0;
        bool stop = false, housekeeping_done = false;
        // Not detached: housekeeping reads `ticks` and `stop`, which live in this frame, so this
        // frame waits for it to end before it returns.
        asio::co_spawn(ioc, housekeeping(ticks, stop), [&](std::exception_ptr) { housekeeping_done = true; });

        // A worker thread produces readings; it never touches the producer directly.
        int sent = 0, failed = 0;
        std::thread worker([&] {
            for (int i = 0; i < 20; ++i) {
                std::string body = fmt::format("reading {} from the worker thread", i);
                asio::post(ioc, [&, body = std::move(body)]() mutable {
                    producer.async_send(corocket::message(topic, std::move(body)),
                                        [&](corocket::error_code ec, corocket::send_result) { ++(ec ? failed : sent); });
                });
                std::this_thread::sleep_for(5ms);
            }
        });

        asio::steady_timer wait(ioc);
        while (sent + failed < 20) {
            wait.expires_after(10ms);
            co_await wait.async_wait(example::tuple_token);
        }
        worker.join();
        stop = true;
        while (!housekeeping_done) {
            wait.expires_after(10ms);
            co_await wait.async_wait(example::tuple_token);
        }
        fmt::print("sent {} (failed {}) while the housekeeping job ticked {} times\n", sent, failed, ticks);
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return failed == 0 && ticks > 0 ? 0 : 1;
    });
}
