// Example: transactional messages. The half message is stored but invisible; the local
// transaction (a coroutine, here pretending to write a database row) decides commit or rollback;
// when it cannot decide (unknown), the broker later asks the check-back handler, which may run
// on any producer of the group.
//
//   producer_transaction [--namesrv host:port]
#include "producer_example.hpp"

#include <corocket/transactional_producer.hpp>

#include <set>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Stands in for the application's database: which orders were really written.
struct orders_db {
    std::set<std::string> committed;
};

}  // namespace

int main(int argc, char** argv)
{
    corocket::testing::cluster_options opts;
    opts.transaction_check_interval = 500ms;  // a real broker checks every 30-60 s
    opts.transaction_timeout = 500ms;
    return example::run(argc, argv, "producer_transaction", [](asio::io_context& ioc, example::context& ctx) -> asio::awaitable<int> {
        const std::string topic = ctx.topic("ExampleTx");
        corocket::client client(ioc.get_executor(), ctx.client_config());
        orders_db db;

        // The check-back handler: look the order up and say what became of it.
        corocket::transactional_producer producer(
            client, {.producer = {.group = "ExampleTxGroup"}},
            [&](const corocket::message_view& m) -> asio::awaitable<corocket::transaction_state> {
                const bool written = db.committed.contains(std::string(m.keys().at(0)));
                fmt::print("check-back for {} ({}): {}\n", m.msg_id(), m.body(), written ? "commit" : "rollback");
                co_return written ? corocket::transaction_state::commit : corocket::transaction_state::rollback;
            });
        if (producer.start())
            co_return 1;

        const std::vector<std::string> orders{"order-1", "order-2", "order-3"};
        for (const std::string& order : orders) {
            corocket::message msg(topic, "payment for " + order);
            msg.set_key(order);
            // The local transaction. (Named rather than written inside the co_await expression:
            // GCC 12 miscompiles temporaries with non-trivial members, such as a lambda capturing
            // a std::string, in a full-expression that contains co_await.)
            auto local = [&db, order](const corocket::message&,
                                      const corocket::send_result&) -> asio::awaitable<corocket::transaction_state> {
                asio::steady_timer io(co_await asio::this_coro::executor, 5ms);  // "write the row"
                co_await io.async_wait(example::tuple_token);
                if (order == "order-2")
                    co_return corocket::transaction_state::rollback;  // the payment was refused
                db.committed.insert(order);
                // order-3: committed locally, but we pretend the answer got lost.
                co_return order == "order-3" ? corocket::transaction_state::unknown : corocket::transaction_state::commit;
            };
            auto [ec, r] = co_await producer.async_send_in_transaction(std::move(msg), local, example::tuple_token);
            if (ec) {
                fmt::print("half message not stored: {} ({})\n", ec.message(), r.half.diag.to_string());
                co_return 1;
            }
            fmt::print("{}: {}\n", order, corocket::to_string(r.state));
        }

        // Wait for the broker to ask about order-3 (the embedded one asks within a second).
        asio::steady_timer wait(ioc);
        for (int i = 0; i < 1200 && producer.stats().answered == 0; ++i) {
            wait.expires_after(100ms);
            co_await wait.async_wait(example::tuple_token);
        }
        const auto stats = producer.stats();
        fmt::print("check-backs: {} received, {} answered, {} failed\n", stats.received, stats.answered, stats.failed);
        co_await producer.async_stop(example::tuple_token);
        co_await client.async_stop(example::tuple_token);
        co_await ctx.stop();
        co_return stats.answered > 0 ? 0 : 1;
    }, opts, std::chrono::seconds(180));
}
