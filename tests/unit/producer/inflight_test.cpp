// Back-pressure: the sans-I/O budget (FIFO, no overtaking, oversized requests) and its shell.
#include "producer/inflight.hpp"

#include "run_coro.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace corocket;
using namespace corocket::detail;
namespace asio = boost::asio;

TEST_CASE("inflight_budget grants in FIFO order and never lets a newcomer overtake a waiter")
{
    inflight_budget b(3, 1000);
    std::vector<int> woken;
    CHECK(b.try_acquire(1, 100));
    CHECK(b.try_acquire(2, 100));
    CHECK_FALSE(b.try_acquire(1, 1));  // 3 messages already
    auto w1 = b.enqueue(2, 100, [&] { woken.push_back(1); });
    auto w2 = b.enqueue(1, 100, [&] { woken.push_back(2); });
    CHECK(b.waiting() == 2);
    b.release(1, 100);  // room for one message: w1 needs two, so w2 must wait behind it
    CHECK(woken.empty());
    CHECK_FALSE(b.try_acquire(1, 1));  // a waiter exists: no overtaking
    b.release(2, 100);
    CHECK(woken == std::vector<int>{1, 2});
    CHECK(b.messages() == 3);
    CHECK(b.bytes() == 200);
    CHECK(b.waiting() == 0);
    b.consume(w1);
    b.consume(w2);
    b.release(3, 200);
    CHECK(b.messages() == 0);
    CHECK(b.bytes() == 0);
}

TEST_CASE("inflight_budget: the byte limit, oversized requests alone, cancelled waiters")
{
    inflight_budget b(0, 1000);  // messages unlimited
    CHECK(b.try_acquire(1, 5000));  // nothing in flight: an oversized request goes alone
    CHECK_FALSE(b.try_acquire(1, 1));
    int woken = 0;
    auto big = b.enqueue(1, 900, [&] { ++woken; });
    auto small = b.enqueue(1, 50, [&] { ++woken; });
    b.cancel(big);  // the head gives up: the one behind it is looked at again, still no room
    CHECK(woken == 0);
    b.release(1, 5000);
    CHECK(woken == 1);
    CHECK(b.bytes() == 50);
    b.cancel(small);  // granted, then given up: the budget comes back
    CHECK(b.bytes() == 0);
    CHECK(b.messages() == 0);
}

TEST_CASE("inflight_gate waits awaitably, times out, and honours cancellation")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        using namespace std::chrono_literals;
        inflight_gate gate(1, 0);
        const auto far = std::chrono::steady_clock::now() + 10s;
        auto first = co_await gate.acquire(1, 10, far);
        CHECK_FALSE(first);

        // Times out while the budget stays taken.
        const auto t0 = std::chrono::steady_clock::now();
        auto late = co_await gate.acquire(1, 10, std::chrono::steady_clock::now() + 50ms);
        CHECK(late == client_errc::timeout);
        CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
        CHECK(gate.budget().waiting() == 0);

        // A waiter wakes when the budget comes back.
        bool got = false;
        asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
            auto ec = co_await gate.acquire(1, 10, far);
            CHECK_FALSE(ec);
            got = true;
        }, asio::detached);
        asio::steady_timer t(ioc, 20ms);
        co_await t.async_wait(asio::as_tuple(asio::deferred));
        CHECK_FALSE(got);
        gate.release(1, 10);
        t.expires_after(1ms);
        co_await t.async_wait(asio::as_tuple(asio::deferred));
        CHECK(got);

        // Cancelling a waiter leaves the queue clean.
        asio::cancellation_signal sig;
        error_code cancelled_with;
        asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
            auto ec = co_await gate.acquire(1, 10, far);
            cancelled_with = ec;
        },
                       asio::bind_cancellation_slot(sig.slot(), [](std::exception_ptr) {}));
        t.expires_after(5ms);
        co_await t.async_wait(asio::as_tuple(asio::deferred));
        CHECK(gate.budget().waiting() == 1);
        sig.emit(asio::cancellation_type::terminal);
        t.expires_after(5ms);
        co_await t.async_wait(asio::as_tuple(asio::deferred));
        CHECK(cancelled_with == client_errc::operation_aborted);
        CHECK(gate.budget().waiting() == 0);
        gate.release(1, 10);
        CHECK(gate.budget().messages() == 0);
    });
}
