// corocket-broker: the embedded NameServer + Broker as a standalone process, for demos and for
// running client tests from another process. Runs until SIGINT/SIGTERM.
//
//   corocket-broker [--port 9876] [--brokers N] [--slave] [--data-dir DIR] [--config broker.conf]
#include <corocket/testing/embedded_cluster.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using corocket::testing::cluster_options;

namespace {

constexpr const char* usage =
    "usage: corocket-broker [--port PORT] [--brokers N] [--slave] [--data-dir DIR] [--config FILE]\n"
    "  --port PORT      NameServer port (default 9876; brokers listen on 10911, 10921, ...,\n"
    "                   their slaves on 11911, 11921, ...; 0 = ephemeral ports for everything)\n"
    "  --brokers N      number of brokers (default 1)\n"
    "  --slave          give each broker a slave (broker id 1) that serves reads\n"
    "  --data-dir DIR   persist messages, offsets and topics under DIR\n"
    "  --config FILE    broker.conf-style key=value settings (see embedded_cluster.hpp)\n";

std::optional<int> to_int(std::string_view s)
{
    try {
        std::size_t used = 0;
        int v = std::stoi(std::string(s), &used);
        return used == s.size() ? std::optional<int>(v) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

/// Parses the command line into `opts`; an error message, or empty on success.
std::string parse_args(int argc, char** argv, cluster_options& opts)
{
    std::optional<int> port;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h")
            return usage;
        if (arg == "--slave") {
            opts.slave = true;
            continue;
        }
        if (i + 1 >= argc)
            return fmt::format("{} needs a value\n{}", arg, usage);
        const std::string_view value = argv[++i];
        if (arg == "--port") {
            port = to_int(value);
            if (!port || *port < 0 || *port > 65535)
                return fmt::format("bad port '{}'\n", value);
        } else if (arg == "--brokers") {
            auto n = to_int(value);
            if (!n || *n < 1 || *n > 26)
                return fmt::format("bad broker count '{}'\n", value);
            opts.brokers = static_cast<std::size_t>(*n);
        } else if (arg == "--data-dir") {
            opts.data_dir = std::string(value);
        } else if (arg == "--config") {
            std::ifstream in{std::string(value)};
            if (!in)
                return fmt::format("cannot read config file '{}'\n", value);
            const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::string error;
            if (!corocket::testing::parse_cluster_config(text, opts, error))
                return fmt::format("{}: {}\n", value, error);
        } else {
            return fmt::format("unknown option '{}'\n{}", arg, usage);
        }
    }
    auto default_broker_ports = [&opts] {
        for (std::size_t b = 0; b < opts.brokers; ++b) {
            opts.broker_ports.push_back(static_cast<std::uint16_t>(10911 + 10 * b));
            opts.slave_ports.push_back(static_cast<std::uint16_t>(11911 + 10 * b));
        }
    };
    if (port) {
        opts.namesrv_port = static_cast<std::uint16_t>(*port);
        opts.broker_ports.clear();
        opts.slave_ports.clear();
        if (*port != 0)
            default_broker_ports();
    } else if (opts.namesrv_port == 0 && opts.broker_ports.empty()) {
        opts.namesrv_port = 9876;
        default_broker_ports();
    }
    return {};
}

}  // namespace

int main(int argc, char** argv)
{
    cluster_options opts;
    if (auto message = parse_args(argc, argv, opts); !message.empty()) {
        std::fputs(message.c_str(), stderr);
        return message == usage ? 0 : 2;
    }
    opts.log = corocket::logger(corocket::log_level::info, [](corocket::log_level l, std::string_view m) {
        std::fprintf(stderr, "[%s] %.*s\n", corocket::to_string(l), static_cast<int>(m.size()), m.data());
    });

    asio::io_context ioc{1};
    // Registered before anything else so that an early SIGTERM also stops cleanly.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    corocket::testing::embedded_cluster cluster(ioc.get_executor(), opts);
    if (auto ec = cluster.start()) {
        std::fprintf(stderr, "corocket-broker: cannot start: %s\n", ec.message().c_str());
        return 1;
    }
    std::printf("namesrv %s\n", cluster.namesrv_address().c_str());
    for (std::size_t i = 0; i < cluster.broker_count(); ++i) {
        std::printf("broker %s %s\n", cluster.broker_name(i).c_str(), cluster.broker_address(i).c_str());
        if (opts.slave)
            std::printf("slave %s %s\n", cluster.broker_name(i).c_str(), cluster.slave_address(i).c_str());
    }
    std::fflush(stdout);

    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        cluster.async_stop([](boost::system::error_code) {});
    });
    ioc.run();
    return 0;
}
