// State and coroutines behind corocket::producer (and the sending half of the transactional
// producer): the shell around send_codec (sans-I/O) and queue_picker / latency_fault_table.
#pragma once

#include <corocket/producer.hpp>

#include "client/client_impl.hpp"
#include "message/ids.hpp"
#include "producer/inflight.hpp"
#include "producer/send_codec.hpp"
#include "routing/queue_selection.hpp"
#include "util/launch.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace corocket::detail {

/// The queues a producer sends a topic to, and the round-robin position over them.
struct publish_entry {
    topic_route route;           ///< the route they came from (to notice route changes)
    std::vector<message_queue> queues;
    bool from_default_topic = false;  ///< built from the default topic's route (topic unknown)
    std::chrono::steady_clock::time_point built_at;
    queue_picker picker;
};

class producer_impl : public std::enable_shared_from_this<producer_impl> {
public:
    using clock = std::chrono::steady_clock;
    template <class... Ts>
    using op = boost::asio::awaitable<std::tuple<error_code, Ts...>>;

    producer_impl(corocket::client& c, producer_config cfg);

    const boost::asio::any_io_executor& executor() const noexcept { return client_->executor(); }
    const producer_config& config() const noexcept { return cfg_; }
    const std::string& wire_group() const noexcept { return wire_group_; }
    const std::string& name_space() const noexcept { return client_->config().name_space; }
    client_impl& client_runtime() noexcept { return *client_; }
    const std::shared_ptr<client_impl>& client_ptr() const noexcept { return client_; }
    const logger& log() const noexcept { return client_->log(); }
    bool running() const noexcept { return started_ && !stopping_; }
    const inflight_budget& budget() const noexcept { return gate_.budget(); }

    error_code start(diagnostics* diag);

    // Coroutine bodies of the public operations.
    op<send_result> send(message msg, send_options opts, send_mode mode);
    op<> send_oneway(message msg, send_options opts);
    op<send_result> send_batch(std::vector<message> msgs, send_options opts);
    op<> stop();
    /// The public handle went away without a stop: stop taking sends and give the group back.
    void abandon();

    /// Prepares `msg` (validation, ids, compression) for the wire.
    error_code prepare(message& msg, prepared_send& out, diagnostics& diag);
    /// Back-pressure, route, queue choice and the attempt loop for one prepared request.
    /// `msg` is what hooks and selectors see (the first message of a batch part). The last
    /// possible attempt moves `p.body` into its request.
    op<send_result> deliver(prepared_send& p, const message& msg, const send_options& opts, send_mode mode,
                            clock::time_point deadline);
    clock::time_point deadline_for(const send_options& opts) const;

    /// Runs `body` as a child of this producer and completes `handler` with its result (posted
    /// through the handler's executor). The handler's cancellation slot reaches the coroutine.
    template <class R, class Handler>
    void launch(boost::asio::awaitable<R> body, Handler handler)
    {
        namespace asio = boost::asio;
        auto slot = asio::get_associated_cancellation_slot(handler);
        ++children_;
        asio::co_spawn(executor(), errors_not_exceptions(std::move(body)),
                       asio::bind_cancellation_slot(slot, [self = shared_from_this(), h = std::move(handler)](
                                                              std::exception_ptr e, R result) mutable {
                           self->child_done();
                           if (e)
                               std::rethrow_exception(e);
                           std::apply(
                               [&](auto&... a) { asio::post(self->executor(), asio::append(std::move(h), std::move(a)...)); },
                               result);
                       }));
    }
    /// Spawns a coroutine that belongs to this producer (stop waits for it) with no result.
    void spawn_child(boost::asio::awaitable<void> body);
    /// Waits until every child has finished (stop).
    boost::asio::awaitable<void> wait_children();

private:
    op<std::shared_ptr<publish_entry>> publish_info(const std::string& wire_topic, const std::string& user_topic,
                                                    clock::time_point deadline, diagnostics& diag);
    op<std::shared_ptr<publish_entry>> fetch_publish_info(const std::string& wire_topic, clock::time_point deadline,
                                                          diagnostics& diag);
    error_code choose_queue(publish_entry& entry, const message& msg, const send_options& opts,
                            const std::string& last_broker, message_queue& out, diagnostics& diag);
    op<send_result> attempt(prepared_send& p, const message& msg, const message_queue& mq, send_mode mode,
                            int attempt_no, bool last, clock::time_point deadline, diagnostics& diag);
    void run_hooks(bool before, const send_context& ctx) const;
    void child_done();

    std::shared_ptr<client_impl> client_;
    producer_config cfg_;
    std::string wire_group_;
    body_compressor compressor_;  // before prepare_opts_, which points at it
    prepare_options prepare_opts_;
    uniq_id_generator ids_;
    latency_fault_table faults_;
    inflight_gate gate_;
    std::map<std::string, std::shared_ptr<publish_entry>, std::less<>> publish_;
    bool started_ = false;
    bool stopping_ = false;
    int children_ = 0;
    boost::asio::steady_timer children_cv_;  // cancelled when the last child finishes while stopping
};

/// Runs `op` but gives up at `deadline` with client_errc::timeout (the operation is cancelled
/// and waited for).
template <class... Ts>
boost::asio::awaitable<std::tuple<error_code, Ts...>> with_deadline(boost::asio::awaitable<std::tuple<error_code, Ts...>> op,
                                                                    std::chrono::steady_clock::time_point deadline)
{
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    // `||` runs each side as a coroutine of its own, which throws on cancellation by default.
    auto r = co_await (errors_not_exceptions(std::move(op)) ||
                       timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (r.index() == 0)
        co_return std::get<0>(std::move(r));
    co_return std::tuple<error_code, Ts...>{make_error_code(client_errc::timeout), Ts{}...};
}

}  // namespace corocket::detail
