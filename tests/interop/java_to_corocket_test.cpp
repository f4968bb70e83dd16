// The Java producer sends, a corocket consumer and a Java consumer (two groups) receive: every
// field of every message is the same in both views and what the Java producer reported sending.
#include "interop_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

#include <map>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

void append(std::vector<sent_record>& to, std::vector<sent_record> more)
{
    for (auto& s : more)
        to.push_back(std::move(s));
}

/// Starts the peer's producer "p" (`extra` adds a compression type, a transaction checker).
asio::awaitable<void> start_java_producer(java_peer& peer, json::object extra = {})
{
    extra["op"] = "producer";
    extra["id"] = "p";
    extra["group"] = unique_name("PG");
    co_await peer.call(std::move(extra));
}

/// A 10 KiB text body sent by a Java producer compressing with `type` arrives intact in both
/// clients; the broker stored it compressed, with the type's bits in sysFlag.
void java_compressed_body(std::string type, std::int64_t stored_sys_flag)
{
    run_interop(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopJcZip" + type);
            auto compressing = json::object{{"compress", type}};
            co_await start_java_producer(env.peer, std::move(compressing));
            auto sent = co_await java_send_one(env.peer, "p", "sync", message(env.topic, text_body(10000, type)));
            co_await env.wait_for(sent.size());
            env.check(sent);
            const auto java = env.java_received();
            for (const auto* views : {&env.corocket_received(), &java})
                for (const auto& v : *views) {
                    INFO(type << ": " << brief(v));
                    CHECK(v.at("sysFlag").to_number<std::int64_t>() == stored_sys_flag);
                    CHECK(v.at("storeSize").to_number<std::int64_t>() < 10000);
                    CHECK(v.at("storedBodyCrc") != v.at("bodyCrc"));  // the CRC of the stored (compressed) bytes
                }
            co_await env.close();
        });
}

}  // namespace

TEST_CASE("Java → corocket: plain, tags, keys, flag, user properties, one-way, batch")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopJcPlain");
            co_await start_java_producer(env.peer);
            const auto& topic = env.topic;
            std::vector<sent_record> sent;
            for (const auto& m : sample_messages(topic))
                append(sent, co_await java_send_one(env.peer, "p", "sync", m));
            append(sent,
                   co_await java_send_one(env.peer, "p", "oneway", make_message(topic, "one-way", "OneWay", "ow")));
            append(sent, co_await java_send(env.peer, "p", "batch", sample_batch(topic)));
            co_await env.wait_for(sent.size());
            env.check(sent);
            co_await env.close();
        });
}

TEST_CASE("Java → corocket: a zlib-compressed body")
{
    INTEROP_OR_SKIP();
    java_compressed_body("ZLIB", sys_flag::compressed | sys_flag::compression_zlib);
}

// LZ4 and ZSTD decompression come to corocket with the `compress` branch; until it is merged
// these two fail (corocket cannot decode the pulled records).
TEST_CASE("Java → corocket: an LZ4-compressed body")
{
    INTEROP_OR_SKIP();
    java_compressed_body("LZ4", sys_flag::compressed | sys_flag::compression_lz4);
}

TEST_CASE("Java → corocket: a ZSTD-compressed body")
{
    INTEROP_OR_SKIP();
    java_compressed_body("ZSTD", sys_flag::compressed | sys_flag::compression_zstd);
}

TEST_CASE("Java → corocket: a delay level")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopJcDelay");
            co_await start_java_producer(env.peer);
            message m(env.topic, "delayed");
            m.set_delay_level(1);  // 1 s
            auto sent = co_await java_send_one(env.peer, "p", "sync", m, {}, sent_as::delayed);
            co_await env.wait_for(sent.size());
            env.check(sent);
            for (const auto& v : env.corocket_received())
                CHECK(text(v.at("props").as_object(), property_name::delay) == "1");
            co_await env.close();
        });
}

TEST_CASE("Java → corocket: ordered sends land where corocket's hash selector puts the same key")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopJcOrder", 4);
            co_await start_java_producer(env.peer);
            auto [rec, route] = co_await env.sender.async_route(env.topic, tuple_token);
            REQUIRE_FALSE(rec);
            const auto queues = route.publish_queues(env.topic);
            const auto select = queue_selectors::by_sharding_key();
            std::vector<sent_record> sent;
            std::map<std::string, std::vector<std::int64_t>> offsets_by_key;
            for (int i = 0; i < 24; ++i) {
                const auto& key = ordering_keys()[i % ordering_keys().size()];
                auto one = co_await java_send_one(env.peer, "p", "ordered",
                                                  message(env.topic, key + "#" + std::to_string(i)), by_key(key));
                const auto& result = one.front().result.as_object();
                message probe(env.topic, "");
                probe.set_sharding_key(key);
                INFO("key " << key);
                CHECK(queue_of(result.at("queue")) == queues.at(select(queues, probe)));
                offsets_by_key[key].push_back(result.at("queueOffset").to_number<std::int64_t>());
                append(sent, std::move(one));
            }
            for (const auto& [key, offsets] : offsets_by_key)
                CHECK(std::is_sorted(offsets.begin(), offsets.end()));
            co_await env.wait_for(sent.size());
            env.check(sent);
            co_await env.close();
        });
}

TEST_CASE("Java → corocket: transactions — commit, rollback, and a commit by the Java checker")
{
    INTEROP_OR_SKIP();
    run_interop(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            delivery_env env(ioc.get_executor());
            co_await env.start("IopJcTx");
            auto transactional = json::object{{"tx", true}, {"check", "COMMIT_MESSAGE"}};
            co_await start_java_producer(env.peer, std::move(transactional));
            const auto& topic = env.topic;
            auto committed = co_await java_send_one(env.peer, "p", "tx", message(topic, "commit"),
                                                    local_state("COMMIT_MESSAGE"), sent_as::transactional);
            auto rolled_back = co_await java_send_one(env.peer, "p", "tx", message(topic, "rollback"),
                                                      local_state("ROLLBACK_MESSAGE"), sent_as::transactional);
            auto checked = co_await java_send_one(env.peer, "p", "tx", message(topic, "check"), local_state("UNKNOW"),
                                                  sent_as::checked);
            // Java's TransactionSendResult copies neither the offset id nor (on 4.9 brokers, which
            // send none) a transaction id from the half message's send result.
            for (const auto* s : {&committed, &rolled_back, &checked}) {
                CHECK_FALSE(s->front().result.as_object().contains("offsetMsgId"));
                CHECK_FALSE(s->front().result.as_object().contains("transactionId"));
            }
            std::vector<sent_record> sent{committed.front(), checked.front()};
            co_await env.wait_for(sent.size());  // the broker checks back after 3-8 s
            env.check(sent);
            const auto rolled_back_id = text(rolled_back.front().msg.at("props").as_object(), property_name::uniq_key);
            CHECK_FALSE(find_message(env.corocket_received(), rolled_back_id));
            CHECK_FALSE(find_message(env.java_received(), rolled_back_id));
            const auto checks = env.peer.messages("check", "p");
            REQUIRE(checks.size() >= 1);
            const auto checked_id = text(checked.front().msg.at("props").as_object(), property_name::uniq_key);
            for (const auto& c : checks) {
                INFO("checked: " << brief(c));
                CHECK(text(c, "body") == base64("check"));
                CHECK(text(c, "topic") == topic);
                CHECK(text(c, "transactionId") == checked_id);
                CHECK(text(c.at("props").as_object(), property_name::uniq_key) == checked_id);
            }
            // The committed copy names the half message the broker re-stored for the last check.
            const auto* delivered = find_message(env.corocket_received(), checked_id);
            REQUIRE(delivered);
            CHECK(delivered->at("preparedTransactionOffset") == checks.back().at("commitLogOffset"));
            co_await env.close();
        });
}
