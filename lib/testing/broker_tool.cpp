// corocket-broker's command line: options, config files, and the ports every listener gets.
#include "testing/broker_tool.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>

namespace corocket::testing::detail {

namespace {

constexpr std::uint16_t default_namesrv_port = 9876;
constexpr int default_broker_port = 10911;
constexpr int broker_port_step = 10;  // broker i listens on listenPort + 10 i
constexpr int slave_port_offset = 1000;
constexpr std::size_t max_brokers = 26;

/// What the options say; applied after the config files, so they win whatever the order.
struct tool_flags {
    std::optional<std::uint16_t> port;
    std::optional<std::size_t> brokers;
    bool slave = false;
    std::optional<std::string> data_dir;
    std::vector<std::string> configs;
};

template <class Int>
std::optional<Int> to_number(std::string_view s, long long lo, long long hi)
{
    try {
        std::size_t used = 0;
        const long long v = std::stoll(std::string(s), &used);
        if (used != s.size() || v < lo || v > hi)
            return std::nullopt;
        return static_cast<Int>(v);
    } catch (...) {
        return std::nullopt;
    }
}

bool takes_value(std::string_view arg)
{
    return arg == "--port" || arg == "--brokers" || arg == "--data-dir" || arg == "--config";
}

/// One option that takes_value; an error message, or empty.
std::string read_option(std::string_view arg, std::string_view value, tool_flags& flags)
{
    if (arg == "--port") {
        flags.port = to_number<std::uint16_t>(value, 0, 65535);
        return flags.port ? "" : fmt::format("bad port '{}'", value);
    }
    if (arg == "--brokers") {
        flags.brokers = to_number<std::size_t>(value, 1, max_brokers);
        return flags.brokers ? "" : fmt::format("bad broker count '{}' (expected 1 to {})", value, max_brokers);
    }
    if (arg == "--data-dir")
        flags.data_dir = std::string(value);
    else
        flags.configs.emplace_back(value);
    return {};
}

/// Fills `flags` from the arguments; an error message, or empty.
std::string read_flags(const std::vector<std::string_view>& args, tool_flags& flags, bool& help)
{
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            return {};
        }
        if (arg == "--slave") {
            flags.slave = true;
            continue;
        }
        if (!takes_value(arg))
            return fmt::format("unknown option '{}' (see --help)", arg);
        if (i + 1 >= args.size())
            return fmt::format("{} needs a value", arg);
        if (auto e = read_option(arg, args[++i], flags); !e.empty())
            return e;
    }
    return {};
}

std::string read_config(const std::string& path, cluster_options& opts)
{
    std::ifstream in(path);
    if (!in)
        return fmt::format("cannot read config file '{}'", path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string error;
    if (!parse_cluster_config(text, opts, error))
        return fmt::format("{}: {}", path, error);
    return {};
}

/// `base`, `base` + 10, ... for `n` brokers (all 0, ephemeral, when `base` is 0).
std::string spread_ports(std::vector<std::uint16_t>& ports, int base, std::size_t n, std::string_view what)
{
    ports.clear();
    for (std::size_t b = 0; b < n; ++b) {
        const int port = base == 0 ? 0 : base + broker_port_step * static_cast<int>(b);
        if (port > 65535)
            return fmt::format("{} of broker {} would be {}, above 65535", what, b + 1, port);
        ports.push_back(static_cast<std::uint16_t>(port));
    }
    return {};
}

/// Every broker and slave port: the first one as configured (listenPort, slaveListenPort) or the
/// tool's default, the others 10 apart from it. A NameServer on an ephemeral port makes every
/// port that is not configured ephemeral too.
std::string assign_ports(cluster_options& opts)
{
    if (!opts.slave_ports.empty() && !opts.slave)
        return "slaveListenPort is set but there are no slaves (withSlave=true or --slave)";
    const bool ephemeral = opts.namesrv_port == 0;
    const int broker_base = !opts.broker_ports.empty() ? opts.broker_ports[0] : ephemeral ? 0 : default_broker_port;
    if (auto e = spread_ports(opts.broker_ports, broker_base, opts.brokers, "the port"); !e.empty())
        return e;
    if (!opts.slave) {
        opts.slave_ports.clear();
        return {};
    }
    const int slave_base = !opts.slave_ports.empty() ? opts.slave_ports[0]
                           : broker_base == 0        ? 0
                                                     : broker_base + slave_port_offset;
    return spread_ports(opts.slave_ports, slave_base, opts.brokers, "the slave port");
}

std::string check_brokers(const cluster_options& opts)
{
    if (opts.brokers > max_brokers)
        return fmt::format("{} brokers: at most {}", opts.brokers, max_brokers);
    if (opts.broker_names.size() > opts.brokers)
        return fmt::format("brokerName names {} brokers but there are {}", opts.broker_names.size(), opts.brokers);
    return {};
}

std::string build_options(const tool_flags& flags, cluster_options& opts)
{
    opts.namesrv_port = default_namesrv_port;  // before the files, so that namesrvPort=0 counts
    for (const auto& path : flags.configs)
        if (auto e = read_config(path, opts); !e.empty())
            return e;
    if (flags.port)
        opts.namesrv_port = *flags.port;
    if (flags.brokers)
        opts.brokers = *flags.brokers;
    if (flags.slave)
        opts.slave = true;
    if (flags.data_dir)
        opts.data_dir = *flags.data_dir;
    if (auto e = check_brokers(opts); !e.empty())
        return e;
    return assign_ports(opts);
}

std::string joined_keys()
{
    std::string out = "   ";
    std::size_t line = out.size();
    for (auto key : cluster_config_keys()) {
        if (line + key.size() + 1 > 96) {
            out += "\n   ";
            line = 3;
        }
        out += fmt::format(" {}", key);
        line += key.size() + 1;
    }
    return out + "\n";
}

}  // namespace

std::string broker_tool_usage()
{
    return "usage: corocket-broker [--port PORT] [--brokers N] [--slave] [--data-dir DIR] [--config FILE]...\n"
           "The embedded NameServer + Broker (a test tool) on 127.0.0.1, until SIGINT/SIGTERM. Once every\n"
           "port is bound it prints 'namesrv ADDR', 'broker NAME ADDR' (and 'slave NAME ADDR') lines; a\n"
           "port it cannot bind is an error (exit 1), as is a bad option or config file (exit 2).\n"
           "  --port PORT      NameServer port (default 9876; namesrvPort); 0 = ephemeral ports for\n"
           "                   every listener whose port is not configured\n"
           "  --brokers N      number of brokers, 1 to 26 (default 1; brokerCount)\n"
           "  --slave          give each broker a slave (broker id 1) that serves reads (withSlave)\n"
           "  --data-dir DIR   persist messages, offsets and topics under DIR (storePathRootDir)\n"
           "  --config FILE    broker.conf-style key=value lines, # comments; files apply in order,\n"
           "                   and the options above win over them\n"
           "Ports: broker i (0, 1, ...) listens on listenPort + 10 i (listenPort default 10911), its slave\n"
           "on slaveListenPort + 10 i (default listenPort + 1000).\n"
           "Config keys (see cluster_options in corocket/testing/embedded_cluster.hpp). Any other key,\n"
           "and any value the embedded broker would not honour, is an error rather than ignored:\n" +
           joined_keys() +
           "  brokerName takes a comma-separated list; brokerIP1 can only be 127.0.0.1; aclEnable only\n"
           "  false (a file cannot give ACL accounts).\n";
}

broker_tool_command parse_broker_tool_command(const std::vector<std::string_view>& args)
{
    broker_tool_command cmd;
    tool_flags flags;
    cmd.error = read_flags(args, flags, cmd.help);
    if (cmd.error.empty() && !cmd.help)
        cmd.error = build_options(flags, cmd.options);
    return cmd;
}

}  // namespace corocket::testing::detail
