#include "consumer/requests.hpp"

#include "message/properties.hpp"
#include "routing/json_fields.hpp"
#include "util/json.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace corocket {

std::string_view to_string(pull_status s) noexcept
{
    switch (s) {
    case pull_status::found: return "FOUND";
    case pull_status::no_new_msg: return "NO_NEW_MSG";
    case pull_status::no_matched_msg: return "NO_MATCHED_MSG";
    case pull_status::offset_illegal: return "OFFSET_ILLEGAL";
    }
    return "NO_NEW_MSG";
}

namespace detail {
namespace {

namespace rc = remoting::response_code;

void set_queue_fields(remoting::command& req, const message_queue& q)
{
    req.ext_fields.set("topic", q.topic);
    req.ext_fields.set("queueId", std::to_string(q.queue_id));
    if (!q.broker_name.empty())
        req.ext_fields.set("bname", q.broker_name);
}

}  // namespace

remoting::command make_pull_request(const pull_request_fields& f)
{
    using remoting::request_code::lite_pull_message;
    using remoting::request_code::pull_message;
    auto req = remoting::command::request(f.lite_code ? lite_pull_message : pull_message);
    auto& x = req.ext_fields;
    x.reserve(14);
    x.set("consumerGroup", f.group);
    x.set("topic", f.queue.topic);
    x.set("queueId", std::to_string(f.queue.queue_id));
    x.set("queueOffset", std::to_string(f.queue_offset));
    x.set("maxMsgNums", std::to_string(f.max_messages));
    x.set("sysFlag", std::to_string(f.sys_flag));
    x.set("commitOffset", std::to_string(f.commit_offset));
    x.set("suspendTimeoutMillis", std::to_string(f.suspend_timeout_ms));
    // Never an empty value (binary headers read it back as null): "*" means everything.
    x.set("subscription", f.subscription.empty() ? std::string(sub_all) : f.subscription);
    x.set("subVersion", std::to_string(f.sub_version));
    x.set("expressionType", f.expression_type.empty() ? std::string(expression_type_tag) : f.expression_type);
    if (f.max_bytes > 0)
        x.set("maxMsgBytes", std::to_string(f.max_bytes));
    if (!f.queue.broker_name.empty())
        x.set("bname", f.queue.broker_name);
    return req;
}

error_code parse_pull_response(remoting::command& resp, pull_result& out)
{
    switch (resp.code) {
    case rc::success: out.status = pull_status::found; break;
    case rc::pull_not_found: out.status = pull_status::no_new_msg; break;
    case rc::pull_retry_immediately: out.status = pull_status::no_matched_msg; break;
    case rc::pull_offset_moved: out.status = pull_status::offset_illegal; break;
    default: return make_broker_error(resp.code);
    }
    const auto& x = resp.ext_fields;
    auto next = x.get_int("nextBeginOffset");
    auto min = x.get_int("minOffset");
    auto max = x.get_int("maxOffset");
    if (!next || !min || !max)
        return make_error_code(client_errc::unexpected_response);
    out.next_begin_offset = *next;
    out.min_offset = *min;
    out.max_offset = *max;
    out.suggest_which_broker_id = x.get_int("suggestWhichBrokerId").value_or(0);
    if (out.status != pull_status::found || resp.body.empty()) {
        out.keep_first(0);
        return {};
    }
    // Lenient: a record that cannot be decoded must not cost the others, nor stall the queue
    // (present_pulled leaves it out; nextBeginOffset moves past it).
    out.batch() = message_batch::decode_lenient(std::move(resp.body));
    out.keep_first(out.batch().size());
    return {};
}

void warn_undecodable(const logger& log, const message_queue& q, std::int64_t pulled_offset, const message_batch& batch)
{
    std::int64_t after = pulled_offset;
    for (const auto& m : batch.messages()) {
        after = m.queue_offset() + 1;
        if (m.undecodable())
            log.warn("corocket: skipped an undecodable message: topic {}, broker {}, queue {}, offset {}, msgId {}: {}",
                     q.topic, q.broker_name, q.queue_id, m.queue_offset(),
                     m.msg_id().empty() ? std::string_view("unknown") : m.msg_id(), m.decode_failure());
    }
    if (batch.unparsed_bytes() > 0)
        log.warn("corocket: skipped the last {} bytes of a pull answer, which are no stored records (bad TOTALSIZE): "
                 "topic {}, broker {}, queue {}, from offset {}; the messages in them cannot be located",
                 batch.unparsed_bytes(), q.topic, q.broker_name, q.queue_id, after);
}

std::string_view strip_namespace_view(std::string_view ns, std::string_view topic) noexcept
{
    if (ns.empty() || topic.size() <= ns.size() + 1 || !topic.starts_with(ns) || topic[ns.size()] != '%')
        return topic;
    return topic.substr(ns.size() + 1);
}

void present_pulled(pull_result& r, const message_queue& user_queue, const subscription_data& filter,
                    std::string_view ns, std::string_view retry_topic, std::int64_t offset_delta)
{
    auto all = r.batch().messages_mut();
    std::size_t kept = 0;
    r.undecodable = r.batch().unparsed_bytes() > 0 ? 1 : 0;
    for (auto& m : all) {
        if (m.undecodable()) {
            ++r.undecodable;
            continue;
        }
        if (!tag_matches(filter, m.tags().empty() ? std::nullopt : std::optional(m.tags())))
            continue;
        std::string_view topic = m.topic();
        if (topic == retry_topic)
            if (auto original = m.property(property_name::retry_topic))
                topic = *original;
        m.set_topic(strip_namespace_view(ns, topic));
        m.set_queue_id(user_queue.queue_id);
        m.set_queue_offset(m.queue_offset() + offset_delta);
        m.broker_name = user_queue.broker_name;
        if (&all[kept] != &m)
            all[kept] = std::move(m);
        ++kept;
    }
    r.keep_first(kept);
    r.queue = user_queue;
}

remoting::command make_query_offset_request(std::string_view group, const message_queue& q)
{
    auto req = remoting::command::request(remoting::request_code::query_consumer_offset);
    req.ext_fields.set("consumerGroup", std::string(group));
    set_queue_fields(req, q);
    return req;
}

remoting::command make_update_offset_request(std::string_view group, const message_queue& q, std::int64_t offset)
{
    auto req = remoting::command::request(remoting::request_code::update_consumer_offset);
    req.ext_fields.set("consumerGroup", std::string(group));
    set_queue_fields(req, q);
    req.ext_fields.set("commitOffset", std::to_string(offset));
    return req;
}

remoting::command make_queue_offset_request(int code, const message_queue& q, std::int64_t timestamp_ms)
{
    auto req = remoting::command::request(code);
    set_queue_fields(req, q);
    if (code == remoting::request_code::search_offset_by_timestamp)
        req.ext_fields.set("timestamp", std::to_string(timestamp_ms));
    return req;
}

error_code parse_offset_response(const remoting::command& resp, bool not_found_is_minus_one, std::int64_t& out)
{
    if (resp.code == rc::query_not_found && not_found_is_minus_one) {
        out = -1;
        return {};
    }
    if (resp.code != rc::success)
        return make_broker_error(resp.code);
    auto v = resp.ext_fields.get_int("offset");
    if (!v)
        return make_error_code(client_errc::unexpected_response);
    out = *v;
    return {};
}

remoting::command make_consumer_list_request(std::string_view group)
{
    auto req = remoting::command::request(remoting::request_code::get_consumer_list_by_group);
    req.ext_fields.set("consumerGroup", std::string(group));
    return req;
}

error_code parse_consumer_list(std::string_view body, std::vector<std::string>& out)
{
    out.clear();
    boost::json::value v;
    if (parse_lenient_json(body, v) || !v.is_object())
        return make_error_code(client_errc::bad_body);
    const auto* list = v.get_object().if_contains("consumerIdList");
    if (!list || list->is_null())
        return {};
    if (!list->is_array())
        return make_error_code(client_errc::bad_body);
    for (const auto& id : list->get_array()) {
        if (!id.is_string())
            return make_error_code(client_errc::bad_body);
        out.emplace_back(id.get_string());
    }
    return {};
}

remoting::command make_send_back_request(const send_back_fields& f)
{
    auto req = remoting::command::request(remoting::request_code::consumer_send_msg_back);
    auto& x = req.ext_fields;
    x.set("offset", std::to_string(f.commit_log_offset));
    x.set("group", f.group);
    x.set("delayLevel", std::to_string(f.delay_level));
    if (!f.origin_msg_id.empty())
        x.set("originMsgId", f.origin_msg_id);
    if (!f.origin_topic.empty())
        x.set("originTopic", f.origin_topic);
    x.set("unitMode", "false");
    x.set("maxReconsumeTimes", std::to_string(f.max_reconsume_times));
    if (!f.broker_name.empty())
        x.set("bname", f.broker_name);
    return req;
}

remoting::command make_retry_resend_request(const message_view& m, const retry_resend_fields& f)
{
    properties props;
    for (const auto& [name, value] : m.properties())
        props.insert_or_assign(std::string(name), std::string(value));
    // The count travels in the header (j/l); stale copies in the properties would contradict it.
    props.erase(std::string(property_name::reconsume_time));
    props.erase(std::string(property_name::max_reconsume_times));
    props.erase(std::string(property_name::tran_msg));
    props.emplace(std::string(property_name::origin_message_id), std::string(m.msg_id()));
    props.insert_or_assign(std::string(property_name::retry_topic), std::string(f.wire_topic));
    if (f.dead_letter)
        props.erase(std::string(property_name::delay));  // (an original delayed message has one)
    else
        props.insert_or_assign(std::string(property_name::delay), std::to_string(3 + f.reconsume_times));
    auto req = remoting::command::request(remoting::request_code::send_message_v2);
    auto& x = req.ext_fields;
    x.set("a", "CLIENT_INNER_PRODUCER");
    x.set("b", std::string(f.wire_retry_topic));
    x.set("c", "TBW102");
    x.set("d", "4");
    x.set("e", std::to_string(f.queue_id));
    x.set("f", "0");  // the body is sent as received (already inflated)
    x.set("g", std::to_string(f.born_timestamp_ms));
    x.set("h", std::to_string(m.flag()));
    x.set("i", encode_properties(props));
    x.set("j", std::to_string(f.reconsume_times));
    x.set("k", "false");
    x.set("l", std::to_string(f.max_reconsume_times));
    x.set("m", "false");
    req.body = std::string(m.body());
    return req;
}

std::string lock_batch_body(std::string_view group, std::string_view client_id,
                            const std::vector<message_queue>& queues)
{
    boost::json::array mqs;
    for (const auto& q : queues)
        mqs.emplace_back(boost::json::object{{"brokerName", q.broker_name}, {"queueId", q.queue_id}, {"topic", q.topic}});
    boost::json::object body{
        {"clientId", client_id}, {"consumerGroup", group}, {"mqSet", std::move(mqs)}, {"onlyThisBroker", false}};
    return to_json(body);
}

namespace {

error_code read_message_queue(const boost::json::value& v, message_queue& out)
{
    if (!v.is_object())
        return make_error_code(client_errc::bad_body);
    const auto& o = v.get_object();
    out = {};
    if (!read_field(o, "topic", out.topic) || !read_field(o, "brokerName", out.broker_name) ||
        !read_field(o, "queueId", out.queue_id))
        return make_error_code(client_errc::bad_body);
    return {};
}

}  // namespace

error_code parse_message_queue_json(std::string_view json, message_queue& out)
{
    boost::json::value v;
    if (parse_lenient_json(json, v))
        return make_error_code(client_errc::bad_body);
    return read_message_queue(v, out);
}

error_code parse_lock_batch_response(std::string_view body, std::vector<message_queue>& locked)
{
    locked.clear();
    boost::json::value v;
    if (parse_lenient_json(body, v) || !v.is_object())
        return make_error_code(client_errc::bad_body);
    const auto* set = v.get_object().if_contains("lockOKMQSet");
    if (!set || set->is_null())
        return {};
    if (!set->is_array())
        return make_error_code(client_errc::bad_body);
    for (const auto& item : set->get_array()) {
        message_queue q;
        if (auto ec = read_message_queue(item, q))
            return ec;
        locked.push_back(std::move(q));
    }
    return {};
}

}  // namespace detail
}  // namespace corocket
