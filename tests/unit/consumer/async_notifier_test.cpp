// async_notifier: the consumers' condition variable. Waiters must stay asleep until notified
// (the shared-timer version it replaced woke its waiters in a loop), notify_one wakes one,
// notify_all every one, and a deadline ends a wait by itself.
#include "consumer/async_notifier.hpp"

#include "run_coro.hpp"
#include "sleep.hpp"

#include <boost/asio/detached.hpp>

#include <catch2/catch.hpp>

namespace asio = boost::asio;
using corocket::detail::async_notifier;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

/// Waits on `n` until `stop` is set, counting every return from wait().
asio::awaitable<void> waiter(async_notifier& n, int& wakeups, const bool& stop)
{
    while (!stop) {
        co_await n.wait();
        ++wakeups;
    }
}

}  // namespace

TEST_CASE("async_notifier: waiters sleep until notified; notify_one wakes one, notify_all every one")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        async_notifier n(ioc.get_executor());
        int a = 0, b = 0, c = 0;
        bool stop = false;
        asio::co_spawn(ioc, waiter(n, a, stop), asio::detached);
        asio::co_spawn(ioc, waiter(n, b, stop), asio::detached);
        asio::co_spawn(ioc, waiter(n, c, stop), asio::detached);
        co_await sleep_for(50ms);
        CHECK(a + b + c == 0);  // nobody woke anybody

        n.notify_one();
        n.notify_one();  // before either runs: two different waiters
        co_await sleep_for(20ms);
        CHECK(a + b + c == 2);
        CHECK(a <= 1);
        CHECK(b <= 1);
        CHECK(c <= 1);

        n.notify_all();
        co_await sleep_for(20ms);
        CHECK(a + b + c == 5);

        stop = true;
        n.notify_all();
        co_await sleep_for(20ms);
        n.notify_one();  // no waiter left: nothing to do
    });
}

TEST_CASE("async_notifier: a deadline ends a wait without a notification")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        async_notifier n(ioc.get_executor());
        const auto start = std::chrono::steady_clock::now();
        co_await n.wait(start + 30ms);
        CHECK(std::chrono::steady_clock::now() >= start + 30ms);
    });
}
