// Where integration tests find a cluster: the real one named by COROCKET_NAMESRV=host:port when
// it is set, otherwise an embedded NameServer + Broker started on the test's io_context.
// Tests must only rely on behaviour real Apache RocketMQ has: they run against both.
#pragma once

#include <corocket/client.hpp>
#include <corocket/testing/embedded_cluster.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace corocket::test {

class test_cluster {
public:
    /// Starts the embedded cluster (with `opts`) unless a real one is named. Tests that ask for
    /// ACL (`opts.acl_enable`) use COROCKET_ACL_NAMESRV, a real broker started by
    /// `tools/rocketmq/cluster.sh start --acl` (accounts in tools/rocketmq/plain_acl.yml); tests
    /// that ask for TLS (`opts.tls_cert_file`) use COROCKET_TLS_NAMESRV (`cluster.sh start --tls`,
    /// certificate from tests/data/tls); every other test uses COROCKET_NAMESRV.
    explicit test_cluster(boost::asio::any_io_executor ex, testing::cluster_options opts = {});
    ~test_cluster();

    /// True when running on the embedded cluster (fault injection is only possible there).
    bool embedded() const noexcept { return embedded_ != nullptr; }
    /// False when the options asked for ACL or TLS but COROCKET_NAMESRV named a real cluster
    /// without them (and no COROCKET_ACL_NAMESRV / COROCKET_TLS_NAMESRV was set): skip the test.
    bool has_requested_security() const noexcept { return !missing_security_; }
    /// The embedded cluster, or nullptr on a real one.
    testing::embedded_cluster* embedded_cluster() noexcept { return embedded_.get(); }
    /// "host:port" of the name server.
    const std::string& namesrv() const noexcept { return namesrv_; }

    /// A client_config pointing at this cluster (short intervals for tests).
    client_config client_config_for() const;

    /// Options asking for an ACL cluster, with the account of tools/rocketmq/plain_acl.yml that
    /// test clients sign with (acl_credentials()).
    static testing::cluster_options acl_options(testing::cluster_options base = {});
    static credentials acl_test_credentials() { return {"producer-ak", "producer-sk", ""}; }
    /// Options asking for a TLS-only cluster with the certificate in tests/data/tls.
    static testing::cluster_options tls_options(testing::cluster_options base = {});

    /// A topic name unique to this run (so repeated runs on a real cluster never collide).
    static std::string unique_name(std::string_view prefix);

    /// Creates `topic` with `queues` read/write queues on every broker (UPDATE_AND_CREATE_TOPIC
    /// to each master, as mqadmin updateTopic does), then waits until the name server routes it.
    boost::asio::awaitable<error_code> create_topic(const std::string& topic, int queues = 4);

    /// Stops the embedded cluster (no-op on a real one).
    boost::asio::awaitable<void> stop();

private:
    boost::asio::any_io_executor ex_;
    std::unique_ptr<testing::embedded_cluster> embedded_;
    std::string namesrv_;
    bool acl_ = false;
    bool tls_ = false;
    bool missing_security_ = false;
};

}  // namespace corocket::test
