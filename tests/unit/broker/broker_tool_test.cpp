// The broker.conf parser of corocket-broker, the errors of a cluster that cannot bind its ports,
// and TLS on the broker ports.
#include "broker_client.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

TEST_CASE("parse_cluster_config reads broker.conf-style settings and reports the first bad line")
{
    testing::cluster_options o;
    std::string error;
    const char* text = R"(# embedded cluster
brokerClusterName = DemoCluster
brokerName=broker-x, broker-y
autoCreateTopicEnable=false
defaultTopicQueueNums=4
transactionCheckInterval=2000
delayTimeScale=0.5
namesrvPort=19876
listenPort=20911
storePathRootDir=/tmp/store
withSlave=true
slaveListenPort=20912
slaveReadEnable=true
slaveSyncInterval=500
memoryBytes=65536
)";
    REQUIRE(testing::parse_cluster_config(text, o, error));
    CHECK(o.cluster_name == "DemoCluster");
    CHECK(o.broker_names == std::vector<std::string>{"broker-x", "broker-y"});
    CHECK(o.brokers == 2);
    CHECK(!o.auto_create_topic);
    CHECK(o.default_topic_queue_nums == 4);
    CHECK(o.transaction_check_interval == 2000ms);
    CHECK(o.delay_time_scale == 0.5);
    CHECK(o.namesrv_port == 19876);
    CHECK(o.broker_ports == std::vector<std::uint16_t>{20911});
    CHECK(o.data_dir == "/tmp/store");
    CHECK(o.slave);
    CHECK(o.slave_ports == std::vector<std::uint16_t>{20912});
    CHECK(o.slave_read_enable);
    CHECK(o.slave_sync_interval == 500ms);
    CHECK(o.memory_bytes == 65536);

    CHECK(!testing::parse_cluster_config("a=1\nnoSuchKey=2", o, error));
    CHECK(error == "line 1: unknown key 'a'");
    CHECK(!testing::parse_cluster_config("\ndefaultTopicQueueNums=many", o, error));
    CHECK(error == "line 2: bad value 'many' for defaultTopicQueueNums");
    CHECK(!testing::parse_cluster_config("justtext", o, error));
    CHECK(error == "line 1: expected key=value");
}

namespace {

using asio::ip::tcp;

/// A port that was free a moment ago (for a test that needs a fixed, unused port).
std::uint16_t unused_port()
{
    asio::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    return probe.local_endpoint().port();
}

/// Whether something on this machine listens on 127.0.0.1:`port` (binding it fails).
bool port_taken(std::uint16_t port)
{
    asio::io_context ioc;
    tcp::acceptor probe(ioc);
    error_code ec;
    probe.open(tcp::v4(), ec);
    probe.set_option(tcp::acceptor::reuse_address(true), ec);
    probe.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
    return ec == asio::error::address_in_use;
}

}  // namespace

TEST_CASE("start: a port that cannot be bound is an error naming the address, and nothing stays bound")
{
    asio::io_context ioc;
    tcp::acceptor taken(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const std::uint16_t busy = taken.local_endpoint().port();
    const std::uint16_t namesrv = unused_port();

    testing::cluster_options opts;
    opts.namesrv_port = namesrv;
    opts.broker_ports = {busy};
    testing::embedded_cluster cluster(ioc.get_executor(), opts);
    diagnostics diag;
    const auto ec = cluster.start(&diag);
    CHECK(ec == asio::error::address_in_use);
    CHECK(diag.client_message ==
          fmt::format("broker broker-a: cannot listen on 127.0.0.1:{}: {}", busy, ec.message()));
    CHECK(diag.client_message.find("Address already in use") != std::string::npos);
    CHECK(!port_taken(namesrv));  // the NameServer, bound first, was closed again
    CHECK(cluster.start());       // and a second try fails the same way

    opts.namesrv_port = 0;
    opts.broker_ports = {};
    opts.slave = true;
    opts.slave_ports = {busy};
    testing::embedded_cluster with_slave(ioc.get_executor(), opts);
    CHECK(with_slave.start(&diag) == asio::error::address_in_use);
    CHECK(diag.client_message.starts_with(fmt::format("slave broker-a: cannot listen on 127.0.0.1:{}: ", busy)));
}

namespace {

std::string tls_file(const char* name)
{
    return std::string(COROCKET_TEST_DATA_DIR) + "/tls/" + name;
}

asio::awaitable<command> route_over(asio::io_context& ioc, const std::string& address, bool tls)
{
    remoting::connection_options o;
    o.tls.enabled = tls;
    o.tls.ca_file = tls_file("ca.pem");
    o.tls.server_name = "localhost";
    remoting::connection conn(ioc.get_executor(), address, o);
    auto req = command::request(rc::get_routeinfo_by_topic);
    req.ext_fields.set("topic", "TBW102");
    auto [ec, resp] = co_await conn.async_call(std::move(req), {.timeout = 3s}, tuple_token);
    co_await conn.async_close(tuple_token);
    if (ec)
        resp.code = -1;
    co_return resp;
}

}  // namespace

TEST_CASE("TLS on the same ports: permissive accepts both, enforcing refuses plaintext")
{
    testing::cluster_options opts;
    opts.tls_cert_file = tls_file("server.pem");
    opts.tls_key_file = tls_file("server.key");
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        auto secure = co_await route_over(ioc, cluster.namesrv_address(), true);
        CHECK(secure.code == rs::success);
        auto plain = co_await route_over(ioc, cluster.namesrv_address(), false);
        CHECK(plain.code == rs::success);
        auto broker = co_await route_over(ioc, cluster.broker_address(), true);
        CHECK(broker.code == rs::request_code_not_supported);  // the broker does not serve routes
    });
    opts.tls_enforcing = true;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        auto plain = co_await route_over(ioc, cluster.namesrv_address(), false);
        CHECK(plain.code == -1);
        auto secure = co_await route_over(ioc, cluster.namesrv_address(), true);
        CHECK(secure.code == rs::success);
    });
    testing::cluster_options broken;
    broken.tls_cert_file = tls_file("missing.pem");
    broken.tls_key_file = tls_file("server.key");
    run_coro([&](asio::io_context& ioc) -> asio::awaitable<void> {
        testing::embedded_cluster cluster(ioc.get_executor(), broken);
        diagnostics diag;
        CHECK(cluster.start(&diag));
        CHECK(diag.client_message.starts_with("cannot load TLS certificate '" + broken.tls_cert_file + "'"));
        co_return;
    });
    testing::cluster_options half;
    half.tls_cert_file = tls_file("server.pem");
    run_coro([&](asio::io_context& ioc) -> asio::awaitable<void> {
        testing::embedded_cluster cluster(ioc.get_executor(), half);
        diagnostics diag;
        CHECK(cluster.start(&diag) == client_errc::invalid_argument);
        CHECK(diag.client_message == "TLS needs both a certificate file and a key file");
        co_return;
    });
}
