// SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE and CONSUMER_SEND_MSG_BACK, following
// SendMessageProcessor and AbstractSendMessageProcessor of 4.9.8.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/codec.hpp"
#include "message/ids.hpp"
#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace pn = corocket::property_name;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

constexpr int dlq_nums_per_group = 1;
/// MQVersion.Version.V3_4_9: from this client version on the header's maxReconsumeTimes counts.
constexpr int version_v3_4_9 = 121;

/// SendMessageRequestHeader, decoded from the V1 (long names) or V2 (a..n) form.
struct send_header {
    std::string producer_group;
    std::string topic;
    std::string default_topic;
    int default_topic_queue_nums = 0;
    int queue_id = 0;
    int sys_flag = 0;
    std::int64_t born_timestamp = 0;
    int flag = 0;
    std::string properties;
    std::optional<std::int64_t> reconsume_times;
    bool unit_mode = false;
    bool batch = false;
    std::optional<std::int64_t> max_reconsume_times;
};

send_header read_send_header(const remoting::command& req, header_reader& h)
{
    const bool v2 = req.code == rc::send_message_v2 || req.code == rc::send_batch_message;
    auto key = [v2](const char* v2_name, const char* v1_name) { return v2 ? v2_name : v1_name; };
    send_header s;
    s.producer_group = h.str(key("a", "producerGroup"));
    s.topic = h.str(key("b", "topic"));
    s.default_topic = h.str(key("c", "defaultTopic"));
    s.default_topic_queue_nums = static_cast<int>(h.num(key("d", "defaultTopicQueueNums")));
    s.queue_id = static_cast<int>(h.num(key("e", "queueId")));
    s.sys_flag = static_cast<int>(h.num(key("f", "sysFlag")));
    s.born_timestamp = h.num(key("g", "bornTimestamp"));
    s.flag = static_cast<int>(h.num(key("h", "flag")));
    s.properties = h.opt_str(key("i", "properties")).value_or("");
    s.reconsume_times = h.opt_num(key("j", "reconsumeTimes"));
    s.unit_mode = h.opt_bool(key("k", "unitMode"));
    s.max_reconsume_times = h.opt_num(key("l", "maxReconsumeTimes"));
    s.batch = h.opt_bool(key("m", "batch"));
    return s;
}

int random_queue_id(int queue_nums)
{
    static std::minstd_rand rng{std::random_device{}()};
    return queue_nums <= 0 ? 0 : static_cast<int>(rng() % 99999999u) % queue_nums;
}

remoting::command send_response_base(const remoting::command& req, const std::string& region, bool trace_on)
{
    // Java's createResponseCommand starts every response as SYSTEM_ERROR "not set any response code".
    auto resp = remoting::command::response_to(req, rs::system_error, "not set any response code");
    resp.ext_fields.set("TRACE_ON", trace_on ? "true" : "false");
    resp.ext_fields.set("MSG_REGION", region);
    return resp;
}

void fail(remoting::command& resp, int code, std::string remark)
{
    resp.code = code;
    resp.remark = std::move(remark);
}

}  // namespace

bool broker_core::msg_check(const channel_ref& ch, const remoting::command& req, std::string_view topic,
                            std::string_view default_topic, int default_queue_nums, int queue_id,
                            remoting::command& resp)
{
    (void)req;
    if (auto bad = validate_topic(topic)) {
        fail(resp, rs::system_error, *bad);
        return false;
    }
    if (cd::is_not_sendable_topic(topic)) {
        fail(resp, rs::no_permission, fmt::format("Sending message to topic[{}] is forbidden.", topic));
        return false;
    }
    const topic_config* cfg = find_topic(topic);
    if (!cfg) {
        cfg = create_topic_in_send(topic, default_topic, default_queue_nums, 0);
        if (!cfg && topic.starts_with(cd::retry_topic_prefix))
            cfg = create_topic_in_send_back(topic, 1, queue_data::perm_read | queue_data::perm_write, 0);
        if (!cfg) {
            fail(resp, rs::topic_not_exist,
                 fmt::format("topic[{}] not exist, apply first please!{}", topic, faq_suffix(faq_apply_topic)));
            return false;
        }
    }
    if (queue_id >= std::max(cfg->write_queue_nums, cfg->read_queue_nums)) {
        fail(resp, rs::system_error,
             fmt::format("request queueId[{}] is illegal, {} Producer: {}", queue_id, cfg->describe(),
                         ch.remote.to_string()));
        return false;
    }
    return true;
}

bool broker_core::handle_retry_and_dlq(const remoting::command& req, std::string_view group_topic, int reconsume_times,
                                       std::optional<std::int64_t> max_reconsume, inner_message& msg,
                                       const topic_config*& topic, remoting::command& resp)
{
    if (!group_topic.starts_with(cd::retry_topic_prefix))
        return true;
    const auto group = group_topic.substr(cd::retry_topic_prefix.size());
    const subscription_group* g = find_group(group);
    if (!g) {
        fail(resp, rs::subscription_group_not_exist,
             fmt::format("subscription group not exist, {} {}", group, faq_suffix(faq_subscription_group_not_exist)));
        return false;
    }
    std::int64_t max_times = g->retry_max_times;
    if (req.version >= version_v3_4_9 && max_reconsume)
        max_times = *max_reconsume;
    // 4.9.x sends to the DLQ once reconsumeTimes >= max (5.x uses >).
    if (reconsume_times >= max_times) {
        msg.topic = cd::dlq_topic(group);
        msg.queue_id = random_queue_id(dlq_nums_per_group);
        topic = create_topic_in_send_back(msg.topic, dlq_nums_per_group, queue_data::perm_read | queue_data::perm_write, 0);
        if (!topic) {
            fail(resp, rs::system_error, fmt::format("topic[{}] not exist", msg.topic));
            return false;
        }
    }
    return true;
}

put_result broker_core::store_message(inner_message msg, std::int64_t now)
{
    if (is_slave())  // DefaultMessageStore.checkStoreStatus
        return put_result::failure(put_status::service_not_available);
    put_result r = store_.put(std::move(msg), now);
    if (r.status == put_status::ok)
        notify_arrival(r.topic, r.queue_id, now);
    return r;
}

void broker_core::put_result_to_response(const put_result& r, int queue_id, remoting::command& resp)
{
    switch (r.status) {
    case put_status::ok:
        resp.code = pending_store_status_ ? pending_store_status_ : rs::success;
        resp.remark.reset();
        // SendMessageResponseHeader fields, then the HashMap order Java writes them in.
        {
            remoting::ext_fields f;
            f.set("queueId", std::to_string(queue_id));
            f.set("TRACE_ON", std::string(resp.ext_fields.get("TRACE_ON")));
            f.set("MSG_REGION", std::string(resp.ext_fields.get("MSG_REGION")));
            f.set("msgId", r.msg_id);
            f.set("queueOffset", std::to_string(r.queue_offset));
            resp.ext_fields = std::move(f);
        }
        break;
    case put_status::message_illegal:
    case put_status::properties_size_exceeded:
        fail(resp, rs::message_illegal,
             "the message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, "
             "msg properties length limit 32k.");
        break;
    case put_status::timer_illegal:
        fail(resp, rs::message_illegal,
             fmt::format("timer message illegal, the delay time should not be bigger than the max delay {}ms; or if "
                         "set del msg, the delay time should be bigger than the current time",
                         settings_.options.timer_max_delay_sec * 1000));
        break;
    case put_status::service_not_available:
        // The embedded store has no disk partition to measure: diskUtil() reports -1 for those.
        fail(resp, rs::service_not_available,
             "service not available now. It may be caused by one of the following reasons: the broker's disk is "
             "full [CL: -1.00 CQ: -1.00 INDEX: -1.00], messages are put to the slave, message store has been shut "
             "down, etc.");
        break;
    }
}

broker_core::response broker_core::send_message(const channel_ref& ch, remoting::command& req, std::int64_t now)
{
    header_reader h(req.ext_fields);
    send_header s = read_send_header(req, h);
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    if (s.batch)
        return send_batch(ch, req, now);

    auto resp = send_response_base(req, settings_.options.region_id, settings_.options.trace_on);
    if (!msg_check(ch, req, s.topic, s.default_topic, s.default_topic_queue_nums, s.queue_id, resp))
        return resp;
    const topic_config* topic = find_topic(s.topic);
    int queue_id = s.queue_id < 0 ? random_queue_id(topic->write_queue_nums) : s.queue_id;

    inner_message msg;
    msg.topic = s.topic;
    msg.queue_id = queue_id;
    const int reconsume = static_cast<int>(s.reconsume_times.value_or(0));
    if (!handle_retry_and_dlq(req, s.topic, reconsume, s.max_reconsume_times, msg, topic, resp))
        return resp;
    msg.sys_flag = s.sys_flag;
    if (topic->filter_type == "MULTI_TAG")
        msg.sys_flag |= sys_flag::multi_tags;
    msg.body = std::move(req.body);
    msg.flag = s.flag;
    msg.properties = java_properties::parse(s.properties);
    msg.born_timestamp = s.born_timestamp;
    msg.born_host = ch.remote;
    msg.store_host = settings_.address;
    msg.reconsume_times = reconsume;
    msg.properties.put(pn::cluster, settings_.cluster_name);
    // "There is no need to store WAIT=true": removed from the stored string, kept in the map.
    if (auto wait = msg.properties.remove(pn::wait)) {
        msg.sync_properties_string();
        msg.properties.put(pn::wait, std::move(*wait));
    } else {
        msg.sync_properties_string();
    }

    put_result r;
    if (msg.properties.get(pn::tran_msg) == "true" || msg.properties.get(pn::tran_msg) == "TRUE")
        r = put_half_message(std::move(msg), now);
    else
        r = store_message(std::move(msg), now);
    put_result_to_response(r, queue_id, resp);
    return resp;
}

broker_core::response broker_core::send_batch(const channel_ref& ch, remoting::command& req, std::int64_t now)
{
    header_reader h(req.ext_fields);
    send_header s = read_send_header(req, h);
    auto resp = send_response_base(req, settings_.options.region_id, settings_.options.trace_on);
    if (!msg_check(ch, req, s.topic, s.default_topic, s.default_topic_queue_nums, s.queue_id, resp))
        return resp;
    const topic_config* topic = find_topic(s.topic);
    const int queue_id = s.queue_id < 0 ? random_queue_id(topic->write_queue_nums) : s.queue_id;
    if (s.topic.starts_with(cd::retry_topic_prefix)) {
        fail(resp, rs::message_illegal, "batch request does not support retry group " + s.topic);
        return resp;
    }
    // The batch's own properties (the wrapper's, plus CLUSTER) are appended to every message.
    auto batch_props = java_properties::parse(s.properties);
    batch_props.put(pn::cluster, settings_.cluster_name);
    const std::string batch_prop_string = batch_props.to_string();

    std::vector<cd::batch_entry> entries;
    const bool illegal = req.body.size() > settings_.options.max_message_size || cd::decode_batch(req.body, entries) ||
                         batch_props.contains(pn::delay) ||
                         (s.sys_flag & sys_flag::transaction_mask) != sys_flag::transaction_not_type;
    if (illegal) {
        put_result_to_response(put_result::failure(put_status::message_illegal), queue_id, resp);
        return resp;
    }
    if (is_slave()) {  // DefaultMessageStore.asyncPutMessages: checkStoreStatus
        put_result_to_response(put_result::failure(put_status::service_not_available), queue_id, resp);
        return resp;
    }
    int sys = s.sys_flag;
    if (topic->filter_type == "MULTI_TAG")
        sys |= sys_flag::multi_tags;

    std::vector<put_result> written;
    for (const auto& e : entries) {
        inner_message msg;
        msg.topic = s.topic;
        msg.queue_id = queue_id;
        msg.body = std::string(e.body);
        msg.flag = e.flag;
        msg.sys_flag = sys;
        msg.born_timestamp = s.born_timestamp;
        msg.born_host = ch.remote;
        msg.store_host = settings_.address;
        msg.reconsume_times = static_cast<int>(s.reconsume_times.value_or(0));
        msg.properties_string = std::string(e.properties);
        if (!e.properties.empty() && !batch_prop_string.empty() && e.properties.back() != '\x02')
            msg.properties_string += '\x02';
        msg.properties_string += batch_prop_string;
        written.push_back(store_.append(std::move(msg), now));
        if (written.back().status != put_status::ok) {
            put_result_to_response(written.back(), queue_id, resp);
            return resp;
        }
    }
    if (written.empty()) {
        put_result_to_response(put_result::failure(put_status::message_illegal), queue_id, resp);
        return resp;
    }
    put_result summary = written.front();
    for (std::size_t i = 1; i < written.size(); ++i)
        summary.msg_id += "," + written[i].msg_id;
    notify_arrival(summary.topic, summary.queue_id, now);
    put_result_to_response(summary, queue_id, resp);
    return resp;
}

broker_core::response broker_core::consumer_send_back(remoting::command& req, std::int64_t now)
{
    header_reader h(req.ext_fields);
    const std::int64_t offset = h.num("offset");
    const std::string group = h.str("group");
    const int header_delay = static_cast<int>(h.num("delayLevel"));
    const auto header_max = h.opt_num("maxReconsumeTimes");
    const bool unit_mode = h.opt_bool("unitMode");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    auto resp = remoting::command::response_to(req, rs::system_error, "not set any response code");

    const subscription_group* g = find_group(group);
    if (!g) {
        fail(resp, rs::subscription_group_not_exist,
             fmt::format("subscription group not exist, {} {}", group, faq_suffix(faq_subscription_group_not_exist)));
        return resp;
    }
    if (g->retry_queue_nums <= 0) {
        resp.code = rs::success;
        resp.remark.reset();
        return resp;
    }
    std::string new_topic = cd::retry_topic(group);
    int queue_id = random_queue_id(g->retry_queue_nums);
    const int topic_sys_flag = unit_mode ? 2 : 0;  // TopicSysFlag.buildSysFlag(false, true)
    const topic_config* topic =
        create_topic_in_send_back(new_topic, g->retry_queue_nums, queue_data::perm_read | queue_data::perm_write, topic_sys_flag);
    if (!topic) {
        fail(resp, rs::system_error, fmt::format("topic[{}] not exist", new_topic));
        return resp;
    }
    if (!(topic->perm & queue_data::perm_write)) {
        fail(resp, rs::no_permission, fmt::format("the topic[{}] sending message is forbidden", new_topic));
        return resp;
    }
    cd::stored_record orig;
    if (!store_.decode_at(offset, orig)) {
        fail(resp, rs::system_error, fmt::format("look message by offset failed, {}", offset));
        return resp;
    }
    auto props = java_properties::parse(orig.properties);
    if (!props.contains(pn::retry_topic))
        props.put(pn::retry_topic, orig.topic);
    props.put(pn::wait, "false");

    std::int64_t max_times = g->retry_max_times;
    if (req.version >= version_v3_4_9 && header_max)
        max_times = *header_max;
    int delay = header_delay;
    if (orig.reconsume_times >= max_times || delay < 0) {
        new_topic = cd::dlq_topic(group);
        queue_id = random_queue_id(dlq_nums_per_group);
        if (!create_topic_in_send_back(new_topic, dlq_nums_per_group, queue_data::perm_read | queue_data::perm_write, 0)) {
            fail(resp, rs::system_error, fmt::format("topic[{}] not exist", new_topic));
            return resp;
        }
    } else {
        if (delay == 0)
            delay = 3 + orig.reconsume_times;
        props.put(pn::delay, std::to_string(delay));
    }

    inner_message msg;
    msg.topic = new_topic;
    msg.body = std::move(orig.body);
    msg.flag = orig.flag;
    msg.queue_id = queue_id;
    msg.sys_flag = orig.sys_flag;
    msg.born_timestamp = orig.born_timestamp;
    msg.born_host = orig.born_host;
    msg.store_host = orig.store_host;
    msg.reconsume_times = orig.reconsume_times + 1;
    // ORIGIN_MESSAGE_ID is set once: the first generation's offset message id.
    if (props.get(pn::origin_message_id).empty())
        props.put(pn::origin_message_id, cd::make_offset_msg_id(orig.store_host, orig.commit_log_offset));
    msg.properties = std::move(props);
    msg.sync_properties_string();

    put_result r = store_message(std::move(msg), now);
    if (r.status == put_status::ok) {
        resp.code = rs::success;
        resp.remark.reset();
    } else {
        // asyncConsumerSendMsgBack: the PutMessageStatus name.
        fail(resp, rs::system_error,
             r.status == put_status::service_not_available ? "SERVICE_NOT_AVAILABLE" : "MESSAGE_ILLEGAL");
    }
    return resp;
}

}  // namespace corocket::testing::detail
