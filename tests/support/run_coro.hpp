// Runs a test coroutine on a fresh io_context under a time limit and fails the test if it did
// not finish (a hung protocol exchange must fail, not block the suite).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <functional>

namespace corocket::test {

inline void run_coro(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body,
                     std::chrono::seconds limit = std::chrono::seconds(60))
{
    boost::asio::io_context ioc{1};
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    ioc.run_for(limit);
    if (error)
        std::rethrow_exception(error);
    REQUIRE(done);
    // Let whatever the body closed finish its own loops, so nothing outlives the context.
    ioc.restart();
    ioc.run_for(std::chrono::seconds(5));
}

}  // namespace corocket::test
