// Runs a coroutine that yields std::tuple<error_code, T...> as the body of an asynchronous
// operation: the completion handler gets the tuple's elements (posted through the handler's
// own executor, never inline), and the handler's cancellation slot reaches the coroutine.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <tuple>
#include <utility>

namespace corocket::detail {

/// Runs `body` with cancellation reported as error codes, not exceptions, in every coroutine
/// it awaits (Asio's default throws at the first co_await after a cancellation). An operation
/// cancelled half-way then completes its handler with an error instead of throwing out of
/// io_context::run().
template <class R>
boost::asio::awaitable<R> errors_not_exceptions(boost::asio::awaitable<R> body)
{
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    co_return co_await std::move(body);
}

/// `on_finished()` runs when the coroutine is done, before the handler is posted (owners count
/// their children with it, so that stopping can wait for them).
template <class R, class Handler, class OnFinished>
void launch_op(const boost::asio::any_io_executor& ex, boost::asio::awaitable<R> body, Handler handler,
               OnFinished on_finished)
{
    namespace asio = boost::asio;
    auto slot = asio::get_associated_cancellation_slot(handler);
    asio::co_spawn(ex, errors_not_exceptions(std::move(body)),
                   asio::bind_cancellation_slot(slot, [ex, h = std::move(handler), done = std::move(on_finished)](
                                                          std::exception_ptr e, R result) mutable {
                       done();
                       if (e)
                           std::rethrow_exception(e);
                       std::apply([&](auto&... a) { asio::post(ex, asio::append(std::move(h), std::move(a)...)); },
                                  result);
                   }));
}

}  // namespace corocket::detail
