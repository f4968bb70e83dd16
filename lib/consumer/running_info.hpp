// The bodies a consumer answers brokers' admin requests with (sans-I/O): ConsumerRunningInfo for
// GET_CONSUMER_RUNNING_INFO (§6.6, mqTable with fastjson object keys) and
// ConsumeMessageDirectlyResult for CONSUME_MESSAGE_DIRECTLY (§6.7).
#pragma once

#include <corocket/client.hpp>
#include <corocket/consumer_stats.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

struct running_info_input {
    const consumer_stats* stats = nullptr;
    /// Subscriptions as on the wire (the heartbeat's subscriptionDataSet).
    std::vector<subscription_data> subscriptions;
    /// Wire name of each stats topic (namespace applied), by user topic.
    std::map<std::string, std::string> wire_topics;
    std::string broker_name_space;  ///< unused unless queues need it
    std::map<std::string, std::string> properties;
    bool orderly = false;
};

/// ConsumerRunningInfo JSON. Figures per topic in statusTable are averages since start.
std::string running_info_json(const running_info_input& in);

/// ConsumeMessageDirectlyResult JSON; `result` is CR_SUCCESS, CR_LATER, CR_THROW_EXCEPTION, ...
std::string direct_result_json(bool order, std::string_view result, std::string_view remark, std::int64_t spent_ms);

}  // namespace corocket::detail
