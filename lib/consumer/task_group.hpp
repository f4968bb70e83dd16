// Structured children: coroutines spawned on one executor, each cancellable on its own or all
// at once, and joined — nothing outlives the owner's stop.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>

#include <exception>
#include <list>
#include <memory>

namespace corocket::detail {

class task_group {
public:
    using handle = std::shared_ptr<boost::asio::cancellation_signal>;

    explicit task_group(boost::asio::any_io_executor ex) : st_(std::make_shared<state>(ex)) {}

    /// Runs `task` as a child. The handle cancels it alone (terminal cancellation).
    handle spawn(boost::asio::awaitable<void> task)
    {
        namespace asio = boost::asio;
        auto sig = std::make_shared<asio::cancellation_signal>();
        auto it = st_->children.insert(st_->children.end(), sig);
        asio::co_spawn(st_->ex, std::move(task),
                       asio::bind_cancellation_slot(sig->slot(), [st = st_, it](std::exception_ptr e) {
                           st->children.erase(it);
                           if (st->children.empty())
                               st->idle.cancel();
                           if (e)
                               std::rethrow_exception(e);
                       }));
        return sig;
    }

    /// Terminal cancellation of every child.
    void cancel_all()
    {
        auto copy = st_->children;  // a child may finish (and erase itself) inside emit
        for (auto& s : copy)
            s->emit(boost::asio::cancellation_type::terminal);
    }

    std::size_t size() const noexcept { return st_->children.size(); }

    /// Completes once no child is left.
    boost::asio::awaitable<void> join()
    {
        auto st = st_;
        while (!st->children.empty()) {
            st->idle.expires_at(boost::asio::steady_timer::time_point::max());
            co_await st->idle.async_wait(boost::asio::as_tuple(boost::asio::deferred));
        }
    }

private:
    struct state {
        explicit state(boost::asio::any_io_executor e) : ex(e), idle(e) {}
        boost::asio::any_io_executor ex;
        std::list<handle> children;
        boost::asio::steady_timer idle;
    };
    std::shared_ptr<state> st_;
};

}  // namespace corocket::detail
