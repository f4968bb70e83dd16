// The producer's shell: back-pressure, publish queues, the attempt loop, hooks, batches and a
// structured stop. Every decision about bytes on the wire is in send_codec (sans-I/O).
#include "producer/producer_impl.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace asio = boost::asio;

namespace corocket {
namespace detail {
namespace {

std::int64_t epoch_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::chrono::milliseconds elapsed_ms(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
}

// Java's Validators.checkGroup: not blank, at most 255 characters of [%|a-zA-Z0-9_-].
error_code validate_group(std::string_view group, diagnostics& diag)
{
    const auto bad = [&](std::string text) {
        diag.client_message = std::move(text);
        return make_error_code(client_errc::invalid_argument);
    };
    if (group.empty())
        return bad("the producer group is empty");
    if (group.size() > 255)
        return bad(fmt::format("the producer group is {} characters long, more than the 255 allowed", group.size()));
    const auto ok = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '%' || c == '|' ||
               c == '_' || c == '-';
    };
    if (!std::all_of(group.begin(), group.end(), ok))
        return bad(fmt::format("the producer group '{}' has a character outside [%|a-zA-Z0-9_-]", group));
    return {};
}

void note(diagnostics& diag, std::string text)
{
    if (!diag.client_message.empty())
        diag.client_message += "; ";
    diag.client_message += text;
}

// Sends accept every cancellation type (abandoning a call never harms the connection) and
// report cancellation as an error code instead of an exception at the next co_await.
asio::awaitable<void> prologue()
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
}

asio::awaitable<bool> cancelled()
{
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

}  // namespace

producer_impl::producer_impl(corocket::client& c, producer_config cfg)
    : client_(c.impl()), cfg_(std::move(cfg)), wire_group_(wrap_namespace(client_->config().name_space, cfg_.group)),
      prepare_opts_(prepare_options_for(cfg_, client_->config().name_space)), ids_(make_process_uniq_id_generator()),
      gate_(cfg_.max_inflight_messages, cfg_.max_inflight_bytes), children_cv_(client_->executor())
{
    prepare_opts_.compressor = &compressor_;
}

error_code producer_impl::start(diagnostics* diag)
{
    diagnostics local;
    diagnostics& d = diag ? *diag : local;
    if (running())
        return {};
    if (stopping_) {
        d.client_message = "the producer was stopped; make a new one";
        return make_error_code(client_errc::not_running);
    }
    if (auto ec = validate_group(cfg_.group, d))
        return ec;
    if (auto ec = check_compression(cfg_, d))
        return ec;
    if (!client_->register_producer(wire_group_)) {
        d.client_message = fmt::format("the client already has a producer of group '{}'", cfg_.group);
        return make_error_code(client_errc::invalid_argument);
    }
    client_->start();
    started_ = true;
    // Resolving the topics teaches the client their brokers; the heartbeat then names this group
    // to all of them at once, as Java's producer start does (a broker only checks back with
    // producers it knows, and it would otherwise learn of the group at the next periodic one).
    std::vector<std::string> topics{cfg_.default_topic};
    for (const auto& t : cfg_.topics)
        topics.push_back(wrap_namespace(name_space(), t));
    spawn_child([](std::shared_ptr<producer_impl> self, std::vector<std::string> topics) -> asio::awaitable<void> {
        for (const auto& t : topics) {
            auto [ec, route] = co_await self->client_->route(t, false);
            if (ec)
                self->log().debug("corocket: producer {}: no route for {} yet: {}", self->cfg_.group, t, ec.message());
        }
        co_await self->client_->heartbeat_all();
    }(shared_from_this(), std::move(topics)));
    return {};
}

producer_impl::clock::time_point producer_impl::deadline_for(const send_options& opts) const
{
    return clock::now() + opts.timeout.value_or(cfg_.send_timeout);
}

error_code producer_impl::prepare(message& msg, prepared_send& out, diagnostics& diag)
{
    return prepare_message(msg, prepare_opts_, ids_, out, diag);
}

producer_impl::op<send_result> producer_impl::send(message msg, send_options opts, send_mode mode)
{
    co_await prologue();
    const auto deadline = deadline_for(opts);
    send_result result;
    if (!running())
        co_return std::tuple{make_error_code(client_errc::not_running), std::move(result)};
    prepared_send p;
    if (auto ec = prepare(msg, p, result.diag))
        co_return std::tuple{ec, std::move(result)};
    co_return co_await deliver(p, msg, opts, mode, deadline);
}

producer_impl::op<> producer_impl::send_oneway(message msg, send_options opts)
{
    auto [ec, r] = co_await send(std::move(msg), std::move(opts), send_mode::oneway);
    if (ec)
        log().debug("corocket: one-way send failed: {} {}", ec.message(), r.diag.to_string());
    co_return std::tuple{ec};
}

producer_impl::op<send_result> producer_impl::send_batch(std::vector<message> msgs, send_options opts)
{
    co_await prologue();
    send_result total;
    if (!running())
        co_return std::tuple{make_error_code(client_errc::not_running), std::move(total)};
    std::vector<prepared_send> parts;
    if (auto ec = prepare_batch(msgs, prepare_opts_, cfg_.max_batch_request_size, ids_, parts, total.diag))
        co_return std::tuple{ec, std::move(total)};
    for (auto& part : parts) {
        const auto first = part.first_index;
        const auto count = part.message_count;
        auto [ec, r] = co_await deliver(part, msgs[first], opts, send_mode::batch, deadline_for(opts));
        if (ec) {
            total.diag = std::move(r.diag);
            co_return std::tuple{ec, std::move(total)};
        }
        if (total.batch_parts.empty()) {
            total.queue = r.queue;
            total.queue_offset = r.queue_offset;
            total.transaction_id = r.transaction_id;
            total.region_id = r.region_id;
            total.trace_on = r.trace_on;
        } else {
            total.msg_id += ',';
            total.offset_msg_id += ',';
            total.transaction_id += ',' + r.transaction_id;
        }
        total.msg_id += r.msg_id;
        total.offset_msg_id += r.offset_msg_id;
        if (total.status == send_status::send_ok)
            total.status = r.status;
        total.batch_parts.push_back({r.status, r.queue, r.queue_offset, first, count});
    }
    co_return std::tuple{error_code{}, std::move(total)};
}

producer_impl::op<send_result> producer_impl::deliver(prepared_send& p, const message& msg, const send_options& opts,
                                                      send_mode mode, clock::time_point deadline)
{
    send_result result;
    auto& diag = result.diag;
    const auto count = p.message_count;
    const auto bytes = p.wire_size();
    if (auto ec = co_await gate_.acquire(count, bytes, deadline)) {
        note(diag, ec == client_errc::timeout ? "timed out waiting for room among the sends in flight"
                                              : "cancelled while waiting for room among the sends in flight");
        co_return std::tuple{ec, std::move(result)};
    }
    inflight_lease lease(&gate_, count, bytes);

    auto [rec, entry] = co_await publish_info(p.topic, msg.topic(), deadline, diag);
    if (rec)
        co_return std::tuple{rec, std::move(result)};

    // Ordered and explicitly targeted sends get one attempt: moving them would break ordering.
    const int attempts = (opts.queue || opts.selector) ? 1 : 1 + std::max(0, cfg_.retries);
    std::string last_broker;
    error_code last_ec;
    std::optional<send_result> stored;  // a FLUSH_*/SLAVE_* answer we retried past
    for (int i = 0; i < attempts; ++i) {
        if (co_await cancelled()) {
            last_ec = client_errc::operation_aborted;
            break;
        }
        if (clock::now() >= deadline) {
            last_ec = client_errc::timeout;
            note(diag, fmt::format("the send timed out after {} attempt(s)", i));
            break;
        }
        message_queue mq;
        if (auto ec = choose_queue(*entry, msg, opts, last_broker, mq, diag)) {
            last_ec = ec;
            break;
        }
        auto [ec, r] = co_await attempt(p, msg, mq, mode, i, i + 1 == attempts, deadline, diag);
        if (!ec) {
            const bool retry_store = r.status != send_status::send_ok && cfg_.retry_another_broker_when_not_store_ok &&
                                     mode != send_mode::half && i + 1 < attempts;
            if (!retry_store) {
                r.diag = std::move(diag);
                co_return std::tuple{error_code{}, std::move(r)};
            }
            stored = std::move(r);
            last_broker = mq.broker_name;
            continue;
        }
        last_ec = ec;
        if (ec == client_errc::operation_aborted || !is_retriable(ec))
            break;
        last_broker = mq.broker_name;
        if (cfg_.latency_fault_avoidance)
            entry->picker.reset();  // 5.x restarts at a random queue before a retry
    }
    if (stored) {
        stored->diag = std::move(diag);
        co_return std::tuple{error_code{}, std::move(*stored)};
    }
    co_return std::tuple{last_ec, std::move(result)};
}

producer_impl::op<send_result> producer_impl::attempt(prepared_send& p, const message& msg, const message_queue& mq,
                                                      send_mode mode, int attempt_no, bool last,
                                                      clock::time_point deadline, diagnostics& diag)
{
    send_result r;
    const std::string address = client_->broker_address(mq.broker_name, broker_data::master_id);
    send_context ctx;
    ctx.producer_group = cfg_.group;
    ctx.name_space = name_space();
    ctx.mode = mode;
    ctx.attempt = attempt_no;
    ctx.broker_name = mq.broker_name;
    ctx.broker_address = address;
    ctx.queue = mq;
    ctx.msg = &msg;
    ctx.message_count = p.message_count;
    if (address.empty()) {
        note(diag, fmt::format("no master address for broker {}", mq.broker_name));
        publish_.erase(p.topic);  // rebuild from a fresh route next time
        co_return std::tuple{make_error_code(client_errc::no_broker_address), std::move(r)};
    }
    const send_target target{wire_group_,   cfg_.default_topic, cfg_.default_topic_queue_nums,
                             mq.queue_id,   mq.broker_name,     epoch_ms()};
    auto request = make_send_request(p, target, cfg_.header_version, last ? std::move(p.body) : p.body);
    run_hooks(true, ctx);
    const auto start = clock::now();
    error_code ec;
    if (mode == send_mode::oneway) {
        std::tie(ec) = co_await client_->invoke_oneway(address, std::move(request));
        r.msg_id = p.uniq_key;
        r.queue = mq;
    } else {
        const auto remaining = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start),
                                        std::chrono::milliseconds{1});
        const remoting::call_options call{remaining};  // named: GCC 12 mangles braced temporaries in co_await
        auto [cec, resp] = co_await client_->invoke(address, std::move(request), call);
        ec = cec ? cec : parse_send_response(resp, p, mq.topic, mq.broker_name, r, diag);
    }
    ctx.latency = elapsed_ms(start);
    if (cfg_.latency_fault_avoidance && ec != client_errc::operation_aborted)
        faults_.update(mq.broker_name, ctx.latency, ec && is_retriable(ec), clock::now());
    if (ec && ec != client_errc::operation_aborted)
        note(diag, fmt::format("attempt {} to {} ({}) failed: {}", attempt_no + 1, mq.broker_name, address, ec.message()));
    ctx.error = ec;
    ctx.result = ec ? nullptr : &r;
    run_hooks(false, ctx);
    co_return std::tuple{ec, std::move(r)};
}

error_code producer_impl::choose_queue(publish_entry& entry, const message& msg, const send_options& opts,
                                       const std::string& last_broker, message_queue& out, diagnostics& diag)
{
    if (opts.queue) {
        if (opts.queue->topic != msg.topic()) {
            note(diag, fmt::format("the queue is of topic '{}', the message of '{}'", opts.queue->topic, msg.topic()));
            return make_error_code(client_errc::invalid_argument);
        }
        out = *opts.queue;
        return {};
    }
    if (opts.selector) {
        std::size_t index = 0;
        try {
            index = opts.selector(entry.queues, msg);
        } catch (const std::exception& e) {
            note(diag, fmt::format("the queue selector threw: {}", e.what()));
            return make_error_code(client_errc::invalid_argument);
        }
        if (index >= entry.queues.size()) {
            note(diag, fmt::format("the queue selector chose index {} of {} queues", index, entry.queues.size()));
            return make_error_code(client_errc::invalid_argument);
        }
        out = entry.queues[index];
        return {};
    }
    auto mq = entry.picker.pick(entry.queues, last_broker, cfg_.latency_fault_avoidance ? &faults_ : nullptr, clock::now());
    if (!mq)
        return make_error_code(client_errc::no_route);
    out = std::move(*mq);
    return {};
}

namespace {

std::shared_ptr<publish_entry> make_entry(const topic_route& route, std::vector<message_queue> queues, bool from_default)
{
    auto e = std::make_shared<publish_entry>();
    e->route = route;
    e->queues = std::move(queues);
    e->from_default_topic = from_default;
    e->built_at = std::chrono::steady_clock::now();
    return e;
}

}  // namespace

producer_impl::op<std::shared_ptr<publish_entry>> producer_impl::publish_info(const std::string& wire_topic,
                                                                              const std::string& user_topic,
                                                                              clock::time_point deadline,
                                                                              diagnostics& diag)
{
    auto it = publish_.find(wire_topic);
    if (const topic_route* cached = client_->cached_route(wire_topic)) {
        if (it != publish_.end() && !it->second->from_default_topic && it->second->route == *cached)
            co_return std::tuple{error_code{}, it->second};
        auto entry = make_entry(*cached, publish_queues(*cached, user_topic), false);
        if (!entry->queues.empty()) {
            publish_.insert_or_assign(wire_topic, entry);
            co_return std::tuple{error_code{}, entry};
        }
    } else if (it != publish_.end() && it->second->from_default_topic &&
               clock::now() - it->second->built_at < client_->config().route_refresh_interval) {
        co_return std::tuple{error_code{}, it->second};
    }
    co_return co_await fetch_publish_info(wire_topic, deadline, diag);
}

producer_impl::op<std::shared_ptr<publish_entry>> producer_impl::fetch_publish_info(const std::string& wire_topic,
                                                                                    clock::time_point deadline,
                                                                                    diagnostics& diag)
{
    const std::string user_topic = unwrap_namespace(name_space(), wire_topic);
    auto [ec, route] = co_await with_deadline(client_->route(wire_topic, true), deadline);
    std::shared_ptr<publish_entry> entry;
    if (!ec) {
        entry = make_entry(route, publish_queues(route, user_topic), false);
    } else if (ec == make_broker_error(remoting::response_code::topic_not_exist)) {
        // Unknown topic: send through the default topic's brokers, which create it on the
        // first message (autoCreateTopicEnable), as Java does.
        auto [dec, droute] = co_await with_deadline(client_->route(cfg_.default_topic, false), deadline);
        if (dec) {
            note(diag, fmt::format("no route info of topic {}, nor of the default topic {}: {}", wire_topic,
                                   cfg_.default_topic, dec.message()));
            co_return std::tuple{dec == client_errc::timeout ? dec : make_error_code(client_errc::no_route), entry};
        }
        entry = make_entry(droute, default_topic_publish_queues(droute, user_topic, cfg_.default_topic_queue_nums), true);
    } else {
        note(diag, fmt::format("route lookup of topic {} failed: {}", wire_topic, ec.message()));
        co_return std::tuple{ec, entry};
    }
    if (entry->queues.empty()) {
        note(diag, fmt::format("no route info of topic {}: no writable queue on a broker with a master", wire_topic));
        co_return std::tuple{make_error_code(client_errc::no_route), nullptr};
    }
    publish_.insert_or_assign(wire_topic, entry);
    co_return std::tuple{error_code{}, entry};
}

void producer_impl::run_hooks(bool before, const send_context& ctx) const
{
    for (const auto& h : cfg_.hooks) {
        try {
            before ? h->before_send(ctx) : h->after_send(ctx);
        } catch (const std::exception& e) {
            log().warn("corocket: send hook threw: {}", e.what());
        }
    }
}

void producer_impl::spawn_child(asio::awaitable<void> body)
{
    ++children_;
    asio::co_spawn(executor(), std::move(body), [self = shared_from_this()](std::exception_ptr e) {
        self->child_done();
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            self->log().error("corocket: producer {}: task failed: {}", self->cfg_.group, ex.what());
        }
    });
}

void producer_impl::child_done()
{
    if (--children_ == 0 && stopping_)
        children_cv_.cancel();
}

asio::awaitable<void> producer_impl::wait_children()
{
    while (children_ > 0) {
        children_cv_.expires_at(asio::steady_timer::time_point::max());
        co_await children_cv_.async_wait(tuple_token);
    }
}

producer_impl::op<> producer_impl::stop()
{
    if (!started_ || stopping_) {
        stopping_ = true;
        co_return std::tuple{error_code{}};
    }
    stopping_ = true;
    co_await wait_children();
    co_await client_->unregister(wire_group_, true);
    co_return std::tuple{error_code{}};
}

void producer_impl::abandon()
{
    if (!running())
        return;
    stopping_ = true;
    // Frees the group on the client (another producer may take it) and tells the brokers.
    client_->launch(client_->unregister(wire_group_, true), [](error_code) {});
}

}  // namespace detail

std::string_view to_string(send_status s) noexcept
{
    switch (s) {
    case send_status::send_ok: return "SEND_OK";
    case send_status::flush_disk_timeout: return "FLUSH_DISK_TIMEOUT";
    case send_status::flush_slave_timeout: return "FLUSH_SLAVE_TIMEOUT";
    case send_status::slave_not_available: return "SLAVE_NOT_AVAILABLE";
    }
    return "UNKNOWN";
}

namespace queue_selectors {

queue_selector by_sharding_key()
{
    return [](std::span<const message_queue> queues, const message& msg) {
        return detail::hash_queue_index(msg.sharding_key(), queues.size());
    };
}

queue_selector random()
{
    return [engine = std::minstd_rand(std::random_device{}())](std::span<const message_queue> queues,
                                                                const message&) mutable -> std::size_t {
        return queues.empty() ? 0 : std::uniform_int_distribution<std::size_t>(0, queues.size() - 1)(engine);
    };
}

}  // namespace queue_selectors

// ---- the public handle ----------------------------------------------------------------------

producer::producer(client& c, producer_config config)
    : impl_(std::make_shared<detail::producer_impl>(c, std::move(config)))
{
}

producer::~producer() { impl_->abandon(); }

producer::executor_type producer::get_executor() const noexcept { return impl_->executor(); }
const producer_config& producer::config() const noexcept { return impl_->config(); }
error_code producer::start(diagnostics* diag) { return impl_->start(diag); }
bool producer::running() const noexcept { return impl_->running(); }
std::size_t producer::inflight_messages() const noexcept { return impl_->budget().messages(); }
std::size_t producer::inflight_bytes() const noexcept { return impl_->budget().bytes(); }
std::size_t producer::waiting_sends() const noexcept { return impl_->budget().waiting(); }

void producer::send_impl(const std::shared_ptr<detail::producer_impl>& impl, message msg, send_options opts,
                         result_handler h)
{
    impl->launch(impl->send(std::move(msg), std::move(opts), send_mode::normal), std::move(h));
}

void producer::oneway_impl(const std::shared_ptr<detail::producer_impl>& impl, message msg, send_options opts,
                           done_handler h)
{
    impl->launch(impl->send_oneway(std::move(msg), std::move(opts)), std::move(h));
}

void producer::batch_impl(const std::shared_ptr<detail::producer_impl>& impl, std::vector<message> msgs,
                          send_options opts, result_handler h)
{
    impl->launch(impl->send_batch(std::move(msgs), std::move(opts)), std::move(h));
}

void producer::stop_impl(const std::shared_ptr<detail::producer_impl>& impl, done_handler h)
{
    // Not a child: stop waits for the children.
    asio::co_spawn(impl->executor(), impl->stop(),
                   [impl, h = std::move(h)](std::exception_ptr e, std::tuple<error_code> r) mutable {
                       if (e)
                           std::rethrow_exception(e);
                       asio::post(impl->executor(), asio::append(std::move(h), std::get<0>(r)));
                   });
}

}  // namespace corocket
