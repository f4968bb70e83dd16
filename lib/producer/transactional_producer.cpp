// Transactions (protocol.md §7.4): half message → local transaction → END_TRANSACTION, and the
// answers to CHECK_TRANSACTION_STATE, which may reach any producer of the group.
#include "producer/transactional_producer_impl.hpp"

#include "message/ids.hpp"
#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <mutex>

namespace asio = boost::asio;

namespace corocket {
namespace detail {
namespace {

// Registry of per-client dispatchers. Clients live on different threads, hence the mutex; it
// is only taken when a transactional producer starts or stops.
std::mutex registry_mutex;
std::map<const client_impl*, std::weak_ptr<check_dispatcher>> registry;

struct guarded_state {
    transaction_state state = transaction_state::unknown;
    std::string error;  ///< exception text, empty when the callable returned
};

// Runs a user coroutine; an exception becomes `unknown` plus its text, never a crash.
template <class F, class... Args>
asio::awaitable<guarded_state> run_guarded(const F& f, const Args&... args)
{
    try {
        if (!f)
            co_return guarded_state{transaction_state::unknown, "no handler"};
        // Not `guarded_state{co_await f(...), {}}`: GCC 12 miscompiles co_await inside a braced
        // aggregate initializer (the string member is destroyed twice).
        const transaction_state state = co_await f(args...);
        co_return guarded_state{state, {}};
    } catch (const std::exception& e) {
        co_return guarded_state{transaction_state::unknown, e.what()};
    } catch (...) {
        co_return guarded_state{transaction_state::unknown, "unknown exception"};
    }
}

asio::awaitable<void> prologue()
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
}

}  // namespace

// ---- check_dispatcher -----------------------------------------------------------------------

std::shared_ptr<check_dispatcher> check_dispatcher::for_client(const std::shared_ptr<client_impl>& client)
{
    std::lock_guard lock(registry_mutex);
    for (auto it = registry.begin(); it != registry.end();)
        it = it->second.expired() ? registry.erase(it) : std::next(it);
    if (auto it = registry.find(client.get()); it != registry.end())
        if (auto d = it->second.lock(); d && d->client_.lock() == client)
            return d;
    auto d = std::make_shared<check_dispatcher>(client);
    client->set_request_handler(remoting::request_code::check_transaction_state,
                                [d](remoting::connection conn, remoting::command req) {
                                    d->dispatch(std::move(conn), std::move(req));
                                });
    registry.insert_or_assign(client.get(), d);
    return d;
}

void check_dispatcher::add(const std::string& wire_group, std::weak_ptr<transactional_producer_impl> producer)
{
    producers_.insert_or_assign(wire_group, std::move(producer));
}

void check_dispatcher::remove(const std::string& wire_group)
{
    producers_.erase(wire_group);
    if (!producers_.empty())
        return;
    if (auto c = client_.lock())  // drops the handler, and with it the client's reference to us
        c->clear_request_handler(remoting::request_code::check_transaction_state);
}

void check_dispatcher::dispatch(remoting::connection conn, remoting::command request)
{
    auto c = client_.lock();
    if (!c)
        return;
    check_request check;
    message_batch batch;
    if (auto ec = parse_check_request(request, check); ec || message_batch::decode(std::move(request.body), batch) ||
                                                       batch.size() != 1) {
        c->log().warn("corocket: undecodable CHECK_TRANSACTION_STATE from {} (msgId {})", conn.address(),
                      request.ext_fields.get("msgId"));
        return;
    }
    const auto group = batch.messages()[0].property(property_name::pgroup).value_or("");
    auto it = producers_.find(group);
    auto p = it == producers_.end() ? nullptr : it->second.lock();
    if (!p) {  // Java logs and drops it too: the broker asks again later
        c->log().debug("corocket: check-back for group '{}' that has no transactional producer here", group);
        return;
    }
    p->on_check(std::move(conn), std::move(check), std::move(batch));
}

// ---- transactional_producer_impl ------------------------------------------------------------

transactional_producer_impl::transactional_producer_impl(corocket::client& c, transactional_producer_config cfg,
                                                         transaction_checker checker)
    : base_(std::make_shared<producer_impl>(c, cfg.producer)), cfg_(std::move(cfg)), checker_(std::move(checker))
{
}

error_code transactional_producer_impl::start(diagnostics* diag)
{
    if (base_->running())
        return {};
    if (auto ec = base_->start(diag))
        return ec;
    dispatcher_ = check_dispatcher::for_client(base_->client_ptr());
    dispatcher_->add(base_->wire_group(), weak_from_this());
    return {};
}

transactional_producer_impl::op<transaction_result> transactional_producer_impl::send(
    std::shared_ptr<transactional_producer_impl> self, message msg, local_transaction local)
{
    co_await prologue();
    auto& base = self->base();
    const auto deadline = base.deadline_for({});
    transaction_result out;
    if (!base.running())
        co_return std::tuple{make_error_code(client_errc::not_running), std::move(out)};
    // A half message may not be delayed; TRAN_MSG and PGROUP route it and its check-backs.
    msg.erase_property(property_name::delay);
    auto& props = msg.properties_mut();
    props.insert_or_assign(std::string(property_name::tran_msg), "true");
    props.insert_or_assign(std::string(property_name::pgroup), base.wire_group());
    prepared_send p;
    if (auto ec = base.prepare(msg, p, out.half.diag))
        co_return std::tuple{ec, std::move(out)};
    const std::string wire_topic = p.topic;
    auto [ec, half] = co_await base.deliver(p, msg, {}, send_mode::half, deadline);
    out.half = std::move(half);
    if (ec)
        co_return std::tuple{ec, std::move(out)};
    props.insert_or_assign(std::string(property_name::transaction_id), out.half.transaction_id);

    // Java rolls back a half message whose store status is not SEND_OK without asking the
    // application: it may not have reached the slave, so it must not become visible.
    out.state = transaction_state::rollback;
    std::string remark;
    if (out.half.status == send_status::send_ok) {
        out.local_transaction_ran = true;
        auto g = co_await run_guarded(local, std::as_const(msg), std::as_const(out.half));
        out.state = g.state;
        out.local_transaction_error = g.error;
        if (!g.error.empty())
            remark = "executeLocalTransactionBranch exception: " + g.error;
    }
    // The decision is made: write it even if the caller cancelled meanwhile.
    co_await asio::this_coro::reset_cancellation_state();
    out.end_transaction_error = co_await self->end_transaction(out.half, wire_topic, out.state, remark);
    co_return std::tuple{error_code{}, std::move(out)};
}

asio::awaitable<error_code> transactional_producer_impl::end_transaction(const send_result& half,
                                                                         const std::string& wire_topic,
                                                                         transaction_state state,
                                                                         const std::string& remark)
{
    auto& base = *base_;
    const auto offset = decode_offset_msg_id(half.offset_msg_id);
    const std::string address = base.client_runtime().broker_address(half.queue.broker_name, broker_data::master_id);
    error_code ec;
    if (!offset) {
        ec = client_errc::unexpected_response;
    } else if (address.empty()) {
        ec = client_errc::no_broker_address;
    } else {
        end_transaction_args a;
        a.group = base.wire_group();
        a.tran_state_table_offset = half.queue_offset;
        a.commit_log_offset = offset->second;
        a.state = state;
        a.msg_id = half.msg_id;
        a.transaction_id = half.transaction_id;
        a.topic = wire_topic;
        a.broker_name = half.queue.broker_name;
        a.remark = remark;
        auto deadline = std::chrono::steady_clock::now() + cfg_.end_transaction_timeout;
        std::tie(ec) = co_await with_deadline(base.client_runtime().invoke_oneway(address, make_end_transaction_request(a)),
                                              deadline);
    }
    if (ec)  // only logged, as in Java: the broker's check-back repairs it
        base.log().warn("corocket: END_TRANSACTION ({}) for {} (offset id '{}') not sent: {}", to_string(state),
                        half.msg_id, half.offset_msg_id, ec.message());
    co_return ec;
}

void transactional_producer_impl::on_check(remoting::connection conn, check_request check, message_batch batch)
{
    ++stats_.received;
    if (!base_->running()) {
        ++stats_.failed;
        return;
    }
    base_->spawn_child(check_back(shared_from_this(), std::move(conn), std::move(check), std::move(batch)));
}

asio::awaitable<void> transactional_producer_impl::check_back(std::shared_ptr<transactional_producer_impl> self,
                                                              remoting::connection conn, check_request check,
                                                              message_batch batch)
{
    using namespace asio::experimental::awaitable_operators;
    co_await prologue();
    auto& base = self->base();
    message_view view = batch.messages()[0];
    const std::string user_topic = unwrap_namespace(base.name_space(), view.topic());
    view.set_topic(user_topic);  // the application sees names without namespace

    asio::steady_timer timer(base.executor(), self->cfg_.check_timeout);
    auto raced = co_await (run_guarded(self->checker_, std::as_const(view)) ||
                           timer.async_wait(asio::use_awaitable));
    if (raced.index() == 1) {
        ++self->stats_.failed;
        base.log().warn("corocket: check-back handler for {} took longer than {} ms; not answered",
                        check.msg_id, self->cfg_.check_timeout.count());
        co_return;
    }
    const auto g = std::get<0>(raced);
    const std::string uniq = std::string(view.property(property_name::uniq_key).value_or(view.msg_id()));
    end_transaction_args a;
    a.group = base.wire_group();
    a.tran_state_table_offset = check.tran_state_table_offset;
    a.commit_log_offset = check.commit_log_offset;
    a.state = g.state;
    a.from_transaction_check = true;
    a.msg_id = uniq;
    a.transaction_id = check.transaction_id;
    a.topic = check.topic;
    a.broker_name = check.broker_name;
    const std::string remark = g.error.empty() ? "" : "checkLocalTransactionState Exception: " + g.error;
    a.remark = remark;
    const auto ec = co_await self->answer_check(conn, make_end_transaction_request(a));
    if (ec)
        base.log().warn("corocket: answer to check-back for {} not sent: {}", uniq, ec.message());
    ++(ec || !g.error.empty() ? self->stats_.failed : self->stats_.answered);
}

asio::awaitable<error_code> transactional_producer_impl::answer_check(remoting::connection& conn,
                                                                      remoting::command request)
{
    // To the broker that asked, over the connection it asked on (or a new one to its address).
    const auto deadline = std::chrono::steady_clock::now() + cfg_.end_transaction_timeout;
    if (conn.is_open()) {
        auto write = [](remoting::connection c, remoting::command r) -> producer_impl::op<> {
            auto [ec] = co_await c.async_oneway(std::move(r), tuple_token);
            co_return std::tuple{ec};
        };
        auto [ec] = co_await with_deadline(write(conn, std::move(request)), deadline);
        co_return ec;
    }
    auto [ec] = co_await with_deadline(base_->client_runtime().invoke_oneway(conn.address(), std::move(request)), deadline);
    co_return ec;
}

transactional_producer_impl::op<> transactional_producer_impl::stop(std::shared_ptr<transactional_producer_impl> self)
{
    if (self->dispatcher_) {
        self->dispatcher_->remove(self->base_->wire_group());
        self->dispatcher_.reset();
    }
    co_return co_await self->base_->stop();
}

void transactional_producer_impl::abandon()
{
    if (dispatcher_) {
        dispatcher_->remove(base_->wire_group());
        dispatcher_.reset();
    }
    base_->abandon();
}

}  // namespace detail

std::string_view to_string(transaction_state s) noexcept
{
    switch (s) {
    case transaction_state::commit: return "COMMIT_MESSAGE";
    case transaction_state::rollback: return "ROLLBACK_MESSAGE";
    case transaction_state::unknown: break;
    }
    return "UNKNOW";
}

// ---- the public handle ----------------------------------------------------------------------

transactional_producer::transactional_producer(client& c, transactional_producer_config config,
                                               transaction_checker checker)
    : impl_(std::make_shared<detail::transactional_producer_impl>(c, std::move(config), std::move(checker)))
{
}

transactional_producer::~transactional_producer() { impl_->abandon(); }

transactional_producer::executor_type transactional_producer::get_executor() const noexcept
{
    return impl_->base().executor();
}

error_code transactional_producer::start(diagnostics* diag) { return impl_->start(diag); }
bool transactional_producer::running() const noexcept { return impl_->base().running(); }
check_back_stats transactional_producer::stats() const noexcept { return impl_->stats(); }

void transactional_producer::send_impl(const std::shared_ptr<detail::transactional_producer_impl>& impl, message msg,
                                       local_transaction local, result_handler h)
{
    impl->base().launch(detail::transactional_producer_impl::send(impl, std::move(msg), std::move(local)),
                        std::move(h));
}

void transactional_producer::stop_impl(const std::shared_ptr<detail::transactional_producer_impl>& impl,
                                       done_handler h)
{
    auto ex = impl->base().executor();
    asio::co_spawn(ex, detail::transactional_producer_impl::stop(impl),
                   [ex, h = std::move(h)](std::exception_ptr e, std::tuple<error_code> r) mutable {
                       if (e)
                           std::rethrow_exception(e);
                       asio::post(ex, asio::append(std::move(h), std::get<0>(r)));
                   });
}

}  // namespace corocket
