// Back-pressure for sends: a budget of messages and bytes in flight with a FIFO of waiters
// (sans-I/O: waking a waiter is a callback), and the coroutine shell that waits on it with a
// steady_timer used as a condition variable.
#pragma once

#include <corocket/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <utility>

namespace corocket::detail {

/// Counts messages and bytes in flight against two limits (0 = unlimited). Requests that do
/// not fit wait in FIFO order: a newcomer never overtakes a waiter, and a request larger than
/// the byte limit still goes once nothing else is in flight (so it cannot wait forever).
class inflight_budget {
public:
    struct waiter {
        std::size_t messages = 0;
        std::size_t bytes = 0;
        bool granted = false;
        std::function<void()> wake;  ///< called once when granted
    };
    using waiter_handle = std::list<waiter>::iterator;

    inflight_budget(std::size_t max_messages, std::size_t max_bytes) noexcept
        : max_messages_(max_messages), max_bytes_(max_bytes)
    {
    }

    /// Takes the budget at once if it fits and nobody waits.
    bool try_acquire(std::size_t messages, std::size_t bytes);
    /// Queues a request that did not fit; `wake` runs when it is granted (from release/cancel).
    waiter_handle enqueue(std::size_t messages, std::size_t bytes, std::function<void()> wake);
    /// Removes a waiter that gave up (timeout, cancellation). If it had been granted meanwhile
    /// its budget is returned. Others behind it may now be granted.
    void cancel(waiter_handle w);
    /// Removes a granted waiter from the queue (its budget stays taken).
    void consume(waiter_handle w);
    /// Returns budget and grants waiters in order while the head fits.
    void release(std::size_t messages, std::size_t bytes);

    std::size_t messages() const noexcept { return messages_; }
    std::size_t bytes() const noexcept { return bytes_; }
    /// Waiters not yet granted.
    std::size_t waiting() const noexcept { return waiting_; }

private:
    bool fits(std::size_t messages, std::size_t bytes) const noexcept;
    void take(std::size_t messages, std::size_t bytes) noexcept;
    void grant_waiters();

    std::size_t max_messages_;
    std::size_t max_bytes_;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
    std::size_t waiting_ = 0;
    std::list<waiter> queue_;
};

/// The waiting shell around inflight_budget.
class inflight_gate {
public:
    inflight_gate(std::size_t max_messages, std::size_t max_bytes) : budget_(max_messages, max_bytes) {}

    /// Waits until the request fits or the deadline passes: client_errc::timeout, or
    /// client_errc::operation_aborted when the awaiting coroutine is cancelled.
    boost::asio::awaitable<error_code> acquire(std::size_t messages, std::size_t bytes,
                                               std::chrono::steady_clock::time_point deadline);
    void release(std::size_t messages, std::size_t bytes) { budget_.release(messages, bytes); }

    const inflight_budget& budget() const noexcept { return budget_; }

private:
    inflight_budget budget_;
};

/// Releases budget when it goes out of scope (the end of a send, however it ends).
class inflight_lease {
public:
    inflight_lease() = default;
    inflight_lease(inflight_gate* gate, std::size_t messages, std::size_t bytes) noexcept
        : gate_(gate), messages_(messages), bytes_(bytes)
    {
    }
    inflight_lease(inflight_lease&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), messages_(o.messages_), bytes_(o.bytes_) {}
    inflight_lease& operator=(inflight_lease&& o) noexcept
    {
        reset();
        gate_ = std::exchange(o.gate_, nullptr);
        messages_ = o.messages_;
        bytes_ = o.bytes_;
        return *this;
    }
    ~inflight_lease() { reset(); }

    void reset() noexcept
    {
        if (gate_)
            std::exchange(gate_, nullptr)->release(messages_, bytes_);
    }

private:
    inflight_gate* gate_ = nullptr;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace corocket::detail
