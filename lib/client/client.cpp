// The client runtime's shell: connection table, name-server calls with failover, route cache,
// heartbeat and refresh loops, structured stop.
#include "client/client_impl.hpp"

#include "client/heartbeat.hpp"
#include "message/ids.hpp"
#include "remoting/connection_impl.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/co_spawn.hpp>

#include <fmt/format.h>

#include <chrono>
#include <random>
#include <unistd.h>

namespace asio = boost::asio;

namespace corocket {
namespace detail {
namespace {

std::string make_client_id(const client_config& cfg)
{
    std::string ip = cfg.client_ip.empty() ? default_host_address().to_string() : cfg.client_ip;
    if (auto colon = ip.rfind(':'); colon != std::string::npos && cfg.client_ip.empty())
        ip.resize(colon);  // host_address::to_string carries a port
    std::string instance = cfg.instance_name;
    if (instance.empty()) {
        // Unique per client object, like Java's "<pid>#<nanoTime>": two clients in one process
        // must not share an id, or brokers would treat them as one consumer.
        std::random_device rd;
        const auto nanos = std::chrono::steady_clock::now().time_since_epoch().count();
        instance = fmt::format("{}#{}", ::getpid(), static_cast<std::uint64_t>(nanos) ^ rd());
    }
    std::string id = ip + "@" + instance;
    if (!cfg.unit_name.empty())
        id += "@" + cfg.unit_name;
    return id;
}

remoting::connection_options connection_options_for(const client_config& cfg)
{
    remoting::connection_options o;
    o.serialization = cfg.serialization;
    o.version = cfg.version;
    o.connect_timeout = cfg.connect_timeout;
    o.tls = cfg.tls;
    o.hooks = cfg.hooks;
    if (!cfg.credentials.empty())  // signs last, once every other hook has had its say
        o.hooks.push_back(std::make_shared<acl_hook>(cfg.credentials));
    o.log = cfg.log;
    return o;
}

}  // namespace

client_impl::client_impl(asio::any_io_executor ex, client_config cfg)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), client_id_(make_client_id(cfg_)),
      name_servers_(cfg_.namesrv_addr, std::random_device{}()), conn_opts_(connection_options_for(cfg_)),
      refresh_timer_(ex_), heartbeat_timer_(ex_), children_cv_(ex_)
{
}

void client_impl::start()
{
    if (started_)
        return;
    started_ = true;
    spawn_loop(&client_impl::refresh_loop);
    spawn_loop(&client_impl::heartbeat_loop);
}

void client_impl::spawn_loop(asio::awaitable<void> (client_impl::*loop)())
{
    ++children_;
    asio::co_spawn(ex_, (this->*loop)(), [self = shared_from_this()](std::exception_ptr e) {
        self->child_done();
        if (e)
            std::rethrow_exception(e);
    });
}

void client_impl::child_done()
{
    if (--children_ == 0 && stopping_)
        children_cv_.cancel();
}

void client_impl::shutdown_now()
{
    stopping_ = true;
    refresh_timer_.cancel();
    heartbeat_timer_.cancel();
    for (auto& [addr, conn] : connections_)
        conn.close();
    connections_.clear();
}

remoting::connection client_impl::connection_for(const std::string& address)
{
    if (auto it = connections_.find(address);
        it != connections_.end() && it->second.is_open() && !it->second.is_draining())
        return it->second;
    remoting::connection conn(ex_, address, conn_opts_);
    std::weak_ptr<remoting::detail::connection_impl> weak_conn = conn.impl();
    conn.set_request_handler([w = weak_from_this(), weak_conn](command req) {
        auto self = w.lock();
        auto c = weak_conn.lock();
        if (self && c)
            self->on_peer_request(remoting::connection(std::move(c)), std::move(req));
    });
    // Forget the connection once it closes, so the next call reconnects.
    conn.on_close([w = weak_from_this(), address, key = conn.impl().get()](error_code) {
        auto self = w.lock();
        if (!self)
            return;
        if (auto it = self->connections_.find(address); it != self->connections_.end() && it->second.impl().get() == key)
            self->connections_.erase(it);
    });
    connections_.insert_or_assign(address, conn);
    return conn;
}

// A request naming a group (consumerGroup / group) goes to that group's handler; anything else,
// or a group without its own handler, to the code's general handler.
void client_impl::on_peer_request(remoting::connection conn, command request)
{
    std::string_view group = request.ext_fields.get("consumerGroup");
    if (group.empty())
        group = request.ext_fields.get("group");
    auto it = handlers_.end();
    if (!group.empty())
        it = handlers_.find(handler_key{request.code, std::string(group)});
    if (it == handlers_.end())
        it = handlers_.find(handler_key{request.code, {}});
    if (it != handlers_.end()) {
        it->second(std::move(conn), std::move(request));
        return;
    }
    if (request.is_oneway())
        return;
    if (!group.empty() && request.code == remoting::request_code::get_consumer_running_info) {
        conn.send_response(command::response_to(request, remoting::response_code::system_error,
                                                fmt::format("The Consumer Group <{}> not exist in this consumer", group)));
        return;
    }
    conn.send_response(command::response_to(request, remoting::response_code::request_code_not_supported,
                                            fmt::format(" request type {} not supported", request.code)));
}

client_impl::op<remoting::command> client_impl::invoke(std::string address, command request,
                                                       remoting::call_options opts)
{
    if (stopping_)
        co_return std::tuple{make_error_code(client_errc::not_running), command{}};
    auto conn = connection_for(address);
    auto [ec, resp] = co_await conn.async_call(std::move(request), opts, tuple_token);
    co_return std::tuple{ec, std::move(resp)};
}

client_impl::op<> client_impl::invoke_oneway(std::string address, command request)
{
    if (stopping_)
        co_return std::tuple{make_error_code(client_errc::not_running)};
    auto conn = connection_for(address);
    auto [ec] = co_await conn.async_oneway(std::move(request), tuple_token);
    co_return std::tuple{ec};
}

client_impl::op<remoting::command> client_impl::invoke_namesrv(command request)
{
    if (name_servers_.empty())
        co_return std::tuple{make_error_code(client_errc::no_name_server), command{}};
    error_code last;
    for (std::size_t i = 0; i < name_servers_.size(); ++i) {
        const std::string addr = name_servers_.current();
        command attempt = request;  // named: GCC 12 mis-copies class prvalues into coroutine frames
        auto [ec, resp] = co_await invoke(addr, std::move(attempt), remoting::call_options{cfg_.rpc_timeout});
        if (!ec || ec == client_errc::operation_aborted || ec == client_errc::not_running)
            co_return std::tuple{ec, std::move(resp)};
        cfg_.log.warn("corocket: name server {} failed: {}", addr, ec.message());
        last = ec;
        name_servers_.rotate();
    }
    co_return std::tuple{last, command{}};
}

client_impl::op<topic_route> client_impl::route(std::string topic, bool force)
{
    if (stopping_)
        co_return std::tuple{make_error_code(client_errc::not_running), topic_route{}};
    if (!force)
        if (auto it = routes_.find(topic); it != routes_.end())
            co_return std::tuple{error_code{}, it->second};
    command req = route_request(topic);
    auto [ec, resp] = co_await invoke_namesrv(std::move(req));
    if (ec)
        co_return std::tuple{ec, topic_route{}};
    if (resp.code != remoting::response_code::success) {
        cfg_.log.debug("corocket: no route for {}: {} {}", topic, response_code_name(resp.code),
                       resp.remark.value_or(""));
        co_return std::tuple{make_broker_error(resp.code), topic_route{}};
    }
    topic_route r;
    if (auto pec = parse_topic_route(resp.body, r))
        co_return std::tuple{pec, topic_route{}};
    routes_.insert_or_assign(topic, r);
    for (const auto& b : r.broker_datas)
        broker_addrs_.insert_or_assign(b.broker_name, b.broker_addrs);
    // A broker we have never told about our groups gets a heartbeat now, not in 30 s: a
    // transactional producer must be known before the broker can check back.
    bool unknown_broker = false;
    for (const auto& addr : heartbeat_targets())
        unknown_broker = unknown_broker || !heartbeated_.contains(addr);
    if (unknown_broker && (!producers_.empty() || !consumers_.empty()) && !stopping_)
        launch(heartbeat_all(), [](error_code) {});
    co_return std::tuple{error_code{}, std::move(r)};
}

client_impl::op<cluster_info> client_impl::cluster()
{
    command req = command::request(remoting::request_code::get_broker_cluster_info);
    auto [ec, resp] = co_await invoke_namesrv(std::move(req));
    if (ec)
        co_return std::tuple{ec, cluster_info{}};
    if (resp.code != remoting::response_code::success)
        co_return std::tuple{make_broker_error(resp.code), cluster_info{}};
    cluster_info info;
    auto pec = parse_cluster_info(resp.body, info);
    co_return std::tuple{pec, std::move(info)};
}

std::vector<std::string> client_impl::heartbeat_targets() const
{
    std::set<std::string, std::less<>> out;
    const bool with_slaves = !consumers_.empty();
    for (const auto& [name, addrs] : broker_addrs_)  // the same table broker_address reads
        for (const auto& [id, addr] : addrs)
            if (id == broker_data::master_id || with_slaves)
                out.insert(addr);
    return {out.begin(), out.end()};
}

client_impl::op<> client_impl::heartbeat_all()
{
    const std::string body = heartbeat_body(client_id_, producers_, consumers_);
    error_code first_error;
    for (const auto& addr : heartbeat_targets()) {
        command req = heartbeat_request(body);
        auto [ec, resp] = co_await invoke(addr, std::move(req), remoting::call_options{cfg_.rpc_timeout});
        if (!ec && resp.code != remoting::response_code::success)
            ec = make_broker_error(resp.code);
        if (ec) {
            cfg_.log.warn("corocket: heartbeat to {} failed: {}", addr, ec.message());
            if (!first_error)
                first_error = ec;
            continue;
        }
        heartbeated_.insert(addr);
    }
    co_return std::tuple{first_error};
}

client_impl::op<> client_impl::unregister_everywhere(const std::string& group, bool producer)
{
    std::set<std::string, std::less<>> brokers;
    for (const auto& [topic, r] : routes_)
        for (const auto& b : r.broker_datas)
            for (const auto& [id, addr] : b.broker_addrs)
                brokers.insert(addr);
    for (const auto& addr : brokers) {
        command req = unregister_request(client_id_, group, producer);
        auto [ec, resp] = co_await invoke(addr, std::move(req), remoting::call_options{cfg_.rpc_timeout});
        if (ec)
            cfg_.log.debug("corocket: unregister {} at {} failed: {}", group, addr, ec.message());
    }
    co_return std::tuple{error_code{}};
}

client_impl::op<> client_impl::unregister(std::string group, bool producer)
{
    if (producer)
        std::erase(producers_, group);
    else
        std::erase_if(consumers_, [&](const consumer_registration& c) { return c.group == group; });
    co_return co_await unregister_everywhere(group, producer);
}

client_impl::op<> client_impl::stop()
{
    if (stopping_)
        co_return std::tuple{error_code{}};
    // Unregister before anything closes, so brokers drop us at once (rebalance, check-backs).
    for (const auto& g : std::vector<std::string>(producers_))
        co_await unregister_everywhere(g, true);
    for (const auto& c : std::vector<consumer_registration>(consumers_))
        co_await unregister_everywhere(c.group, false);
    stopping_ = true;
    refresh_timer_.cancel();
    heartbeat_timer_.cancel();
    auto conns = std::move(connections_);
    connections_.clear();
    for (auto& [addr, conn] : conns)  // fails whatever is still pending, so children finish
        co_await conn.async_close(tuple_token);
    while (children_ > 0) {
        children_cv_.expires_at(asio::steady_timer::time_point::max());
        co_await children_cv_.async_wait(tuple_token);
    }
    co_return std::tuple{error_code{}};
}

asio::awaitable<void> client_impl::refresh_loop()
{
    while (!stopping_) {
        refresh_timer_.expires_after(cfg_.route_refresh_interval);
        co_await refresh_timer_.async_wait(tuple_token);
        std::vector<std::string> topics;
        for (const auto& [t, r] : routes_)
            topics.push_back(t);
        for (const auto& t : topics) {
            if (stopping_)
                break;
            auto [ec, r] = co_await route(t, true);
            if (ec)
                cfg_.log.debug("corocket: route refresh of {} failed: {}", t, ec.message());
        }
    }
}

asio::awaitable<void> client_impl::heartbeat_loop()
{
    while (!stopping_) {
        if (!producers_.empty() || !consumers_.empty())
            co_await heartbeat_all();
        heartbeat_timer_.expires_after(cfg_.heartbeat_interval);
        co_await heartbeat_timer_.async_wait(tuple_token);
    }
}

bool client_impl::register_producer(std::string group)
{
    if (std::find(producers_.begin(), producers_.end(), group) != producers_.end())
        return false;
    producers_.push_back(std::move(group));
    return true;
}

bool client_impl::register_consumer(consumer_registration reg)
{
    for (auto& c : consumers_)
        if (c.group == reg.group) {
            c = std::move(reg);
            return false;
        }
    consumers_.push_back(std::move(reg));
    return true;
}

const topic_route* client_impl::cached_route(std::string_view topic) const
{
    auto it = routes_.find(topic);
    return it == routes_.end() ? nullptr : &it->second;
}

void client_impl::invalidate_route(std::string_view topic)
{
    if (auto it = routes_.find(topic); it != routes_.end())
        routes_.erase(it);
}

std::string client_impl::broker_address(std::string_view broker_name, std::int64_t broker_id) const
{
    if (auto b = broker_addrs_.find(broker_name); b != broker_addrs_.end())
        if (auto it = b->second.find(broker_id); it != b->second.end())
            return it->second;
    return {};
}

std::map<std::int64_t, std::string> client_impl::broker_addresses(std::string_view broker_name) const
{
    auto b = broker_addrs_.find(broker_name);
    return b == broker_addrs_.end() ? std::map<std::int64_t, std::string>{} : b->second;
}

}  // namespace detail

// ---- the public handle ----------------------------------------------------------------------

client::client(executor_type ex, client_config config)
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(config)))
{
}

client::~client() { impl_->shutdown_now(); }

client::executor_type client::get_executor() const noexcept { return impl_->executor(); }
const client_config& client::config() const noexcept { return impl_->config(); }
const std::string& client::client_id() const noexcept { return impl_->client_id(); }
bool client::running() const noexcept { return impl_->running(); }
void client::start() { impl_->start(); }
bool client::register_producer(std::string group) { return impl_->register_producer(std::move(group)); }
bool client::register_consumer(consumer_registration r) { return impl_->register_consumer(std::move(r)); }
void client::set_request_handler(int code, peer_request_handler h, std::string group)
{
    impl_->set_request_handler(code, std::move(h), std::move(group));
}
void client::clear_request_handler(int code, std::string group) { impl_->clear_request_handler(code, std::move(group)); }
const topic_route* client::cached_route(std::string_view topic) const { return impl_->cached_route(topic); }
void client::invalidate_route(std::string_view topic) { impl_->invalidate_route(topic); }
std::string client::broker_address(std::string_view name, std::int64_t id) const
{
    return impl_->broker_address(name, id);
}

void client::stop_impl(const std::shared_ptr<detail::client_impl>& impl, done_handler h)
{
    // Not a child: stop waits for the children.
    asio::co_spawn(impl->executor(), impl->stop(),
                   [impl, h = std::move(h)](std::exception_ptr e, std::tuple<error_code> r) mutable {
                       if (e)
                           std::rethrow_exception(e);
                       asio::post(impl->executor(), asio::append(std::move(h), std::get<0>(r)));
                   });
}

void client::route_impl(const std::shared_ptr<detail::client_impl>& impl, std::string topic, bool force,
                        route_handler h)
{
    impl->launch(impl->route(std::move(topic), force), std::move(h));
}

void client::cluster_info_impl(const std::shared_ptr<detail::client_impl>& impl, cluster_handler h)
{
    impl->launch(impl->cluster(), std::move(h));
}

void client::invoke_impl(const std::shared_ptr<detail::client_impl>& impl, std::string address,
                         remoting::command req, remoting::call_options opts, call_handler h)
{
    impl->launch(impl->invoke(std::move(address), std::move(req), opts), std::move(h));
}

void client::oneway_impl(const std::shared_ptr<detail::client_impl>& impl, std::string address,
                         remoting::command req, done_handler h)
{
    impl->launch(impl->invoke_oneway(std::move(address), std::move(req)), std::move(h));
}

void client::heartbeat_impl(const std::shared_ptr<detail::client_impl>& impl, done_handler h)
{
    impl->launch(impl->heartbeat_all(), std::move(h));
}

void client::unregister_impl(const std::shared_ptr<detail::client_impl>& impl, std::string group, bool producer,
                             done_handler h)
{
    impl->launch(impl->unregister(std::move(group), producer), std::move(h));
}

}  // namespace corocket
