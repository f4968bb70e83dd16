// Push-style consumption over the shared pull loops: batches go to handler coroutines (children
// of the consumer), failed messages are sent back or retried locally, offsets follow the
// in-flight tracker.
#include <corocket/push_consumer.hpp>

#include "consumer/async_notifier.hpp"
#include "consumer/consumer_base.hpp"
#include "consumer/running_info.hpp"

#include <corocket/remoting/codes.hpp>
#include "message/namespace.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace asio = boost::asio;

namespace corocket {

consume_handler make_consume_handler(std::function<consume_status(std::span<const message_view>)> fn)
{
    return [fn = std::move(fn)](std::span<const message_view> batch) -> asio::awaitable<consume_status> {
        co_return fn(batch);
    };
}

namespace detail {

class push_impl : public consumer_base {
public:
    push_impl(corocket::client& c, push_options opts)
        : consumer_base(c, opts, consume_type::passively), push_(std::move(opts)), slots_(c.get_executor()),
          idle_(c.get_executor()), run_cv_(c.get_executor()), renew_timer_(c.get_executor())
    {
    }

    client_impl::op<> run(consume_handler handler)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        if (started_)
            co_return std::tuple{make_error_code(client_errc::invalid_argument)};
        handler_ = std::move(handler);
        if (opts_.model == message_model::clustering)  // §7.9: the group's retry topic, automatically
            subscribe(std::string(retry_topic_prefix) + opts_.group, "*", expression_type_tag);
        start();
        serve_admin_requests();
        if (locking())
            renew_task_ = tasks_.spawn(renew_loop());
        while (!stopping_) {
            run_cv_.expires_at(asio::steady_timer::time_point::max());
            co_await run_cv_.async_wait(tuple_token);
            if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
                break;  // cancelling async_run stops the consumer
        }
        co_await stop();
        stopped_ = true;
        run_cv_.cancel();
        co_return std::tuple{error_code{}};
    }

    client_impl::op<> stop_all()
    {
        auto self = shared_from_this();
        if (!started_)
            co_return std::tuple{error_code{}};
        co_await stop();
        while (!stopped_ && started_) {  // async_run finishes its own part
            run_cv_.cancel();
            co_await asio::post(rt().executor(), asio::deferred);
        }
        co_return std::tuple{error_code{}};
    }

protected:
    asio::awaitable<void> on_found(state_ptr st, pull_result r) override
    {
        if (push_.orderly) {
            co_await hand_over_in_order(st, std::move(r));
            co_return;
        }
        auto batch = std::make_shared<pull_result>(std::move(r));
        const auto all = batch->messages();
        const auto step = static_cast<std::size_t>(std::max(1, push_.consume_batch_max_size));
        for (std::size_t i = 0; i < all.size(); i += step) {
            while (active_ >= push_.max_concurrency && !stopping_)  // back-pressure on the pull loop
                co_await slots_.wait();
            if (stopping_ || st->dropped)
                co_return;  // not started: stays uncommitted, the next owner consumes it
            ++active_;
            ++st->inflight;
            tasks_.spawn(consume(st, batch, all.subspan(i, std::min(step, all.size() - i))));
        }
    }

    asio::awaitable<void> drain(state_ptr st) override
    {
        // A stop drains every queue within one drain_timeout, not one per queue.
        const auto deadline = std::min(std::chrono::steady_clock::now() + push_.drain_timeout, stop_deadline_);
        while (st->inflight > 0 && std::chrono::steady_clock::now() < deadline)
            co_await idle_.wait(deadline);
    }

    bool piggyback_commit() const override { return opts_.model == message_model::clustering; }

    asio::awaitable<bool> acquire(const message_queue& q) override
    {
        if (!locking())
            co_return true;
        std::vector<message_queue> one{q};
        auto [ec, granted] = co_await core_->lock(std::move(one));
        if (ec || std::find(granted.begin(), granted.end(), q) == granted.end()) {
            core_->log().debug("corocket: lock of {} not granted", q.to_string());
            co_return false;
        }
        locked_at_[q] = now_ms();
        co_return true;
    }

    asio::awaitable<void> release(const message_queue& q) override
    {
        if (locked_at_.erase(q) == 0)
            co_return;
        std::vector<message_queue> one{q};
        co_await core_->unlock(std::move(one), true);
    }

    bool hold_back(const queue_state& st) const override { return locking() && !locked(st.mq); }

    bool busy_with_lock(const queue_state& st) const override { return locking() && st.inflight > 0; }

    bool is_locked(const message_queue& q) const override { return locked(q); }

    void on_stopping() override
    {
        if (renew_task_)
            renew_task_->emit(asio::cancellation_type::terminal);
        renew_timer_.cancel();
        slots_.notify_all();
        stop_deadline_ = std::chrono::steady_clock::now() + push_.drain_timeout;
    }

private:
public:
    void add_hook(consume_hook hook) { hooks_.push_back(std::move(hook)); }

private:
    /// The handler on `msgs` of queue `q`, with hooks and figures; any failure is retry_later.
    asio::awaitable<consume_status> call_handler(const message_queue& q, std::span<const message_view> msgs)
    {
        consume_context ctx{opts_.group, q, msgs};
        for (const auto& h : hooks_)
            if (h.before)
                run_hook(h.before, ctx);
        const auto began = std::chrono::steady_clock::now();
        std::string error;
        const auto status = co_await run_handler(msgs, error);
        ctx.success = status == consume_status::success;
        ctx.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began);
        record_consume(q.topic, msgs.size(), ctx.success, ctx.elapsed, error);
        for (const auto& h : hooks_)
            if (h.after)
                run_hook(h.after, ctx);
        co_return status;
    }

    /// A hook that throws is logged and skipped (as Java catches Throwable around its hooks):
    /// an exception here would escape the consumer's task and io_context::run().
    template <class Hook>
    void run_hook(const Hook& hook, consume_context& ctx)
    {
        try {
            hook(ctx);
        } catch (const std::exception& e) {
            core_->log().warn("corocket: consume hook threw: {}", e.what());
        } catch (...) {
            core_->log().warn("corocket: consume hook threw a non-standard exception");
        }
    }

    asio::awaitable<consume_status> run_handler(std::span<const message_view> msgs, std::string& error)
    {
        using namespace asio::experimental::awaitable_operators;
        try {
            asio::steady_timer timeout(rt().executor());
            timeout.expires_after(push_.consume_timeout);
            auto v = co_await (handler_(msgs) || timeout.async_wait(asio::use_awaitable));
            if (v.index() == 1) {
                core_->log().warn("corocket: consume timeout on {} messages", msgs.size());
                error = "consume timeout";
                co_return consume_status::retry_later;
            }
            if (std::get<0>(v) != consume_status::success)
                error = "retry_later";
            co_return std::get<0>(v);
        } catch (const std::exception& e) {
            core_->log().warn("corocket: consume handler threw: {}", e.what());
            error = std::string("exception: ") + e.what();
            co_return consume_status::retry_later;
        } catch (...) {
            core_->log().warn("corocket: consume handler threw a non-standard exception");
            error = "exception";
            co_return consume_status::retry_later;
        }
    }

    // Requests from brokers (§3.15, §7.18) ------------------------------------------------------

    void serve_admin_requests()
    {
        namespace rq = remoting::request_code;
        std::weak_ptr<push_impl> weak = std::static_pointer_cast<push_impl>(shared_from_this());
        on_peer_request(rq::get_consumer_running_info, [weak](remoting::connection conn, remoting::command req) {
            auto self = weak.lock();
            if (!self)
                return;
            auto resp = remoting::command::response_to(req, remoting::response_code::success);
            resp.body = self->running_info();
            conn.send_response(std::move(resp));
        });
        on_peer_request(rq::consume_message_directly, [weak](remoting::connection conn, remoting::command req) {
            if (auto self = weak.lock())  // the handler is a coroutine: answered when it is done
                self->tasks_.spawn(self->consume_directly(std::move(conn), std::move(req)));
        });
        on_peer_request(rq::reset_consumer_client_offset, [weak](remoting::connection, remoting::command req) {
            if (auto self = weak.lock())
                self->reset_offsets(req);
        });
    }

    std::string running_info()
    {
        const auto figures = stats();
        running_info_input in;
        in.stats = &figures;
        in.orderly = push_.orderly;
        for (const auto& [topic, sub] : subscriptions()) {
            auto wire = sub;
            wire.topic = core_->wire_topic(topic);
            in.wire_topics[topic] = wire.topic;
            in.subscriptions.push_back(std::move(wire));
        }
        const auto& cfg = rt().config();
        in.properties = {
            {"PROP_CONSUMEORDERLY", push_.orderly ? "true" : "false"},
            {"PROP_CONSUME_TYPE", "CONSUME_PASSIVELY"},
            {"PROP_CLIENT_VERSION", "V4_9_8"},
            {"PROP_CONSUMER_START_TIMESTAMP", std::to_string(start_ms_)},
            {"PROP_NAMESERVER_ADDR", cfg.namesrv_addr + ";"},
            {"PROP_THREADPOOL_CORE_SIZE", std::to_string(push_.max_concurrency)},
            {"consumerGroup", opts_.group},
            {"messageModel", opts_.model == message_model::clustering ? "CLUSTERING" : "BROADCASTING"},
            {"consumeMessageBatchMaxSize", std::to_string(push_.consume_batch_max_size)},
            {"pullBatchSize", std::to_string(opts_.pull_batch_size)},
            {"maxReconsumeTimes", std::to_string(push_.max_reconsume_times)},
        };
        return running_info_json(in);
    }

    /// CONSUME_MESSAGE_DIRECTLY: the handler once on the message in the body (§6.7, §7.18).
    asio::awaitable<void> consume_directly(remoting::connection conn, remoting::command req)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        pull_result r;
        r.batch() = message_batch::decode_lenient(std::move(req.body));
        if (r.batch().size() != 1 || r.batch().unparsed_bytes() > 0) {
            conn.send_response(remoting::command::response_to(req, remoting::response_code::system_error,
                                                              "expected one stored message"));
            co_return;
        }
        r.keep_first(1);
        auto& m = r.messages_mut()[0];
        const message_queue q{std::string(m.topic()), std::string(req.ext_fields.get("brokerName")), m.queue_id()};
        if (m.undecodable()) {  // Java's decode gives null here, and the handler call fails: SYSTEM_ERROR
            warn_undecodable(core_->log(), q, m.queue_offset(), r.batch());
            record_undecodable(core_->user_topic(q.topic), 1);
            conn.send_response(remoting::command::response_to(req, remoting::response_code::system_error,
                                                              "undecodable message: " + m.decode_failure()));
            co_return;
        }
        const auto filter = corocket::parse_tag_expression(q.topic, sub_all);
        present_pulled(r, q, filter, rt().config().name_space, core_->wire_retry_topic(), 0);
        const auto began = std::chrono::steady_clock::now();
        std::string error;
        const auto status = co_await run_handler(r.messages(), error);
        const auto spent =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
        const bool threw = error.starts_with("exception");
        auto resp = remoting::command::response_to(req, remoting::response_code::success);
        resp.body = direct_result_json(push_.orderly,
                                       status == consume_status::success ? "CR_SUCCESS"
                                       : threw                           ? "CR_THROW_EXCEPTION"
                                                                         : "CR_LATER",
                                       error, spent);
        conn.send_response(std::move(resp));
    }

    /// RESET_CONSUMER_CLIENT_OFFSET: every assigned queue named in the body starts over at its new
    /// offset (cache dropped, loop restarted), and the offset is stored (§7.18).
    void reset_offsets(const remoting::command& req)
    {
        offset_table table;
        if (auto ec = parse_offset_table_json(req.body, table)) {
            core_->log().warn("corocket: unreadable reset-offset body: {}", ec.message());
            return;
        }
        for (const auto& [wire_q, offset] : table) {
            const auto q = core_->to_user(wire_q);
            if (!find(q))
                continue;
            restart_queue(q, offset);
            if (opts_.model == message_model::broadcasting)
                file_offsets_[q] = offset;
            else
                tasks_.spawn(commit_reset(q, offset));
        }
    }

    asio::awaitable<void> commit_reset(message_queue q, std::int64_t offset)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        auto [ec] = co_await core_->commit_offset(std::move(q), offset);
        if (ec)
            core_->log().warn("corocket: storing a reset offset failed: {}", ec.message());
    }

    /// Sends a failed message back; true when the broker took it (it is then done here). When
    /// CONSUMER_SEND_MSG_BACK fails, the copy goes to %RETRY% as a normal message (§7.9).
    asio::awaitable<bool> hand_back(const message_view& m)
    {
        if (opts_.model == message_model::broadcasting)
            co_return true;  // broadcasting drops failures, as Java does
        auto [ec] = co_await core_->send_back(m, 0, push_.max_reconsume_times);
        if (!ec)
            co_return true;
        auto [rec] = co_await core_->resend_to_retry(m, m.reconsume_times() + 1, push_.max_reconsume_times, false);
        if (rec)
            core_->log().debug("corocket: retry re-send of {} failed: {}", m.msg_id(), rec.message());
        co_return !rec;
    }

    // Orderly -------------------------------------------------------------------------------------

    bool locking() const noexcept { return push_.orderly && opts_.model == message_model::clustering; }

    bool locked(const message_queue& q) const
    {
        auto it = locked_at_.find(q);
        return it != locked_at_.end() && now_ms() - it->second < push_.lock_expiry.count();
    }

    /// Renews the locks of every assigned queue, one LOCK_BATCH_MQ per broker (§7.10).
    asio::awaitable<void> renew_loop()
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        while (!stopping_) {
            renew_timer_.expires_after(push_.lock_renew_interval);
            co_await renew_timer_.async_wait(tuple_token);
            if (stopping_)
                break;
            std::map<std::string, std::vector<message_queue>> by_broker;
            for (const auto& [q, st] : queues_)
                by_broker[q.broker_name].push_back(q);
            for (auto& [broker, queues] : by_broker) {
                auto asked = queues;
                auto [ec, granted] = co_await core_->lock(std::move(queues));
                if (ec || stopping_)
                    continue;  // a failed renewal lets the locks expire client-side
                const std::set<message_queue> ok(granted.begin(), granted.end());
                for (const auto& q : asked) {
                    if (ok.contains(q))
                        locked_at_[q] = now_ms();
                    else
                        locked_at_.erase(q);
                }
            }
        }
    }

    /// Hands a pulled batch to one consume task and waits for it: the pull loop of a queue is
    /// the only producer of its tasks, so a queue's messages are consumed strictly in order.
    asio::awaitable<void> hand_over_in_order(state_ptr st, pull_result r)
    {
        while (active_ >= push_.max_concurrency && !stopping_)
            co_await slots_.wait();
        if (stopping_ || st->dropped)
            co_return;
        ++active_;
        ++st->inflight;
        tasks_.spawn(consume_in_order(st, std::make_shared<pull_result>(std::move(r))));
        // The task, not this loop, owns the batch: a stop cancels the wait, never the handler.
        while (st->inflight > 0 && !st->dropped && !stopping_) {
            st->wake.expires_at(asio::steady_timer::time_point::max());
            co_await st->wake.async_wait(tuple_token);
        }
    }

    asio::awaitable<void> consume_in_order(state_ptr st, std::shared_ptr<pull_result> batch)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        const auto all = batch->messages();
        const auto step = static_cast<std::size_t>(std::max(1, push_.consume_batch_max_size));
        for (std::size_t i = 0; i < all.size() && !st->dropped; i += step) {
            const bool done = co_await consume_batch_in_order(*st, all.subspan(i, std::min(step, all.size() - i)));
            if (!done)
                break;  // released or stopping: the rest stays uncommitted for the next owner
        }
        --active_;
        --st->inflight;
        st->wake.cancel();
        slots_.notify_one();  // one slot came free
        idle_.notify_all();
    }

    /// One batch until it is done (true) or the queue is released (false).
    asio::awaitable<bool> consume_batch_in_order(queue_state& st, std::span<const message_view> msgs)
    {
        std::vector<const message_view*> pending;
        for (const auto& m : msgs)
            pending.push_back(&m);
        int attempts = 0;
        while (!pending.empty()) {
            if (st.dropped)
                co_return false;
            if (!locked(st.mq)) {  // lost the lock: wait for the renewal (or the release)
                if (!co_await sleep_unless_dropped(st, std::chrono::milliseconds(100)))
                    co_return false;
                continue;
            }
            std::vector<message_view> views;
            for (auto* m : pending)
                views.push_back(*m);
            const auto status = co_await call_handler(st.mq, views);
            st.last_consume_ms = now_ms();
            if (status == consume_status::success) {
                for (auto* m : pending)
                    st.tracker.remove(m->queue_offset());
                co_return true;
            }
            std::vector<const message_view*> again;
            for (auto* m : pending) {
                const int count = m->reconsume_times() + attempts;
                bool gone = false;
                if (push_.orderly_max_reconsume_times >= 0 && count >= push_.orderly_max_reconsume_times) {
                    auto [ec] = co_await core_->resend_to_retry(*m, count, push_.orderly_max_reconsume_times, true);
                    gone = !ec;
                }
                if (gone)
                    st.tracker.remove(m->queue_offset());
                else
                    again.push_back(m);
            }
            ++attempts;
            pending = std::move(again);
            if (!pending.empty() && !co_await sleep_unless_dropped(st, push_.suspend_current_queue_time))
                co_return false;
        }
        co_return true;
    }

    asio::awaitable<void> consume(state_ptr st, std::shared_ptr<pull_result> hold, std::span<const message_view> msgs)
    {
        (void)hold;  // keeps the batch (and so the views in msgs) alive while this runs
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        std::vector<const message_view*> pending;
        for (const auto& m : msgs)
            pending.push_back(&m);
        bool first = true;
        while (!pending.empty()) {
            if (!first) {
                const bool still_ours = co_await sleep_unless_dropped(*st, push_.local_retry_delay);
                if (!still_ours)
                    break;  // released: the offsets stay below these messages
            }
            first = false;
            std::vector<message_view> views;
            for (auto* m : pending)
                views.push_back(*m);
            const auto status = co_await call_handler(st->mq, views);
            st->last_consume_ms = now_ms();
            std::vector<const message_view*> again;
            for (auto* m : pending) {
                // (no co_await inside || : GCC 12 evaluates it even when short-circuited)
                bool done = status == consume_status::success;
                if (!done && !st->dropped)  // a released queue's failures are the next owner's
                    done = co_await hand_back(*m);
                if (done)
                    st->tracker.remove(m->queue_offset());
                else
                    again.push_back(m);  // consumed again locally; its offset does not advance
            }
            pending = std::move(again);
        }
        --active_;
        --st->inflight;
        slots_.notify_one();  // one slot came free
        idle_.notify_all();
    }

    asio::awaitable<bool> sleep_unless_dropped(queue_state& st, std::chrono::milliseconds d)
    {
        asio::steady_timer t(rt().executor());
        const auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) {
            if (st.dropped || stopping_)
                co_return false;  // the offsets stay below what is still pending
            t.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50),
                                                                          end - std::chrono::steady_clock::now()));
            co_await t.async_wait(tuple_token);
        }
        co_return !st.dropped && !stopping_;
    }

    push_options push_;
    consume_handler handler_;
    std::size_t active_ = 0;
    async_notifier slots_;  ///< a consume slot came free, or stopping
    async_notifier idle_;   ///< a queue's in-flight count dropped
    asio::steady_timer run_cv_;
    asio::steady_timer renew_timer_;
    task_group::handle renew_task_;
    std::map<message_queue, std::int64_t> locked_at_;  ///< orderly: last successful lock per queue
    std::vector<consume_hook> hooks_;
    bool stopped_ = false;
    std::chrono::steady_clock::time_point stop_deadline_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace detail

push_consumer::push_consumer(client& c, push_options options)
    : impl_(std::make_shared<detail::push_impl>(c, std::move(options)))
{
}

push_consumer::~push_consumer() = default;

error_code push_consumer::subscribe(std::string topic, std::string expression)
{
    return impl_->subscribe(std::move(topic), std::move(expression), expression_type_tag);
}

error_code push_consumer::subscribe_sql92(std::string topic, std::string expression)
{
    return impl_->subscribe(std::move(topic), std::move(expression), expression_type_sql92);
}

std::vector<message_queue> push_consumer::assignment() const { return impl_->assignment(); }

consumer_stats push_consumer::stats() const { return impl_->stats(); }

void push_consumer::add_hook(consume_hook hook) { impl_->add_hook(std::move(hook)); }

void push_consumer::run_impl(const std::shared_ptr<detail::push_impl>& impl, consume_handler handler, done_handler h)
{
    impl->rt().launch(impl->run(std::move(handler)), std::move(h));
}

void push_consumer::stop_impl(const std::shared_ptr<detail::push_impl>& impl, done_handler h)
{
    impl->rt().launch(impl->stop_all(), std::move(h));
}

}  // namespace corocket
