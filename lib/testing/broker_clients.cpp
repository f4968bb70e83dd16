// Client registration (ClientManageProcessor, ConsumerManager, ProducerManager of 4.9.8),
// GET_CONSUMER_LIST_BY_GROUP, orderly queue locks (RebalanceLockManager), CHECK_CLIENT_CONFIG.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace json = boost::json;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

subscription_data parse_subscription(const json::object& o)
{
    subscription_data s;
    s.topic = json_string(o, "topic");
    s.sub_string = json_string(o, "subString");
    s.expression_type = json_string(o, "expressionType");
    if (s.expression_type.empty())
        s.expression_type = expression_type_tag;
    s.sub_version = json_int(o, "subVersion");
    if (auto* tags = o.if_contains("tagsSet"); tags && tags->is_array())
        for (auto& t : tags->as_array())
            if (t.is_string())
                s.tags.emplace_back(t.as_string());
    if (auto* codes = o.if_contains("codeSet"); codes && codes->is_array())
        for (auto& c : codes->as_array())
            if (c.is_int64())
                s.codes.push_back(static_cast<std::int32_t>(c.as_int64()));
    return s;
}

std::optional<message_queue> parse_mq(const json::value& v)
{
    if (!v.is_object())
        return std::nullopt;
    const auto& o = v.as_object();
    return message_queue{json_string(o, "topic"), json_string(o, "brokerName"),
                         static_cast<int>(json_int(o, "queueId"))};
}

json::object mq_json(const message_queue& mq)
{
    json::object o;
    o["brokerName"] = mq.broker_name;
    o["queueId"] = mq.queue_id;
    o["topic"] = mq.topic;
    return o;
}

remoting::command decode_failure(const remoting::command& req, std::string_view what)
{
    return remoting::command::response_to(req, rs::system_error,
                                          fmt::format("com.alibaba.fastjson.JSONException: {} body can not be parsed", what));
}

}  // namespace

bool broker_core::register_consumer(const std::string& group, const client_channel& info, consumer_group proto,
                                    const std::vector<subscription_data>& subs)
{
    auto [it, created] = consumers_.try_emplace(group, proto);
    consumer_group& g = it->second;
    g.consume_type = proto.consume_type;
    g.message_model = proto.message_model;
    g.consume_from_where = proto.consume_from_where;

    // ConsumerGroupInfo.updateChannel: a new channel is a change.
    bool changed = false;
    auto ch = std::find_if(g.channels.begin(), g.channels.end(), [&](const client_channel& c) { return c.id == info.id; });
    if (ch == g.channels.end()) {
        g.channels.push_back(info);
        changed = true;
    } else {
        const auto last = info.last_update;
        if (ch->client_id != info.client_id)
            *ch = info;
        ch->last_update = last;
    }
    // ConsumerGroupInfo.updateSubscription: new or removed topics are a change; a newer version
    // of a known topic replaces it silently.
    for (const auto& s : subs) {
        auto old = g.subscriptions.find(s.topic);
        if (old == g.subscriptions.end()) {
            g.subscriptions.emplace(s.topic, s);
            changed = true;
        } else if (s.sub_version > old->second.sub_version) {
            old->second = s;
        }
    }
    for (auto s = g.subscriptions.begin(); s != g.subscriptions.end();) {
        const bool kept = std::any_of(subs.begin(), subs.end(), [&](const auto& n) { return n.topic == s->first; });
        if (kept) {
            ++s;
        } else {
            s = g.subscriptions.erase(s);
            changed = true;
        }
    }
    return changed;
}

void broker_core::notify_consumer_ids_changed(const std::string& group)
{
    auto it = consumers_.find(group);
    if (it == consumers_.end())
        return;
    for (const auto& c : it->second.channels) {
        auto cmd = remoting::command::request(rc::notify_consumer_ids_changed);
        cmd.ext_fields.set("consumerGroup", group);
        cmd.type = remoting::serialize_type::json;
        out_->out.push_back({c.id, std::move(cmd), 0});
    }
}

void broker_core::register_sql_filters(const std::string& group, const std::vector<subscription_data>& subs)
{
    // ConsumerFilterManager.register: only non-TAG expressions; a version never goes back.
    for (const auto& s : subs) {
        if (s.expression_type.empty() || s.expression_type == expression_type_tag)
            continue;
        auto key = std::make_pair(s.topic, group);
        auto old = sql_filters_.find(key);
        if (old != sql_filters_.end() && s.sub_version <= old->second.client_version)
            continue;
        sql_filter_data d;
        if (sql_filter::compile(s.sub_string, d.filter, nullptr))
            continue;
        d.expression = s.sub_string;
        d.client_version = s.sub_version;
        sql_filters_.insert_or_assign(std::move(key), std::move(d));
    }
}

broker_core::response broker_core::heart_beat(const channel_ref& ch, remoting::command& req, std::int64_t now)
{
    auto body = parse_body(req.body);
    if (!body || !body->is_object())
        return decode_failure(req, "HeartbeatData");
    const auto& hb = body->as_object();
    client_channel info;
    info.id = ch.id;
    info.client_id = json_string(hb, "clientID");
    info.language = req.language;
    info.version = req.version;
    info.remote = ch.remote;
    info.last_update = now;

    if (auto* consumers = hb.if_contains("consumerDataSet"); consumers && consumers->is_array()) {
        for (const auto& cv : consumers->as_array()) {
            if (!cv.is_object())
                continue;
            const auto& c = cv.as_object();
            const std::string group = json_string(c, "groupName");
            bool notify = true;
            if (subscription_group* g = find_group(group)) {
                notify = g->notify_consumer_ids_changed_enable;
                const int sys_flag = json_bool(c, "unitMode") ? 2 : 0;
                create_topic_in_send_back(cd::retry_topic(group), g->retry_queue_nums,
                                          queue_data::perm_read | queue_data::perm_write, sys_flag);
            }
            std::vector<subscription_data> subs;
            if (auto* sv = c.if_contains("subscriptionDataSet"); sv && sv->is_array())
                for (const auto& s : sv->as_array())
                    if (s.is_object())
                        subs.push_back(parse_subscription(s.as_object()));
            consumer_group proto;
            proto.consume_type = json_string(c, "consumeType");
            proto.message_model = json_string(c, "messageModel");
            proto.consume_from_where = json_string(c, "consumeFromWhere");
            if (register_consumer(group, info, std::move(proto), subs) && notify)
                notify_consumer_ids_changed(group);
            register_sql_filters(group, subs);
        }
    }
    if (auto* producers = hb.if_contains("producerDataSet"); producers && producers->is_array()) {
        for (const auto& pv : producers->as_array()) {
            if (!pv.is_object())
                continue;
            auto& list = producers_[json_string(pv.as_object(), "groupName")];
            auto p = std::find_if(list.begin(), list.end(), [&](const client_channel& c) { return c.id == ch.id; });
            if (p == list.end())
                list.push_back(info);
            else
                p->last_update = now;
        }
    }
    return remoting::command::response_to(req, rs::success);
}

broker_core::response broker_core::unregister_client(const channel_ref& ch, remoting::command& req)
{
    header_reader h(req.ext_fields);
    h.str("clientID");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    if (auto pg = h.opt_str("producerGroup")) {
        if (auto it = producers_.find(*pg); it != producers_.end()) {
            std::erase_if(it->second, [&](const client_channel& c) { return c.id == ch.id; });
            if (it->second.empty())
                producers_.erase(it);
        }
    }
    if (auto cg = h.opt_str("consumerGroup")) {
        bool notify = true;
        if (const subscription_group* g = find_group(*cg))
            notify = g->notify_consumer_ids_changed_enable;
        if (auto it = consumers_.find(*cg); it != consumers_.end()) {
            std::erase_if(it->second.channels, [&](const client_channel& c) { return c.id == ch.id; });
            if (it->second.channels.empty()) {
                consumers_.erase(it);
                std::erase_if(sql_filters_, [&](const auto& f) { return f.first.second == *cg; });
            } else if (notify) {
                notify_consumer_ids_changed(*cg);
            }
        }
    }
    return remoting::command::response_to(req, rs::success);
}

void broker_core::remove_channel(channel_id ch)
{
    // ProducerManager / ConsumerManager.doChannelCloseEvent.
    for (auto it = producers_.begin(); it != producers_.end();) {
        std::erase_if(it->second, [&](const client_channel& c) { return c.id == ch; });
        it = it->second.empty() ? producers_.erase(it) : std::next(it);
    }
    std::vector<std::string> changed;
    for (auto it = consumers_.begin(); it != consumers_.end();) {
        const auto before = it->second.channels.size();
        std::erase_if(it->second.channels, [&](const client_channel& c) { return c.id == ch; });
        if (it->second.channels.size() == before) {
            ++it;
            continue;
        }
        if (it->second.channels.empty()) {
            const std::string group = it->first;
            std::erase_if(sql_filters_, [&](const auto& f) { return f.first.second == group; });
            it = consumers_.erase(it);
            continue;
        }
        changed.push_back(it->first);
        ++it;
    }
    for (const auto& g : changed)
        notify_consumer_ids_changed(g);
}

void broker_core::expire_clients(std::int64_t now)
{
    // ClientHousekeepingService: channels silent for longer than channelExpiredTimeout are closed
    // and forgotten (without a notification: the close finds them already gone).
    const std::int64_t timeout = settings_.options.client_expiry.count();
    std::set<channel_id> expired;
    for (auto it = consumers_.begin(); it != consumers_.end();) {
        std::erase_if(it->second.channels, [&](const client_channel& c) {
            if (now - c.last_update <= timeout)
                return false;
            expired.insert(c.id);
            return true;
        });
        if (it->second.channels.empty()) {
            const std::string group = it->first;
            std::erase_if(sql_filters_, [&](const auto& f) { return f.first.second == group; });
            it = consumers_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = producers_.begin(); it != producers_.end();) {
        std::erase_if(it->second, [&](const client_channel& c) {
            if (now - c.last_update <= timeout)
                return false;
            expired.insert(c.id);
            return true;
        });
        it = it->second.empty() ? producers_.erase(it) : std::next(it);
    }
    for (auto id : expired)
        out_->close.push_back(id);
}

broker_core::response broker_core::consumer_list(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string group = h.str("consumerGroup");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    if (auto it = consumers_.find(group); it != consumers_.end() && !it->second.channels.empty()) {
        json::array ids;
        for (const auto& c : it->second.channels)
            ids.emplace_back(c.client_id);
        json::object body;
        body["consumerIdList"] = std::move(ids);
        auto resp = remoting::command::response_to(req, rs::success);
        resp.body = json_text(body);
        return resp;
    }
    return remoting::command::response_to(req, rs::system_error, "no consumer for this group, " + group);
}

broker_core::response broker_core::lock_batch(remoting::command& req, std::int64_t now)
{
    auto body = parse_body(req.body);
    if (!body || !body->is_object())
        return decode_failure(req, "LockBatchRequestBody");
    const auto& o = body->as_object();
    const std::string group = json_string(o, "consumerGroup");
    const std::string client = json_string(o, "clientId");
    const std::int64_t expiry = settings_.options.lock_expiry.count();
    json::array locked;
    if (auto* set = o.if_contains("mqSet"); set && set->is_array()) {
        for (const auto& v : set->as_array()) {
            auto mq = parse_mq(v);
            if (!mq)
                continue;
            // RebalanceLockManager.tryLockBatch: free, ours, or expired → ours (renewed).
            auto [it, fresh] = locks_.try_emplace({group, *mq}, queue_lock{client, now});
            queue_lock& l = it->second;
            if (fresh || l.client_id == client || now - l.last_update > expiry) {
                l.client_id = client;
                l.last_update = now;
                locked.push_back(mq_json(*mq));
            }
        }
    }
    json::object out;
    out["lockOKMQSet"] = std::move(locked);
    auto resp = remoting::command::response_to(req, rs::success);
    resp.body = json_text(out);
    return resp;
}

broker_core::response broker_core::unlock_batch(remoting::command& req)
{
    auto body = parse_body(req.body);
    if (!body || !body->is_object())
        return decode_failure(req, "UnlockBatchRequestBody");
    const auto& o = body->as_object();
    const std::string group = json_string(o, "consumerGroup");
    const std::string client = json_string(o, "clientId");
    if (auto* set = o.if_contains("mqSet"); set && set->is_array()) {
        for (const auto& v : set->as_array()) {
            auto mq = parse_mq(v);
            if (!mq)
                continue;
            auto it = locks_.find(std::make_pair(group, *mq));
            if (it != locks_.end() && it->second.client_id == client)
                locks_.erase(it);
        }
    }
    return remoting::command::response_to(req, rs::success);
}

broker_core::response broker_core::check_client_config(remoting::command& req)
{
    auto body = parse_body(req.body);
    if (body && body->is_object()) {
        auto* sv = body->as_object().if_contains("subscriptionData");
        if (sv && sv->is_object()) {
            subscription_data s = parse_subscription(sv->as_object());
            if (s.expression_type == expression_type_tag)
                return remoting::command::response_to(req, rs::success);
            if (!settings_.options.enable_property_filter)
                return remoting::command::response_to(
                    req, rs::system_error, "The broker does not support consumer to filter message by " + s.expression_type);
            sql_filter f;
            std::string error;
            if (s.expression_type != expression_type_sql92 || sql_filter::compile(s.sub_string, f, &error))
                return remoting::command::response_to(req, rs::subscription_parse_failed,
                                                      error.empty() ? std::optional<std::string>{} : error);
        }
    }
    return remoting::command::response_to(req, rs::success);
}

}  // namespace corocket::testing::detail
