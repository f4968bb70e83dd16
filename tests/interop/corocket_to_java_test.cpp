// corocket producers send, a Java consumer and a corocket consumer (two groups) receive: every
// field of every message is the same in both views and what corocket reported sending.
#include "interop_env.hpp"

#include <corocket/producer.hpp>
#include <corocket/transactional_producer.hpp>

#include <catch2/catch.hpp>

#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

producer_config producer_for(std::string group)
{
    producer_config c;
    c.group = std::move(group);
    c.send_timeout = 15s;  // a loaded 2-core machine; Java's peer gets the same
    return c;
}

asio::awaitable<sent_record> send_one(producer& p, message m, send_options opts = {}, sent_as kind = sent_as::plain)
{
    auto [ec, r] = co_await p.async_send(m, std::move(opts), tuple_token);
    INFO(r.diag.to_string());
    REQUIRE_FALSE(ec);
    co_return sent_record{describe_sent(m, r.msg_id), describe(r), kind};
}

asio::awaitable<std::vector<sent_record>> send_batch(producer& p, std::vector<message> msgs)
{
    auto [ec, r] = co_await p.async_send_batch(msgs, tuple_token);
    INFO(r.diag.to_string());
    REQUIRE_FALSE(ec);
    std::vector<sent_record> out;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        auto result = batch_member_result(describe(r), i);
        out.push_back({describe_sent(msgs[i], text(result, "msgId")), std::move(result), sent_as::plain});
    }
    co_return out;
}

/// A one-way send reports no id: the one the consumers saw on the message with this body.
sent_record sent_oneway(const message& m, const std::vector<json::object>& delivered)
{
    for (const auto& v : delivered)
        if (text(v, "body") == base64(m.body())) {
            const auto id = text(v, "msgId");
            CHECK(id.size() == 32);  // corocket's UNIQ_KEY: IPv4, pid, class loader hash, time, counter
            return {describe_sent(m, id), nullptr, sent_as::plain};
        }
    FAIL("the one-way message " << m.body() << " was not delivered");
    return {};
}

}  // namespace

TEST_CASE("corocket → Java: plain, tags, keys, flag, user properties, one-way, batch, zlib")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopCjPlain");
            producer p(env.sender, producer_for(unique_name("PG")));
            REQUIRE_FALSE(p.start());
            const auto& topic = env.topic;
            std::vector<sent_record> sent;
            for (const auto& m : sample_messages(topic))
                sent.push_back(co_await send_one(p, m));
            sent.push_back(co_await send_one(p, message(topic, text_body(10000, "zlib"))));
            for (auto& s : co_await send_batch(p, sample_batch(topic)))
                sent.push_back(std::move(s));
            const auto oneway = make_message(topic, "one-way", "OneWay", "ow");
            {
                auto [ec] = co_await p.async_send_oneway(oneway, tuple_token);
                REQUIRE_FALSE(ec);
            }
            co_await env.wait_for(sent.size() + 1);
            sent.push_back(sent_oneway(oneway, env.corocket_received()));
            env.check(sent);
            const auto java = env.java_received();
            const auto* zip = find_message(java, text(sent[3].msg.at("props").as_object(), property_name::uniq_key));
            REQUIRE(zip);
            CHECK(zip->at("sysFlag").to_number<std::int64_t>() == (sys_flag::compressed | sys_flag::compression_zlib));
            co_await p.async_stop(tuple_token);
            co_await env.close();
        });
}

TEST_CASE("corocket → Java: a delay level")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopCjDelay");
            producer p(env.sender, producer_for(unique_name("PG")));
            REQUIRE_FALSE(p.start());
            message m(env.topic, "delayed");
            m.set_delay_level(1);
            std::vector<sent_record> sent;
            sent.push_back(co_await send_one(p, m, {}, sent_as::delayed));
            co_await env.wait_for(sent.size());
            env.check(sent);
            co_await p.async_stop(tuple_token);
            co_await env.close();
        });
}

TEST_CASE("corocket → Java: ordered sends pick the queue Java's SelectMessageQueueByHash picks")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopCjOrder", 4);
            producer p(env.sender, producer_for(unique_name("PG")));
            REQUIRE_FALSE(p.start());
            const auto& keys = ordering_keys();
            auto select = json::object{{"op", "select"}, {"keys", json::value_from(keys)}, {"n", 4}};
            auto java = co_await env.peer.call(std::move(select));
            std::vector<sent_record> sent;
            std::map<std::string, std::vector<std::int64_t>> offsets_by_key;
            for (int i = 0; i < 24; ++i) {
                const auto& key = keys[i % keys.size()];
                message m(env.topic, key + "#" + std::to_string(i));
                m.set_sharding_key(key);
                auto s = co_await send_one(p, m, send_options::ordered());
                const auto& result = s.result.as_object();
                INFO("key " << key);
                CHECK(queue_of(result.at("queue")).queue_id ==
                      java.at("indexes").as_array().at(i % keys.size()).to_number<int>());
                offsets_by_key[key].push_back(result.at("queueOffset").to_number<std::int64_t>());
                sent.push_back(std::move(s));
            }
            for (const auto& [key, offsets] : offsets_by_key)
                CHECK(std::is_sorted(offsets.begin(), offsets.end()));
            co_await env.wait_for(sent.size());
            env.check(sent);
            co_await p.async_stop(tuple_token);
            co_await env.close();
        });
}

TEST_CASE("corocket → Java: transactions — commit, rollback, and a half message the broker's check-back resolves")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopCjTx");
            const auto& topic = env.topic;
            std::vector<json::object> checked_views;
            transactional_producer_config cfg;
            cfg.producer = producer_for(unique_name("TPG"));
            cfg.producer.topics = {topic};
            transactional_producer tp(env.sender, cfg, [&](const message_view& half) {
                checked_views.push_back(describe(half));
                return transaction_state::commit;
            });
            REQUIRE_FALSE(tp.start());
            auto send = [&](std::string body, transaction_state local, sent_as kind) -> asio::awaitable<sent_record> {
                json::object as_sent;
                auto [ec, r] = co_await tp.async_send_in_transaction(
                    message(topic, body),
                    [&](const message& m, const send_result&) {
                        as_sent = describe_sent(m, m.property(property_name::uniq_key).value_or(""));
                        return local;
                    },
                    tuple_token);
                REQUIRE_FALSE(ec);
                CHECK(r.state == local);
                // corocket hands the local transaction the message with __transactionId__ (the
                // half message's transaction id, the UNIQ_KEY on 4.x brokers); Java adds it only
                // when the broker sent one. It is not sent: the broker does not have it.
                auto& props = as_sent.at("props").as_object();
                CHECK(text(props, property_name::transaction_id) == r.half.msg_id);
                props.erase(property_name::transaction_id);
                CHECK(r.half.transaction_id == r.half.msg_id);
                CHECK_FALSE(r.half.offset_msg_id.empty());
                co_return sent_record{std::move(as_sent), describe(r.half), kind};
            };
            auto committed = co_await send("commit", transaction_state::commit, sent_as::transactional);
            auto rolled_back = co_await send("rollback", transaction_state::rollback, sent_as::transactional);
            auto checked = co_await send("check", transaction_state::unknown, sent_as::checked);
            // A Java half message of the same topic, for its checker's view to compare with ours.
            auto java_producer = json::object{{"op", "producer"},
                                              {"id", "jt"},
                                              {"group", unique_name("JTPG")},
                                              {"tx", true},
                                              {"check", "COMMIT_MESSAGE"}};
            co_await env.peer.call(std::move(java_producer));
            auto java_checked = co_await java_send_one(env.peer, "jt", "tx", message(topic, "java check"),
                                                       local_state("UNKNOW"), sent_as::checked);
            std::vector<sent_record> sent{committed, checked, java_checked.front()};
            co_await env.wait_for(sent.size());  // the broker checks back after 3-8 s
            env.check(sent);
            const auto rolled_back_id = text(rolled_back.msg.at("props").as_object(), property_name::uniq_key);
            CHECK_FALSE(find_message(env.corocket_received(), rolled_back_id));
            CHECK_FALSE(find_message(env.java_received(), rolled_back_id));
            REQUIRE(checked_views.size() >= 1);
            const auto checked_id = text(checked.msg.at("props").as_object(), property_name::uniq_key);
            for (const auto& half : checked_views) {
                INFO("checked: " << brief(half));
                const auto& props = half.at("props").as_object();
                CHECK(text(half, "topic") == topic);
                CHECK(text(half, "body") == base64("check"));
                CHECK(text(half, "msgId") == checked_id);
                CHECK(text(props, property_name::tran_msg) == "true");
                CHECK(text(props, property_name::pgroup) == cfg.producer.group);
                CHECK(text(props, property_name::real_topic) == topic);
                CHECK(std::to_string(half.at("queueId").to_number<int>()) == text(props, property_name::real_qid));
                CHECK_FALSE(text(props, property_name::transaction_check_times).empty());
                // The broker stores half messages with the transaction type cleared.
                CHECK((half.at("sysFlag").to_number<std::int64_t>() & sys_flag::transaction_mask) == 0);
            }
            const auto java = env.java_received();
            const auto* delivered = find_message(java, checked_id);
            REQUIRE(delivered);
            CHECK(delivered->at("preparedTransactionOffset") == checked_views.back().at("commitLogOffset"));
            const auto java_checks = env.peer.messages("check", "jt");
            REQUIRE(java_checks.size() >= 1);
            check_same_half_message_shape(java_checks.back(), checked_views.back());
            CHECK(tp.stats().answered >= 1);
            co_await tp.async_stop(tuple_token);
            co_await env.close();
        });
}

TEST_CASE("compression: 4095 bytes stored as sent, 4096 zlib-compressed to the same bytes, by either producer")
{
    INTEROP_OR_SKIP();
    run_interop([](asio::io_context& ioc) -> asio::awaitable<void> {
        delivery_env env(ioc.get_executor());
        co_await env.start("IopCjZipEdge");
        auto java_producer = json::object{{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}};
        co_await env.peer.call(std::move(java_producer));
        producer p(env.sender, producer_for(unique_name("PG")));
        REQUIRE_FALSE(p.start());
        std::vector<sent_record> sent;
        for (std::size_t size : {4095, 4096}) {
            const message m(env.topic, text_body(size, "edge"));
            sent.push_back(co_await send_one(p, m));
            sent.push_back((co_await java_send_one(env.peer, "p", "sync", m)).front());
        }
        co_await env.wait_for(sent.size());
        env.check(sent);
        const auto& views = env.corocket_received();
        auto stored = [&](const sent_record& s) {
            const auto* v = find_message(views, text(s.msg.at("props").as_object(), property_name::uniq_key));
            REQUIRE(v);
            return *v;
        };
        for (std::size_t i = 0; i < sent.size(); i += 2) {
            const auto by_corocket = stored(sent[i]), by_java = stored(sent[i + 1]);
            INFO("corocket's: " << brief(by_corocket));
            INFO("Java's:     " << brief(by_java));
            const std::int64_t zlib = sys_flag::compressed | sys_flag::compression_zlib;
            CHECK(by_corocket.at("sysFlag").to_number<std::int64_t>() == (i == 0 ? 0 : zlib));
            CHECK(by_java.at("sysFlag") == by_corocket.at("sysFlag"));
            CHECK(by_java.at("storedBodyCrc") == by_corocket.at("storedBodyCrc"));  // the same stored bytes
        }
        co_await p.async_stop(tuple_token);
        co_await env.close();
    });
}

TEST_CASE("namespaces: Java and corocket clients of one namespace exchange messages under the plain topic names")
{
    INTEROP_OR_SKIP();
    run_interop([](asio::io_context& ioc) -> asio::awaitable<void> {
        delivery_env env(ioc.get_executor(), unique_name("IopNs"));
        co_await env.start("IopNsTopic");
        auto java_producer = env.java_namespace();
        java_producer.insert({{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}});
        co_await env.peer.call(std::move(java_producer));
        producer p(env.sender, producer_for(unique_name("PG")));
        REQUIRE_FALSE(p.start());
        std::vector<sent_record> sent;
        for (const auto& m : sample_messages(env.topic)) {
            sent.push_back(co_await send_one(p, m));
            sent.push_back((co_await java_send_one(env.peer, "p", "sync", m)).front());
        }
        co_await env.wait_for(sent.size());
        env.check(sent);
        for (const auto& v : env.corocket_received()) {
            INFO(brief(v));
            CHECK(text(v, "topic") == env.topic);
            CHECK(text(v.at("props").as_object(), property_name::instance_id) == env.name_space);
        }
        co_await p.async_stop(tuple_token);
        co_await env.close();
    });
}
