// Push-style consumption over the shared pull loops: batches go to handler coroutines (children
// of the consumer), failed messages are sent back or retried locally, offsets follow the
// in-flight tracker.
#include <corocket/push_consumer.hpp>

#include "consumer/consumer_base.hpp"
#include "message/namespace.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

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
        : consumer_base(c, opts, consume_type::passively), push_(std::move(opts)), slot_cv_(c.get_executor()),
          idle_cv_(c.get_executor()), run_cv_(c.get_executor())
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
        auto batch = std::make_shared<pull_result>(std::move(r));
        const auto all = batch->messages();
        const auto step = static_cast<std::size_t>(std::max(1, push_.consume_batch_max_size));
        for (std::size_t i = 0; i < all.size(); i += step) {
            while (active_ >= push_.max_concurrency && !stopping_) {  // back-pressure on the pull loop
                slot_cv_.expires_at(asio::steady_timer::time_point::max());
                co_await slot_cv_.async_wait(tuple_token);
            }
            if (stopping_ || st->dropped)
                co_return;  // not started: stays uncommitted, the next owner consumes it
            ++active_;
            ++st->inflight;
            tasks_.spawn(consume(st, batch, all.subspan(i, std::min(step, all.size() - i))));
        }
    }

    asio::awaitable<void> drain(state_ptr st) override
    {
        const auto deadline = std::chrono::steady_clock::now() + push_.drain_timeout;
        while (st->inflight > 0 && std::chrono::steady_clock::now() < deadline) {
            idle_cv_.expires_at(deadline);
            co_await idle_cv_.async_wait(tuple_token);
        }
    }

    bool piggyback_commit() const override { return opts_.model == message_model::clustering; }

private:
    asio::awaitable<consume_status> call_handler(std::span<const message_view> msgs)
    {
        using namespace asio::experimental::awaitable_operators;
        try {
            asio::steady_timer timeout(rt().executor());
            timeout.expires_after(push_.consume_timeout);
            auto v = co_await (handler_(msgs) || timeout.async_wait(asio::use_awaitable));
            if (v.index() == 1) {
                core_->log().warn("corocket: consume timeout on {} messages", msgs.size());
                co_return consume_status::retry_later;
            }
            co_return std::get<0>(v);
        } catch (const std::exception& e) {
            core_->log().warn("corocket: consume handler threw: {}", e.what());
            co_return consume_status::retry_later;
        }
    }

    /// Sends a failed message back; true when the broker took it (it is then done here).
    asio::awaitable<bool> hand_back(const message_view& m)
    {
        if (opts_.model == message_model::broadcasting)
            co_return true;  // broadcasting drops failures, as Java does
        auto [ec] = co_await core_->send_back(m, 0, push_.max_reconsume_times);
        co_return !ec;
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
            const auto status = co_await call_handler(views);
            st->last_consume_ms = now_ms();
            std::vector<const message_view*> again;
            for (auto* m : pending) {
                // (no co_await inside || : GCC 12 evaluates it even when short-circuited)
                bool done = status == consume_status::success;
                if (!done)
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
        slot_cv_.cancel();
        idle_cv_.cancel();
    }

    asio::awaitable<bool> sleep_unless_dropped(queue_state& st, std::chrono::milliseconds d)
    {
        asio::steady_timer t(rt().executor());
        const auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) {
            if (st.dropped)
                co_return false;
            t.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50),
                                                                          end - std::chrono::steady_clock::now()));
            co_await t.async_wait(tuple_token);
        }
        co_return !st.dropped;
    }

    push_options push_;
    consume_handler handler_;
    std::size_t active_ = 0;
    asio::steady_timer slot_cv_;
    asio::steady_timer idle_cv_;
    asio::steady_timer run_cv_;
    bool stopped_ = false;
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

void push_consumer::run_impl(const std::shared_ptr<detail::push_impl>& impl, consume_handler handler, done_handler h)
{
    impl->rt().launch(impl->run(std::move(handler)), std::move(h));
}

void push_consumer::stop_impl(const std::shared_ptr<detail::push_impl>& impl, done_handler h)
{
    impl->rt().launch(impl->stop_all(), std::move(h));
}

}  // namespace corocket
