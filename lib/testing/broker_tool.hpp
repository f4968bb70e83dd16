// The command line of corocket-broker (tools/corocket_broker.cpp), here so that tests can check
// which options and config keys reach the cluster and which ports it is given.
#pragma once

#include <corocket/testing/embedded_cluster.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace corocket::testing::detail {

/// The keys parse_cluster_config accepts, sorted.
std::vector<std::string_view> cluster_config_keys();

/// corocket-broker's --help text.
std::string broker_tool_usage();

struct broker_tool_command {
    cluster_options options;  ///< with every listen port decided (0 only where ephemeral)
    bool help = false;        ///< --help: print broker_tool_usage() and exit
    std::string error;        ///< a bad option, config file or combination (empty: none)
};

/// Reads the arguments (argv without the program name) and the --config files they name.
/// Options win over config files whatever their order; later files win over earlier ones.
broker_tool_command parse_broker_tool_command(const std::vector<std::string_view>& args);

}  // namespace corocket::testing::detail
