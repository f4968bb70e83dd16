#include "consumer/running_info.hpp"

#include "util/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>

namespace corocket::detail {
namespace {

std::string json_text(boost::json::value v) { return to_json(v); }

std::int64_t ms_of(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

boost::json::object subscription_object(const subscription_data& s)
{
    boost::json::array tags, codes;
    for (const auto& t : s.tags)
        tags.emplace_back(t);
    for (auto c : s.codes)
        codes.emplace_back(c);
    return {{"classFilterMode", false}, {"codeSet", std::move(codes)},     {"expressionType", s.expression_type},
            {"subString", s.sub_string}, {"subVersion", s.sub_version}, {"tagsSet", std::move(tags)},
            {"topic", s.topic}};
}

boost::json::object process_queue_info(const queue_stats& q)
{
    return {{"commitOffset", q.consumed_offset},
            {"cachedMsgMinOffset", q.cached_messages ? q.consumed_offset : 0},
            {"cachedMsgMaxOffset", q.cached_messages ? q.max_offset - 1 : 0},
            {"cachedMsgCount", q.cached_messages},
            {"cachedMsgSizeInMiB", 0},
            {"transactionMsgMinOffset", 0},
            {"transactionMsgMaxOffset", 0},
            {"transactionMsgCount", 0},
            {"locked", q.locked},
            {"tryUnlockTimes", 0},
            {"lastLockTimestamp", 0},
            {"droped", false},
            {"lastPullTimestamp", ms_of(q.last_pull_time)},
            {"lastConsumeTimestamp", ms_of(q.last_consume_time)}};
}

boost::json::object consume_status_object(const subscription_stats& s, double seconds)
{
    const auto per_second = [&](std::uint64_t n) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; };
    return {{"pullRT", static_cast<double>(s.pull_latency_avg.count()) / 1000.0},
            {"pullTPS", per_second(s.pulls)},
            {"consumeRT", static_cast<double>(s.consume_latency_avg.count()) / 1000.0},
            {"consumeOKTPS", per_second(s.processed)},
            {"consumeFailedTPS", per_second(s.failed)},
            {"consumeFailedMsgs", s.failed}};
}

}  // namespace

std::string running_info_json(const running_info_input& in)
{
    boost::json::object props;
    for (const auto& [k, v] : in.properties)
        props[k] = v;
    boost::json::array subs;
    for (const auto& s : in.subscriptions)
        subs.emplace_back(subscription_object(s));
    boost::json::object status;
    // mqTable has MessageQueue objects as keys (fastjson), which JSON libraries cannot write:
    // the map is assembled as text.
    std::string mq_table = "{";
    if (in.stats) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::system_clock::now() - in.stats->start_time).count();
        for (const auto& s : in.stats->subscriptions) {
            auto wire = in.wire_topics.find(s.topic);
            const std::string& wire_topic = wire == in.wire_topics.end() ? s.topic : wire->second;
            status[wire_topic] = consume_status_object(s, seconds);
            for (const auto& q : s.queues) {
                if (mq_table.size() > 1)
                    mq_table += ',';
                mq_table += corocket::to_json(message_queue{wire_topic, q.queue.broker_name, q.queue.queue_id});
                mq_table += ':';
                mq_table += json_text(process_queue_info(q));
            }
        }
    }
    mq_table += '}';
    std::string out = "{\"jstack\":\"\",\"mqPopTable\":{},\"mqTable\":" + mq_table;
    out += ",\"properties\":" + json_text(props);
    out += ",\"statusTable\":" + json_text(status);
    out += ",\"subscriptionSet\":" + json_text(subs);
    out += ",\"userConsumerInfo\":{}}";
    return out;
}

std::string direct_result_json(bool order, std::string_view result, std::string_view remark, std::int64_t spent_ms)
{
    boost::json::object o{{"order", order},
                          {"autoCommit", true},
                          {"consumeResult", result},
                          {"remark", remark},
                          {"spentTimeMills", spent_ms}};
    return json_text(o);
}

}  // namespace corocket::detail
