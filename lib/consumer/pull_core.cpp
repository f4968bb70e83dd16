#include "consumer/pull_core.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <algorithm>

namespace corocket::detail {

namespace rq = remoting::request_code;

// Java's LOCK/UNLOCK_BATCH_MQ timeout.
constexpr std::chrono::milliseconds lock_timeout{1000};

pull_core::pull_core(std::shared_ptr<client_impl> client, pull_consumer_config cfg)
    : client_(std::move(client)), cfg_(std::move(cfg)),
      wire_group_(wrap_namespace(client_->config().name_space, cfg_.group)),
      wire_retry_topic_(detail::retry_topic(wire_group_))
{
}

std::string pull_core::wire_topic(std::string_view t) const { return wrap_namespace(client_->config().name_space, t); }
std::string pull_core::user_topic(std::string_view t) const
{
    return unwrap_namespace(client_->config().name_space, t);
}

message_queue pull_core::to_wire(const message_queue& q) const { return {wire_topic(q.topic), q.broker_name, q.queue_id}; }
message_queue pull_core::to_user(const message_queue& q) const { return {user_topic(q.topic), q.broker_name, q.queue_id}; }

pull_core::pull_options pull_core::default_pull_options() const
{
    pull_options o;
    o.suspend = cfg_.broker_suspend;
    o.timeout = cfg_.pull_timeout;
    o.lite = cfg_.lite_pull_code;
    return o;
}

pull_core::op<std::string> pull_core::lookup_address(const message_queue& q, std::function<std::string()> pick)
{
    if (auto a = pick(); !a.empty())
        co_return std::tuple{error_code{}, std::move(a)};
    std::string topic = wire_topic(q.topic);
    auto [ec, route] = co_await client_->route(std::move(topic), true);
    if (ec)
        co_return std::tuple{ec, std::string{}};
    auto a = pick();
    co_return std::tuple{a.empty() ? make_error_code(client_errc::no_broker_address) : error_code{}, std::move(a)};
}

pull_core::op<std::string> pull_core::address_of(const message_queue& q, std::int64_t broker_id)
{
    return lookup_address(q, [this, name = q.broker_name, broker_id] {
        const auto addrs = client_->broker_addresses(name);
        for (std::int64_t id : {broker_id, broker_data::master_id})
            if (auto it = addrs.find(id); it != addrs.end())
                return it->second;
        return addrs.empty() ? std::string{} : addrs.begin()->second;
    });
}

pull_core::op<std::string> pull_core::master_address_of(const message_queue& q)
{
    return lookup_address(q, [this, name = q.broker_name] {
        return client_->broker_address(name, broker_data::master_id);
    });
}

pull_core::op<pull_result> pull_core::pull(message_queue queue, std::int64_t offset, subscription_data filter,
                                           pull_options opts)
{
    std::int64_t broker_id = 0;
    if (auto it = suggested_broker_.find(queue); it != suggested_broker_.end())
        broker_id = it->second;
    auto [aec, addr] = co_await address_of(queue, broker_id);
    if (aec)
        co_return std::tuple{aec, pull_result{}};
    const bool to_master = addr == client_->broker_address(queue.broker_name, broker_data::master_id);

    pull_request_fields f;
    f.group = wire_group_;
    f.queue = to_wire(queue);
    f.queue_offset = offset;
    f.max_messages = opts.max_messages;
    f.suspend_timeout_ms = opts.suspend.count();
    f.sys_flag = (opts.suspend.count() > 0 ? pull_flag::suspend : 0) |
                 (opts.inline_subscription ? pull_flag::subscription : 0) | (opts.lite ? pull_flag::lite_pull : 0);
    if (opts.commit_offset >= 0 && to_master) {  // a slave must not be asked to commit (§4.3.2)
        f.sys_flag |= pull_flag::commit_offset;
        f.commit_offset = opts.commit_offset;
    }
    f.subscription = filter.sub_string;
    f.expression_type = filter.expression_type;
    // Lite pull sends subVersion 0 for TAG expressions (§4.3.2); SQL92 needs the real version.
    f.sub_version = (opts.inline_subscription && filter.expression_type == expression_type_tag) ? 0 : filter.sub_version;
    f.max_bytes = opts.max_bytes;
    f.lite_code = opts.lite;

    auto req = make_pull_request(f);
    auto [ec, resp] = co_await client_->invoke(addr, std::move(req), {opts.timeout});
    pull_result r;
    if (!ec)
        ec = parse_pull_response(resp, r);
    else if (!to_master)
        suggested_broker_.erase(queue);  // an unreachable slave: the next pull asks the master
    if (ec) {
        if (ec.category() == broker_category())
            log().debug("corocket: pull {} from {}: {} {}", queue.to_string(), addr, ec.message(),
                        resp.remark.value_or(""));
        co_return std::tuple{ec, pull_result{}};
    }
    suggested_broker_[queue] = r.suggest_which_broker_id;
    warn_undecodable(log(), queue, offset, r.batch());
    present_pulled(r, queue, filter, client_->config().name_space, wire_retry_topic_,
                   resp.ext_fields.get_int("offsetDelta").value_or(0));
    co_return std::tuple{error_code{}, std::move(r)};
}

pull_core::op<std::vector<message_queue>> pull_core::fetch_queues(std::string topic, bool refresh)
{
    const std::string wire = wire_topic(topic);
    std::string wire_copy = wire;
    auto [ec, route] = co_await client_->route(std::move(wire_copy), refresh);
    if (ec)
        co_return std::tuple{ec, std::vector<message_queue>{}};
    auto queues = route.subscribe_queues(wire);
    for (auto& q : queues)
        q.topic = topic;
    std::sort(queues.begin(), queues.end());
    co_return std::tuple{error_code{}, std::move(queues)};
}

pull_core::op<remoting::command> pull_core::call_master(const message_queue& q, remoting::command req,
                                                        std::chrono::milliseconds timeout)
{
    auto [aec, addr] = co_await address_of(q, broker_data::master_id);
    if (aec)
        co_return std::tuple{aec, remoting::command{}};
    co_return co_await client_->invoke(addr, std::move(req), {timeout});
}

pull_core::op<std::int64_t> pull_core::query_offset(message_queue queue)
{
    auto req = make_query_offset_request(wire_group_, to_wire(queue));
    auto [ec, resp] = co_await call_master(queue, std::move(req), cfg_.offset_timeout);
    std::int64_t offset = -1;
    if (!ec)
        ec = parse_offset_response(resp, true, offset);
    co_return std::tuple{ec, offset};
}

pull_core::op<std::int64_t> pull_core::queue_offset(int code, message_queue queue, std::int64_t timestamp_ms)
{
    auto req = make_queue_offset_request(code, to_wire(queue), timestamp_ms);
    auto [ec, resp] = co_await call_master(queue, std::move(req), cfg_.offset_timeout);
    std::int64_t offset = -1;
    if (!ec)
        ec = parse_offset_response(resp, false, offset);
    co_return std::tuple{ec, offset};
}

pull_core::op<> pull_core::commit_offset(message_queue queue, std::int64_t offset)
{
    auto req = make_update_offset_request(wire_group_, to_wire(queue), offset);
    auto [ec, resp] = co_await call_master(queue, std::move(req), cfg_.offset_timeout);
    if (!ec && resp.code != remoting::response_code::success)
        ec = make_broker_error(resp.code);
    co_return std::tuple{ec};
}

pull_core::op<> pull_core::commit_offset_oneway(message_queue queue, std::int64_t offset)
{
    auto [aec, addr] = co_await address_of(queue, broker_data::master_id);
    if (aec)
        co_return std::tuple{aec};
    auto req = make_update_offset_request(wire_group_, to_wire(queue), offset);
    co_return co_await client_->invoke_oneway(std::move(addr), std::move(req));
}

pull_core::op<std::vector<std::string>> pull_core::consumer_ids(std::string topic)
{
    std::vector<std::string> ids;
    std::string wire = wire_topic(topic);
    auto [ec, route] = co_await client_->route(std::move(wire), false);
    if (ec)
        co_return std::tuple{ec, ids};
    error_code last = make_error_code(client_errc::no_broker_address);
    // Java asks one broker at random; asking each in turn until one answers is as good and
    // tolerates a broker that is down.
    for (const auto& b : route.broker_datas) {
        std::string addr = b.master_address();
        if (addr.empty() && !b.broker_addrs.empty())
            addr = b.broker_addrs.begin()->second;
        if (addr.empty())
            continue;
        auto req = make_consumer_list_request(wire_group_);
        auto [cec, resp] = co_await client_->invoke(addr, std::move(req), {cfg_.offset_timeout});
        if (!cec && resp.code != remoting::response_code::success)
            cec = make_broker_error(resp.code);
        if (!cec)
            cec = parse_consumer_list(resp.body, ids);
        if (!cec) {
            std::sort(ids.begin(), ids.end());
            co_return std::tuple{error_code{}, std::move(ids)};
        }
        last = cec;
    }
    co_return std::tuple{last, std::vector<std::string>{}};
}

pull_core::op<> pull_core::send_back(const message_view& m, int delay_level, int max_reconsume_times)
{
    send_back_fields f;
    f.commit_log_offset = m.commit_log_offset();
    f.group = wire_group_;
    f.delay_level = delay_level;
    f.origin_msg_id = std::string(m.msg_id());
    f.origin_topic = wire_topic(m.topic());
    f.max_reconsume_times = max_reconsume_times;
    f.broker_name = m.broker_name;
    std::string addr = client_->broker_address(m.broker_name, broker_data::master_id);
    if (addr.empty())
        addr = m.store_host().to_string();  // the broker that stored it, as Java falls back to
    auto req = make_send_back_request(f);
    auto [ec, resp] = co_await client_->invoke(addr, std::move(req), {cfg_.offset_timeout});
    if (!ec && resp.code != remoting::response_code::success) {
        log().debug("corocket: send back {} refused: {} {}", m.msg_id(), response_code_name(resp.code),
                    resp.remark.value_or(""));
        ec = make_broker_error(resp.code);
    }
    co_return std::tuple{ec};
}

pull_core::op<> pull_core::resend_to_retry(const message_view& m, int reconsume_times, int max_reconsume_times,
                                           bool dead_letter)
{
    std::string topic = wire_retry_topic_;
    auto [rec, route] = co_await client_->route(std::move(topic), false);
    if (rec)
        co_return std::tuple{rec};
    const auto queues = route.publish_queues(wire_retry_topic_);
    if (queues.empty())
        co_return std::tuple{make_error_code(client_errc::no_route)};
    const auto& q = queues[retry_queue_turn_++ % queues.size()];
    const std::string addr = client_->broker_address(q.broker_name, broker_data::master_id);
    if (addr.empty())
        co_return std::tuple{make_error_code(client_errc::no_route)};
    const std::string consumed_topic = wire_topic(m.topic());
    retry_resend_fields f{.wire_retry_topic = wire_retry_topic_,
                          .wire_topic = consumed_topic,
                          .queue_id = q.queue_id,
                          .reconsume_times = reconsume_times,
                          .max_reconsume_times = max_reconsume_times,
                          .born_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count(),
                          .dead_letter = dead_letter};
    auto req = make_retry_resend_request(m, f);
    auto [ec, resp] = co_await client_->invoke(addr, std::move(req), {cfg_.offset_timeout});
    if (!ec && resp.code != remoting::response_code::success)
        ec = make_broker_error(resp.code);
    co_return std::tuple{ec};
}

pull_core::op<std::vector<message_queue>> pull_core::lock(std::vector<message_queue> queues)
{
    std::vector<message_queue> locked;
    if (queues.empty())
        co_return std::tuple{error_code{}, locked};
    std::vector<message_queue> wire;
    for (const auto& q : queues)
        wire.push_back(to_wire(q));
    auto req = remoting::command::request(rq::lock_batch_mq);
    req.body = lock_batch_body(wire_group_, client_->client_id(), wire);
    auto [aec, addr] = co_await master_address_of(queues.front());
    if (aec)
        co_return std::tuple{aec, locked};
    auto [ec, resp] = co_await client_->invoke(addr, std::move(req), {lock_timeout});
    if (!ec && resp.code != remoting::response_code::success)
        ec = make_broker_error(resp.code);
    if (!ec)
        ec = parse_lock_batch_response(resp.body, locked);
    for (auto& q : locked)
        q = to_user(q);
    co_return std::tuple{ec, std::move(locked)};
}

pull_core::op<> pull_core::unlock(std::vector<message_queue> queues, bool oneway)
{
    if (queues.empty())
        co_return std::tuple{error_code{}};
    std::vector<message_queue> wire;
    for (const auto& q : queues)
        wire.push_back(to_wire(q));
    auto req = remoting::command::request(rq::unlock_batch_mq);
    req.body = lock_batch_body(wire_group_, client_->client_id(), wire);
    auto [aec, addr] = co_await master_address_of(queues.front());
    if (aec)
        co_return std::tuple{aec};
    if (oneway)
        co_return co_await client_->invoke_oneway(addr, std::move(req));
    auto [ec, resp] = co_await client_->invoke(addr, std::move(req), {lock_timeout});
    if (!ec && resp.code != remoting::response_code::success)
        ec = make_broker_error(resp.code);
    co_return std::tuple{ec};
}

}  // namespace corocket::detail
