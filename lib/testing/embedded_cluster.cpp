// The thin I/O shell around the NameServer and broker cores: listeners on 127.0.0.1, one
// remoting::connection per accepted socket, a timer that drives the cores' deadlines, and the
// fault-injection hooks. Every coroutine it starts is counted; async_stop completes when the
// count reaches zero.
#include <corocket/testing/embedded_cluster.hpp>

#include "remoting/connection_impl.hpp"
#include "testing/broker_core.hpp"
#include "testing/namesrv_core.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

namespace corocket::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace detail;

namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);
/// The 4.9.8 broker answers with its own version (V4_9_8) and language JAVA.
constexpr int broker_version = 409;

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

host_address loopback(std::uint16_t port)
{
    host_address a;
    a.ip = {127, 0, 0, 1};
    a.port = port;
    return a;
}

host_address from_endpoint(const tcp::endpoint& ep)
{
    host_address a;
    if (ep.address().is_v4()) {
        auto b = ep.address().to_v4().to_bytes();
        std::copy(b.begin(), b.end(), a.ip.begin());
    } else {
        auto b = ep.address().to_v6().to_bytes();
        std::copy(b.begin(), b.end(), a.ip.begin());
        a.v6 = true;
    }
    a.port = ep.port();
    return a;
}

std::string default_broker_name(std::size_t i)
{
    std::string name = "broker-";
    if (i < 26)
        name += static_cast<char>('a' + i);
    else
        name += std::to_string(i);
    return name;
}

}  // namespace

namespace detail {

class cluster_impl : public std::enable_shared_from_this<cluster_impl> {
public:
    using done_handler = asio::any_completion_handler<void(error_code)>;

    cluster_impl(asio::any_io_executor ex, cluster_options opts)
        : ex_(std::move(ex)), opts_(std::move(opts)), tick_timer_(ex_)
    {
        for (std::size_t i = 0; i < std::max<std::size_t>(1, opts_.brokers); ++i)
            names_.push_back(i < opts_.broker_names.size() ? opts_.broker_names[i] : default_broker_name(i));
        const std::size_t n = names_.size();
        ports_.assign(1 + n * (opts_.slave ? 2 : 1), 0);
        ports_[0] = opts_.namesrv_port;
        for (std::size_t i = 0; i < n && i < opts_.broker_ports.size(); ++i)
            ports_[listener_of(i, 0)] = opts_.broker_ports[i];
        for (std::size_t i = 0; opts_.slave && i < n && i < opts_.slave_ports.size(); ++i)
            ports_[listener_of(i, 1)] = opts_.slave_ports[i];
        offline_.assign(ports_.size(), false);
    }

    ~cluster_impl()
    {
        // Slaves hold references into their masters' stores: they go first.
        while (!brokers_.empty())
            brokers_.pop_back();
    }

    error_code start(diagnostics& diag);
    void stop(done_handler h);
    void restart(done_handler h);

    std::string address(std::size_t listener) const { return "127.0.0.1:" + std::to_string(ports_.at(listener)); }
    /// Listener index of broker `i`'s master (id 0) or slave (id 1): [0] is the NameServer, then
    /// the masters, then the slaves; broker core k serves listener k + 1.
    std::size_t listener_of(std::size_t i, std::int64_t broker_id) const
    {
        if (i >= names_.size() || broker_id < 0 || broker_id > (opts_.slave ? 1 : 0))
            throw std::out_of_range("embedded_cluster: no such broker");
        return 1 + i + (broker_id == 0 ? 0 : names_.size());
    }
    const std::string& broker_name(std::size_t i) const { return names_.at(i); }
    std::size_t broker_count() const noexcept { return names_.size(); }
    const cluster_options& options() const noexcept { return opts_; }
    const asio::any_io_executor& executor() const noexcept { return ex_; }

    void create_topic(const std::string& topic, int queues, int perm);
    std::int64_t max_offset(const std::string& topic, int queue_id, std::size_t broker) const;
    void drop_connections();
    void refuse(bool r) { refuse_ = r; }
    void delay(int code, std::chrono::milliseconds d);
    void inject(int request_code, int response_code, int count);
    error_code set_offline(std::size_t listener, bool offline);
    std::uint64_t requests_received(std::size_t listener, int request_code) const;
    /// Closes everything without waiting (destructor of the public object).
    void abandon();

private:
    struct session {
        remoting::connection conn;
        std::size_t target = 0;  // 0 = NameServer, i + 1 = broker i
        channel_ref ref;
    };

    error_code listen(diagnostics& diag);
    std::shared_ptr<tcp::acceptor> bind(std::uint16_t& port, error_code& ec);
    std::string listener_name(std::size_t listener) const;
    std::string bind_failure(std::size_t listener, const error_code& ec) const;
    error_code check_tls_files(diagnostics& diag) const;
    void close_sessions(std::size_t listener);
    void make_brokers();
    asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, std::size_t target);
    asio::awaitable<void> sniff_tls(tcp::socket socket, std::size_t target);
    error_code make_tls_context();
    asio::awaitable<void> tick_loop();
    asio::awaitable<void> close_session(remoting::connection conn);
    asio::awaitable<void> delayed_send(std::shared_ptr<asio::steady_timer> timer, channel_id id, remoting::command cmd);
    void spawn(asio::awaitable<void> task);
    void task_done();
    void open_session(tcp::socket socket, std::size_t target, bool tls);
    void on_request(channel_id id, remoting::command req);
    void on_closed(channel_id id);
    void apply(core_actions& out);
    void deliver(channel_id id, remoting::command cmd, int request_code);
    void sync_registry();
    void rearm();
    void shutdown_io();
    void when_idle(done_handler h);

    asio::any_io_executor ex_;
    cluster_options opts_;
    std::vector<std::string> names_;
    std::vector<std::uint16_t> ports_;  // by listener: [0] NameServer, then masters, then slaves
    std::vector<bool> offline_;         // by listener: taken off the network by set_offline
    std::vector<std::unique_ptr<broker_core>> brokers_;  // core k serves listener k + 1
    std::vector<std::uint64_t> registered_versions_;
    std::map<std::pair<std::size_t, int>, std::uint64_t> received_;  // (listener, request code) → count
    namesrv_core namesrv_;
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::map<channel_id, session> sessions_;
    channel_id next_channel_ = 1;
    asio::steady_timer tick_timer_;
    std::int64_t armed_deadline_ = std::numeric_limits<std::int64_t>::max();
    std::vector<std::shared_ptr<asio::steady_timer>> delay_timers_;
    std::map<int, std::chrono::milliseconds> delays_;
    std::vector<done_handler> idle_waiters_;
    int tasks_ = 0;
    bool running_ = false;
    bool refuse_ = false;
};

std::shared_ptr<tcp::acceptor> cluster_impl::bind(std::uint16_t& port, error_code& ec)
{
    auto acc = std::make_shared<tcp::acceptor>(ex_);
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    acc->open(ep.protocol(), ec);
    if (!ec)
        acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acc->bind(ep, ec);
    if (!ec)
        acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return nullptr;
    port = acc->local_endpoint().port();
    return acc;
}

/// What the tool prints for a listener: "namesrv", "broker broker-a", "slave broker-a".
std::string cluster_impl::listener_name(std::size_t listener) const
{
    if (listener == 0)
        return "namesrv";
    const std::size_t k = listener - 1;
    return (k < names_.size() ? "broker " : "slave ") + names_[k % names_.size()];
}

std::string cluster_impl::bind_failure(std::size_t listener, const error_code& ec) const
{
    return fmt::format("{}: cannot listen on {}: {}", listener_name(listener), address(listener), ec.message());
}

error_code cluster_impl::listen(diagnostics& diag)
{
    // Ports are kept only once every listener is bound, so a failed start leaves nothing open
    // and a later start asks for the same (possibly ephemeral) ports again.
    std::vector<std::uint16_t> ports = ports_;
    std::vector<std::shared_ptr<tcp::acceptor>> bound;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        error_code ec;
        auto acc = bind(ports[i], ec);
        if (ec) {
            error_code ignored;
            for (auto& b : bound)
                b->close(ignored);
            diag.client_message = bind_failure(i, ec);
            return ec;
        }
        bound.push_back(std::move(acc));
    }
    ports_ = std::move(ports);
    acceptors_ = std::move(bound);
    offline_.assign(ports_.size(), false);
    return {};
}

void cluster_impl::make_brokers()
{
    const std::size_t n = names_.size();
    for (std::size_t k = 0; k < ports_.size() - 1; ++k) {
        const std::size_t i = k % n;
        broker_settings s;
        s.broker_name = names_[i];
        s.cluster_name = opts_.cluster_name;
        s.address = loopback(ports_[k + 1]);
        s.options = opts_;
        if (k < n) {
            if (!opts_.data_dir.empty())
                s.data_dir = opts_.data_dir + "/" + names_[i];
        } else {
            s.broker_id = 1;
            s.master = brokers_[i].get();
        }
        brokers_.push_back(std::make_unique<broker_core>(std::move(s), now_ms()));
    }
    registered_versions_.assign(brokers_.size(), 0);
}

error_code cluster_impl::start(diagnostics& diag)
{
    if (running_)
        return {};
    if (auto ec = check_tls_files(diag))
        return ec;
    if (auto ec = make_tls_context()) {
        diag.client_message = fmt::format("cannot load TLS certificate '{}' / key '{}': {}", opts_.tls_cert_file,
                                          opts_.tls_key_file, ec.message());
        return ec;
    }
    if (auto ec = listen(diag))
        return ec;
    if (brokers_.empty())
        make_brokers();
    for (auto& b : brokers_)
        b->set_master_reachable(true);
    std::fill(registered_versions_.begin(), registered_versions_.end(), 0);
    sync_registry();
    running_ = true;
    for (std::size_t i = 0; i < acceptors_.size(); ++i)
        spawn(accept_loop(acceptors_[i], i));
    spawn(tick_loop());
    return {};
}

error_code cluster_impl::check_tls_files(diagnostics& diag) const
{
    if (opts_.tls_cert_file.empty() == opts_.tls_key_file.empty())
        return {};
    diag.client_message = "TLS needs both a certificate file and a key file";
    return client_errc::invalid_argument;
}

error_code cluster_impl::make_tls_context()
{
    if (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty() || tls_)
        return {};
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    error_code ec;
    ctx->use_certificate_chain_file(opts_.tls_cert_file, ec);
    if (!ec)
        ctx->use_private_key_file(opts_.tls_key_file, asio::ssl::context::pem, ec);
    if (ec)
        return ec;
    tls_ = std::move(ctx);
    return {};
}

void cluster_impl::spawn(asio::awaitable<void> task)
{
    ++tasks_;
    asio::co_spawn(ex_, std::move(task), [self = shared_from_this()](std::exception_ptr e) {
        self->task_done();
        if (e)
            std::rethrow_exception(e);
    });
}

void cluster_impl::task_done()
{
    if (--tasks_ > 0 || idle_waiters_.empty())
        return;
    auto waiters = std::move(idle_waiters_);
    idle_waiters_.clear();
    for (auto& h : waiters)
        asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(error_code{}); });
}

void cluster_impl::when_idle(done_handler h)
{
    if (tasks_ == 0) {
        asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(error_code{}); });
        return;
    }
    idle_waiters_.push_back(std::move(h));
}

asio::awaitable<void> cluster_impl::accept_loop(std::shared_ptr<tcp::acceptor> acceptor, std::size_t target)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(tuple_token);
        if (ec) {
            if (!acceptor->is_open() || ec == asio::error::operation_aborted)
                co_return;
            continue;  // e.g. too many open files: keep serving
        }
        if (refuse_) {
            error_code ignored;
            socket.close(ignored);
            continue;
        }
        if (tls_)
            spawn(sniff_tls(std::move(socket), target));
        else
            open_session(std::move(socket), target, false);
    }
}

asio::awaitable<void> cluster_impl::sniff_tls(tcp::socket socket, std::size_t target)
{
    // Like a 4.9.8 server: a first byte of 0x16 (TLS handshake record) means TLS.
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, tuple_token);
    unsigned char first = 0;
    std::size_t n = 0;
    if (!ec)
        n = socket.receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
    const bool tls = n == 1 && first == 0x16;
    if (ec || n == 0 || !running_ || (!tls && opts_.tls_enforcing)) {
        error_code ignored;
        socket.close(ignored);
        co_return;
    }
    open_session(std::move(socket), target, tls);
}

void cluster_impl::open_session(tcp::socket socket, std::size_t target, bool tls)
{
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec)
        return;
    remoting::connection_options o;
    o.language = remoting::language_code::java;
    o.version = broker_version;
    o.serialization = remoting::serialize_type::json;  // broker-initiated requests are JSON
    o.log = opts_.log;
    auto conn = tls ? remoting::detail::adopt_tls_socket(std::move(socket), tls_, std::move(o))
                    : remoting::detail::adopt_socket(std::move(socket), std::move(o));
    const channel_id id = next_channel_++;
    std::weak_ptr<cluster_impl> weak = shared_from_this();
    conn.set_request_handler([weak, id](remoting::command req) {
        if (auto self = weak.lock())
            self->on_request(id, std::move(req));
    });
    conn.on_close([weak, id](error_code) {
        if (auto self = weak.lock())
            self->on_closed(id);
    });
    sessions_.emplace(id, session{conn, target, channel_ref{id, from_endpoint(remote)}});
}

void cluster_impl::on_request(channel_id id, remoting::command req)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    if (it->second.target == 0) {
        const int code = req.code;
        if (auto resp = namesrv_.handle(req))
            deliver(id, std::move(*resp), code);
        return;
    }
    ++received_[{it->second.target, req.code}];
    core_actions out;
    brokers_[it->second.target - 1]->handle(it->second.ref, std::move(req), now_ms(), out);
    apply(out);
    sync_registry();
    rearm();
}

void cluster_impl::on_closed(channel_id id)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    auto conn = it->second.conn;
    const std::size_t target = it->second.target;
    sessions_.erase(it);
    if (target > 0) {
        core_actions out;
        brokers_[target - 1]->channel_closed(id, now_ms(), out);
        apply(out);
    }
    // Wait for the connection's own loops so that nothing outlives async_stop.
    spawn(close_session(std::move(conn)));
}

asio::awaitable<void> cluster_impl::close_session(remoting::connection conn)
{
    co_await conn.async_close(tuple_token);
}

void cluster_impl::apply(core_actions& out)
{
    for (auto& o : out.out) {
        if (o.request_code == 0) {
            if (auto it = sessions_.find(o.channel); it != sessions_.end())
                it->second.conn.post_oneway(std::move(o.cmd));
        } else {
            deliver(o.channel, std::move(o.cmd), o.request_code);
        }
    }
    for (auto id : out.close)
        if (auto it = sessions_.find(id); it != sessions_.end())
            it->second.conn.close();
}

void cluster_impl::deliver(channel_id id, remoting::command cmd, int request_code)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    if (auto d = delays_.find(request_code); d != delays_.end() && d->second.count() > 0) {
        auto timer = std::make_shared<asio::steady_timer>(ex_, d->second);
        delay_timers_.push_back(timer);
        spawn(delayed_send(std::move(timer), id, std::move(cmd)));
        return;
    }
    it->second.conn.send_response(std::move(cmd));
}

asio::awaitable<void> cluster_impl::delayed_send(std::shared_ptr<asio::steady_timer> timer, channel_id id,
                                                 remoting::command cmd)
{
    auto [ec] = co_await timer->async_wait(tuple_token);
    std::erase(delay_timers_, timer);
    if (ec || !running_)
        co_return;
    if (auto it = sessions_.find(id); it != sessions_.end())
        it->second.conn.send_response(std::move(cmd));
}

void cluster_impl::sync_registry()
{
    // A real broker registers with the NameServer right after creating a topic.
    for (std::size_t k = 0; k < brokers_.size(); ++k) {
        const broker_core& b = *brokers_[k];
        if (offline_[k + 1] || registered_versions_[k] == b.topics_version())
            continue;
        registered_versions_[k] = b.topics_version();
        namesrv_.register_broker(opts_.cluster_name, b.name(), b.broker_id(), address(k + 1), b.topics());
    }
}

void cluster_impl::rearm()
{
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (auto& b : brokers_)
        next = std::min(next, b->next_deadline());
    if (next < armed_deadline_)
        tick_timer_.cancel();
}

asio::awaitable<void> cluster_impl::tick_loop()
{
    while (running_) {
        std::int64_t next = std::numeric_limits<std::int64_t>::max();
        for (auto& b : brokers_)
            next = std::min(next, b->next_deadline());
        armed_deadline_ = next;
        const std::int64_t wait = std::clamp<std::int64_t>(next - now_ms(), 0, 3600 * 1000);
        tick_timer_.expires_after(std::chrono::milliseconds(wait));
        co_await tick_timer_.async_wait(tuple_token);
        if (!running_)
            break;
        const std::int64_t now = now_ms();
        for (std::size_t k = 0; k < brokers_.size(); ++k) {
            if (offline_[k + 1])
                continue;  // a stopped process runs no timers
            core_actions out;
            brokers_[k]->tick(now, out);
            apply(out);
        }
        sync_registry();
    }
}

void cluster_impl::shutdown_io()
{
    running_ = false;
    error_code ignored;
    for (auto& a : acceptors_)
        a->close(ignored);
    acceptors_.clear();
    tick_timer_.cancel();
    for (auto& t : delay_timers_)
        t->cancel();
    // Closing runs the on_close callbacks, which erase the sessions and wait for their loops.
    std::vector<remoting::connection> conns;
    for (auto& [id, s] : sessions_)
        conns.push_back(s.conn);
    for (auto& c : conns)
        c.close();
}

void cluster_impl::stop(done_handler h)
{
    shutdown_io();
    when_idle([self = shared_from_this(), h = std::move(h)](error_code) mutable {
        for (auto& b : self->brokers_)
            b->reset_connections();
        std::move(h)(error_code{});
    });
}

void cluster_impl::restart(done_handler h)
{
    shutdown_io();
    when_idle([self = shared_from_this(), h = std::move(h)](error_code) mutable {
        for (auto& b : self->brokers_)
            b->reset_connections();
        diagnostics diag;
        auto ec = self->start(diag);
        if (ec)
            self->opts_.log.error("embedded_cluster: restart failed: {}", diag.client_message);
        std::move(h)(ec);
    });
}

void cluster_impl::abandon()
{
    shutdown_io();
}

void cluster_impl::create_topic(const std::string& topic, int queues, int perm)
{
    for (auto& b : brokers_) {
        if (b->is_slave()) {
            // mqadmin updateTopic writes to masters only; a test should not wait for the next
            // SlaveSynchronize round, so slaves copy the new topic at once.
            b->sync_from_master();
            continue;
        }
        topic_config t;
        t.name = topic;
        t.read_queue_nums = t.write_queue_nums = queues;
        t.perm = perm;
        b->create_topic(std::move(t));
    }
    sync_registry();
}

std::int64_t cluster_impl::max_offset(const std::string& topic, int queue_id, std::size_t broker) const
{
    return broker < brokers_.size() ? brokers_[broker]->store().max_offset(topic, queue_id) : 0;
}

void cluster_impl::drop_connections()
{
    std::vector<remoting::connection> conns;
    for (auto& [id, s] : sessions_)
        conns.push_back(s.conn);
    for (auto& c : conns)
        c.close();
}

void cluster_impl::close_sessions(std::size_t listener)
{
    std::vector<remoting::connection> conns;
    for (auto& [id, s] : sessions_)
        if (s.target == listener)
            conns.push_back(s.conn);
    for (auto& c : conns)
        c.close();
}

error_code cluster_impl::set_offline(std::size_t listener, bool offline)
{
    if (!running_ || offline_[listener] == offline)
        return {};
    const broker_core& b = *brokers_[listener - 1];
    if (!b.is_slave())
        for (auto& s : brokers_)
            if (s->is_slave() && s->name() == b.name())
                s->set_master_reachable(!offline);
    if (offline) {
        offline_[listener] = true;
        error_code ignored;
        acceptors_[listener]->close(ignored);
        close_sessions(listener);
        // The NameServer sees the broker's channel close (RouteInfoManager.onChannelDestroy).
        namesrv_.unregister_broker(b.name(), b.broker_id());
        return {};
    }
    error_code ec;
    auto acc = bind(ports_[listener], ec);
    if (ec) {
        opts_.log.error("embedded_cluster: {}", bind_failure(listener, ec));
        return ec;
    }
    acceptors_[listener] = acc;
    offline_[listener] = false;
    registered_versions_[listener - 1] = 0;
    spawn(accept_loop(std::move(acc), listener));
    sync_registry();
    return {};
}

std::uint64_t cluster_impl::requests_received(std::size_t listener, int request_code) const
{
    auto it = received_.find({listener, request_code});
    return it == received_.end() ? 0 : it->second;
}

void cluster_impl::delay(int code, std::chrono::milliseconds d)
{
    if (d.count() <= 0)
        delays_.erase(code);
    else
        delays_[code] = d;
}

void cluster_impl::inject(int request_code, int response_code, int count)
{
    for (auto& b : brokers_)
        b->inject_response(request_code, response_code, count);
}

}  // namespace detail

// ---- public handle ------------------------------------------------------------------------------

embedded_cluster::embedded_cluster(executor_type ex, cluster_options opts)
    : impl_(std::make_shared<detail::cluster_impl>(std::move(ex), std::move(opts)))
{
}

embedded_cluster::~embedded_cluster()
{
    impl_->abandon();
}

embedded_cluster::executor_type embedded_cluster::get_executor() const noexcept { return impl_->executor(); }
const cluster_options& embedded_cluster::options() const noexcept { return impl_->options(); }
error_code embedded_cluster::start(diagnostics* diag)
{
    diagnostics local;
    diagnostics& d = diag ? *diag : local;
    d.clear();
    return impl_->start(d);
}
std::string embedded_cluster::namesrv_address() const { return impl_->address(0); }
std::string embedded_cluster::broker_address(std::size_t i) const { return impl_->address(impl_->listener_of(i, 0)); }
std::string embedded_cluster::slave_address(std::size_t i) const { return impl_->address(impl_->listener_of(i, 1)); }
const std::string& embedded_cluster::broker_name(std::size_t i) const { return impl_->broker_name(i); }
std::size_t embedded_cluster::broker_count() const noexcept { return impl_->broker_count(); }

void embedded_cluster::create_topic(const std::string& topic, int queues, int perm)
{
    impl_->create_topic(topic, queues, perm);
}

std::int64_t embedded_cluster::max_offset(const std::string& topic, int queue_id, std::size_t broker) const
{
    return impl_->max_offset(topic, queue_id, broker);
}

void embedded_cluster::drop_connections() { impl_->drop_connections(); }
void embedded_cluster::refuse_connections(bool refuse) { impl_->refuse(refuse); }
void embedded_cluster::delay_responses(int request_code, std::chrono::milliseconds delay)
{
    impl_->delay(request_code, delay);
}
void embedded_cluster::inject_response(int request_code, int response_code, int count)
{
    impl_->inject(request_code, response_code, count);
}
error_code embedded_cluster::set_offline(std::size_t i, std::int64_t broker_id, bool offline)
{
    return impl_->set_offline(impl_->listener_of(i, broker_id), offline);
}
std::uint64_t embedded_cluster::requests_received(std::size_t i, std::int64_t broker_id, int request_code) const
{
    return impl_->requests_received(impl_->listener_of(i, broker_id), request_code);
}
void embedded_cluster::restart_impl(done_handler handler) { impl_->restart(std::move(handler)); }
void embedded_cluster::stop_impl(done_handler handler) { impl_->stop(std::move(handler)); }

}  // namespace corocket::testing
