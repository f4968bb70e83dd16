// Where the examples find a cluster when the command line names none: COROCKET_NAMESRV, the
// variable the integration tests read, so one setting points tests and examples at a real cluster.
#pragma once

#include <cstdlib>
#include <string>

namespace example {

/// COROCKET_NAMESRV ("host:port"), or empty: start the embedded NameServer + Broker.
inline std::string namesrv_from_env()
{
    const char* v = std::getenv("COROCKET_NAMESRV");
    return v ? std::string(v) : std::string();
}

}  // namespace example
