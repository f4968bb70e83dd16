// corocket-broker: the embedded NameServer + Broker as a standalone process, for demos and for
// running client tests from another process. Runs until SIGINT/SIGTERM; --help describes the
// options and config keys (lib/testing/broker_tool.cpp reads them).
//
//   corocket-broker [--port 9876] [--brokers N] [--slave] [--data-dir DIR] [--config broker.conf]
#include <corocket/testing/embedded_cluster.hpp>

#include "testing/broker_tool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;

namespace {

void print_addresses(const corocket::testing::embedded_cluster& cluster)
{
    std::printf("namesrv %s\n", cluster.namesrv_address().c_str());
    for (std::size_t i = 0; i < cluster.broker_count(); ++i) {
        std::printf("broker %s %s\n", cluster.broker_name(i).c_str(), cluster.broker_address(i).c_str());
        if (cluster.options().slave)
            std::printf("slave %s %s\n", cluster.broker_name(i).c_str(), cluster.slave_address(i).c_str());
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv)
{
    auto cmd = corocket::testing::detail::parse_broker_tool_command(std::vector<std::string_view>(argv + 1, argv + argc));
    if (cmd.help) {
        std::fputs(corocket::testing::detail::broker_tool_usage().c_str(), stdout);
        return 0;
    }
    if (!cmd.error.empty()) {
        std::fprintf(stderr, "corocket-broker: %s\n", cmd.error.c_str());
        return 2;
    }
    cmd.options.log = corocket::logger(corocket::log_level::info, [](corocket::log_level l, std::string_view m) {
        std::fprintf(stderr, "[%s] %.*s\n", corocket::to_string(l), static_cast<int>(m.size()), m.data());
    });

    asio::io_context ioc{1};
    // Registered before anything else so that an early SIGTERM also stops cleanly.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    corocket::testing::embedded_cluster cluster(ioc.get_executor(), cmd.options);
    corocket::diagnostics diag;
    if (auto ec = cluster.start(&diag)) {
        const std::string why = diag.client_message.empty() ? ec.message() : diag.client_message;
        std::fprintf(stderr, "corocket-broker: cannot start: %s\n", why.c_str());
        return 1;
    }
    print_addresses(cluster);

    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        cluster.async_stop([](boost::system::error_code) {});
    });
    ioc.run();
    return 0;
}
