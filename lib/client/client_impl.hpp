// State and coroutines behind corocket::client.
#pragma once

#include <corocket/client.hpp>

#include "client/name_servers.hpp"
#include "util/launch.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <set>
#include <tuple>

namespace corocket::detail {

inline constexpr auto tuple_token = boost::asio::as_tuple(boost::asio::deferred);

class client_impl : public std::enable_shared_from_this<client_impl> {
public:
    using command = remoting::command;
    template <class... Ts>
    using op = boost::asio::awaitable<std::tuple<error_code, Ts...>>;

    client_impl(boost::asio::any_io_executor ex, client_config cfg);

    const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
    const client_config& config() const noexcept { return cfg_; }
    const std::string& client_id() const noexcept { return client_id_; }
    bool running() const noexcept { return started_ && !stopping_; }
    const logger& log() const noexcept { return cfg_.log; }

    void start();
    /// Closes everything without waiting (destructor path).
    void shutdown_now();

    // Coroutine bodies of the public operations.
    op<command> invoke(std::string address, command request, remoting::call_options opts);
    op<> invoke_oneway(std::string address, command request);
    op<command> invoke_namesrv(command request);
    op<topic_route> route(std::string topic, bool force);
    op<cluster_info> cluster();
    op<> heartbeat_all();
    op<> unregister(std::string group, bool producer);
    op<> stop();

    /// Runs `body` as a child of this client and completes `handler` with its result (posted,
    /// through the handler's executor). The handler's cancellation slot reaches the coroutine.
    template <class R, class Handler>
    void launch(boost::asio::awaitable<R> body, Handler handler)
    {
        ++children_;
        launch_op(ex_, std::move(body), std::move(handler), [self = shared_from_this()] { self->child_done(); });
    }

    bool register_producer(std::string group);
    bool register_consumer(consumer_registration reg);
    void set_request_handler(int code, peer_request_handler h, std::string group = {})
    {
        handlers_[handler_key{code, std::move(group)}] = std::move(h);
    }
    void clear_request_handler(int code, std::string group = {})
    {
        handlers_.erase(handler_key{code, std::move(group)});
    }
    const topic_route* cached_route(std::string_view topic) const;
    void invalidate_route(std::string_view topic);
    std::string broker_address(std::string_view broker_name, std::int64_t broker_id) const;
    /// Every address of `broker_name` by broker id, as the newest route naming it said; empty
    /// when no route has named it.
    std::map<std::int64_t, std::string> broker_addresses(std::string_view broker_name) const;

private:
    remoting::connection connection_for(const std::string& address);
    void on_peer_request(remoting::connection conn, command request);
    std::vector<std::string> heartbeat_targets() const;
    op<> unregister_everywhere(const std::string& group, bool producer);
    boost::asio::awaitable<void> refresh_loop();
    boost::asio::awaitable<void> heartbeat_loop();
    void spawn_loop(boost::asio::awaitable<void> (client_impl::*loop)());
    void child_done();

    boost::asio::any_io_executor ex_;
    client_config cfg_;
    std::string client_id_;
    name_servers name_servers_;
    remoting::connection_options conn_opts_;
    std::map<std::string, remoting::connection, std::less<>> connections_;
    std::map<std::string, topic_route, std::less<>> routes_;
    // Java's brokerAddrTable: broker name → id → address, overwritten by every route that names
    // the broker, so an older cached route cannot bring back an address the cluster dropped.
    std::map<std::string, std::map<std::int64_t, std::string>, std::less<>> broker_addrs_;
    std::set<std::string, std::less<>> heartbeated_;
    std::vector<std::string> producers_;
    std::vector<consumer_registration> consumers_;
    using handler_key = std::pair<int, std::string>;  // (request code, group or "" for all)
    std::map<handler_key, peer_request_handler> handlers_;
    bool started_ = false;
    bool stopping_ = false;
    int children_ = 0;
    boost::asio::steady_timer refresh_timer_;
    boost::asio::steady_timer heartbeat_timer_;
    boost::asio::steady_timer children_cv_;  // cancelled when the last child finishes
};

}  // namespace corocket::detail
