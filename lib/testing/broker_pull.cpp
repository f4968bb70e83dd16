// PULL_MESSAGE with long polling (PullMessageProcessor + PullRequestHoldService of 4.9.8), and
// the consumer offset / queue offset queries.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/namespace.hpp"
#include "message/properties.hpp"

#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace rs = remoting::response_code;

namespace {

constexpr int pull_flag_commit_offset = 0x1;
constexpr int pull_flag_suspend = 0x2;
constexpr int pull_flag_subscription = 0x4;

bool is_tag_type(std::string_view type) noexcept
{
    return type.empty() || type == expression_type_tag;
}

void set_pull_header(remoting::command& resp, const get_result& r, std::int64_t suggest_broker)
{
    resp.ext_fields.set("suggestWhichBrokerId", std::to_string(suggest_broker));
    resp.ext_fields.set("nextBeginOffset", std::to_string(r.next_begin_offset));
    resp.ext_fields.set("maxOffset", std::to_string(r.max_offset));
    resp.ext_fields.set("minOffset", std::to_string(r.min_offset));
}

int pull_code(get_status s, std::int64_t requested_offset) noexcept
{
    switch (s) {
    case get_status::found: return rs::success;
    case get_status::message_was_removing:
    case get_status::no_matched_message: return rs::pull_retry_immediately;
    case get_status::no_matched_logic_queue:
    case get_status::no_message_in_queue: return requested_offset != 0 ? rs::pull_offset_moved : rs::pull_not_found;
    case get_status::offset_found_null:
    case get_status::offset_overflow_one: return rs::pull_not_found;
    case get_status::offset_overflow_badly:
    case get_status::offset_too_small: return rs::pull_offset_moved;
    }
    return rs::system_error;
}

/// The statuses whose next offset DefaultMessageStore.nextOffsetCorrection sets: a slave (without
/// offsetCheckInSlave) leaves the consumer's offset as it was.
bool corrects_offset(get_status s) noexcept
{
    return s != get_status::found && s != get_status::no_matched_message && s != get_status::message_was_removing;
}

}  // namespace

std::int64_t broker_core::suggested_broker(const subscription_group& g, const get_result& r) const noexcept
{
    // PullMessageProcessor with slaveReadEnable: a consumer that has fallen behind the memory
    // window goes to whichBrokerWhenConsumeSlowly, one that keeps up to the group's brokerId.
    // Without it, always the master (a slave still answers, but sends the consumer back).
    if (!settings_.options.slave_read_enable)
        return broker_data::master_id;
    return r.suggest_pulling_from_slave ? g.which_broker_when_consume_slowly : g.broker_id;
}

std::optional<broker_core::pull_subscription> broker_core::resolve_subscription(const remoting::command& req,
                                                                                std::string_view group,
                                                                                std::string_view topic,
                                                                                remoting::command& resp)
{
    const auto& f = req.ext_fields;
    const int sys_flag = static_cast<int>(f.get_int("sysFlag").value_or(0));
    const std::int64_t sub_version = f.get_int("subVersion").value_or(0);
    std::string type(f.get("expressionType"));
    if (type.empty())
        type = expression_type_tag;
    pull_subscription sub;
    if (sys_flag & pull_flag_subscription) {
        // FilterAPI.build + ConsumerFilterManager.build from the inline expression.
        if (is_tag_type(type)) {
            sub.data = parse_tag_expression(std::string(topic), f.get("subscription"));
        } else {
            sub.data.topic = std::string(topic);
            sub.data.sub_string = std::string(f.get("subscription"));
            sub.data.expression_type = type;
            sub.inline_sql = std::make_shared<sql_filter>();
            if (sql_filter::compile(sub.data.sub_string, *sub.inline_sql, nullptr)) {
                resp.code = rs::subscription_parse_failed;
                resp.remark = "parse the consumer's subscription failed";
                return std::nullopt;
            }
            sub.sql = sub.inline_sql.get();
        }
        sub.data.sub_version = sub_version;
    } else {
        auto cg = consumers_.find(group);
        if (cg == consumers_.end()) {
            resp.code = rs::subscription_not_exist;
            resp.remark = "the consumer's group info not exist" + faq_suffix(faq_same_group_different_topic);
            return std::nullopt;
        }
        const subscription_group* g = find_group(group);
        if (g && !g->consume_broadcast_enable && cg->second.message_model == "BROADCASTING") {
            resp.code = rs::no_permission;
            resp.remark = fmt::format("the consumer group[{}] can not consume by broadcast way", group);
            return std::nullopt;
        }
        auto s = cg->second.subscriptions.find(topic);
        if (s == cg->second.subscriptions.end()) {
            resp.code = rs::subscription_not_exist;
            resp.remark = "the consumer's subscription not exist" + faq_suffix(faq_same_group_different_topic);
            return std::nullopt;
        }
        if (s->second.sub_version < sub_version) {
            resp.code = rs::subscription_not_latest;
            resp.remark = "the consumer's subscription not latest";
            return std::nullopt;
        }
        sub.data = s->second;
        if (!is_tag_type(sub.data.expression_type)) {
            auto fd = sql_filters_.find(std::pair<std::string, std::string>(topic, group));
            if (fd == sql_filters_.end()) {
                resp.code = rs::filter_data_not_exist;
                resp.remark = "The broker's consumer filter data is not exist!Your expression may be wrong!";
                return std::nullopt;
            }
            if (fd->second.client_version < sub_version) {
                resp.code = rs::filter_data_not_latest;
                resp.remark = "the consumer's consumer filter data not latest";
                return std::nullopt;
            }
            sub.sql = &fd->second.filter;
        }
    }
    if (!is_tag_type(sub.data.expression_type) && !settings_.options.enable_property_filter) {
        resp.code = rs::system_error;
        resp.remark = "The broker does not support consumer to filter message by " + sub.data.expression_type;
        return std::nullopt;
    }
    return sub;
}

message_filter broker_core::make_filter(const pull_subscription& sub) const
{
    message_filter f;
    if (is_tag_type(sub.data.expression_type)) {
        // ExpressionMessageFilter.isMatchedByConsumeQueue for TAG subscriptions.
        if (!sub.data.matches_all()) {
            auto codes = sub.data.codes;
            f.by_tags_code = [codes](std::int64_t code) {
                return std::find(codes.begin(), codes.end(), static_cast<std::int32_t>(code)) != codes.end();
            };
        }
        return f;
    }
    // SQL92: evaluated on the stored properties. The filter object is shared with the held
    // request so that it stays valid while the pull waits.
    std::shared_ptr<const sql_filter> sql =
        sub.inline_sql ? std::shared_ptr<const sql_filter>(sub.inline_sql) : std::make_shared<sql_filter>(*sub.sql);
    f.by_properties = [sql](std::string_view props_text) {
        std::vector<std::pair<std::string_view, std::string_view>> props;
        cd::decode_properties(props_text, props);
        return sql->evaluate([&](std::string_view name) -> std::optional<std::string_view> {
            for (auto it = props.rbegin(); it != props.rend(); ++it)
                if (it->first == name)
                    return it->second;
            return std::nullopt;
        });
    };
    return f;
}

broker_core::response broker_core::pull_message(const channel_ref& ch, remoting::command& req, std::int64_t now,
                                                bool allow_suspend)
{
    header_reader h(req.ext_fields);
    const std::string group = h.str("consumerGroup");
    const std::string topic = h.str("topic");
    const int queue_id = static_cast<int>(h.num("queueId"));
    const std::int64_t queue_offset = h.num("queueOffset");
    const int max_msg_nums = static_cast<int>(h.num("maxMsgNums"));
    const int sys_flag = static_cast<int>(h.num("sysFlag"));
    const std::int64_t commit_at = h.num("commitOffset");
    const std::int64_t suspend_timeout = h.num("suspendTimeoutMillis");
    h.num("subVersion");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    auto resp = remoting::command::response_to(req, rs::system_error, "not set any response code");

    const subscription_group* g = find_group(group);
    if (!g) {
        resp.code = rs::subscription_group_not_exist;
        resp.remark = fmt::format("subscription group [{}] does not exist, {}", group,
                                  faq_suffix(faq_subscription_group_not_exist));
        return resp;
    }
    if (!g->consume_enable) {
        resp.code = rs::no_permission;
        resp.remark = "subscription group no permission, " + group;
        return resp;
    }
    const topic_config* t = find_topic(topic);
    if (!t) {
        resp.code = rs::topic_not_exist;
        resp.remark = fmt::format("topic[{}] not exist, apply first please! {}", topic, faq_suffix(faq_apply_topic));
        return resp;
    }
    if (!(t->perm & queue_data::perm_read)) {
        resp.code = rs::no_permission;
        resp.remark = fmt::format("the topic[{}] pulling message is forbidden", topic);
        return resp;
    }
    if (queue_id < 0 || queue_id >= t->read_queue_nums) {
        resp.code = rs::system_error;
        resp.remark = fmt::format("queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[/{}]",
                                  queue_id, topic, t->read_queue_nums, ch.remote.to_string());
        return resp;
    }
    auto sub = resolve_subscription(req, group, topic, resp);
    if (!sub)
        return resp;
    message_filter filter = make_filter(*sub);

    get_result r = store_.get(topic, queue_id, queue_offset, max_msg_nums, filter);
    if (is_slave() && corrects_offset(r.status))
        r.next_begin_offset = queue_offset;
    set_pull_header(resp, r, suggested_broker(*g, r));
    resp.code = pull_code(r.status, queue_offset);
    resp.remark = to_string(r.status);
    if (resp.code == rs::success)
        resp.body = std::move(r.body);
    if (resp.code == rs::pull_offset_moved && is_slave()) {
        // Only a master reports a moved offset; a slave asks for a retry at the group's broker.
        resp.code = rs::pull_retry_immediately;
        resp.ext_fields.set("suggestWhichBrokerId", std::to_string(g->broker_id));
    }

    response result = std::move(resp);
    if (result->code == rs::pull_not_found && allow_suspend && (sys_flag & pull_flag_suspend)) {
        auto& o = settings_.options;
        std::int64_t hold = o.long_polling_enable ? suspend_timeout : o.short_polling_time.count();
        if (o.long_poll_cap.count() > 0)
            hold = std::min<std::int64_t>(hold, o.long_poll_cap.count());
        held_.push_back({ch, std::move(req), topic, queue_id, queue_offset, now + std::max<std::int64_t>(0, hold),
                         std::move(filter)});
        result.reset();
    }
    if (allow_suspend && (sys_flag & pull_flag_commit_offset) && !is_slave())
        commit_offset(group, topic, queue_id, commit_at);
    return result;
}

void broker_core::notify_arrival(std::string_view topic, int queue_id, std::int64_t now)
{
    const auto* q = store_.queue(topic, queue_id);
    if (!q || held_.empty())
        return;
    std::vector<held_pull> wake;
    std::erase_if(held_, [&](held_pull& h) {
        if (h.topic != topic || h.queue_id != queue_id || static_cast<std::int64_t>(q->size()) <= h.offset)
            return false;
        // PullRequestHoldService.notifyMessageArriving: only a message the filter accepts wakes it.
        for (auto i = static_cast<std::size_t>(std::max<std::int64_t>(0, h.offset)); i < q->size(); ++i) {
            const cq_entry& e = (*q)[i];
            if (h.filter.by_tags_code && !h.filter.by_tags_code(e.tags_code))
                continue;
            if (h.filter.by_properties) {
                corocket::detail::stored_record_view rec;
                const std::string* bytes = store_.record_at(e.phys_offset);
                if (!bytes || corocket::detail::decode_stored(*bytes, rec) || !h.filter.by_properties(rec.properties))
                    continue;
            }
            wake.push_back(std::move(h));
            return true;
        }
        return false;
    });
    for (auto& h : wake) {
        if (auto resp = pull_message(h.channel, h.request, now, false))
            out_->out.push_back({h.channel.id, std::move(*resp), remoting::request_code::pull_message});
    }
}

void broker_core::expire_held_pulls(std::int64_t now)
{
    std::vector<held_pull> due;
    std::erase_if(held_, [&](held_pull& h) {
        if (h.deadline > now)
            return false;
        due.push_back(std::move(h));
        return true;
    });
    for (auto& h : due) {
        if (auto resp = pull_message(h.channel, h.request, now, false))
            out_->out.push_back({h.channel.id, std::move(*resp), remoting::request_code::pull_message});
    }
}

broker_core::response broker_core::query_consumer_offset(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string group = h.str("consumerGroup");
    const std::string topic = h.str("topic");
    const int queue_id = static_cast<int>(h.num("queueId"));
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    auto resp = remoting::command::response_to(req, rs::success);
    std::int64_t offset = query_offset(group, topic, queue_id);
    if (offset < 0) {
        // A group that never committed starts at 0 on a young queue whose first message is
        // still in memory; otherwise the client has to decide.
        if (store_.min_offset(topic, queue_id) <= 0 && !store_.in_disk_by_consume_offset(topic, queue_id, 0)) {
            offset = 0;
        } else {
            resp.code = rs::query_not_found;
            resp.remark = "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first";
            return resp;
        }
    }
    resp.ext_fields.set("offset", std::to_string(offset));
    return resp;
}

broker_core::response broker_core::update_consumer_offset(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string group = h.str("consumerGroup");
    const std::string topic = h.str("topic");
    const int queue_id = static_cast<int>(h.num("queueId"));
    const std::int64_t offset = h.num("commitOffset");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    commit_offset(group, topic, queue_id, offset);
    return remoting::command::response_to(req, rs::success);
}

broker_core::response broker_core::queue_offset_query(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string topic = h.str("topic");
    const int queue_id = static_cast<int>(h.num("queueId"));
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    auto resp = remoting::command::response_to(req, rs::success);
    switch (req.code) {
    case remoting::request_code::get_max_offset:
        resp.ext_fields.set("offset", std::to_string(store_.max_offset(topic, queue_id)));
        break;
    case remoting::request_code::get_min_offset:
        resp.ext_fields.set("offset", std::to_string(store_.min_offset(topic, queue_id)));
        break;
    default:
        resp.ext_fields.set("timestamp", std::to_string(store_.earliest_store_time(topic, queue_id)));
        break;
    }
    return resp;
}

broker_core::response broker_core::search_offset(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string topic = h.str("topic");
    const int queue_id = static_cast<int>(h.num("queueId"));
    const std::int64_t timestamp = h.num("timestamp");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    auto resp = remoting::command::response_to(req, rs::success);
    resp.ext_fields.set("offset", std::to_string(store_.offset_by_time(topic, queue_id, timestamp)));
    return resp;
}

}  // namespace corocket::testing::detail
