#include "test_cluster.hpp"

#include <corocket/testing/topics.hpp>

#include <boost/asio/as_tuple.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <random>

namespace asio = boost::asio;

namespace corocket::test {
namespace {
constexpr auto tuple_token = asio::as_tuple(asio::deferred);
}

test_cluster::test_cluster(asio::any_io_executor ex, testing::cluster_options opts)
    : ex_(std::move(ex)), acl_(opts.acl_enable), tls_(!opts.tls_cert_file.empty())
{
    const char* wanted = acl_ ? "COROCKET_ACL_NAMESRV" : tls_ ? "COROCKET_TLS_NAMESRV" : "COROCKET_NAMESRV";
    if (const char* env = std::getenv(wanted); env && *env) {
        namesrv_ = env;
        return;
    }
    if (const char* env = std::getenv("COROCKET_NAMESRV"); env && *env) {
        namesrv_ = env;
        missing_security_ = acl_ || tls_;
        return;
    }
    embedded_ = std::make_unique<testing::embedded_cluster>(ex_, std::move(opts));
    auto ec = embedded_->start();
    if (ec)
        FAIL("embedded cluster did not start: " << ec.message());
    namesrv_ = embedded_->namesrv_address();
}

test_cluster::~test_cluster() = default;

client_config test_cluster::client_config_for() const
{
    client_config cfg;
    cfg.namesrv_addr = namesrv_;
    cfg.rpc_timeout = std::chrono::seconds(5);
    if (tls_) {
        cfg.tls.enabled = true;
        cfg.tls.ca_file = std::string(COROCKET_TEST_DATA_DIR) + "/tls/ca.pem";
    }
    return cfg;
}

testing::cluster_options test_cluster::acl_options(testing::cluster_options base)
{
    base.acl_enable = true;
    testing::acl_account account;
    const auto creds = acl_test_credentials();
    account.access_key = creds.access_key;
    account.secret_key = creds.secret_key;
    account.default_topic_perm = "PUB|SUB";
    account.default_group_perm = "PUB|SUB";
    base.acl_accounts.push_back(account);
    return base;
}

testing::cluster_options test_cluster::tls_options(testing::cluster_options base)
{
    base.tls_cert_file = std::string(COROCKET_TEST_DATA_DIR) + "/tls/server.pem";
    base.tls_key_file = std::string(COROCKET_TEST_DATA_DIR) + "/tls/server.key";
    base.tls_enforcing = true;
    return base;
}

std::string test_cluster::unique_name(std::string_view prefix)
{
    static std::mt19937_64 rng{std::random_device{}()};
    return std::string(prefix) + "_" + std::to_string(rng() % 100000000);
}

asio::awaitable<error_code> test_cluster::create_topic(const std::string& topic, int queues)
{
    if (embedded_) {
        embedded_->create_topic(topic, queues);
        co_return error_code{};
    }
    auto cfg = client_config_for();
    if (acl_)  // UPDATE_AND_CREATE_TOPIC is for admin accounts (tools/rocketmq/plain_acl.yml)
        cfg.credentials = {"corocket-admin", "corocket-admin-sk", ""};
    corocket::client admin(ex_, cfg);
    auto [ec] = co_await testing::async_create_topic(admin, topic, queues, tuple_token);
    co_await admin.async_stop(tuple_token);
    co_return ec;
}

asio::awaitable<void> test_cluster::stop()
{
    if (embedded_)
        co_await embedded_->async_stop(tuple_token);
}

}  // namespace corocket::test
