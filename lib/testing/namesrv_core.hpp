// Sans-I/O core of the embedded NameServer (DefaultRequestProcessor + RouteInfoManager of 4.9.8):
// brokers register their topic tables, clients ask for routes and cluster info.
#pragma once

#include "testing/broker_core.hpp"

#include <corocket/remoting/command.hpp>
#include <corocket/route.hpp>

#include <map>
#include <optional>
#include <string>

namespace corocket::testing::detail {

class namesrv_core {
public:
    /// REGISTER_BROKER: replaces everything known about this broker.
    void register_broker(const std::string& cluster, const std::string& broker_name, const std::string& address,
                         const std::map<std::string, topic_config, std::less<>>& topics);

    /// Answers a client request; nullopt means no answer at all (one-way requests, and codes the
    /// 4.9.8 NameServer's default processor does not know: it returns null for them).
    std::optional<remoting::command> handle(const remoting::command& req) const;

    /// The route of `topic`, or nullopt when no broker has it.
    std::optional<topic_route> route(std::string_view topic) const;

private:
    struct broker_entry {
        std::string cluster;
        std::string address;
        std::map<std::string, topic_config, std::less<>> topics;
    };

    std::map<std::string, broker_entry, std::less<>> brokers_;  // by broker name
};

}  // namespace corocket::testing::detail
