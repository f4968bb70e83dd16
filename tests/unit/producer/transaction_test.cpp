// Transactions against a cluster: commit visible, rollback never visible, unknown resolved by the
// check-back handler (both ways, also by another instance of the group), exceptions, and the
// check-back counters. The embedded cluster checks back every 200 ms; a real one at its own pace
// (60 s by default on 4.x), so these tests allow minutes there.
#include "producer_env.hpp"

#include <corocket/transactional_producer.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <stdexcept>

using namespace corocket;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::producer_env;
using test::tuple_token;

namespace {

bool real_cluster() { return std::getenv("COROCKET_NAMESRV") && *std::getenv("COROCKET_NAMESRV"); }

std::chrono::seconds time_limit() { return real_cluster() ? 400s : 60s; }
std::chrono::milliseconds check_wait() { return real_cluster() ? 180s : 15s; }

testing::cluster_options fast_checks()
{
    testing::cluster_options o;
    o.transaction_check_interval = 200ms;
    o.transaction_timeout = 300ms;
    return o;
}

transactional_producer_config tx_config(std::string group, std::vector<std::string> topics = {})
{
    transactional_producer_config cfg;
    cfg.producer.group = std::move(group);
    cfg.producer.topics = std::move(topics);
    return cfg;
}

// What the check-back handler saw.
struct check_log {
    int calls = 0;
    std::string topic, body, uniq_key, pgroup;
};

asio::awaitable<std::vector<producer_env::stored>> visible(producer_env& env, const std::string& topic)
{
    co_return co_await env.read_topic(topic, topic);
}

asio::awaitable<bool> becomes_visible(producer_env& env, const std::string& topic, std::string_view body)
{
    co_return co_await test::eventually(
        [&]() -> asio::awaitable<bool> {
            for (const auto& s : co_await visible(env, topic))
                if (s.body == body)
                    co_return true;
            co_return false;
        },
        check_wait());
}

}  // namespace

TEST_CASE("commit makes the half message visible; rollback never does")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        const auto topic = co_await env.make_topic("TxCommit", 1);
        int checks = 0;
        transactional_producer tp(env.client, tx_config("TxCommitGroup"), [&](const message_view&) {
            ++checks;
            return transaction_state::unknown;
        });
        REQUIRE_FALSE(tp.start());

        message m(topic, "commit me");
        m.set_tags("TagTx");
        m.set_delay_level(3);  // removed: half messages cannot be delayed
        std::string seen_tran, seen_pgroup, seen_tx_id;
        auto [ec, tr] = co_await tp.async_send_in_transaction(
            m,
            [&](const message& sent, const send_result& half) {
                seen_tran = sent.property("TRAN_MSG").value_or("");
                seen_pgroup = sent.property("PGROUP").value_or("");
                seen_tx_id = sent.property("__transactionId__").value_or("");
                CHECK_FALSE(sent.property("DELAY").has_value());
                CHECK(half.status == send_status::send_ok);
                return transaction_state::commit;
            },
            tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(tr.state == transaction_state::commit);
        CHECK(tr.local_transaction_ran);
        CHECK(tr.local_transaction_error.empty());
        CHECK_FALSE(tr.end_transaction_error);
        CHECK(seen_tran == "true");
        CHECK(seen_pgroup == "TxCommitGroup");
        CHECK(seen_tx_id == tr.half.transaction_id);
        CHECK(tr.half.transaction_id == tr.half.msg_id);

        auto [ec2, rolled] = co_await tp.async_send_in_transaction(
            message(topic, "roll me back"), [](const message&, const send_result&) { return transaction_state::rollback; },
            tuple_token);
        REQUIRE_FALSE(ec2);
        CHECK(rolled.state == transaction_state::rollback);

        REQUIRE(co_await becomes_visible(env, topic, "commit me"));
        co_await test::sleep_for(real_cluster() ? 3000ms : 800ms);
        auto all = co_await visible(env, topic);
        REQUIRE(all.size() == 1);
        CHECK(all[0].body == "commit me");
        CHECK(all[0].props.at("UNIQ_KEY") == tr.half.msg_id);
        CHECK(all[0].props.at("TAGS") == "TagTx");
        CHECK(all[0].props.count("DELAY") == 0);
        CHECK((all[0].sys_flag & sys_flag::transaction_mask) == sys_flag::transaction_commit);
        CHECK(checks == 0);  // both were decided at once: nothing to check
        co_await tp.async_stop(tuple_token);
        co_await env.stop();
    }, time_limit());
}

TEST_CASE("unknown is resolved by the check-back coroutine: commit and rollback")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        const auto topic = co_await env.make_topic("TxCheck", 1);
        check_log log;
        transactional_producer tp(
            env.client, tx_config("TxCheckGroup"), [&](const message_view& m) -> asio::awaitable<transaction_state> {
                ++log.calls;
                log.topic = std::string(m.topic());
                log.body = std::string(m.body());
                log.uniq_key = std::string(m.property("UNIQ_KEY").value_or(""));
                log.pgroup = std::string(m.property("PGROUP").value_or(""));
                co_await test::sleep_for(10ms);  // a check-back may itself wait for I/O
                co_return m.body() == "check says commit" ? transaction_state::commit : transaction_state::rollback;
            });
        REQUIRE_FALSE(tp.start());
        const auto unknown = [](const message&, const send_result&) { return transaction_state::unknown; };
        auto [ec1, t1] = co_await tp.async_send_in_transaction(message(topic, "check says commit"), unknown, tuple_token);
        REQUIRE_FALSE(ec1);
        CHECK(t1.state == transaction_state::unknown);
        auto [ec2, t2] = co_await tp.async_send_in_transaction(message(topic, "check says rollback"), unknown,
                                                               tuple_token);
        REQUIRE_FALSE(ec2);

        REQUIRE(co_await becomes_visible(env, topic, "check says commit"));
        const bool both = co_await test::eventually(
            [&]() -> asio::awaitable<bool> { co_return tp.stats().answered >= 2; }, check_wait());
        CHECK(both);
        CHECK(log.topic == topic);
        CHECK(log.pgroup == "TxCheckGroup");
        CHECK((log.uniq_key == t1.half.msg_id || log.uniq_key == t2.half.msg_id));
        co_await test::sleep_for(real_cluster() ? 3000ms : 800ms);
        auto all = co_await visible(env, topic);
        REQUIRE(all.size() == 1);
        CHECK(all[0].body == "check says commit");
        CHECK(all[0].props.at("UNIQ_KEY") == t1.half.msg_id);
        const auto stats = tp.stats();
        CHECK(stats.received >= 2);
        CHECK(stats.failed == 0);
        CHECK(stats.answered + stats.failed <= stats.received);
        co_await tp.async_stop(tuple_token);
        co_await env.stop();
    }, time_limit());
}

TEST_CASE("a local transaction that throws leaves the decision to the check-back, never crashes")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        const auto topic = co_await env.make_topic("TxThrow", 1);
        transactional_producer tp(env.client, tx_config("TxThrowGroup"),
                                  [](const message_view&) { return transaction_state::commit; });
        REQUIRE_FALSE(tp.start());
        auto [ec, tr] = co_await tp.async_send_in_transaction(
            message(topic, "thrown"),
            [](const message&, const send_result&) -> asio::awaitable<transaction_state> {
                co_await test::sleep_for(5ms);
                throw std::runtime_error("database down");
            },
            tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(tr.state == transaction_state::unknown);
        CHECK(tr.local_transaction_ran);
        CHECK(tr.local_transaction_error == "database down");
        REQUIRE(co_await becomes_visible(env, topic, "thrown"));
        CHECK(tp.stats().answered >= 1);

        // A check-back handler that throws answers UNKNOW (with the text) and counts as failed.
        transactional_producer thrower(env.client, tx_config("TxThrowCheckGroup"),
                                       [](const message_view&) -> transaction_state { throw std::logic_error("oops"); });
        REQUIRE_FALSE(thrower.start());
        auto [ec2, tr2] = co_await thrower.async_send_in_transaction(
            message(topic, "never decided"), [](const message&, const send_result&) { return transaction_state::unknown; },
            tuple_token);
        REQUIRE_FALSE(ec2);
        const bool failed = co_await test::eventually(
            [&]() -> asio::awaitable<bool> { co_return thrower.stats().failed >= 1; }, check_wait());
        CHECK(failed);
        co_await thrower.async_stop(tuple_token);
        co_await tp.async_stop(tuple_token);
        co_await env.stop();
    }, time_limit());
}

TEST_CASE("another producer of the group answers the check-back after the sender stopped")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        const auto topic = co_await env.make_topic("TxTakeover", 1);
        int first_checks = 0;
        auto first = std::make_unique<transactional_producer>(env.client, tx_config("TxTakeoverGroup"),
                                                              [&](const message_view&) {
                                                                  ++first_checks;
                                                                  return transaction_state::unknown;
                                                              });
        REQUIRE_FALSE(first->start());
        auto [ec, tr] = co_await first->async_send_in_transaction(
            message(topic, "finished by the second"),
            [](const message&, const send_result&) { return transaction_state::unknown; }, tuple_token);
        REQUIRE_FALSE(ec);
        co_await first->async_stop(tuple_token);  // unregisters: the broker must pick someone else
        const auto first_stats = first->stats();
        first.reset();

        corocket::client other(ioc.get_executor(), env.cluster.client_config_for());
        std::string seen;
        transactional_producer second(other, tx_config("TxTakeoverGroup", {topic}),
                                      [&](const message_view& m) -> asio::awaitable<transaction_state> {
                                          seen = std::string(m.property("UNIQ_KEY").value_or(""));
                                          co_return transaction_state::commit;
                                      });
        REQUIRE_FALSE(second.start());
        REQUIRE(co_await becomes_visible(env, topic, "finished by the second"));
        CHECK(seen == tr.half.msg_id);
        CHECK(second.stats().received >= 1);
        CHECK(second.stats().answered >= 1);
        CHECK(first_stats.answered == 0);
        co_await second.async_stop(tuple_token);
        co_await other.async_stop(tuple_token);
        co_await env.stop();
    }, time_limit());
}

TEST_CASE("a half message stored with a flush timeout is rolled back without running the local transaction")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        if (!env.embedded()) {
            WARN("skipped: needs response injection (embedded cluster)");
            co_return co_await env.stop();
        }
        const auto topic = co_await env.make_topic("TxFlush", 1);
        transactional_producer tp(env.client, tx_config("TxFlushGroup"),
                                  [](const message_view&) { return transaction_state::commit; });
        REQUIRE_FALSE(tp.start());
        env.broker().inject_response(remoting::request_code::send_message_v2,
                                     remoting::response_code::flush_disk_timeout, 1);
        bool ran = false;
        auto [ec, tr] = co_await tp.async_send_in_transaction(
            message(topic, "half flushed late"),
            [&](const message&, const send_result&) {
                ran = true;
                return transaction_state::commit;
            },
            tuple_token);
        REQUIRE_FALSE(ec);
        CHECK(tr.half.status == send_status::flush_disk_timeout);
        CHECK(tr.state == transaction_state::rollback);
        CHECK_FALSE(tr.local_transaction_ran);
        CHECK_FALSE(ran);
        co_await test::sleep_for(800ms);
        auto all = co_await visible(env, topic);
        CHECK(all.empty());
        co_await tp.async_stop(tuple_token);
        co_await env.stop();
    }, time_limit());
}

TEST_CASE("check-back handlers: their own timeout, and stop waits for the running ones")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, fast_checks());
        if (!env.embedded()) {
            WARN("skipped: relies on the embedded cluster's fast check-backs");
            co_return co_await env.stop();
        }
        const auto topic = co_await env.make_topic("TxSlowCheck", 1);
        auto cfg = tx_config("TxSlowCheckGroup");
        cfg.check_timeout = 100ms;
        bool slow = true;
        int started = 0, finished = 0;
        transactional_producer tp(env.client, cfg, [&](const message_view&) -> asio::awaitable<transaction_state> {
            ++started;
            co_await test::sleep_for(slow ? 5000ms : 50ms);
            ++finished;
            co_return transaction_state::commit;
        });
        REQUIRE_FALSE(tp.start());
        auto [ec, tr] = co_await tp.async_send_in_transaction(
            message(topic, "slowly checked"), [](const message&, const send_result&) { return transaction_state::unknown; },
            tuple_token);
        REQUIRE_FALSE(ec);
        const bool timed_out = co_await test::eventually(
            [&]() -> asio::awaitable<bool> { co_return tp.stats().failed >= 1; }, check_wait());
        CHECK(timed_out);
        CHECK(tp.stats().answered == 0);  // a timed-out check is not answered
        auto none = co_await visible(env, topic);
        CHECK(none.empty());

        slow = false;
        const bool running = co_await test::eventually(
            [&]() -> asio::awaitable<bool> { co_return started > finished; }, check_wait());
        REQUIRE(running);
        co_await tp.async_stop(tuple_token);
        CHECK(started == finished);  // stop waited for the handler that was running
        co_await env.stop();
    }, time_limit());
}
