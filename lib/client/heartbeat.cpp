#include "client/heartbeat.hpp"

#include "client/name_servers.hpp"
#include "util/json.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace corocket {

std::string_view to_string(consume_type t) noexcept
{
    return t == consume_type::actively ? "CONSUME_ACTIVELY" : "CONSUME_PASSIVELY";
}

std::string_view to_string(message_model m) noexcept
{
    return m == message_model::clustering ? "CLUSTERING" : "BROADCASTING";
}

std::string_view to_string(consume_from_where w) noexcept
{
    switch (w) {
    case consume_from_where::last_offset: return "CONSUME_FROM_LAST_OFFSET";
    case consume_from_where::first_offset: return "CONSUME_FROM_FIRST_OFFSET";
    case consume_from_where::timestamp: return "CONSUME_FROM_TIMESTAMP";
    }
    return "CONSUME_FROM_LAST_OFFSET";
}

namespace detail {
namespace {

boost::json::object subscription_json(const subscription_data& s)
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

boost::json::object consumer_json(const consumer_registration& c)
{
    boost::json::array subs;
    for (const auto& s : c.subscriptions)
        subs.emplace_back(subscription_json(s));
    return {{"consumeFromWhere", to_string(c.from_where)},
            {"consumeType", to_string(c.type)},
            {"groupName", c.group},
            {"messageModel", to_string(c.model)},
            {"subscriptionDataSet", std::move(subs)},
            {"unitMode", false}};
}

}  // namespace

std::string heartbeat_body(std::string_view client_id, const std::vector<std::string>& producer_groups,
                           const std::vector<consumer_registration>& consumers)
{
    boost::json::array producers, consumer_set;
    for (const auto& g : producer_groups)
        producers.emplace_back(boost::json::object{{"groupName", g}});
    for (const auto& c : consumers)
        consumer_set.emplace_back(consumer_json(c));
    boost::json::object body{{"clientID", client_id},
                             {"consumerDataSet", std::move(consumer_set)},
                             {"heartbeatFingerprint", 0},
                             {"producerDataSet", std::move(producers)},
                             {"withoutSub", false}};
    return to_json(body);
}

remoting::command heartbeat_request(std::string body)
{
    auto req = remoting::command::request(remoting::request_code::heart_beat);
    req.body = std::move(body);
    return req;
}

remoting::command unregister_request(std::string_view client_id, std::string_view group, bool producer)
{
    auto req = remoting::command::request(remoting::request_code::unregister_client);
    req.ext_fields.set("clientID", std::string(client_id));
    req.ext_fields.set(producer ? "producerGroup" : "consumerGroup", std::string(group));
    return req;
}

remoting::command route_request(std::string_view topic)
{
    auto req = remoting::command::request(remoting::request_code::get_routeinfo_by_topic);
    req.ext_fields.set("topic", std::string(topic));
    req.ext_fields.set("acceptStandardJsonOnly", "true");
    return req;
}

name_servers::name_servers(std::string_view list, std::size_t start)
{
    while (!list.empty()) {
        const auto semi = list.find(';');
        std::string_view item = list.substr(0, semi);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (!item.empty())
            addrs_.emplace_back(item);
        if (semi == std::string_view::npos)
            break;
        list.remove_prefix(semi + 1);
    }
    if (!addrs_.empty())
        index_ = start % addrs_.size();
}

}  // namespace detail
}  // namespace corocket
