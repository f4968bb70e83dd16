// Topic route and cluster info: JSON in and out, and the queue lists a route implies.
#include <corocket/route.hpp>

#include "routing/json_fields.hpp"
#include "util/json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

namespace corocket {
namespace {

// Queue counts beyond this are not a RocketMQ route (brokers cap topics far lower); refusing
// them keeps a corrupt body from making us build billions of queues.
constexpr int max_queue_nums = 1 << 16;

void append_json_string(std::string& out, std::string_view s)
{
    out += boost::json::serialize(boost::json::string(s));
}

// ---- parsing ---------------------------------------------------------------------------------

bool parse_broker_addrs(const boost::json::value& v, std::map<std::int64_t, std::string>& out)
{
    if (v.is_null())
        return true;
    if (!v.is_object())
        return false;
    for (const auto& [key, addr] : v.get_object()) {
        std::int64_t id = 0;
        auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc{} || p != key.data() + key.size() || key.empty() || !addr.is_string())
            return false;
        out[id] = std::string(addr.get_string());
    }
    return true;
}

bool parse_broker_data(const boost::json::value& v, broker_data& out)
{
    if (!v.is_object())
        return false;
    const auto& obj = v.get_object();
    if (!detail::read_field(obj, "cluster", out.cluster) || !detail::read_field(obj, "brokerName", out.broker_name))
        return false;
    const auto* addrs = obj.if_contains("brokerAddrs");
    return !addrs || parse_broker_addrs(*addrs, out.broker_addrs);
}

bool valid_queue_nums(int n) noexcept
{
    return n >= 0 && n <= max_queue_nums;
}

bool parse_queue_data(const boost::json::value& v, queue_data& out)
{
    if (!v.is_object())
        return false;
    const auto& obj = v.get_object();
    // NameServers up to 4.8 spell topicSysFlag "topicSynFlag".
    const char* sys_flag_key = obj.contains("topicSysFlag") ? "topicSysFlag" : "topicSynFlag";
    return detail::read_field(obj, "brokerName", out.broker_name) &&
           detail::read_field(obj, "readQueueNums", out.read_queue_nums) &&
           detail::read_field(obj, "writeQueueNums", out.write_queue_nums) &&
           detail::read_field(obj, "perm", out.perm) && detail::read_field(obj, sys_flag_key, out.topic_sys_flag) &&
           valid_queue_nums(out.read_queue_nums) && valid_queue_nums(out.write_queue_nums);
}

template <class T, class Parse>
bool parse_array(const boost::json::object& obj, std::string_view key, std::vector<T>& out, Parse parse)
{
    const auto* v = obj.if_contains(key);
    if (!v || v->is_null())
        return true;
    if (!v->is_array())
        return false;
    out.reserve(v->get_array().size());
    for (const auto& item : v->get_array()) {
        T t;
        if (!parse(item, t))
            return false;
        out.push_back(std::move(t));
    }
    return true;
}

bool parse_name_list(const boost::json::value& v, std::vector<std::string>& out)
{
    if (!v.is_array())
        return false;
    for (const auto& name : v.get_array()) {
        if (!name.is_string())
            return false;
        out.emplace_back(name.get_string());
    }
    return true;
}

// ---- serializing -----------------------------------------------------------------------------

// fastjson writes Map<Long,String> keys bare unless asked for standard JSON.
void append_broker_data(std::string& out, const broker_data& bd, bool quote_ids)
{
    out += "{\"brokerAddrs\":{";
    bool first = true;
    for (const auto& [id, addr] : bd.broker_addrs) {
        if (!first)
            out += ',';
        first = false;
        const auto id_text = std::to_string(id);
        if (quote_ids)
            append_json_string(out, id_text);
        else
            out += id_text;
        out += ':';
        append_json_string(out, addr);
    }
    out += "},\"brokerName\":";
    append_json_string(out, bd.broker_name);
    out += ",\"cluster\":";
    append_json_string(out, bd.cluster);
    out += '}';
}

void append_queue_data(std::string& out, const queue_data& qd)
{
    out += "{\"brokerName\":";
    append_json_string(out, qd.broker_name);
    out += ",\"perm\":" + std::to_string(qd.perm);
    out += ",\"readQueueNums\":" + std::to_string(qd.read_queue_nums);
    out += ",\"topicSysFlag\":" + std::to_string(qd.topic_sys_flag);
    out += ",\"writeQueueNums\":" + std::to_string(qd.write_queue_nums);
    out += '}';
}

template <class Range, class Append>
void append_list(std::string& out, const Range& items, Append append)
{
    out += '[';
    bool first = true;
    for (const auto& item : items) {
        if (!first)
            out += ',';
        first = false;
        append(out, item);
    }
    out += ']';
}

void add_queues(std::vector<message_queue>& out, std::string_view topic, const std::string& broker, int count)
{
    for (int q = 0; q < count; ++q)
        out.push_back(message_queue{std::string(topic), broker, q});
}

// orderTopicConf "brokerA:4;brokerB:8" → queues in that order. Entries Java would choke on
// (no count, bad count) are skipped.
std::vector<message_queue> order_conf_queues(std::string_view topic, std::string_view conf)
{
    std::vector<message_queue> out;
    while (!conf.empty()) {
        const auto semi = conf.find(';');
        const auto entry = conf.substr(0, semi);
        conf = semi == std::string_view::npos ? std::string_view{} : conf.substr(semi + 1);
        const auto colon = entry.find(':');
        if (colon == std::string_view::npos)
            continue;
        const auto count_text = entry.substr(colon + 1);
        int count = 0;
        auto [p, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
        if (ec != std::errc{} || p != count_text.data() + count_text.size() || !valid_queue_nums(count))
            continue;
        add_queues(out, topic, std::string(entry.substr(0, colon)), count);
    }
    return out;
}

}  // namespace

std::string message_queue::to_string() const
{
    return "MessageQueue [topic=" + topic + ", brokerName=" + broker_name + ", queueId=" + std::to_string(queue_id) +
           "]";
}

std::string to_json(const message_queue& mq)
{
    std::string out = "{\"brokerName\":";
    append_json_string(out, mq.broker_name);
    out += ",\"queueId\":" + std::to_string(mq.queue_id) + ",\"topic\":";
    append_json_string(out, mq.topic);
    out += '}';
    return out;
}

std::string broker_data::master_address() const
{
    auto it = broker_addrs.find(master_id);
    return it == broker_addrs.end() ? std::string{} : it->second;
}

const broker_data* topic_route::find_broker(std::string_view name) const
{
    auto it = std::find_if(broker_datas.begin(), broker_datas.end(),
                           [&](const broker_data& bd) { return bd.broker_name == name; });
    return it == broker_datas.end() ? nullptr : &*it;
}

std::vector<message_queue> topic_route::publish_queues(std::string_view topic) const
{
    if (!order_topic_conf.empty())
        return order_conf_queues(topic, order_topic_conf);
    std::vector<const queue_data*> sorted;
    for (const auto& qd : queue_datas)
        sorted.push_back(&qd);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const queue_data* a, const queue_data* b) { return a->broker_name < b->broker_name; });
    std::vector<message_queue> out;
    for (const auto* qd : sorted) {
        const auto* bd = find_broker(qd->broker_name);
        if (qd->writable() && bd && bd->broker_addrs.contains(broker_data::master_id))
            add_queues(out, topic, qd->broker_name, qd->write_queue_nums);
    }
    return out;
}

std::vector<message_queue> topic_route::subscribe_queues(std::string_view topic) const
{
    std::vector<message_queue> out;
    for (const auto& qd : queue_datas) {
        if (qd.readable())
            add_queues(out, topic, qd.broker_name, qd.read_queue_nums);
    }
    // Java collects them in a set; sorted and unique is what rebalance wants anyway.
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

error_code parse_topic_route(std::string_view json, topic_route& out)
{
    boost::json::value v;
    if (auto ec = detail::parse_lenient_json(json, v))
        return ec;
    if (!v.is_object())
        return client_errc::bad_body;
    const auto& obj = v.get_object();
    topic_route route;
    if (!parse_array(obj, "queueDatas", route.queue_datas, parse_queue_data) ||
        !parse_array(obj, "brokerDatas", route.broker_datas, parse_broker_data) ||
        !detail::read_field(obj, "orderTopicConf", route.order_topic_conf))
        return client_errc::bad_body;
    out = std::move(route);
    return {};
}

error_code parse_cluster_info(std::string_view json, cluster_info& out)
{
    boost::json::value v;
    if (auto ec = detail::parse_lenient_json(json, v))
        return ec;
    if (!v.is_object())
        return client_errc::bad_body;
    const auto& obj = v.get_object();
    cluster_info info;
    if (const auto* brokers = obj.if_contains("brokerAddrTable"); brokers && !brokers->is_null()) {
        if (!brokers->is_object())
            return client_errc::bad_body;
        for (const auto& [name, bd] : brokers->get_object()) {
            if (!parse_broker_data(bd, info.broker_addr_table[std::string(name)]))
                return client_errc::bad_body;
        }
    }
    if (const auto* clusters = obj.if_contains("clusterAddrTable"); clusters && !clusters->is_null()) {
        if (!clusters->is_object())
            return client_errc::bad_body;
        for (const auto& [name, list] : clusters->get_object()) {
            if (!parse_name_list(list, info.cluster_addr_table[std::string(name)]))
                return client_errc::bad_body;
        }
    }
    out = std::move(info);
    return {};
}

std::string to_json(const topic_route& route)
{
    std::string out = "{\"brokerDatas\":";
    append_list(out, route.broker_datas,
                [](std::string& o, const broker_data& bd) { append_broker_data(o, bd, true); });
    out += ",\"filterServerTable\":{}";
    if (!route.order_topic_conf.empty()) {
        out += ",\"orderTopicConf\":";
        append_json_string(out, route.order_topic_conf);
    }
    out += ",\"queueDatas\":";
    append_list(out, route.queue_datas, append_queue_data);
    out += '}';
    return out;
}

std::string to_json(const cluster_info& info)
{
    std::string out = "{\"brokerAddrTable\":{";
    bool first = true;
    for (const auto& [name, bd] : info.broker_addr_table) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, name);
        out += ':';
        append_broker_data(out, bd, false);
    }
    out += "},\"clusterAddrTable\":{";
    first = true;
    for (const auto& [cluster, names] : info.cluster_addr_table) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, cluster);
        out += ':';
        append_list(out, names, append_json_string);
    }
    out += "}}";
    return out;
}

}  // namespace corocket
