// corocket-broker: its broker.conf parser and command line, the ports the cluster binds (and the
// errors when it cannot), and TLS on the broker ports.
#include "broker_client.hpp"
#include "testing/broker_tool.hpp"

#include <corocket/route.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>

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
brokerIP1=127.0.0.1
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

TEST_CASE("parse_cluster_config refuses values the embedded cluster would not honour")
{
    testing::cluster_options o;
    std::string error;
    CHECK(!testing::parse_cluster_config("brokerIP1=10.0.0.5", o, error));
    CHECK(error ==
          "line 1: bad value '10.0.0.5' for brokerIP1 (expected 127.0.0.1: the embedded cluster listens on "
          "loopback only)");
    CHECK(!testing::parse_cluster_config("aclEnable=true", o, error));
    CHECK(error == "line 1: bad value 'true' for aclEnable (expected false: a config file cannot give ACL "
                   "accounts, so every request would be denied)");
    CHECK(testing::parse_cluster_config("aclEnable=false", o, error));
    CHECK(!testing::parse_cluster_config("messageDelayLevel=1s 5x 10s", o, error));
    CHECK(error == "line 1: bad value '1s 5x 10s' for messageDelayLevel (expected levels such as '1s 5m 2h' "
                   "(units s, m, h, d))");
    CHECK(testing::parse_cluster_config("messageDelayLevel=1s 5m  2h 1d", o, error));
    CHECK(o.message_delay_level == "1s 5m  2h 1d");
    CHECK(!testing::parse_cluster_config("brokerCount=0", o, error));
    CHECK(error == "line 1: bad value '0' for brokerCount (expected a count of at least 1)");
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

/// A config file that exists for the lifetime of the object.
class config_file {
public:
    explicit config_file(const std::string& text)
        : path_((std::filesystem::temp_directory_path() / fmt::format("corocket-tool-{}.conf", std::random_device{}()))
                    .string())
    {
        std::ofstream(path_) << text;
    }
    ~config_file() { std::filesystem::remove(path_); }
    config_file(const config_file&) = delete;
    config_file& operator=(const config_file&) = delete;
    std::string_view path() const { return path_; }

private:
    std::string path_;
};

testing::detail::broker_tool_command tool(std::vector<std::string_view> args)
{
    return testing::detail::parse_broker_tool_command(args);
}

using ports = std::vector<std::uint16_t>;

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

TEST_CASE("corocket-broker: listenPort from a config file is where the broker listens and what it announces")
{
    const std::uint16_t port = unused_port();
    config_file conf(fmt::format("# as in the issue: --port given as well\nlistenPort={}\n", port));
    auto cmd = tool({"--port", "0", "--config", conf.path()});
    REQUIRE(cmd.error.empty());
    CHECK(cmd.options.namesrv_port == 0);
    CHECK(cmd.options.broker_ports == ports{port});
    const std::string expected = fmt::format("127.0.0.1:{}", port);
    with_cluster(cmd.options, [&](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        CHECK(cluster.broker_address(0) == expected);
        CHECK(port_taken(port));
        test_client ns(ioc.get_executor(), cluster.namesrv_address());
        auto req = command::request(rc::get_routeinfo_by_topic);
        req.ext_fields.set("topic", "TBW102");
        auto resp = co_await ns.call(std::move(req));
        REQUIRE(resp.code == rs::success);
        topic_route route;
        REQUIRE(!parse_topic_route(resp.body, route));
        REQUIRE(route.find_broker("broker-a"));
        CHECK(route.find_broker("broker-a")->master_address() == expected);
        co_await ns.close();
        // The broker itself answers there (it does not serve routes).
        test_client broker(ioc.get_executor(), expected);
        auto direct = command::request(rc::get_routeinfo_by_topic);
        direct.ext_fields.set("topic", "TBW102");
        auto answer = co_await broker.call(std::move(direct));
        CHECK(answer.code == rs::request_code_not_supported);
        co_await broker.close();
    });

    // The same file through the tool, with the port now taken: an error naming it.
    asio::io_context ioc;
    tcp::acceptor taken(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    testing::embedded_cluster cluster(ioc.get_executor(), cmd.options);
    diagnostics diag;
    CHECK(cluster.start(&diag) == asio::error::address_in_use);
    CHECK(diag.client_message.starts_with(fmt::format("broker broker-a: cannot listen on {}: ", expected)));
}

TEST_CASE("corocket-broker: the ports every listener gets, from options and config files in any order")
{
    auto plain = tool({});
    REQUIRE(plain.error.empty());
    CHECK(plain.options.namesrv_port == 9876);
    CHECK(plain.options.broker_ports == ports{10911});
    CHECK(plain.options.slave_ports.empty());

    auto two = tool({"--brokers", "2", "--slave"});
    CHECK(two.options.broker_ports == ports{10911, 10921});
    CHECK(two.options.slave_ports == ports{11911, 11921});

    config_file conf("listenPort=20911\nbrokerCount=2\nwithSlave=true\nnamesrvPort=29876\nstorePathRootDir=/tmp/a\n");
    for (auto cmd : {tool({"--port", "19876", "--config", conf.path(), "--data-dir", "/tmp/b"}),
                     tool({"--data-dir", "/tmp/b", "--config", conf.path(), "--port", "19876"})}) {
        REQUIRE(cmd.error.empty());
        CHECK(cmd.options.namesrv_port == 19876);  // the option wins over namesrvPort
        CHECK(cmd.options.broker_ports == ports{20911, 20921});
        CHECK(cmd.options.slave_ports == ports{21911, 21921});
        CHECK(cmd.options.data_dir == "/tmp/b");
    }
    auto from_file = tool({"--config", conf.path()});
    CHECK(from_file.options.namesrv_port == 29876);
    CHECK(from_file.options.data_dir == "/tmp/a");

    config_file namesrv_only("namesrvPort=19876\n");
    CHECK(tool({"--config", namesrv_only.path()}).options.broker_ports == ports{10911});
    config_file ephemeral("namesrvPort=0\nslaveListenPort=21000\nwithSlave=true\nbrokerCount=2\n");
    auto eph = tool({"--config", ephemeral.path()});
    CHECK(eph.options.namesrv_port == 0);
    CHECK(eph.options.broker_ports == ports{0, 0});
    CHECK(eph.options.slave_ports == ports{21000, 21010});
}

TEST_CASE("corocket-broker: options and config files it cannot honour are errors")
{
    CHECK(tool({"--help"}).help);
    CHECK(tool({"--bogus"}).error == "unknown option '--bogus' (see --help)");
    CHECK(tool({"--port"}).error == "--port needs a value");
    CHECK(tool({"--port", "65536"}).error == "bad port '65536'");
    CHECK(tool({"--brokers", "27"}).error == "bad broker count '27' (expected 1 to 26)");
    CHECK(tool({"--config", "/nonexistent/broker.conf"}).error == "cannot read config file '/nonexistent/broker.conf'");

    config_file unknown("listenPort=20911\nbrokerId=0\n");
    CHECK(tool({"--config", unknown.path()}).error == fmt::format("{}: line 2: unknown key 'brokerId'", unknown.path()));
    config_file orphan_slave_port("slaveListenPort=21911\n");
    CHECK(tool({"--config", orphan_slave_port.path()}).error ==
          "slaveListenPort is set but there are no slaves (withSlave=true or --slave)");
    CHECK(tool({"--config", orphan_slave_port.path(), "--slave"}).error.empty());
    config_file names("brokerName=x,y\n");
    CHECK(tool({"--config", names.path(), "--brokers", "1"}).error == "brokerName names 2 brokers but there are 1");
    config_file many("brokerCount=30\n");
    CHECK(tool({"--config", many.path()}).error == "30 brokers: at most 26");
    config_file high("listenPort=65530\nbrokerCount=2\n");
    CHECK(tool({"--config", high.path()}).error == "the port of broker 2 would be 65540, above 65535");

    // --help lists every key the parser accepts.
    const std::string usage = testing::detail::broker_tool_usage();
    for (auto key : testing::detail::cluster_config_keys())
        CHECK(usage.find(fmt::format(" {}", key)) != std::string::npos);
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
