#include "consumer/consumer_base.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace asio = boost::asio;

namespace corocket::detail {

namespace rq = remoting::request_code;

consumer_base::consumer_base(corocket::client& c, consumer_options opts, consume_type type)
    : core_(std::make_shared<pull_core>(c.impl(), pull_consumer_config{.group = opts.group,
                                                                       .broker_suspend = opts.broker_suspend,
                                                                       .pull_timeout = opts.pull_timeout})),
      opts_(std::move(opts)), type_(type), tasks_(c.get_executor()), rebalance_cv_(c.get_executor()),
      persist_timer_(c.get_executor())
{
}

consumer_base::~consumer_base()
{
    tasks_.cancel_all();
    if (started_)
        clear_peer_handlers();
}

void consumer_base::clear_peer_handlers()
{
    for (int code : peer_request_codes_)
        rt().clear_request_handler(code, core_->wire_group());
    peer_request_codes_.clear();
}

void consumer_base::on_peer_request(int code, peer_request_handler handler)
{
    // Registered under our wire group: several consumers of different groups share one client.
    rt().set_request_handler(code, std::move(handler), core_->wire_group());
    peer_request_codes_.push_back(code);
}

std::int64_t consumer_base::now_ms() const
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

error_code consumer_base::subscribe(std::string topic, std::string expression, std::string_view expression_type)
{
    if (started_ || topic.empty())
        return make_error_code(client_errc::invalid_argument);
    subscription_data sub;
    if (expression_type == expression_type_sql92) {
        sql_filter check;
        if (auto ec = sql_filter::compile(expression, check, nullptr))
            return ec;
        sub.topic = topic;
        sub.sub_string = std::move(expression);
        sub.expression_type = std::string(expression_type_sql92);
    } else {
        sub = corocket::parse_tag_expression(topic, expression);
    }
    sub.sub_version = now_ms();
    subscriptions_[std::move(topic)] = std::move(sub);
    return {};
}

void consumer_base::assign(std::vector<message_queue> queues)
{
    std::sort(queues.begin(), queues.end());
    for (const auto& q : queues)
        if (!subscriptions_.contains(q.topic))
            subscriptions_[q.topic] = corocket::parse_tag_expression(q.topic, sub_all);
    assigned_ = std::move(queues);
}

const subscription_data* consumer_base::subscription_for(const std::string& topic) const
{
    auto it = subscriptions_.find(topic);
    return it == subscriptions_.end() ? nullptr : &it->second;
}

consumer_registration consumer_base::registration() const
{
    consumer_registration reg;
    reg.group = core_->wire_group();
    reg.type = type_;
    reg.model = opts_.model;
    reg.from_where = opts_.from_where;
    for (const auto& [topic, sub] : subscriptions_) {
        auto wire = sub;
        wire.topic = core_->wire_topic(topic);
        reg.subscriptions.push_back(std::move(wire));
    }
    return reg;
}

void consumer_base::start()
{
    if (started_)
        return;
    started_ = true;
    if (opts_.model == message_model::broadcasting) {
        file_.emplace(local_offset_file::default_path(opts_.offset_store_dir, rt().client_id(), core_->wire_group()));
        if (auto ec = file_->load(file_offsets_))
            core_->log().warn("corocket: offset file {} unreadable: {}", file_->path().string(), ec.message());
    }
    start_ms_ = now_ms();
    rt().register_consumer(registration());
    std::weak_ptr<consumer_base> weak = shared_from_this();
    on_peer_request(rq::notify_consumer_ids_changed, [weak](remoting::connection, remoting::command) {
        if (auto self = weak.lock())
            self->trigger_rebalance();
    });
    rebalance_task_ = tasks_.spawn(rebalance_loop());
    persist_task_ = tasks_.spawn(persist_loop());
}

void consumer_base::trigger_rebalance()
{
    // Remembered as well as signalled: a NOTIFY that arrives while a round is under way (nobody
    // waiting on the timer) must still cause another round, or the group stays unbalanced until
    // the next periodic one (Java's ServiceThread keeps such a wake-up in `hasNotified`).
    rebalance_wanted_ = true;
    rebalance_cv_.cancel();
}

asio::awaitable<void> consumer_base::rebalance_loop()
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto self = shared_from_this();
    // Heartbeat first: brokers must know the group (and create %RETRY%) before we ask for members.
    co_await rt().heartbeat_all();
    while (!stopping_) {
        rebalance_wanted_ = false;
        co_await rebalance_once();
        if (stopping_)
            break;
        if (rebalance_wanted_)
            continue;
        rebalance_cv_.expires_after(opts_.rebalance_interval);
        co_await rebalance_cv_.async_wait(tuple_token);
    }
}

asio::awaitable<void> consumer_base::rebalance_once()
{
    const auto before = assignment();
    if (assigned_) {
        const auto wanted = *assigned_;  // assign() may replace the list while we add queues
        for (const auto& q : wanted)
            if (!stopping_)
                co_await ensure_queue(q);
    } else {
        std::vector<std::string> topics;
        for (const auto& [t, s] : subscriptions_)
            topics.push_back(t);
        for (const auto& t : topics)
            if (!stopping_)
                co_await rebalance_topic(t);
    }
    if (!stopping_ && assignment() != before)
        co_await rt().heartbeat_all();  // 5.x: tell brokers at once after a change
}

asio::awaitable<void> consumer_base::rebalance_topic(const std::string& topic)
{
    std::string topic_copy = topic;
    auto [qec, all] = co_await core_->fetch_queues(std::move(topic_copy), true);
    if (qec) {
        core_->log().debug("corocket: rebalance {}: no route: {}", topic, qec.message());
        co_return;
    }
    std::vector<message_queue> mine;
    if (opts_.model == message_model::broadcasting) {
        mine = all;
    } else {
        std::string topic_again = topic;
        auto [cec, cids] = co_await core_->consumer_ids(std::move(topic_again));
        if (cec || cids.empty()) {
            core_->log().debug("corocket: rebalance {}: no consumer list: {}", topic, cec.message());
            co_return;  // keep the current assignment (§7.7 step 3)
        }
        std::vector<message_queue> wire;
        for (const auto& q : all)
            wire.push_back(core_->to_wire(q));
        std::sort(wire.begin(), wire.end());
        try {
            for (const auto& q : opts_.strategy(core_->wire_group(), rt().client_id(), wire, cids))
                mine.push_back(core_->to_user(q));
        } catch (const std::exception& e) {
            core_->log().warn("corocket: allocation strategy failed: {}", e.what());
            co_return;
        }
    }
    const std::set<message_queue> wanted(mine.begin(), mine.end());
    std::vector<message_queue> gone;
    for (const auto& [q, st] : queues_)
        if (q.topic == topic && !wanted.contains(q))
            gone.push_back(q);
    for (const auto& q : gone)
        co_await remove_queue(q);
    for (const auto& q : mine)
        if (!stopping_)
            co_await ensure_queue(q);
}

asio::awaitable<void> consumer_base::ensure_queue(message_queue q)
{
    // A queue kept while its handler finished comes back as a fresh state.
    if (auto st = find(q); st && st->dropped)
        co_await remove_queue(q);
    if (!queues_.contains(q))
        co_await add_queue(std::move(q));
}

asio::awaitable<std::tuple<error_code, std::int64_t>> consumer_base::start_offset(const message_queue& q)
{
    const bool retry = q.topic.starts_with(retry_topic_prefix);
    std::int64_t stored = -1;
    if (opts_.model == message_model::broadcasting) {
        if (auto it = file_offsets_.find(q); it != file_offsets_.end())
            stored = it->second;
    } else {
        message_queue copy = q;
        auto [ec, off] = co_await core_->query_offset(std::move(copy));
        if (ec)
            co_return std::tuple{ec, std::int64_t{-1}};
        stored = off;
    }
    if (stored >= 0)
        co_return std::tuple{error_code{}, stored};
    message_queue copy = q;
    switch (opts_.from_where) {
    case consume_from_where::first_offset: co_return std::tuple{error_code{}, std::int64_t{0}};
    case consume_from_where::last_offset:
        if (retry)
            co_return std::tuple{error_code{}, std::int64_t{0}};
        co_return co_await core_->queue_offset(rq::get_max_offset, std::move(copy), 0);
    case consume_from_where::timestamp:
        if (retry)
            co_return co_await core_->queue_offset(rq::get_max_offset, std::move(copy), 0);
        const auto ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                            opts_.consume_timestamp.time_since_epoch())
                            .count();
        co_return co_await core_->queue_offset(rq::search_offset_by_timestamp, std::move(copy), ts);
    }
    co_return std::tuple{error_code{}, std::int64_t{0}};
}

asio::awaitable<void> consumer_base::add_queue(message_queue q)
{
    // Acquired first, so that the start offset is read after the previous owner let go (§7.10).
    if (!co_await acquire(q))
        co_return;  // the next rebalance tries again
    auto [ec, offset] = co_await start_offset(q);
    if (ec || stopping_) {
        if (ec)
            core_->log().warn("corocket: no start offset for {}: {}", q.to_string(), ec.message());
        co_await release(q);
        co_return;  // the next rebalance tries again
    }
    auto st = std::make_shared<queue_state>(q, rt().executor());
    st->next_pull = offset;
    st->tracker.reset(offset);
    queues_[q] = st;
    spawn_loop(st);
}

void consumer_base::spawn_loop(const state_ptr& st) { st->loop = tasks_.spawn(pull_loop(st)); }

asio::awaitable<void> consumer_base::remove_queue(message_queue q)
{
    auto it = queues_.find(q);
    if (it == queues_.end())
        co_return;
    auto st = it->second;
    const bool lingering = st->dropped;  // kept by an earlier round: already drained once
    if (!lingering) {
        st->dropped = true;
        st->wake.cancel();
        if (st->loop)
            st->loop->emit(asio::cancellation_type::terminal);
        co_await drain(st);
    }
    if (busy_with_lock(*st)) {
        // Unlocking now would let the next owner consume this orderly queue beside the handler
        // still running here: keep the lock (renewed) and try again at the next rebalance.
        core_->log().info("corocket: {} still being consumed; released at a later rebalance", q.to_string());
        co_return;
    }
    forget(*st);
    // Manual commit: what the user committed, not what was polled (Java persists the offset
    // store, which only commit() writes).
    const auto offset = manual_commit_ ? st->committed : st->tracker.committable();
    if (auto now = queues_.find(q); now != queues_.end() && now->second == st)
        queues_.erase(now);  // (not a state a reset installed meanwhile)
    if (opts_.model == message_model::clustering && offset >= 0) {
        auto [ec] = co_await core_->commit_offset(q, offset);  // committed before it is released
        if (ec)
            core_->log().warn("corocket: commit of released {} failed: {}", q.to_string(), ec.message());
    } else if (offset >= 0) {
        file_offsets_[q] = offset;
    }
    co_await release(q);
}

void consumer_base::restart_queue(const message_queue& q, std::int64_t offset)
{
    auto it = queues_.find(q);
    if (it == queues_.end())
        return;
    auto old = it->second;
    if (old->dropped)
        return;  // being released: the new owner starts where this one commits
    old->dropped = true;
    old->wake.cancel();
    if (old->loop)
        old->loop->emit(asio::cancellation_type::terminal);
    forget(*old);
    auto st = std::make_shared<queue_state>(q, rt().executor());
    st->next_pull = offset;
    st->tracker.reset(offset);
    st->paused = old->paused;
    it->second = st;
    spawn_loop(st);
}

void consumer_base::set_paused(const std::vector<message_queue>& queues, bool paused)
{
    for (const auto& q : queues)
        if (auto st = find(q)) {
            st->paused = paused;
            st->wake.cancel();
        }
}

consumer_base::state_ptr consumer_base::find(const message_queue& q) const
{
    auto it = queues_.find(q);
    return it == queues_.end() ? nullptr : it->second;
}

std::vector<message_queue> consumer_base::assignment() const
{
    std::vector<message_queue> out;
    for (const auto& [q, st] : queues_)
        out.push_back(q);
    return out;
}

std::size_t consumer_base::cached_bytes() const
{
    std::size_t n = 0;
    for (const auto& [q, st] : queues_)
        n += st->tracker.bytes();
    return n;
}

asio::awaitable<void> consumer_base::wait(queue_state& st, std::chrono::milliseconds d)
{
    st.wake.expires_after(d);
    co_await st.wake.async_wait(tuple_token);
}

asio::awaitable<void> consumer_base::pull_loop(state_ptr st)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto self = shared_from_this();
    const subscription_data* sub = subscription_for(st->mq.topic);
    const auto filter = sub ? *sub : corocket::parse_tag_expression(st->mq.topic, sub_all);
    while (!st->dropped && !stopping_) {
        const bool over = st->tracker.count() > opts_.pull_threshold_for_queue ||
                          st->tracker.bytes() > opts_.pull_threshold_size_for_queue ||
                          (opts_.memory_budget > 0 && cached_bytes() > opts_.memory_budget) || hold_back(*st);
        if (st->paused || over) {
            co_await wait(*st, st->paused ? std::chrono::milliseconds(1000) : opts_.flow_control_delay);
            continue;
        }
        auto opts = core_->default_pull_options();
        opts.max_messages = opts_.pull_batch_size;
        if (piggyback_commit() && st->tracker.committable() > 0)
            opts.commit_offset = st->tracker.committable();
        message_queue q = st->mq;
        auto f = filter;
        const auto pull_began = std::chrono::steady_clock::now();
        auto [ec, r] = co_await core_->pull(std::move(q), st->next_pull, std::move(f), opts);
        if (st->dropped || stopping_)
            break;
        if (st->paused)
            continue;  // paused while the broker held the pull (a real one may hold it until 5 s
                       // past its suspend time): nothing is taken, resume pulls from here again
        if (!ec && r.status == pull_status::found) {  // held (empty) long polls say nothing of latency
            auto& c = counters_[st->mq.topic];
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - pull_began)
                                .count();
            ++c.pulls;
            c.pull_us += us;
            c.pull_us_max = std::max(c.pull_us_max, us);
        }
        if (ec) {
            core_->log().debug("corocket: pull {} failed: {}", st->mq.to_string(), ec.message());
            const bool busy = ec == make_broker_error(remoting::response_code::flow_control);
            co_await wait(*st, busy ? std::chrono::milliseconds(20) : opts_.pull_error_delay);
            continue;
        }
        st->last_pull_ms = now_ms();
        record_undecodable(st->mq.topic, r.undecodable);  // skipped: the offset moves past them
        st->next_pull = r.next_begin_offset;
        st->max_offset = r.max_offset;
        if (r.status == pull_status::offset_illegal) {
            if (st->tracker.count() == 0) {
                st->tracker.reset(r.next_begin_offset);
            } else {
                // The broker moved the queue (maybe backwards) under messages still being
                // consumed. Their results must not reach the new position's tracker (offsets
                // can repeat), so the queue starts over on a fresh state, as Java drops the
                // process queue; this loop ends with the old one.
                restart_queue(st->mq, r.next_begin_offset);
                break;
            }
        }
        if (r.status == pull_status::found && !r.empty()) {
            for (const auto& m : r.messages())
                st->tracker.add(m.queue_offset(), m.body().size());
            st->tracker.skip_to(r.next_begin_offset);
            co_await on_found(st, std::move(r));
        } else {
            st->tracker.skip_to(r.next_begin_offset);
        }
        if (opts_.pull_interval.count() > 0)
            co_await wait(*st, opts_.pull_interval);
    }
}

asio::awaitable<error_code> consumer_base::persist(bool final)
{
    error_code first;
    if (opts_.model == message_model::broadcasting) {
        for (const auto& [q, st] : queues_)
            file_offsets_[q] = st->committed = st->tracker.committable();
        if (file_)
            first = file_->save(file_offsets_);  // a few hundred bytes: quick, and atomic
        co_return first;
    }
    std::vector<std::pair<state_ptr, std::int64_t>> todo;
    for (const auto& [q, st] : queues_)
        if (st->tracker.committable() >= 0)
            todo.emplace_back(st, st->tracker.committable());
    for (auto& [st, offset] : todo) {
        if (!final && stopping_)
            break;  // the final commit follows: a stale periodic one must not land after it
        error_code ec;
        message_queue q = st->mq;
        if (final)
            std::tie(ec) = co_await core_->commit_offset(std::move(q), offset);
        else
            std::tie(ec) = co_await core_->commit_offset_oneway(std::move(q), offset);
        if (!ec)
            st->committed = offset;
        if (ec && !first)
            first = ec;
    }
    co_return first;
}

asio::awaitable<error_code> consumer_base::commit_all() { co_return co_await persist(true); }

asio::awaitable<void> consumer_base::persist_loop()
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto self = shared_from_this();
    while (!stopping_) {
        persist_timer_.expires_after(opts_.persist_interval);
        co_await persist_timer_.async_wait(tuple_token);
        if (stopping_)
            break;
        co_await persist(false);
    }
}

asio::awaitable<void> consumer_base::stop()
{
    if (!started_ || stopping_)
        co_return;
    auto self = shared_from_this();
    stopping_ = true;
    on_stopping();
    rebalance_cv_.cancel();
    persist_timer_.cancel();
    if (rebalance_task_)
        rebalance_task_->emit(asio::cancellation_type::terminal);
    // Stop every pull loop, then let in-flight work finish.
    for (auto& [q, st] : queues_) {
        st->dropped = true;
        st->wake.cancel();
        if (st->loop)
            st->loop->emit(asio::cancellation_type::terminal);
    }
    std::vector<state_ptr> states;
    for (auto& [q, st] : queues_)
        states.push_back(st);
    for (auto& st : states)
        co_await drain(st);
    if (!manual_commit_)
        if (auto ec = co_await persist(true))
            core_->log().warn("corocket: final offset commit failed: {}", ec.message());
    for (auto& st : states)
        co_await release(st->mq);
    clear_peer_handlers();
    std::string group = core_->wire_group();
    co_await rt().unregister(std::move(group), false);
    co_await tasks_.join();
    for (auto& [q, st] : queues_)
        forget(*st);
    queues_.clear();
}

}  // namespace corocket::detail

namespace corocket::detail {

void consumer_base::record_consume(const std::string& topic, std::size_t messages, bool success,
                                   std::chrono::microseconds took, std::string_view error)
{
    auto& c = counters_[topic];
    const auto now = now_ms();
    if (c.first_ms == 0)
        c.first_ms = now;
    c.last_ms = now;
    ++c.calls;
    c.consume_us += took.count();
    c.consume_us_max = std::max<std::int64_t>(c.consume_us_max, took.count());
    if (success) {
        c.processed += messages;
    } else {
        c.failed += messages;
        c.last_error = std::string(error);
        c.last_error_ms = now;
    }
}

consumer_stats consumer_base::stats() const
{
    using clock = std::chrono::system_clock;
    const auto at = [](std::int64_t ms) { return clock::time_point(std::chrono::milliseconds(ms)); };
    const auto avg = [](std::int64_t total, std::uint64_t n) {
        return std::chrono::microseconds(n == 0 ? 0 : total / static_cast<std::int64_t>(n));
    };
    consumer_stats out;
    out.group = opts_.group;
    out.start_time = at(start_ms_);
    for (const auto& [topic, sub] : subscriptions_) {
        subscription_stats s;
        s.topic = topic;
        s.start_time = at(start_ms_);
        if (auto it = counters_.find(topic); it != counters_.end()) {
            const auto& c = it->second;
            if (c.first_ms != 0) {
                s.first_message_time = at(c.first_ms);
                s.last_message_time = at(c.last_ms);
            }
            s.processed = c.processed;
            s.failed = c.failed;
            s.undecodable = c.undecodable;
            s.last_error = c.last_error;
            if (c.last_error_ms != 0)
                s.last_error_time = at(c.last_error_ms);
            s.pulls = c.pulls;
            s.pull_latency_avg = avg(c.pull_us, c.pulls);
            s.pull_latency_max = std::chrono::microseconds(c.pull_us_max);
            s.handler_calls = c.calls;
            s.consume_latency_avg = avg(c.consume_us, c.calls);
            s.consume_latency_max = std::chrono::microseconds(c.consume_us_max);
        }
        for (const auto& [q, st] : queues_) {
            if (q.topic != topic)
                continue;
            queue_stats qs;
            qs.queue = q;
            qs.consumed_offset = st->tracker.committable();
            qs.max_offset = st->max_offset;
            qs.lag = qs.max_offset >= 0 && qs.consumed_offset >= 0 ? std::max<std::int64_t>(0, qs.max_offset - qs.consumed_offset) : 0;
            qs.cached_messages = st->tracker.count();
            qs.locked = is_locked(q);
            qs.last_pull_time = at(st->last_pull_ms);
            qs.last_consume_time = at(st->last_consume_ms);
            s.lag += qs.lag;
            s.queues.push_back(std::move(qs));
        }
        out.subscriptions.push_back(std::move(s));
    }
    return out;
}

}  // namespace corocket::detail
