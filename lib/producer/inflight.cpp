// Back-pressure budget and its waiting shell (see inflight.hpp).
#include "producer/inflight.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;

namespace corocket::detail {

bool inflight_budget::fits(std::size_t messages, std::size_t bytes) const noexcept
{
    if (messages_ == 0)  // alone, anything goes: a request over the byte limit must not starve
        return true;
    const bool messages_ok = max_messages_ == 0 || messages_ + messages <= max_messages_;
    const bool bytes_ok = max_bytes_ == 0 || bytes_ + bytes <= max_bytes_;
    return messages_ok && bytes_ok;
}

void inflight_budget::take(std::size_t messages, std::size_t bytes) noexcept
{
    messages_ += messages;
    bytes_ += bytes;
}

bool inflight_budget::try_acquire(std::size_t messages, std::size_t bytes)
{
    if (waiting_ > 0 || !fits(messages, bytes))
        return false;
    take(messages, bytes);
    return true;
}

inflight_budget::waiter_handle inflight_budget::enqueue(std::size_t messages, std::size_t bytes,
                                                        std::function<void()> wake)
{
    ++waiting_;
    return queue_.insert(queue_.end(), waiter{messages, bytes, false, std::move(wake)});
}

void inflight_budget::consume(waiter_handle w)
{
    queue_.erase(w);
}

void inflight_budget::cancel(waiter_handle w)
{
    if (w->granted) {
        const auto [m, b] = std::pair{w->messages, w->bytes};
        queue_.erase(w);
        release(m, b);
        return;
    }
    --waiting_;
    queue_.erase(w);
    grant_waiters();  // the head may have been the one blocking the others
}

void inflight_budget::release(std::size_t messages, std::size_t bytes)
{
    messages_ -= std::min(messages, messages_);
    bytes_ -= std::min(bytes, bytes_);
    grant_waiters();
}

void inflight_budget::grant_waiters()
{
    for (auto& w : queue_) {
        if (w.granted)
            continue;
        if (!fits(w.messages, w.bytes))
            return;  // FIFO: nobody behind the head may overtake it
        take(w.messages, w.bytes);
        w.granted = true;
        --waiting_;
        if (w.wake)
            w.wake();
    }
}

asio::awaitable<error_code> inflight_gate::acquire(std::size_t messages, std::size_t bytes,
                                                   std::chrono::steady_clock::time_point deadline)
{
    if (budget_.try_acquire(messages, bytes))
        co_return error_code{};
    asio::steady_timer cv(co_await asio::this_coro::executor, deadline);
    // Unqueues the waiter however this frame ends: destroyed while waiting (its io_context
    // going away), a later release must not wake a timer that no longer exists.
    struct queued {
        inflight_budget& budget;
        inflight_budget::waiter_handle w;
        bool settled = false;
        ~queued()
        {
            if (!settled)
                budget.cancel(w);
        }
    } q{budget_, budget_.enqueue(messages, bytes, [&cv] { cv.cancel(); })};
    auto [ec] = co_await cv.async_wait(asio::as_tuple(asio::deferred));
    q.settled = true;
    if (q.w->granted) {
        budget_.consume(q.w);
        co_return error_code{};
    }
    budget_.cancel(q.w);
    co_return make_error_code(ec ? client_errc::operation_aborted : client_errc::timeout);
}

}  // namespace corocket::detail
