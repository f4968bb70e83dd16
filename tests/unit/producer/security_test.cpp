// ACL signing and TLS, end to end: on the embedded broker, or on the real brokers named by
// COROCKET_ACL_NAMESRV and COROCKET_TLS_NAMESRV (tools/rocketmq/cluster.sh start --acl / --tls;
// the ACL accounts below are those of tools/rocketmq/plain_acl.yml).
#include "producer_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

using namespace corocket;
namespace asio = boost::asio;
using test::producer_env;
using test::tuple_token;

namespace {

producer_config config_for(std::string group)
{
    producer_config cfg;
    cfg.group = test::test_cluster::unique_name(group);
    return cfg;
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
        producer p(env.client, config_for("ProducerAclGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec, r] = co_await p.async_send(message(topic, "signed"), tuple_token);
        REQUIRE_FALSE(ec);
        auto stored = co_await env.view(r.offset_msg_id);
        CHECK(stored.messages()[0].body() == "signed");

        // A wrong secret: the broker refuses the signature (4.9 answers SYSTEM_ERROR with an
        // AclException remark, not NO_PERMISSION).
        auto bad_cfg = env.cluster.client_config_for();
        bad_cfg.credentials = {"producer-ak", "wrong-secret", ""};
        corocket::client bad_client(ioc.get_executor(), bad_cfg);
        producer bad(bad_client, config_for("ProducerAclBadGroup"));
        REQUIRE_FALSE(bad.start());
        auto [ec2, r2] = co_await bad.async_send(message(topic, "forged"), tuple_token);
        CHECK(ec2.category() == broker_category());
        CHECK_FALSE(r2.diag.remark.empty());
        co_await bad.async_stop(tuple_token);
        co_await bad_client.async_stop(tuple_token);
        co_await p.async_stop(tuple_token);
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
        producer p(env.client, config_for("ProducerTlsGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec, r] = co_await p.async_send(message(topic, "over tls"), tuple_token);
        REQUIRE_FALSE(ec);
        auto stored = co_await env.view(r.offset_msg_id);
        CHECK(stored.messages()[0].body() == "over tls");

        // The same cluster in plaintext: an enforcing server never answers, so the route lookup
        // fails and the send with it.
        auto plain_cfg = env.cluster.client_config_for();
        plain_cfg.tls = {};
        corocket::client plain_client(ioc.get_executor(), plain_cfg);
        producer plain(plain_client, config_for("ProducerPlainGroup"));
        REQUIRE_FALSE(plain.start());
        send_options quick;
        quick.timeout = std::chrono::seconds(3);
        auto [ec2, r2] = co_await plain.async_send(message(topic, "in the clear"), quick, tuple_token);
        CHECK(ec2);
        co_await plain.async_stop(tuple_token);
        co_await plain_client.async_stop(tuple_token);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}
