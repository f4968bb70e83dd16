// The connection shell. Every decision lives in the sans-I/O pieces; the coroutines here only
// move bytes, wait, and hand frames over. One TU on purpose: it holds the heavy Asio
// instantiations of the remoting layer.
#include "remoting/connection_impl.hpp"

#include "remoting/header_codec.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <limits>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace corocket::remoting {
namespace detail {
namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);
constexpr std::size_t read_chunk = 64 * 1024;

// "host:port" → (host, port); IPv6 hosts may be bracketed: "[::1]:9876".
bool split_address(std::string_view address, std::string& host, std::string& port)
{
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == address.size())
        return false;
    std::string_view h = address.substr(0, colon);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
        h = h.substr(1, h.size() - 2);
    host.assign(h);
    port.assign(address.substr(colon + 1));
    return !host.empty();
}

std::shared_ptr<asio::ssl::context> make_client_tls_context(const tls_options& o, error_code& ec)
{
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (o.verify_peer) {
        ctx->set_verify_mode(asio::ssl::verify_peer, ec);
        if (!ec)
            o.ca_file.empty() ? ctx->set_default_verify_paths(ec) : ctx->load_verify_file(o.ca_file, ec);
        if (!ec && !o.server_name.empty())
            ctx->set_verify_callback(asio::ssl::host_name_verification(o.server_name), ec);
    } else {
        ctx->set_verify_mode(asio::ssl::verify_none, ec);
    }
    if (!ec && !o.cert_file.empty())
        ctx->use_certificate_chain_file(o.cert_file, ec);
    if (!ec && !o.key_file.empty())
        ctx->use_private_key_file(o.key_file, asio::ssl::context::pem, ec);
    return ctx;
}

}  // namespace

connection_impl::connection_impl(asio::any_io_executor ex, std::string address, connection_options opts)
    : ex_(std::move(ex)), address_(std::move(address)), opts_(std::move(opts)), socket_(ex_),
      reader_(opts_.max_frame_size), writer_cv_(ex_), deadline_timer_(ex_)
{
}

connection_impl::connection_impl(tcp::socket socket, std::shared_ptr<asio::ssl::context> server_tls,
                                 connection_options opts)
    : ex_(socket.get_executor()), opts_(std::move(opts)), socket_(std::move(socket)),
      tls_ctx_(std::move(server_tls)), reader_(opts_.max_frame_size), writer_cv_(ex_), deadline_timer_(ex_)
{
    error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec)
        address_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

connection_impl::~connection_impl()
{
    // Loops hold a reference while they run, so only an idle or finished connection gets here;
    // its queued calls still deserve an answer.
    close(client_errc::connection_closed);
}

void connection_impl::spawn(asio::awaitable<void> (connection_impl::*loop)())
{
    ++loops_running_;
    asio::co_spawn(ex_, (this->*loop)(), [self = shared_from_this()](std::exception_ptr e) {
        if (e)
            self->close(client_errc::connection_closed);
        self->loop_finished();
    });
}

void connection_impl::start_client()
{
    if (state_ != state::idle)
        return;
    state_ = state::connecting;
    spawn(&connection_impl::deadline_loop);  // calls may time out while connecting
    spawn(&connection_impl::run_client);
}

void connection_impl::start_server()
{
    if (state_ != state::idle)
        return;
    state_ = state::connecting;
    spawn(&connection_impl::deadline_loop);
    if (tls_ctx_) {
        spawn(&connection_impl::run_server_handshake);
        return;
    }
    start_loops();
}

void connection_impl::start_loops()
{
    state_ = state::open;
    spawn(&connection_impl::read_loop);
    spawn(&connection_impl::write_loop);
}

asio::awaitable<void> connection_impl::run_client()
{
    error_code ec = co_await connect();
    if (state_ == state::closed)
        co_return;
    if (ec) {
        opts_.log.warn("corocket: connect to {} failed: {}", address_, ec.message());
        close(client_errc::connect_failed);
        co_return;
    }
    start_loops();
}

asio::awaitable<void> connection_impl::run_server_handshake()
{
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_ctx_);
    asio::steady_timer timer(ex_);
    timer.expires_after(opts_.connect_timeout);
    timer.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec && self->state_ == state::connecting)
            self->close(client_errc::connect_failed);
    });
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, tuple_token);
    timer.cancel();
    if (state_ == state::closed)
        co_return;
    if (ec) {
        close(client_errc::connect_failed);
        co_return;
    }
    start_loops();
}

// Resolves, connects and (optionally) runs the TLS handshake within connect_timeout.
asio::awaitable<error_code> connection_impl::connect()
{
    std::string host, port;
    if (!split_address(address_, host, port))
        co_return make_error_code(client_errc::invalid_argument);

    auto resolver = std::make_shared<tcp::resolver>(ex_);
    resolver_ = resolver;
    asio::steady_timer timer(ex_);
    timer.expires_after(opts_.connect_timeout);
    // The timer handler may run after this frame is gone: it captures only owned state.
    timer.async_wait([self = shared_from_this(), resolver](error_code ec) {
        if (ec || self->state_ != state::connecting)
            return;
        resolver->cancel();
        error_code ignored;
        self->socket_.close(ignored);
    });

    auto [rec, endpoints] = co_await resolver->async_resolve(host, port, tuple_token);
    resolver_.reset();
    if (rec || state_ == state::closed) {
        timer.cancel();
        co_return rec ? rec : make_error_code(client_errc::connection_closed);
    }
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, tuple_token);
    if (cec) {
        timer.cancel();
        co_return cec;
    }
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    if (opts_.tls.enabled) {
        tls_ctx_ = make_client_tls_context(opts_.tls, ec);
        if (ec) {
            timer.cancel();
            opts_.log.error("corocket: TLS set-up for {} failed: {}", address_, ec.message());
            co_return make_error_code(client_errc::tls_failed);
        }
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_ctx_);
        if (!opts_.tls.server_name.empty())
            SSL_set_tlsext_host_name(tls_->native_handle(), opts_.tls.server_name.c_str());
        auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, tuple_token);
        ec = hec;
    }
    timer.cancel();
    co_return ec;
}

asio::awaitable<void> connection_impl::read_loop()
{
    while (state_ != state::closed) {
        std::span<char> buf = reader_.prepare(read_chunk);
        auto target = asio::buffer(buf.data(), buf.size());
        error_code ec;
        std::size_t n = 0;
        if (tls_)
            std::tie(ec, n) = co_await tls_->async_read_some(target, tuple_token);
        else
            std::tie(ec, n) = co_await socket_.async_read_some(target, tuple_token);
        if (state_ == state::closed)
            break;
        if (ec) {
            close(client_errc::connection_closed);
            break;
        }
        reader_.commit(n);
        error_code perr;
        while (state_ != state::closed) {  // no suspension in here
            auto frame = reader_.next(perr);
            if (!frame)
                break;
            command_view view;
            if (auto dec = decode_frame(*frame, view)) {
                perr = dec;
                break;
            }
            dispatch(std::move(view));
        }
        if (perr) {
            opts_.log.error("corocket: closing {}: {}", address_, perr.message());
            close(perr);
        }
    }
}

asio::awaitable<void> connection_impl::write_loop()
{
    while (state_ != state::closed) {
        if (filling_.empty()) {
            writer_cv_.expires_at(asio::steady_timer::time_point::max());
            co_await writer_cv_.async_wait(tuple_token);
            continue;
        }
        std::swap(filling_, writing_);
        error_code ec;
        const auto stalled = watch_write();
        if (tls_)
            std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, writing_.buffers(), tuple_token);
        else
            std::tie(ec, std::ignore) = co_await asio::async_write(socket_, writing_.buffers(), tuple_token);
        if (stalled)
            stalled->cancel();
        const error_code result = ec ? make_error_code(client_errc::connection_closed) : error_code{};
        writing_.finish([&](done_handler h) { complete_done(std::move(h), result); });
        if (ec) {
            close(client_errc::connection_closed);
            break;
        }
    }
}

std::shared_ptr<asio::steady_timer> connection_impl::watch_write()
{
    if (opts_.write_timeout.count() <= 0)
        return nullptr;
    auto timer = std::make_shared<asio::steady_timer>(ex_, opts_.write_timeout);
    // Closing the socket ends the write with an error; the handler owns what it touches.
    timer->async_wait([w = weak_from_this()](error_code ec) {
        auto self = w.lock();
        if (ec || !self || self->state_ == state::closed)
            return;
        self->opts_.log.warn("corocket: write to {} stalled for {} ms; closing", self->address_,
                             self->opts_.write_timeout.count());
        self->close(client_errc::connection_closed);
    });
    return timer;
}

asio::awaitable<void> connection_impl::deadline_loop()
{
    while (state_ != state::closed) {
        auto next = calls_.next_deadline();
        deadline_timer_.expires_at(next ? *next : asio::steady_timer::time_point::max());
        co_await deadline_timer_.async_wait(tuple_token);
        if (state_ == state::closed)
            break;
        calls_.expire(std::chrono::steady_clock::now(), [this](std::int32_t, auto&& e) {
            complete_call(std::move(e.handler), client_errc::timeout, {});
        });
        close_if_drained();
    }
}

void connection_impl::loop_finished()
{
    if (--loops_running_ > 0 || state_ != state::closed)
        return;
    for (auto& h : close_waiters_)
        complete_done(std::move(h), {});
    close_waiters_.clear();
}

std::int32_t connection_impl::next_opaque()
{
    // Sign bit masked (as the C++ reference client does); after wrap-around, skip opaques still
    // held by long-lived calls.
    for (;;) {
        auto o = static_cast<std::int32_t>(opaque_counter_++ & 0x7fffffffu);
        if (calls_.is_free(o))
            return o;
    }
}

void connection_impl::set_next_opaque(std::uint32_t value) { opaque_counter_ = value; }

void connection_impl::enqueue(command& cmd, std::optional<done_handler> done)
{
    std::string& sink = filling_.header_sink();
    const std::size_t begin = sink.size();
    encode_header(cmd, cmd.body.size(), sink);
    filling_.commit_frame(begin, std::move(cmd.body));
    if (done)
        filling_.on_done(std::move(*done));
    if (state_ == state::open)
        writer_cv_.cancel();
}

// Fills in what the connection owns in a request: opaque, flag, language, version, encoding.
void connection_impl::prepare_request(command& req, std::int32_t flag)
{
    req.opaque = next_opaque();
    req.flag = flag;
    req.language = opts_.language;
    req.version = opts_.version;
    // Binary headers carry the code in 16 bits; larger codes (5.x POP family) need JSON.
    const bool fits_binary = req.code >= std::numeric_limits<std::int16_t>::min() &&
                             req.code <= std::numeric_limits<std::int16_t>::max();
    req.type = fits_binary ? opts_.serialization : serialize_type::json;
    for (auto& hook : opts_.hooks)
        hook->before_request(address_, req);
}

error_code connection_impl::check_sendable(const command& req) const
{
    if (state_ == state::closed)
        return close_reason_ == client_errc::connect_failed ? close_reason_
                                                            : make_error_code(client_errc::connection_closed);
    if (req.body.size() + 1024 > opts_.max_frame_size)
        return make_error_code(client_errc::frame_too_large);
    return {};
}

void connection_impl::call(command req, call_options opts, call_handler h)
{
    start_client();  // may fail and close at once (an address without a port): check after it
    if (auto ec = check_sendable(req)) {
        complete_call(std::move(h), ec, {});
        return;
    }
    prepare_request(req, 0);
    const std::int32_t opaque = req.opaque;

    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected()) {
        slot.assign([w = weak_from_this(), opaque, ex = ex_](asio::cancellation_type) {
            // Never complete from inside the cancellation handler: post.
            asio::post(ex, [w, opaque] {
                if (auto self = w.lock())
                    self->abandon(opaque);
            });
        });
    }
    std::optional<call_table<call_handler>::clock::time_point> deadline;
    if (opts.timeout.count() > 0)
        deadline = std::chrono::steady_clock::now() + opts.timeout;
    calls_.insert(opaque, req.code, std::move(h), deadline);
    enqueue(req, std::nullopt);
    if (deadline && *deadline < deadline_timer_.expiry())
        deadline_timer_.expires_at(*deadline);  // wakes the deadline loop to re-arm
}

void connection_impl::oneway(command req, std::optional<done_handler> h)
{
    start_client();
    if (auto ec = check_sendable(req)) {
        if (h)
            complete_done(std::move(*h), ec);
        return;
    }
    prepare_request(req, flag_oneway);
    enqueue(req, std::move(h));
}

void connection_impl::respond(command resp)
{
    if (state_ == state::closed)
        return;
    resp.flag |= flag_response;
    resp.language = opts_.language;
    resp.version = opts_.version;
    enqueue(resp, std::nullopt);
}

void connection_impl::dispatch(command_view&& frame)
{
    if (frame.header.is_response())
        deliver_response(std::move(frame));
    else
        handle_peer_request(std::move(frame));
}

void connection_impl::deliver_response(command_view&& frame)
{
    auto entry = calls_.take(frame.header.opaque);
    if (!entry) {
        opts_.log.debug("corocket: dropping late or unknown response opaque={} from {}", frame.header.opaque,
                        address_);
        return;
    }
    command resp = frame.to_owned();
    if (resp.code == response_code::go_away && !draining_) {
        // The server is shutting down (5.x): callers should reconnect; this one drains.
        opts_.log.info("corocket: {} answered GO_AWAY; draining the connection", address_);
        draining_ = true;
    }
    if (!opts_.hooks.empty()) {
        command_header req;
        req.code = entry->request_code;
        req.opaque = frame.header.opaque;
        for (auto& hook : opts_.hooks) {
            try {
                hook->after_response(address_, req, resp);
            } catch (const std::exception& e) {  // the call must still complete
                opts_.log.error("corocket: rpc hook after_response threw: {}", e.what());
            }
        }
    }
    complete_call(std::move(entry->handler), {}, std::move(resp));
    close_if_drained();
}

void connection_impl::close_if_drained()
{
    if (draining_ && calls_.empty())
        close(client_errc::connection_closed);
}

void connection_impl::handle_peer_request(command_view&& frame)
{
    if (handler_) {
        handler_(frame.to_owned());
        return;
    }
    if (frame.header.is_oneway())
        return;
    respond(command::response_to(frame.header, response_code::request_code_not_supported,
                                 fmt::format(" request type {} not supported", frame.header.code)));
}

void connection_impl::abandon(std::int32_t opaque)
{
    if (auto e = calls_.take(opaque))
        complete_call(std::move(e->handler), client_errc::operation_aborted, {});
    close_if_drained();
}

void connection_impl::complete_call(call_handler h, error_code ec, command resp)
{
    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected())
        slot.clear();
    // post() runs the handler through its own associated executor; never inline.
    asio::post(ex_, asio::append(std::move(h), ec, std::move(resp)));
}

void connection_impl::complete_done(done_handler h, error_code ec)
{
    asio::post(ex_, asio::append(std::move(h), ec));
}

void connection_impl::close(error_code reason)
{
    if (state_ == state::closed)
        return;
    const bool had_loops = loops_running_ > 0;
    state_ = state::closed;
    close_reason_ = reason;
    error_code ignored;
    if (resolver_)
        resolver_->cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    writer_cv_.cancel();
    deadline_timer_.cancel();

    const error_code pending_error = reason == client_errc::connect_failed
                                         ? reason
                                         : make_error_code(client_errc::connection_closed);
    calls_.drain([&](std::int32_t, auto&& e) { complete_call(std::move(e.handler), pending_error, {}); });
    filling_.finish([&](done_handler h) { complete_done(std::move(h), pending_error); });
    for (auto& cb : close_callbacks_)
        asio::post(ex_, [cb = std::move(cb), reason] { cb(reason); });
    close_callbacks_.clear();
    // A handler often captures its own connection handle; dropping it here breaks that cycle.
    // Destroyed later, not now: close() may be running inside the handler.
    asio::post(ex_, [h = std::move(handler_)] {});
    handler_ = nullptr;
    if (!had_loops) {
        for (auto& h : close_waiters_)
            complete_done(std::move(h), {});
        close_waiters_.clear();
    }
}

void connection_impl::async_close(done_handler h)
{
    close(client_errc::connection_closed);
    if (loops_running_ == 0)
        complete_done(std::move(h), {});
    else
        close_waiters_.push_back(std::move(h));
}

connection adopt_socket(tcp::socket socket, connection_options opts)
{
    auto impl = std::make_shared<connection_impl>(std::move(socket), nullptr, std::move(opts));
    impl->start_server();
    return connection(std::move(impl));
}

connection adopt_tls_socket(tcp::socket socket, std::shared_ptr<asio::ssl::context> ctx, connection_options opts)
{
    auto impl = std::make_shared<connection_impl>(std::move(socket), std::move(ctx), std::move(opts));
    impl->start_server();
    return connection(std::move(impl));
}

}  // namespace detail

// ---- the public handle ----------------------------------------------------------------------

connection::connection(executor_type ex, std::string address, connection_options opts)
    : impl_(std::make_shared<detail::connection_impl>(std::move(ex), std::move(address), std::move(opts)))
{
}

connection::executor_type connection::get_executor() const noexcept { return impl_->executor(); }
const std::string& connection::address() const noexcept { return impl_->address(); }
bool connection::is_open() const noexcept { return impl_->is_open(); }
bool connection::is_draining() const noexcept { return impl_->is_draining(); }
std::size_t connection::pending_calls() const noexcept { return impl_->pending_calls(); }
error_code connection::close_reason() const noexcept { return impl_->close_reason(); }
void connection::connect() { impl_->start_client(); }
void connection::set_request_handler(request_handler handler) { impl_->set_request_handler(std::move(handler)); }
void connection::send_response(command response) { impl_->respond(std::move(response)); }
void connection::post_oneway(command request) { impl_->oneway(std::move(request), std::nullopt); }
void connection::on_close(std::function<void(error_code)> callback) { impl_->on_close(std::move(callback)); }
void connection::close() { impl_->close(client_errc::connection_closed); }

void connection::call_impl(const std::shared_ptr<detail::connection_impl>& impl, command req, call_options opts,
                           call_handler h)
{
    impl->call(std::move(req), opts, std::move(h));
}

void connection::oneway_impl(const std::shared_ptr<detail::connection_impl>& impl, command req, done_handler h)
{
    impl->oneway(std::move(req), std::move(h));
}

void connection::close_impl(const std::shared_ptr<detail::connection_impl>& impl, done_handler h)
{
    impl->async_close(std::move(h));
}

}  // namespace corocket::remoting
