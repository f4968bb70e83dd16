// UPDATE_AND_CREATE_TOPIC, GET_TOPIC_STATS_INFO (AdminBrokerProcessor) and the message lookups
// VIEW_MESSAGE_BY_ID / QUERY_MESSAGE (QueryMessageProcessor) of 4.9.8.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace rs = remoting::response_code;

namespace {

constexpr int default_query_max_num = 32;
constexpr int max_msgs_num_batch = 64;

}  // namespace

broker_core::response broker_core::update_and_create_topic(remoting::command& req)
{
    header_reader h(req.ext_fields);
    topic_config t;
    t.name = h.str("topic");
    h.str("defaultTopic");
    t.read_queue_nums = static_cast<int>(h.num("readQueueNums"));
    t.write_queue_nums = static_cast<int>(h.num("writeQueueNums"));
    t.perm = static_cast<int>(h.num("perm"));
    t.filter_type = h.str("topicFilterType");
    t.topic_sys_flag = static_cast<int>(h.opt_num("topicSysFlag").value_or(0));
    t.order = h.opt_bool("order");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    // TopicValidator.validateTopic, then the system-topic check.
    std::optional<std::string> bad = validate_topic(t.name);
    if (!bad && cd::is_system_topic(t.name))
        bad = fmt::format("The topic[{}] is conflict with system topic.", t.name);
    if (bad)
        return remoting::command::response_to(req, rs::system_error, std::move(*bad));
    if (t.filter_type != "MULTI_TAG")
        t.filter_type = "SINGLE_TAG";
    put_topic(std::move(t));
    // The response was created as SYSTEM_ERROR "not set any response code"; only the code changes.
    return remoting::command::response_to(req, rs::success, "not set any response code");
}

broker_core::response broker_core::view_message(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::int64_t offset = h.num("offset");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    const std::string* rec = store_.record_at(offset);
    if (!rec)
        return remoting::command::response_to(req, rs::system_error,
                                              fmt::format("can not find message by the offset, {}", offset));
    auto resp = remoting::command::response_to(req, rs::success);
    // Written as a zero-copy file region: the header uses the broker's own serialization (JSON).
    resp.type = remoting::serialize_type::json;
    resp.body = *rec;
    return resp;
}

broker_core::response broker_core::query_message(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string topic = h.str("topic");
    const std::string key = h.str("key");
    int max_num = static_cast<int>(h.num("maxNum"));
    const std::int64_t begin = h.num("beginTimestamp");
    const std::int64_t end = h.num("endTimestamp");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    if (h.opt_bool("_UNIQUE_KEY_QUERY"))
        max_num = default_query_max_num;
    max_num = std::min(max_num, max_msgs_num_batch);

    auto resp = remoting::command::response_to(req, rs::success);
    resp.ext_fields.set("indexLastUpdatePhyoffset", std::to_string(store_.index_last_update_phyoffset()));
    resp.ext_fields.set("indexLastUpdateTimestamp", std::to_string(store_.index_last_update_timestamp()));
    for (auto phys : store_.query(topic, key, max_num, begin, end))
        if (const std::string* rec = store_.record_at(phys))
            resp.body += *rec;
    if (resp.body.empty()) {
        resp.code = rs::query_not_found;
        resp.remark = "can not find message, maybe time range not correct";
        return resp;
    }
    resp.type = remoting::serialize_type::json;  // zero-copy file region, as VIEW_MESSAGE_BY_ID
    return resp;
}

broker_core::response broker_core::topic_stats(remoting::command& req)
{
    header_reader h(req.ext_fields);
    const std::string topic = h.str("topic");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    const topic_config* t = find_topic(topic);
    if (!t)
        return remoting::command::response_to(req, rs::topic_not_exist, fmt::format("topic[{}] not exist", topic));
    // TopicStatsTable: a map keyed by MessageQueue objects, written by fastjson with object keys.
    std::string body = R"({"offsetTable":{)";
    for (int i = 0; i < t->write_queue_nums; ++i) {
        const std::int64_t max = store_.max_offset(topic, i);
        std::int64_t last = 0;
        if (max > 0)
            last = (*store_.queue(topic, i))[static_cast<std::size_t>(max - 1)].store_timestamp;
        if (i > 0)
            body += ',';
        body += fmt::format(R"({{"brokerName":"{}","queueId":{},"topic":"{}"}}:{{"lastUpdateTimestamp":{},"maxOffset":{},"minOffset":{}}})",
                            settings_.broker_name, i, topic, last, max, store_.min_offset(topic, i));
    }
    body += "}}";
    auto resp = remoting::command::response_to(req, rs::success);
    resp.body = std::move(body);
    return resp;
}

}  // namespace corocket::testing::detail
