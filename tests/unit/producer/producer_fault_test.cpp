// Sends under faults injected into the embedded cluster: busy brokers, dropped connections,
// slow brokers (timeouts, back-pressure), cancellation, broker fault avoidance. On a real
// cluster (COROCKET_NAMESRV) these skip with a warning: faults cannot be injected there.
#include "producer_env.hpp"

#include <corocket/producer.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace corocket;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace rc = remoting::request_code;
using test::config_for;
using test::producer_env;
using test::tuple_token;

namespace {

struct attempt_log : send_hook {
    const producer* p = nullptr;
    struct entry {
        std::string broker;
        int attempt;
        error_code error;
    };
    std::vector<entry> after;
    std::size_t peak_messages = 0, peak_bytes = 0;
    void before_send(const send_context&) override
    {
        if (p) {
            peak_messages = std::max(peak_messages, p->inflight_messages());
            peak_bytes = std::max(peak_bytes, p->inflight_bytes());
        }
    }
    void after_send(const send_context& c) override { after.push_back({std::string(c.broker_name), c.attempt, c.error}); }
};

testing::cluster_options two_brokers()
{
    testing::cluster_options o;
    o.brokers = 2;
    return o;
}

bool skip_unless_embedded(const producer_env& env)
{
    if (env.embedded())
        return false;
    WARN("skipped: faults can only be injected into the embedded cluster");
    return true;
}

}  // namespace

TEST_CASE("SYSTEM_BUSY from one broker is retried on the other broker")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, two_brokers());
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultBusy");
        auto log = std::make_shared<attempt_log>();
        auto cfg = config_for("FaultBusyGroup");
        cfg.hooks.push_back(log);
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        // Each broker answers its next send SYSTEM_BUSY: the send goes X (busy), Y (busy), X.
        env.broker().inject_response(rc::send_message_v2, remoting::response_code::system_busy, 1);
        auto [ec, r] = co_await p.async_send(message(topic, "busy"), tuple_token);
        REQUIRE_FALSE(ec);
        REQUIRE(log->after.size() == 3);
        CHECK(log->after[0].error == make_broker_error(remoting::response_code::system_busy));
        CHECK(log->after[1].error == make_broker_error(remoting::response_code::system_busy));
        CHECK_FALSE(log->after[2].error);
        CHECK(log->after[2].attempt == 2);
        CHECK(log->after[0].broker != log->after[1].broker);  // each retry on another broker
        CHECK(log->after[2].broker == log->after[0].broker);
        CHECK(r.queue.broker_name == log->after[2].broker);
        CHECK_THAT(r.diag.client_message, Catch::Contains("attempt 2"));
        auto stored = co_await env.view(r.offset_msg_id);
        CHECK(stored.messages()[0].body() == "busy");

        // Retries run out: the last broker error comes back, with every attempt in the diagnostics.
        log->after.clear();
        env.broker().inject_response(rc::send_message_v2, remoting::response_code::system_busy, 3);
        auto [ec2, r2] = co_await p.async_send(message(topic, "busy again"), tuple_token);
        CHECK(ec2 == make_broker_error(remoting::response_code::system_busy));
        CHECK(log->after.size() == 3);
        CHECK_THAT(r2.diag.client_message, Catch::Contains("attempt 3"));
        env.broker().inject_response(rc::send_message_v2, 0, 0);  // clear what is left

        // A non-retriable answer fails at once.
        log->after.clear();
        env.broker().inject_response(rc::send_message_v2, remoting::response_code::message_illegal, 1);
        auto [ec3, r3] = co_await p.async_send(message(topic, "illegal"), tuple_token);
        CHECK(ec3 == make_broker_error(remoting::response_code::message_illegal));
        CHECK(log->after.size() == 1);
        env.broker().inject_response(rc::send_message_v2, 0, 0);

        // Stored with a flush timeout: a status, not an error, and not retried.
        log->after.clear();
        env.broker().inject_response(rc::send_message_v2, remoting::response_code::flush_disk_timeout, 1);
        auto [ec4, r4] = co_await p.async_send(message(topic, "flushed late"), tuple_token);
        REQUIRE_FALSE(ec4);
        CHECK(r4.status == send_status::flush_disk_timeout);
        CHECK(log->after.size() == 1);
        auto stored4 = co_await env.view(r4.offset_msg_id);
        CHECK(stored4.messages()[0].body() == "flushed late");
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("a failing broker is avoided for a while (latency fault avoidance), unless switched off")
{
    for (const bool avoidance : {true, false}) {
        test::run_coro([avoidance](asio::io_context& ioc) -> asio::awaitable<void> {
            producer_env env(ioc, two_brokers());
            if (skip_unless_embedded(env))
                co_return co_await env.stop();
            const auto topic = co_await env.make_topic("FaultAvoid");
            auto log = std::make_shared<attempt_log>();
            auto cfg = config_for("FaultAvoidGroup");
            cfg.latency_fault_avoidance = avoidance;
            cfg.hooks.push_back(log);
            producer p(env.client, cfg);
            REQUIRE_FALSE(p.start());
            // Both brokers answer one send SYSTEM_BUSY: X (busy), Y (busy), X (ok). X's success
            // clears its isolation; Y stays isolated for 10 s.
            env.broker().inject_response(rc::send_message_v2, remoting::response_code::system_busy, 1);
            auto [ec, r] = co_await p.async_send(message(topic, "x"), tuple_token);
            REQUIRE_FALSE(ec);
            REQUIRE(log->after.size() == 3);
            const std::string failed = log->after[1].broker;
            std::map<std::string, int> per_broker;
            for (int i = 0; i < 20; ++i) {
                auto [e, rr] = co_await p.async_send(message(topic, "y"), tuple_token);
                REQUIRE_FALSE(e);
                per_broker[rr.queue.broker_name]++;
            }
            if (avoidance)
                CHECK(per_broker[failed] == 0);  // isolated for 10 s after a broker error
            else
                CHECK(per_broker[failed] >= 5);  // plain round-robin over both brokers
            co_await p.async_stop(tuple_token);
            co_await env.stop();
        });
    }
}

TEST_CASE("a broker that drops the connection mid-send: retried elsewhere, one result per send, nothing lost")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, two_brokers());
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultDrop");
        producer p(env.client, config_for("FaultDropGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec0, warm] = co_await p.async_send(message(topic, "warm-up"), tuple_token);  // connections open
        REQUIRE_FALSE(ec0);
        env.broker().delay_responses(rc::send_message_v2, 300ms);
        constexpr int n = 20;
        std::map<int, int> results;  // send → number of completions
        std::set<std::string> ids;
        int ok = 0;
        for (int i = 0; i < n; ++i)
            p.async_send(message(topic, "drop " + std::to_string(i)), [&, i](error_code ec, send_result r) {
                results[i]++;
                if (!ec) {
                    ++ok;
                    ids.insert(r.msg_id);
                }
            });
        co_await test::sleep_for(100ms);
        env.broker().drop_connections();  // every pending call fails with connection_closed
        env.broker().delay_responses(rc::send_message_v2, 0ms);
        const bool done = co_await test::eventually([&]() -> asio::awaitable<bool> { co_return results.size() == n; }, 10s);
        REQUIRE(done);
        CHECK(ok == n);
        for (const auto& [i, count] : results)
            CHECK(count == 1);
        std::set<std::string> stored_ids;
        for (const auto& s : co_await env.read_topic(topic, topic))
            stored_ids.insert(s.props.at("UNIQ_KEY"));
        for (const auto& id : ids)
            CHECK(stored_ids.contains(id));  // duplicates are allowed, losses are not
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("the send timeout bounds the whole send")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultTimeout");
        auto cfg = config_for("FaultTimeoutGroup");
        cfg.send_timeout = 300ms;
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        auto [ec0, warm] = co_await p.async_send(message(topic, "warm-up"), tuple_token);
        REQUIRE_FALSE(ec0);
        env.broker().delay_responses(rc::send_message_v2, 2000ms);
        const auto t0 = std::chrono::steady_clock::now();
        auto [ec, r] = co_await p.async_send(message(topic, "slow"), tuple_token);
        const auto took = std::chrono::steady_clock::now() - t0;
        CHECK(ec == client_errc::timeout);
        CHECK(took >= 290ms);
        CHECK(took < 1500ms);
        CHECK_FALSE(r.diag.client_message.empty());

        // A per-send timeout overrides the configured one.
        send_options quick;
        quick.timeout = 100ms;
        const auto t1 = std::chrono::steady_clock::now();
        auto [ec2, r2] = co_await p.async_send(message(topic, "slower"), quick, tuple_token);
        CHECK(ec2 == client_errc::timeout);
        CHECK(std::chrono::steady_clock::now() - t1 < 280ms);
        env.broker().delay_responses(rc::send_message_v2, 0ms);

        // The route lookup of a topic not cached yet is inside the budget too.
        const auto other = co_await env.make_topic("FaultTimeoutRoute");
        env.broker().delay_responses(rc::get_routeinfo_by_topic, 2000ms);
        const auto t2 = std::chrono::steady_clock::now();
        auto [ec3, r3] = co_await p.async_send(message(other, "no route yet"), tuple_token);
        CHECK(ec3 == client_errc::timeout);
        CHECK(std::chrono::steady_clock::now() - t2 < 1500ms);
        CHECK_THAT(r3.diag.client_message, Catch::Contains("route"));
        env.broker().delay_responses(rc::get_routeinfo_by_topic, 0ms);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("cancelling one send leaves the others to complete")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultCancel");
        producer p(env.client, config_for("FaultCancelGroup"));
        REQUIRE_FALSE(p.start());
        auto [ec0, warm] = co_await p.async_send(message(topic, "warm-up"), tuple_token);
        REQUIRE_FALSE(ec0);
        env.broker().delay_responses(rc::send_message_v2, 300ms);
        std::vector<error_code> results(10, make_error_code(client_errc::not_running));
        int done = 0;
        asio::cancellation_signal cancel_one;
        std::chrono::steady_clock::time_point cancelled_done;
        for (int i = 0; i < 10; ++i) {
            auto h = [&, i](error_code ec, send_result) {
                results[i] = ec;
                ++done;
                if (i == 4)
                    cancelled_done = std::chrono::steady_clock::now();
            };
            if (i == 4)
                p.async_send(message(topic, "cancel me"), asio::bind_cancellation_slot(cancel_one.slot(), h));
            else
                p.async_send(message(topic, "keep " + std::to_string(i)), h);
        }
        co_await test::sleep_for(50ms);
        const auto cancelled_at = std::chrono::steady_clock::now();
        cancel_one.emit(asio::cancellation_type::terminal);
        const bool all = co_await test::eventually([&]() -> asio::awaitable<bool> { co_return done == 10; }, 5s);
        REQUIRE(all);
        CHECK(results[4] == client_errc::operation_aborted);
        CHECK(cancelled_done - cancelled_at < 200ms);  // did not wait for the slow broker
        for (int i = 0; i < 10; ++i)
            if (i != 4)
                CHECK_FALSE(results[i]);
        env.broker().delay_responses(rc::send_message_v2, 0ms);
        auto [ec, r] = co_await p.async_send(message(topic, "after"), tuple_token);
        CHECK_FALSE(ec);  // the connection is fine
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("back-pressure: a slow broker never gets more than the in-flight limits")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc);
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultPressure");
        auto log = std::make_shared<attempt_log>();
        auto cfg = config_for("FaultPressureGroup");
        cfg.max_inflight_messages = 8;
        cfg.max_inflight_bytes = 6 * 1024;
        cfg.send_timeout = 20s;
        cfg.hooks.push_back(log);
        producer p(env.client, cfg);
        log->p = &p;
        REQUIRE_FALSE(p.start());
        env.broker().delay_responses(rc::send_message_v2, 20ms);
        constexpr int n = 200;
        int ok = 0, failed = 0;
        std::size_t peak_waiting = 0, peak_inflight = 0;
        for (int i = 0; i < n; ++i) {
            // Half of them 1 KiB, so that the byte limit (6 KiB) is the tighter one at times.
            message m(topic, std::string(i % 2 ? 1024 : 100, 'p'));
            p.async_send(std::move(m), [&](error_code ec, send_result) { (ec ? failed : ok)++; });
        }
        while (ok + failed < n) {
            peak_waiting = std::max(peak_waiting, p.waiting_sends());
            peak_inflight = std::max(peak_inflight, p.inflight_messages());
            co_await test::sleep_for(5ms);
        }
        CHECK(ok == n);
        CHECK(log->peak_messages <= 8);
        CHECK(log->peak_bytes <= 6 * 1024 + 200);  // + the topic name counted per message
        CHECK(peak_inflight <= 8);
        CHECK(peak_waiting > 100);  // the rest waited instead of piling up in the connection
        CHECK(p.inflight_messages() == 0);
        CHECK(p.inflight_bytes() == 0);
        env.broker().delay_responses(rc::send_message_v2, 0ms);
        auto stored = co_await env.read_topic(topic, topic);
        CHECK(stored.size() == n);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}

TEST_CASE("brokers refusing connections: the send fails after its retries, nothing hangs")
{
    test::run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        producer_env env(ioc, two_brokers());
        if (skip_unless_embedded(env))
            co_return co_await env.stop();
        const auto topic = co_await env.make_topic("FaultRefuse");
        auto log = std::make_shared<attempt_log>();
        auto cfg = config_for("FaultRefuseGroup");
        cfg.hooks.push_back(log);
        producer p(env.client, cfg);
        REQUIRE_FALSE(p.start());
        auto [ec0, warm] = co_await p.async_send(message(topic, "warm-up"), tuple_token);  // routes cached
        REQUIRE_FALSE(ec0);
        log->after.clear();
        env.broker().refuse_connections(true);
        env.broker().drop_connections();
        auto [ec, r] = co_await p.async_send(message(topic, "nowhere"), tuple_token);
        CHECK(ec);
        CHECK(is_retriable(ec));
        CHECK(log->after.size() == 3);
        env.broker().refuse_connections(false);
        auto [ec2, r2] = co_await p.async_send(message(topic, "somewhere"), tuple_token);
        CHECK_FALSE(ec2);
        co_await p.async_stop(tuple_token);
        co_await env.stop();
    });
}
