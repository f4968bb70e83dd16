// Sends test messages with raw SEND_MESSAGE_V2 requests (the producer is written in parallel).
#pragma once

#include <corocket/client.hpp>
#include <corocket/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

namespace corocket::test {

struct sent_message {
    std::string broker_name;
    int queue_id = 0;
    std::int64_t queue_offset = 0;
};

/// Sends `msg` to queue `queue_id` (modulo the topic's queue count) of the first broker of its
/// route, or of broker `broker_index` in route order. Properties get a UNIQ_KEY and WAIT. The
/// body goes as it is with `sys_flag` in the header (say, 0x101 for a body already in LZ4, or a
/// crafted body and type a consumer cannot decode: brokers store what they are given).
boost::asio::awaitable<std::tuple<error_code, sent_message>> send_message(client& c, const message& msg,
                                                                          int queue_id, std::size_t broker_index = 0,
                                                                          std::int32_t sys_flag = 0);

/// A message with body, tag and key.
message make_message(std::string topic, std::string body, std::string tag = {}, std::string key = {});

}  // namespace corocket::test
