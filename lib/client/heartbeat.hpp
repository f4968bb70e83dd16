// Sans-I/O: the HeartbeatData JSON body (protocol.md §6.1) and UNREGISTER_CLIENT requests.
#pragma once

#include <corocket/client.hpp>
#include <corocket/remoting/command.hpp>

#include <string>
#include <vector>

namespace corocket::detail {

/// The HEART_BEAT body for a client with these groups.
std::string heartbeat_body(std::string_view client_id, const std::vector<std::string>& producer_groups,
                           const std::vector<consumer_registration>& consumers);

/// HEART_BEAT request carrying heartbeat_body(...).
remoting::command heartbeat_request(std::string body);

/// UNREGISTER_CLIENT for one producer or consumer group.
remoting::command unregister_request(std::string_view client_id, std::string_view group, bool producer);

/// GET_ROUTEINFO_BY_TOPIC asking for standard JSON.
remoting::command route_request(std::string_view topic);

}  // namespace corocket::detail
