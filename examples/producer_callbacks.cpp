// Example: the same producer without coroutines in the application. async_send takes a
// completion handler; it runs later on the client's executor, never inside async_send.
//
//   producer_callbacks [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/producer.hpp>

namespace asio = boost::asio;

namespace {

// Sends `total` messages, ten in flight at a time, each completion starting the next send.
class sender {
public:
    sender(corocket::producer& p, std::string topic, int total, std::function<void(int failures)> done)
        : producer_(p), topic_(std::move(topic)), total_(total), done_(std::move(done))
    {
    }

    void start()
    {
        for (int i = 0; i < 10; ++i)
            send_next();
    }

private:
    void send_next()
    {
        if (next_ == total_)
            return;
        const int n = next_++;
        corocket::message msg(topic_, fmt::format("callback message {}", n));
        producer_.async_send(std::move(msg), [this, n](corocket::error_code ec, corocket::send_result r) {
            if (ec)
                ++failures_;
            fmt::print("#{}: {} {}\n", n, ec ? ec.message() : std::string(corocket::to_string(r.status)),
                       ec ? r.diag.to_string() : r.msg_id);
            if (++completed_ == total_)
                done_(failures_);
            else
                send_next();
        });
    }

    corocket::producer& producer_;
    std::string topic_;
    int total_;
    int next_ = 0, completed_ = 0, failures_ = 0;
    std::function<void(int)> done_;
};

}  // namespace

int main(int argc, char** argv)
{
    return example::run(argc, argv, "producer_callbacks", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleCallbacks");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        corocket::producer producer(client, {.group = "ExampleCallbacksGroup"});
        if (producer.start())
            co_return 1;

        // Plain callback-style code; this coroutine only waits for it to finish.
        int failures = -1;
        sender s(producer, topic, 50, [&](int f) { failures = f; });
        s.start();
        // One-way: no broker answer, the handler only says the request was written.
        producer.async_send_oneway(corocket::message(topic, "fire and forget"), [](corocket::error_code ec) {
            fmt::print("one-way: {}\n", ec ? ec.message() : "written");
        });

        asio::steady_timer wait(ioc);
        while (failures < 0) {
            wait.expires_after(std::chrono::milliseconds(10));
            co_await wait.async_wait(example::tuple_token);
        }
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return failures == 0 ? 0 : 1;
    });
}
