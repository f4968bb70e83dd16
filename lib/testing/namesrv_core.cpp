#include "testing/namesrv_core.hpp"

#include "testing/broker_util.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <cctype>
#include <set>

namespace corocket::testing::detail {

namespace json = boost::json;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

/// MQVersion.Version.V4_9_4: from this client version on, routes are standard JSON.
constexpr int version_v4_9_4 = 401;

/// fastjson's default output for route data: the integer keys (broker ids in brokerAddrs, the
/// only integer-keyed map in a route) written without quotes: `{"0":"a"}` becomes `{0:"a"}`.
std::string legacy_route_json(std::string_view standard)
{
    std::string out;
    out.reserve(standard.size());
    bool in_string = false;
    for (std::size_t i = 0; i < standard.size(); ++i) {
        const char c = standard[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < standard.size())
                out += standard[++i];
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"' && !out.empty() && (out.back() == '{' || out.back() == ',')) {
            // A key: unquote it if it is all digits.
            std::size_t end = i + 1;
            while (end < standard.size() && std::isdigit(static_cast<unsigned char>(standard[end])))
                ++end;
            if (end > i + 1 && end + 1 < standard.size() && standard[end] == '"' && standard[end + 1] == ':') {
                out.append(standard.substr(i + 1, end - i - 1));
                i = end;  // skip the closing quote
                continue;
            }
        }
        if (c == '"')
            in_string = true;
        out += c;
    }
    return out;
}

}  // namespace

void namesrv_core::register_broker(const std::string& cluster, const std::string& broker_name,
                                   std::int64_t broker_id, const std::string& address,
                                   const std::map<std::string, topic_config, std::less<>>& topics)
{
    broker_entry& b = brokers_[broker_name];
    b.cluster = cluster;
    b.addresses[broker_id] = address;
    if (broker_id == broker_data::master_id)
        b.topics = topics;
}

void namesrv_core::unregister_broker(const std::string& broker_name, std::int64_t broker_id)
{
    auto it = brokers_.find(broker_name);
    if (it == brokers_.end())
        return;
    it->second.addresses.erase(broker_id);
    if (it->second.addresses.empty())
        brokers_.erase(it);
}

broker_data namesrv_core::data_of(const std::string& name, const broker_entry& b) const
{
    broker_data d;
    d.cluster = b.cluster;
    d.broker_name = name;
    d.broker_addrs = b.addresses;
    return d;
}

std::optional<topic_route> namesrv_core::route(std::string_view topic) const
{
    topic_route r;
    for (const auto& [name, b] : brokers_) {
        auto t = b.topics.find(topic);
        if (t == b.topics.end())
            continue;
        r.queue_datas.push_back({name, t->second.read_queue_nums, t->second.write_queue_nums, t->second.perm,
                                 t->second.topic_sys_flag});
        r.broker_datas.push_back(data_of(name, b));
    }
    if (r.queue_datas.empty())
        return std::nullopt;
    return r;
}

std::optional<remoting::command> namesrv_core::handle(const remoting::command& req) const
{
    if (req.is_oneway())
        return std::nullopt;
    switch (req.code) {
    case rc::get_routeinfo_by_topic: {
        header_reader h(req.ext_fields);
        const std::string topic = h.str("topic");
        if (h.error())
            return remoting::command::response_to(req, rs::system_error, *h.error());
        auto r = route(topic);
        if (!r)
            return remoting::command::response_to(
                req, rs::topic_not_exist,
                fmt::format("No topic route info in name server for the topic: {}{}", topic, faq_suffix(faq_apply_topic)));
        auto resp = remoting::command::response_to(req, rs::success);
        resp.body = to_json(*r);
        if (req.version < version_v4_9_4 && !h.opt_bool("acceptStandardJsonOnly"))
            resp.body = legacy_route_json(resp.body);
        return resp;
    }
    case rc::get_broker_cluster_info: {
        cluster_info info;
        for (const auto& [name, b] : brokers_) {
            info.broker_addr_table.emplace(name, data_of(name, b));
            info.cluster_addr_table[b.cluster].push_back(name);
        }
        auto resp = remoting::command::response_to(req, rs::success);
        resp.body = to_json(info);
        return resp;
    }
    case rc::get_all_topic_list_from_nameserver: {
        std::set<std::string> names;
        for (const auto& [name, b] : brokers_)
            for (const auto& [t, cfg] : b.topics)
                names.insert(t);
        json::array list;
        for (const auto& n : names)
            list.emplace_back(n);
        json::object body;
        body["topicList"] = std::move(list);
        auto resp = remoting::command::response_to(req, rs::success);
        resp.body = json_text(body);
        return resp;
    }
    default:
        return std::nullopt;
    }
}

}  // namespace corocket::testing::detail
