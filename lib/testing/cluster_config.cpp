// broker.conf-style configuration for the embedded cluster (the corocket-broker tool).
#include <corocket/testing/embedded_cluster.hpp>

#include "testing/broker_tool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

namespace corocket::testing {

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool to_bool(std::string_view v, bool& out)
{
    if (v == "true" || v == "TRUE" || v == "True") {
        out = true;
        return true;
    }
    if (v == "false" || v == "FALSE" || v == "False") {
        out = false;
        return true;
    }
    return false;
}

template <class Int>
bool to_int(std::string_view v, Int& out)
{
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && p == v.data() + v.size() && !v.empty();
}

bool to_double(std::string_view v, double& out)
{
    try {
        std::size_t used = 0;
        out = std::stod(std::string(v), &used);
        return used == v.size();
    } catch (...) {
        return false;
    }
}

/// The non-empty, trimmed items of `v` between `sep`s.
std::vector<std::string> split(std::string_view v, char sep)
{
    std::vector<std::string> out;
    while (!v.empty()) {
        auto at = v.find(sep);
        auto item = trim(v.substr(0, at));
        if (!item.empty())
            out.emplace_back(item);
        v = at == std::string_view::npos ? std::string_view{} : v.substr(at + 1);
    }
    return out;
}

/// messageDelayLevel: "1s 5s 2m ...". A real broker does not start with any other unit; the
/// embedded one would skip the level and shift every later one.
bool valid_delay_levels(std::string_view v)
{
    const auto levels = split(v, ' ');
    return !levels.empty() && std::all_of(levels.begin(), levels.end(), [](std::string_view level) {
        std::uint32_t n = 0;
        return level.size() >= 2 && std::string_view("smhd").find(level.back()) != std::string_view::npos &&
               to_int(level.substr(0, level.size() - 1), n);
    });
}

using setter = std::function<bool(cluster_options&, std::string_view)>;

/// How a key sets its field, and what a refused value should have been (may be empty).
struct key_rule {
    template <class F>
    key_rule(F f, std::string_view e = {}) : set(std::move(f)), expected(e)
    {
    }
    setter set;
    std::string_view expected;
};

setter ms(std::chrono::milliseconds cluster_options::*field)
{
    return [field](cluster_options& o, std::string_view v) {
        std::int64_t n = 0;
        if (!to_int(v, n))
            return false;
        o.*field = std::chrono::milliseconds(n);
        return true;
    };
}

setter flag(bool cluster_options::*field)
{
    return [field](cluster_options& o, std::string_view v) { return to_bool(v, o.*field); };
}

template <class Int>
setter number(Int cluster_options::*field)
{
    return [field](cluster_options& o, std::string_view v) { return to_int(v, o.*field); };
}

/// The port of the first broker (the one a broker.conf describes).
setter first_port(std::vector<std::uint16_t> cluster_options::*field)
{
    return [field](cluster_options& o, std::string_view v) {
        std::uint16_t port = 0;
        if (!to_int(v, port))
            return false;
        o.*field = {port};
        return true;
    };
}

setter text(std::string cluster_options::*field)
{
    return [field](cluster_options& o, std::string_view v) {
        o.*field = std::string(v);
        return true;
    };
}

const std::map<std::string, key_rule, std::less<>>& rules()
{
    static const std::map<std::string, key_rule, std::less<>> table{
        {"brokerClusterName", text(&cluster_options::cluster_name)},
        {"brokerName",
         {[](cluster_options& o, std::string_view v) {
              o.broker_names = split(v, ',');
              o.brokers = std::max(o.brokers, o.broker_names.size());
              return !o.broker_names.empty();
          },
          "one name or a comma-separated list"}},
        {"brokerCount",
         {[](cluster_options& o, std::string_view v) {
              return to_int(v, o.brokers) && o.brokers >= 1;
          },
          "a count of at least 1"}},
        {"brokerIP1",
         {[](cluster_options&, std::string_view v) { return v == "127.0.0.1"; },
          "127.0.0.1: the embedded cluster listens on loopback only"}},
        {"autoCreateTopicEnable", flag(&cluster_options::auto_create_topic)},
        {"autoCreateSubscriptionGroup", flag(&cluster_options::auto_create_subscription_group)},
        {"defaultTopicQueueNums", number(&cluster_options::default_topic_queue_nums)},
        {"messageDelayLevel",
         {[](cluster_options& o, std::string_view v) {
              if (!valid_delay_levels(v))
                  return false;
              o.message_delay_level = std::string(v);
              return true;
          },
          "levels such as '1s 5m 2h' (units s, m, h, d)"}},
        {"delayTimeScale", [](cluster_options& o, std::string_view v) { return to_double(v, o.delay_time_scale); }},
        {"timerWheelEnable", flag(&cluster_options::timer_wheel_enable)},
        {"transactionCheckInterval", ms(&cluster_options::transaction_check_interval)},
        {"transactionTimeOut", ms(&cluster_options::transaction_timeout)},
        {"transactionCheckMax", number(&cluster_options::transaction_check_max)},
        {"longPollingEnable", flag(&cluster_options::long_polling_enable)},
        {"shortPollingTimeMills", ms(&cluster_options::short_polling_time)},
        {"enablePropertyFilter", flag(&cluster_options::enable_property_filter)},
        {"maxMessageSize", number(&cluster_options::max_message_size)},
        {"regionId", text(&cluster_options::region_id)},
        {"traceOn", flag(&cluster_options::trace_on)},
        {"aclEnable",
         {[](cluster_options&, std::string_view v) {
              bool on = true;
              return to_bool(v, on) && !on;
          },
          "false: a config file cannot give ACL accounts, so every request would be denied"}},
        {"namesrvPort", number(&cluster_options::namesrv_port)},
        {"listenPort", first_port(&cluster_options::broker_ports)},
        {"withSlave", flag(&cluster_options::slave)},
        {"slaveListenPort", first_port(&cluster_options::slave_ports)},
        {"slaveReadEnable", flag(&cluster_options::slave_read_enable)},
        {"slaveSyncInterval", ms(&cluster_options::slave_sync_interval)},
        {"memoryBytes", number(&cluster_options::memory_bytes)},
        {"storePathRootDir", text(&cluster_options::data_dir)},
        {"tlsCertFile", text(&cluster_options::tls_cert_file)},
        {"tlsKeyFile", text(&cluster_options::tls_key_file)},
    };
    return table;
}

}  // namespace

std::vector<std::string_view> detail::cluster_config_keys()
{
    std::vector<std::string_view> keys;
    for (const auto& [key, rule] : rules())
        keys.push_back(key);
    return keys;
}

bool parse_cluster_config(std::string_view input, cluster_options& opts, std::string& error)
{
    int line_no = 0;
    while (!input.empty()) {
        auto nl = input.find('\n');
        auto line = trim(input.substr(0, nl));
        input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
        ++line_no;
        if (line.empty() || line.front() == '#')
            continue;
        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            error = fmt::format("line {}: expected key=value", line_no);
            return false;
        }
        const auto key = trim(line.substr(0, eq));
        const auto value = trim(line.substr(eq + 1));
        auto it = rules().find(key);
        if (it == rules().end()) {
            error = fmt::format("line {}: unknown key '{}'", line_no, key);
            return false;
        }
        if (!it->second.set(opts, value)) {
            error = fmt::format("line {}: bad value '{}' for {}", line_no, value, key);
            if (!it->second.expected.empty())
                error += fmt::format(" (expected {})", it->second.expected);
            return false;
        }
    }
    return true;
}

}  // namespace corocket::testing
