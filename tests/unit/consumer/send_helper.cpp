#include "send_helper.hpp"

#include "message/ids.hpp"
#include "message/properties.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>

namespace asio = boost::asio;

namespace corocket::test {

message make_message(std::string topic, std::string body, std::string tag, std::string key)
{
    message m(std::move(topic), std::move(body));
    if (!tag.empty())
        m.set_tags(std::move(tag));
    if (!key.empty())
        m.set_key(std::move(key));
    return m;
}

asio::awaitable<std::tuple<error_code, sent_message>> send_message(client& c, const message& msg, int queue_id,
                                                                   std::size_t broker_index, std::int32_t sys_flag)
{
    static auto ids = detail::make_process_uniq_id_generator();
    auto [ec, route] = co_await c.async_route(msg.topic(), asio::as_tuple(asio::deferred));
    if (ec)
        co_return std::tuple{ec, sent_message{}};
    auto queues = route.publish_queues(msg.topic());
    std::vector<std::string> brokers;
    for (const auto& q : queues)
        if (brokers.empty() || brokers.back() != q.broker_name)
            brokers.push_back(q.broker_name);
    if (brokers.empty())
        co_return std::tuple{make_error_code(client_errc::no_route), sent_message{}};
    sent_message out;
    out.broker_name = brokers[broker_index % brokers.size()];
    int count = 0;
    for (const auto& q : queues)
        count += q.broker_name == out.broker_name;
    properties props = msg.properties();
    props.emplace(std::string(property_name::uniq_key), ids.next(std::chrono::system_clock::now()));
    auto req = remoting::command::request(remoting::request_code::send_message_v2);
    auto& x = req.ext_fields;
    x.set("a", "PG_TEST");
    x.set("b", msg.topic());
    x.set("c", "TBW102");
    x.set("d", "4");
    x.set("e", std::to_string(queue_id % count));
    x.set("f", std::to_string(sys_flag));
    x.set("g", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
    x.set("h", std::to_string(msg.flag()));
    x.set("i", detail::encode_properties(props));
    x.set("j", "0");
    x.set("k", "false");
    x.set("m", "false");
    req.body = msg.body();
    auto [iec, resp] = co_await c.async_invoke(c.broker_address(out.broker_name), std::move(req), {},
                                               asio::as_tuple(asio::deferred));
    if (iec)
        co_return std::tuple{iec, sent_message{}};
    if (resp.code != remoting::response_code::success)
        co_return std::tuple{make_broker_error(resp.code), sent_message{}};
    out.queue_id = static_cast<int>(resp.ext_fields.get_int("queueId").value_or(-1));
    out.queue_offset = resp.ext_fields.get_int("queueOffset").value_or(-1);
    co_return std::tuple{error_code{}, out};
}

}  // namespace corocket::test
