// Namespace wrapping (protocol.md §7.13), mirroring Java's NamespaceUtil.
#include "message/namespace.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <utility>

namespace corocket::detail {

namespace {

constexpr std::array<std::string_view, 10> system_topics = {
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
    "CHECKPOINT_TOPIC",
};

constexpr std::array<std::string_view, 6> not_sendable_topics = {
    "SCHEDULE_TOPIC_XXXX",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
};

bool contains(std::span<const std::string_view> set, std::string_view name) noexcept
{
    return std::find(set.begin(), set.end(), name) != set.end();
}

// Splits a leading %RETRY% or %DLQ% off `resource`.
std::pair<std::string_view, std::string_view> split_prefix(std::string_view resource) noexcept
{
    for (const auto prefix : {retry_topic_prefix, dlq_topic_prefix})
        if (resource.starts_with(prefix)) return {prefix, resource.substr(prefix.size())};
    return {{}, resource};
}

bool starts_with_namespace(std::string_view name, std::string_view ns) noexcept
{
    return name.size() > ns.size() && name.starts_with(ns) && name[ns.size()] == namespace_separator;
}

}  // namespace

bool is_system_topic(std::string_view topic) noexcept
{
    return contains(system_topics, topic) || topic.starts_with("rmq_sys_");
}

bool is_system_group(std::string_view group) noexcept { return group.starts_with("CID_RMQ_SYS_"); }

bool is_system_resource(std::string_view resource) noexcept
{
    return is_system_topic(resource) || is_system_group(resource);
}

bool is_not_sendable_topic(std::string_view topic) noexcept { return contains(not_sendable_topics, topic); }

std::string wrap_namespace(std::string_view ns, std::string_view resource)
{
    if (ns.empty() || resource.empty() || is_system_resource(resource)) return std::string(resource);
    const auto [prefix, rest] = split_prefix(resource);
    if (starts_with_namespace(rest, ns)) return std::string(resource);
    std::string out;
    out.reserve(resource.size() + ns.size() + 1);
    out.append(prefix).append(ns).push_back(namespace_separator);
    out.append(rest);
    return out;
}

std::string unwrap_namespace(std::string_view ns, std::string_view resource)
{
    if (ns.empty() || resource.empty() || is_system_resource(resource)) return std::string(resource);
    const auto [prefix, rest] = split_prefix(resource);
    if (!starts_with_namespace(rest, ns)) return std::string(resource);
    std::string out(prefix);
    out.append(rest.substr(ns.size() + 1));
    return out;
}

std::string retry_topic(std::string_view group)
{
    std::string out(retry_topic_prefix);
    out.append(group);
    return out;
}

std::string dlq_topic(std::string_view group)
{
    std::string out(dlq_topic_prefix);
    out.append(group);
    return out;
}

}  // namespace corocket::detail
