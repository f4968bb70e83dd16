// ACL signing and TLS, end to end: on the embedded broker, or on the real brokers named by
// COROCKET_ACL_NAMESRV and COROCKET_TLS_NAMESRV (tools/rocketmq/cluster.sh start --acl / --tls;
// the ACL accounts below are those of tools/rocketmq/plain_acl.yml).
#include "producer_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

using namespace corocket;
namespace asio = boost::asio;
using test::config_for;
using test::producer_env;
using test::tuple_token;

namespace {

// Sends `body` with a producer on env's client and checks the broker stored it.
asio::awaitable<void> send_and_read_back(producer_env& env, const std::string& topic, std::string body)
{
    producer p(env.client, config_for(test::test_cluster::unique_name("ProducerSecure")));
    REQUIRE_FALSE(p.start());
    auto [ec, r] = co_await p.async_send(message(topic, body), tuple_token);
    REQUIRE_FALSE(ec);
    auto stored = co_await env.view(r.offset_msg_id);
    CHECK(stored.messages()[0].body() == body);
    co_await p.async_stop(tuple_token);
}

// The error of one send (3 s at most) from a client of the same cluster configured by `tweak`,
// with the diagnostics it came with.
asio::awaitable<std::pair<error_code, send_result>> send_from_other_client(
    asio::io_context& ioc, producer_env& env, std::string topic, std::function<void(client_config&)> tweak)
{
    auto cfg = env.cluster.client_config_for();
    tweak(cfg);
    corocket::client other(ioc.get_executor(), cfg);
    producer p(other, config_for(test::test_cluster::unique_name("ProducerOther")));
    REQUIRE_FALSE(p.start());
    send_options quick;
    quick.timeout = std::chrono::seconds(3);
    auto [ec, r] = co_await p.async_send(message(topic, "from the other client"), quick, tuple_token);
    co_await p.async_stop(tuple_token);
    co_await other.async_stop(tuple_token);
    co_return std::pair{ec, r};
}

}  // namespace

TEST_CASE("ACL credentials from the client configuration sign every send", "[acl]")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, test::test_cluster::acl_options(),
                         [](client_config& c) { c.credentials = test::test_cluster::acl_test_credentials(); });
        if (!env.cluster.has_requested_security()) {
            WARN("skipped: COROCKET_NAMESRV has no ACL; set COROCKET_ACL_NAMESRV (cluster.sh start --acl)");
            co_return co_await env.stop();
        }
        const auto topic = co_await env.make_topic("ProducerAcl", 1);
        co_await send_and_read_back(env, topic, "signed");
        // A wrong secret: the broker refuses the signature (4.9 answers SYSTEM_ERROR with an
        // AclException remark, not NO_PERMISSION).
        auto [ec, r] = co_await send_from_other_client(ioc, env, topic, [](client_config& c) {
            c.credentials = {"producer-ak", "wrong-secret", ""};
        });
        CHECK(ec.category() == broker_category());
        CHECK_FALSE(r.diag.remark.empty());
        co_await env.stop();
    });
}

TEST_CASE("TLS: a client trusting the test CA sends and reads back; a plaintext client is refused", "[tls]")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, test::test_cluster::tls_options());
        if (!env.cluster.has_requested_security()) {
            WARN("skipped: COROCKET_NAMESRV has no TLS; set COROCKET_TLS_NAMESRV (cluster.sh start --tls)");
            co_return co_await env.stop();
        }
        const auto topic = co_await env.make_topic("ProducerTls", 1);
        co_await send_and_read_back(env, topic, "over tls");
        // The same cluster in plaintext: an enforcing server never answers, so the route lookup
        // fails and the send with it.
        auto [ec, r] = co_await send_from_other_client(ioc, env, topic, [](client_config& c) { c.tls = {}; });
        CHECK(ec);
        co_await env.stop();
    });
}
