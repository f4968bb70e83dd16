// Sans-I/O core of the embedded NameServer (DefaultRequestProcessor + RouteInfoManager of 4.9.8):
// brokers register their topic tables, clients ask for routes and cluster info.
#pragma once

#include "testing/broker_core.hpp"

#include <corocket/remoting/command.hpp>
#include <corocket/route.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace corocket::testing::detail {

class namesrv_core {
public:
    /// REGISTER_BROKER of broker `broker_id` of `broker_name`. As RouteInfoManager.registerBroker,
    /// only the master's (id 0) topic table becomes queue data; a slave only adds its address.
    void register_broker(const std::string& cluster, const std::string& broker_name, std::int64_t broker_id,
                         const std::string& address, const std::map<std::string, topic_config, std::less<>>& topics);
    /// The broker's channel closed (RouteInfoManager.onChannelDestroy): its address goes; when
    /// the broker name has no address left, so do its queue data.
    void unregister_broker(const std::string& broker_name, std::int64_t broker_id);

    /// Answers a client request; nullopt means no answer at all (one-way requests, and codes the
    /// 4.9.8 NameServer's default processor does not know: it returns null for them).
    std::optional<remoting::command> handle(const remoting::command& req) const;

    /// The route of `topic`, or nullopt when no broker has it.
    std::optional<topic_route> route(std::string_view topic) const;

private:
    struct broker_entry {
        std::string cluster;
        std::map<std::int64_t, std::string> addresses;  // broker id → address
        std::map<std::string, topic_config, std::less<>> topics;
    };

    broker_data data_of(const std::string& name, const broker_entry& b) const;

    std::map<std::string, broker_entry, std::less<>> brokers_;  // by broker name
};

}  // namespace corocket::testing::detail
