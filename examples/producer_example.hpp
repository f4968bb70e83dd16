// What the producer examples share: the command line (`--namesrv host:port`, else
// COROCKET_NAMESRV, else an embedded NameServer + Broker started in-process), a topic, and a
// main() that runs the example's coroutine on one io_context under a time limit and turns its
// result into the exit status.
#pragma once

#include <corocket/client.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include "namesrv_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace example {

namespace asio = boost::asio;
inline constexpr auto tuple_token = asio::as_tuple(asio::deferred);

class context {
public:
    /// "host:port" of the name server (the embedded one unless --namesrv was given).
    const std::string& namesrv() const { return namesrv_; }
    bool embedded() const { return cluster_ != nullptr; }
    corocket::testing::embedded_cluster* cluster() { return cluster_.get(); }

    /// A client configuration for this cluster.
    corocket::client_config client_config() const
    {
        corocket::client_config cfg;
        cfg.namesrv_addr = namesrv_;
        return cfg;
    }

    /// A topic name unique to this run. On the embedded cluster the topic is created with
    /// `queues` queues; a real cluster creates it on first use from TBW102 (autoCreateTopicEnable).
    std::string topic(std::string_view prefix, int queues = 4)
    {
        std::string name = fmt::format("{}_{}", prefix, std::random_device{}() % 1000000);
        if (cluster_)
            cluster_->create_topic(name, queues);
        return name;
    }

    /// Stops the embedded cluster (no-op on a real one).
    asio::awaitable<void> stop()
    {
        if (cluster_)
            co_await cluster_->async_stop(tuple_token);
    }

    std::string namesrv_;
    std::unique_ptr<corocket::testing::embedded_cluster> cluster_;
};

/// Parses the command line, starts the embedded cluster if needed (with `opts`), runs `body` and
/// returns its status (1 when the time limit passes first).
inline int run(int argc, char** argv, std::string_view name,
               std::function<asio::awaitable<int>(asio::io_context&, context&)> body,
               corocket::testing::cluster_options opts = {}, std::chrono::seconds limit = std::chrono::seconds(120))
{
    // The io_context first: it must outlive the embedded cluster that runs on it.
    asio::io_context ioc{1};
    context ctx;
    ctx.namesrv_ = namesrv_from_env();
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--namesrv" && i + 1 < argc) {
            ctx.namesrv_ = argv[++i];
        } else {
            fmt::print(stderr, "usage: {} [--namesrv host:port]\n", name);
            return 2;
        }
    }
    if (ctx.namesrv_.empty()) {
        ctx.cluster_ = std::make_unique<corocket::testing::embedded_cluster>(ioc.get_executor(), std::move(opts));
        if (auto ec = ctx.cluster_->start()) {
            fmt::print(stderr, "{}: the embedded broker did not start: {}\n", name, ec.message());
            return 1;
        }
        ctx.namesrv_ = ctx.cluster_->namesrv_address();
    }
    int status = 1;
    bool done = false;
    asio::co_spawn(ioc, body(ioc, ctx), [&](std::exception_ptr e, int s) {
        done = true;
        status = s;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fmt::print(stderr, "{}: {}\n", name, ex.what());
                status = 1;
            }
        }
    });
    ioc.run_for(limit);
    if (!done)
        fmt::print(stderr, "{}: did not finish within {} s\n", name, limit.count());
    fmt::print("{}: {}\n", name, done && status == 0 ? "OK" : "FAILED");
    return done ? status : 1;
}

}  // namespace example
