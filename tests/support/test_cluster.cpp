#include "test_cluster.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <random>

namespace asio = boost::asio;

namespace corocket::test {
namespace {
constexpr auto tuple_token = asio::as_tuple(asio::deferred);
}

test_cluster::test_cluster(asio::any_io_executor ex, testing::cluster_options opts) : ex_(std::move(ex))
{
    if (const char* env = std::getenv("COROCKET_NAMESRV"); env && *env) {
        namesrv_ = env;
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
    return cfg;
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
    corocket::client admin(ex_, client_config_for());
    auto [ec, info] = co_await admin.async_cluster_info(tuple_token);
    if (ec)
        co_return ec;
    for (const auto& [name, broker] : info.broker_addr_table) {
        auto req = remoting::command::request(remoting::request_code::update_and_create_topic);
        req.ext_fields.set("topic", topic);
        req.ext_fields.set("defaultTopic", "TBW102");
        req.ext_fields.set("readQueueNums", std::to_string(queues));
        req.ext_fields.set("writeQueueNums", std::to_string(queues));
        req.ext_fields.set("perm", "6");
        req.ext_fields.set("topicFilterType", "SINGLE_TAG");
        req.ext_fields.set("topicSysFlag", "0");
        req.ext_fields.set("order", "false");
        auto [cec, resp] = co_await admin.async_invoke(broker.master_address(), std::move(req), {}, tuple_token);
        if (cec)
            co_return cec;
        if (resp.code != remoting::response_code::success)
            co_return make_broker_error(resp.code);
    }
    // Brokers register new topics with the name server on their next registration.
    asio::steady_timer timer(ex_);
    for (int i = 0; i < 100; ++i) {
        auto [rec, route] = co_await admin.async_update_route(topic, tuple_token);
        if (!rec)
            break;
        timer.expires_after(std::chrono::milliseconds(300));
        co_await timer.async_wait(tuple_token);
    }
    co_await admin.async_stop(tuple_token);
    co_return error_code{};
}

asio::awaitable<void> test_cluster::stop()
{
    if (embedded_)
        co_await embedded_->async_stop(tuple_token);
}

}  // namespace corocket::test
