// Resource namespaces (protocol.md §7.13): "ns%resource", keeping %RETRY%/%DLQ% prefixes.
#pragma once

#include <string>
#include <string_view>

namespace corocket::detail {

inline constexpr std::string_view retry_topic_prefix = "%RETRY%";
inline constexpr std::string_view dlq_topic_prefix = "%DLQ%";
inline constexpr char namespace_separator = '%';

/// System topics (the fixed set and the `rmq_sys_` prefix).
bool is_system_topic(std::string_view topic) noexcept;
/// System groups (`CID_RMQ_SYS_` prefix).
bool is_system_group(std::string_view group) noexcept;
/// Topic or group that is never wrapped.
bool is_system_resource(std::string_view resource) noexcept;
/// Topics the broker refuses to accept sends for (§3.3.4).
bool is_not_sendable_topic(std::string_view topic) noexcept;

/// `r` with the namespace applied (unchanged for empty ns/r, system resources, or if it is
/// already wrapped).
std::string wrap_namespace(std::string_view ns, std::string_view resource);
/// Inverse of wrap_namespace: strips `ns%` after any retry/DLQ prefix; other names unchanged.
std::string unwrap_namespace(std::string_view ns, std::string_view resource);

/// "%RETRY%" + group.
std::string retry_topic(std::string_view group);
/// "%DLQ%" + group.
std::string dlq_topic(std::string_view group);

}  // namespace corocket::detail
