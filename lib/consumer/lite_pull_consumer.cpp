// Lite pull: the shared pull loops feed a buffer of batches; poll takes from it.
#include <corocket/lite_pull_consumer.hpp>

#include "consumer/async_notifier.hpp"
#include "consumer/consumer_base.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/this_coro.hpp>

#include <deque>

namespace asio = boost::asio;

namespace corocket {
namespace detail {

class lite_pull_impl : public consumer_base {
public:
    lite_pull_impl(corocket::client& c, lite_pull_options opts)
        : consumer_base(c, opts, consume_type::actively), lite_(std::move(opts)), polls_(c.get_executor())
    {
        if (!lite_.auto_commit) {
            opts_.persist_interval = std::chrono::hours(24 * 365);  // commits only on request
            manual_commit_ = true;
        }
    }

    const lite_pull_options& lite() const noexcept { return lite_; }

    client_impl::op<pull_result> poll(std::chrono::milliseconds timeout)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto self = shared_from_this();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            while (!ready_.empty()) {
                auto [st, r] = std::move(ready_.front());
                ready_.pop_front();
                if (st->dropped)
                    continue;  // seeked or released meanwhile
                for (const auto& m : r.messages())
                    st->tracker.remove(m.queue_offset());  // polled = consumed
                st->last_consume_ms = now_ms();
                st->wake.cancel();  // may be waiting on flow control
                co_return std::tuple{error_code{}, std::move(r)};
            }
            if (!running())
                co_return std::tuple{make_error_code(client_errc::not_running), pull_result{}};
            if (std::chrono::steady_clock::now() >= deadline)
                co_return std::tuple{error_code{}, pull_result{}};
            co_await polls_.wait(deadline);
            const auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none)
                co_return std::tuple{make_error_code(client_errc::operation_aborted), pull_result{}};
        }
    }

    client_impl::op<> seek_to(int kind, message_queue q, std::int64_t ts)
    {
        auto self = shared_from_this();  // the consumer may be destroyed while the query runs
        if (!find(q))
            co_return std::tuple{make_error_code(client_errc::invalid_argument)};
        const int code = kind == 0   ? remoting::request_code::get_min_offset
                         : kind == 1 ? remoting::request_code::get_max_offset
                                     : remoting::request_code::search_offset_by_timestamp;
        message_queue copy = q;
        auto [ec, offset] = co_await core_->queue_offset(code, std::move(copy), ts);
        if (!ec)
            restart_queue(q, offset);
        co_return std::tuple{ec};
    }

    client_impl::op<> commit()
    {
        auto self = shared_from_this();
        co_return std::tuple{co_await commit_all()};
    }

    client_impl::op<> stop_all()
    {
        auto self = shared_from_this();
        co_await stop();
        polls_.notify_all();
        co_return std::tuple{error_code{}};
    }

protected:
    asio::awaitable<void> on_found(state_ptr st, pull_result r) override
    {
        ready_.emplace_back(std::move(st), std::move(r));
        polls_.notify_all();
        co_return;
    }

    void forget(const queue_state& st) override
    {
        std::erase_if(ready_, [&](const auto& e) { return e.first.get() == &st; });
    }

    bool hold_back(const queue_state&) const override { return ready_.size() >= lite_.max_buffered_batches; }

private:
    lite_pull_options lite_;
    std::deque<std::pair<state_ptr, pull_result>> ready_;
    async_notifier polls_;  ///< a batch is ready, or stopping
};

}  // namespace detail

lite_pull_consumer::lite_pull_consumer(client& c, lite_pull_options options)
    : impl_(std::make_shared<detail::lite_pull_impl>(c, std::move(options)))
{
}

lite_pull_consumer::~lite_pull_consumer() = default;

error_code lite_pull_consumer::subscribe(std::string topic, std::string expression)
{
    return impl_->subscribe(std::move(topic), std::move(expression), expression_type_tag);
}

error_code lite_pull_consumer::subscribe_sql92(std::string topic, std::string expression)
{
    return impl_->subscribe(std::move(topic), std::move(expression), expression_type_sql92);
}

void lite_pull_consumer::assign(std::vector<message_queue> queues) { impl_->assign(std::move(queues)); }
void lite_pull_consumer::start() { impl_->start(); }
std::vector<message_queue> lite_pull_consumer::assignment() const { return impl_->assignment(); }
consumer_stats lite_pull_consumer::stats() const { return impl_->stats(); }
void lite_pull_consumer::seek(const message_queue& q, std::int64_t offset) { impl_->restart_queue(q, offset); }
void lite_pull_consumer::pause(const std::vector<message_queue>& q) { impl_->set_paused(q, true); }
void lite_pull_consumer::resume(const std::vector<message_queue>& q) { impl_->set_paused(q, false); }
std::chrono::milliseconds lite_pull_consumer::default_poll_timeout() const noexcept { return impl_->lite().poll_timeout; }

void lite_pull_consumer::poll_impl(const std::shared_ptr<detail::lite_pull_impl>& impl, std::chrono::milliseconds t,
                                   poll_handler h)
{
    impl->rt().launch(impl->poll(t), std::move(h));
}

void lite_pull_consumer::seek_impl(const std::shared_ptr<detail::lite_pull_impl>& impl, seek_kind kind,
                                   message_queue q, std::int64_t ts, done_handler h)
{
    impl->rt().launch(impl->seek_to(static_cast<int>(kind), std::move(q), ts), std::move(h));
}

void lite_pull_consumer::commit_impl(const std::shared_ptr<detail::lite_pull_impl>& impl, done_handler h)
{
    impl->rt().launch(impl->commit(), std::move(h));
}

void lite_pull_consumer::stop_impl(const std::shared_ptr<detail::lite_pull_impl>& impl, done_handler h)
{
    impl->rt().launch(impl->stop_all(), std::move(h));
}

}  // namespace corocket
