// A condition variable for coroutines on one executor. Each waiter waits on a timer of its own,
// and notify_all() cancels them all. (Sharing one timer among waiters does not work: every
// waiter that re-arms it with expires_at() cancels the others, and they wake each other in a
// loop that burns a core while they wait.)
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

namespace corocket::detail {

class async_notifier {
public:
    using time_point = boost::asio::steady_timer::time_point;

    explicit async_notifier(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
    async_notifier(const async_notifier&) = delete;
    async_notifier& operator=(const async_notifier&) = delete;

    /// Suspends until notify_all(), `deadline` or cancellation. The caller re-checks its
    /// condition afterwards: a notification says "something changed", not what.
    boost::asio::awaitable<void> wait(time_point deadline = time_point::max())
    {
        boost::asio::steady_timer timer(ex_, deadline);
        registration r{waiters_, &timer};
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::deferred));
    }

    /// Wakes every current waiter.
    void notify_all()
    {
        for (auto* t : waiters_)
            t->cancel();
        waiters_.clear();
    }

    /// Wakes the longest-waiting waiter (one freed slot needs one taker, not a stampede).
    void notify_one()
    {
        if (waiters_.empty())
            return;
        waiters_.front()->cancel();
        waiters_.erase(waiters_.begin());  // a second notify before it runs wakes the next one
    }

private:
    /// Unlists the waiter's timer however its frame ends (resumed, or destroyed while waiting).
    struct registration {
        registration(std::vector<boost::asio::steady_timer*>& list, boost::asio::steady_timer* t) : list(list), timer(t)
        {
            list.push_back(t);
        }
        ~registration() { std::erase(list, timer); }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

        std::vector<boost::asio::steady_timer*>& list;
        boost::asio::steady_timer* timer;
    };

    boost::asio::any_io_executor ex_;
    std::vector<boost::asio::steady_timer*> waiters_;
};

}  // namespace corocket::detail
