// corocket::client — one per executor (one io_context per thread): the connection table, the
// name servers, the route cache and its refresh loop, the heartbeat loop, and the dispatch of
// requests brokers send to the client. Producers and consumers are built on top of it.
#pragma once

#include <corocket/acl.hpp>
#include <corocket/error.hpp>
#include <corocket/filter.hpp>
#include <corocket/logger.hpp>
#include <corocket/remoting/command.hpp>
#include <corocket/remoting/connection.hpp>
#include <corocket/route.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {

namespace detail {
class client_impl;
}

struct client_config {
    /// Name servers, "host:port;host:port". Required.
    std::string namesrv_addr;
    /// Instance part of the client id; empty = "<pid>#<unique number>", unique per client object.
    std::string instance_name;
    /// Optional unit name appended to the client id.
    std::string unit_name;
    /// Namespace that prefixes topics and groups on the wire (protocol.md §7.13); empty = none.
    std::string name_space;
    /// IP part of the client id; empty = the first non-loopback IPv4 address of this host.
    std::string client_ip;
    /// Header serialization of the requests this client sends.
    remoting::serialize_type serialization = remoting::serialize_type::json;
    /// TLS for every connection (name servers and brokers).
    remoting::tls_options tls;
    /// ACL credentials; when set, every request is signed (protocol.md §7.14).
    corocket::credentials credentials;
    /// Extra hooks around every request (after ACL signing is added, ACL runs last).
    std::vector<std::shared_ptr<remoting::rpc_hook>> hooks;
    /// MQVersion ordinal advertised in every request.
    int version = remoting::default_version;
    /// Timeout of the client's own calls: routes, heartbeats, consumer lists.
    std::chrono::milliseconds rpc_timeout{3000};
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds route_refresh_interval{30000};
    std::chrono::milliseconds heartbeat_interval{30000};
    logger log;
};

enum class consume_type { actively, passively };             ///< pull / push
enum class message_model { clustering, broadcasting };
enum class consume_from_where { last_offset, first_offset, timestamp };

std::string_view to_string(consume_type) noexcept;         ///< "CONSUME_ACTIVELY", ...
std::string_view to_string(message_model) noexcept;        ///< "CLUSTERING", ...
std::string_view to_string(consume_from_where) noexcept;   ///< "CONSUME_FROM_LAST_OFFSET", ...

/// What a consumer tells the brokers in every heartbeat.
struct consumer_registration {
    std::string group;  ///< as on the wire (namespaced)
    consume_type type = consume_type::passively;
    message_model model = message_model::clustering;
    consume_from_where from_where = consume_from_where::last_offset;
    std::vector<subscription_data> subscriptions;  ///< topics as on the wire
};

/// Handler for one request code that brokers send to this client (CHECK_TRANSACTION_STATE,
/// NOTIFY_CONSUMER_IDS_CHANGED, ...). Gets the connection it arrived on, to answer with
/// send_response (two-way requests) or to address follow-up requests (END_TRANSACTION).
using peer_request_handler = std::function<void(remoting::connection, remoting::command)>;

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. Use a client only from its executor; for
/// work from another thread, `post` to get_executor().
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    client(executor_type ex, client_config config);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    executor_type get_executor() const noexcept;
    const client_config& config() const noexcept;
    /// "ip@instance[@unit]", unique per client object (protocol.md §7.1).
    const std::string& client_id() const noexcept;
    bool running() const noexcept;

    /// Starts the route refresh and heartbeat loops (children of this client).
    void start();

    /// Stops: unregisters every group still registered, ends the loops, closes every connection,
    /// and completes once every child coroutine has finished.
    /// @par Completion signature
    /// `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { stop_impl(impl, done_handler(std::move(h))); }, token);
    }

    /// The route of `topic` (wire name): from the cache, or fetched from the name servers.
    /// @par Completion signature
    /// `void(error_code, topic_route)`; TOPIC_NOT_EXIST comes as broker_category() code 17.
    /// @par Per-operation cancellation
    /// terminal: the pending name-server call is abandoned.
    template <class Token = boost::asio::deferred_t>
    auto async_route(std::string topic, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, topic_route)>(
            [impl = impl_](auto h, std::string t) { route_impl(impl, std::move(t), false, route_handler(std::move(h))); },
            token, std::move(topic));
    }

    /// Like async_route but always asks the name servers (and updates the cache).
    template <class Token = boost::asio::deferred_t>
    auto async_update_route(std::string topic, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, topic_route)>(
            [impl = impl_](auto h, std::string t) { route_impl(impl, std::move(t), true, route_handler(std::move(h))); },
            token, std::move(topic));
    }

    /// GET_BROKER_CLUSTER_INFO from the name servers.
    /// @par Completion signature
    /// `void(error_code, cluster_info)`.
    template <class Token = boost::asio::deferred_t>
    auto async_cluster_info(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, cluster_info)>(
            [impl = impl_](auto h) { cluster_info_impl(impl, cluster_handler(std::move(h))); }, token);
    }

    /// Sends `request` to the broker or name server at `address` over the client's connection.
    /// @par Completion signature
    /// `void(error_code, remoting::command)` as remoting::connection::async_call.
    template <class Token = boost::asio::deferred_t>
    auto async_invoke(std::string address, remoting::command request, remoting::call_options opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, remoting::command)>(
            [impl = impl_](auto h, std::string a, remoting::command r, remoting::call_options o) {
                invoke_impl(impl, std::move(a), std::move(r), o, call_handler(std::move(h)));
            },
            token, std::move(address), std::move(request), opts);
    }

    /// Sends a one-way request to `address`; completes once written.
    template <class Token = boost::asio::deferred_t>
    auto async_invoke_oneway(std::string address, remoting::command request, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h, std::string a, remoting::command r) {
                oneway_impl(impl, std::move(a), std::move(r), done_handler(std::move(h)));
            },
            token, std::move(address), std::move(request));
    }

    /// Sends a heartbeat now to every known broker (masters, plus slaves when consumers exist).
    /// @par Completion signature
    /// `void(error_code)`: success if every broker accepted it (or none is known).
    template <class Token = boost::asio::deferred_t>
    auto async_heartbeat(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { heartbeat_impl(impl, done_handler(std::move(h))); }, token);
    }

    /// Removes a group from the heartbeat and sends UNREGISTER_CLIENT for it to every broker.
    /// @par Completion signature
    /// `void(error_code)` (best effort: always success).
    template <class Token = boost::asio::deferred_t>
    auto async_unregister(std::string group, bool producer, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h, std::string g, bool p) {
                unregister_impl(impl, std::move(g), p, done_handler(std::move(h)));
            },
            token, std::move(group), producer);
    }

    /// Adds a producer group to the heartbeat. Returns false if this client has it already.
    bool register_producer(std::string group);
    /// Adds or replaces a consumer group in the heartbeat. Returns false if it was there.
    bool register_consumer(consumer_registration registration);

    /// Handles request `code` from brokers. With a `group` (wire name), only requests naming that
    /// group in `consumerGroup` or `group` (NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_RUNNING_INFO,
    /// CONSUME_MESSAGE_DIRECTLY, RESET_CONSUMER_CLIENT_OFFSET) reach it, so several consumers can
    /// share a client; without, it gets every request of that code no group handler takes.
    /// A later call for the same (code, group) replaces the handler.
    void set_request_handler(int code, peer_request_handler handler, std::string group = {});
    void clear_request_handler(int code, std::string group = {});

    /// The cached route of a topic (no I/O); nullptr when not cached.
    const topic_route* cached_route(std::string_view topic) const;
    /// Forgets a cached route (after a send error), so the next use asks the name servers.
    void invalidate_route(std::string_view topic);
    /// The address of a broker (`broker_id` 0 = master) from the cached routes; "" if unknown.
    std::string broker_address(std::string_view broker_name, std::int64_t broker_id = 0) const;

    const std::shared_ptr<detail::client_impl>& impl() const noexcept { return impl_; }

private:
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;
    using route_handler = boost::asio::any_completion_handler<void(error_code, topic_route)>;
    using cluster_handler = boost::asio::any_completion_handler<void(error_code, cluster_info)>;
    using call_handler = boost::asio::any_completion_handler<void(error_code, remoting::command)>;

    static void stop_impl(const std::shared_ptr<detail::client_impl>&, done_handler);
    static void route_impl(const std::shared_ptr<detail::client_impl>&, std::string, bool, route_handler);
    static void cluster_info_impl(const std::shared_ptr<detail::client_impl>&, cluster_handler);
    static void invoke_impl(const std::shared_ptr<detail::client_impl>&, std::string, remoting::command,
                            remoting::call_options, call_handler);
    static void oneway_impl(const std::shared_ptr<detail::client_impl>&, std::string, remoting::command, done_handler);
    static void heartbeat_impl(const std::shared_ptr<detail::client_impl>&, done_handler);
    static void unregister_impl(const std::shared_ptr<detail::client_impl>&, std::string, bool, done_handler);

    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace corocket
