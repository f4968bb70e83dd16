// Transactional messages: half messages, END_TRANSACTION, CHECK_TRANSACTION_STATE check-backs.
#include "broker_client.hpp"

#include "message/ids.hpp"

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

struct half_sent {
    std::int64_t queue_offset = 0;
    std::int64_t commit_log_offset = 0;
    std::string uniq_key;
};

asio::awaitable<half_sent> send_half(test_client& c, const std::string& topic, int queue, const std::string& key,
                                     std::string extra = {})
{
    send_args a;
    a.group = "TxGroup";
    a.topic = topic;
    a.queue_id = queue;
    a.sys_flag = 4;  // TRANSACTION_PREPARED
    a.body = "tx " + key;
    a.properties = props({{"KEYS", key},
                          {"TRAN_MSG", "true"},
                          {"UNIQ_KEY", "UNIQ-" + key},
                          {"WAIT", "true"},
                          {"PGROUP", "TxGroup"},
                          {"TAGS", "TagTx"}});
    if (!extra.empty())
        a.properties += "\x02" + extra;
    auto resp = co_await send_ok(c, a);
    CHECK(resp.ext_fields.get("queueId") == std::to_string(queue));  // the requested queue, not 0
    auto id = corocket::detail::decode_offset_msg_id(resp.ext_fields.get("msgId"));
    REQUIRE(id);
    co_return half_sent{*resp.ext_fields.get_int("queueOffset"), id->second, "UNIQ-" + key};
}

command end_tx(const half_sent& h, int type, bool from_check = false, std::string group = "TxGroup")
{
    auto c = command::request(rc::end_transaction);
    c.ext_fields.set("producerGroup", group);
    c.ext_fields.set("tranStateTableOffset", std::to_string(h.queue_offset));
    c.ext_fields.set("commitLogOffset", std::to_string(h.commit_log_offset));
    c.ext_fields.set("commitOrRollback", std::to_string(type));
    c.ext_fields.set("fromTransactionCheck", from_check ? "true" : "false");
    c.ext_fields.set("msgId", h.uniq_key);
    return c;
}

asio::awaitable<std::vector<std::string>> topic_bodies(test_client& c, const std::string& topic, int queue)
{
    auto resp = co_await c.call(pull_all(topic, queue, 0));
    std::vector<std::string> out;
    if (resp.code == rs::success) {
        const auto batch = decode_messages(resp.body);  // the views live in the batch
        for (const auto& m : batch.messages())
            out.emplace_back(m.body());
    }
    co_return out;
}

std::vector<const command*> checks(test_client& c)
{
    std::vector<const command*> out;
    for (const auto& r : c.inbox())
        if (r.code == rc::check_transaction_state)
            out.push_back(&r);
    return out;
}

}  // namespace

TEST_CASE("Transactions: half messages are invisible until committed; rollback discards")
{
    with_cluster({}, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("TxTopic", 4);
        test_client p(ioc.get_executor(), cluster.broker_address());
        auto commit = co_await send_half(p, "TxTopic", 1, "commit");
        auto rollback = co_await send_half(p, "TxTopic", 1, "rollback");
        CHECK(commit.queue_offset == 0);  // offsets of the half queue
        CHECK(rollback.queue_offset == 1);
        auto before = co_await topic_bodies(p, "TxTopic", 1);
        CHECK(before.empty());

        co_await p.oneway(end_tx(commit, 8));
        co_await p.oneway(end_tx(rollback, 12));
        co_await sleep_for(50ms);
        auto resp = co_await p.call(pull_all("TxTopic", 1, 0));
        REQUIRE(resp.code == rs::success);
        auto batch = decode_messages(resp.body);
        REQUIRE(batch.size() == 1);
        const auto& m = batch.messages()[0];
        CHECK(m.body() == "tx commit");
        CHECK(m.queue_id() == 1);
        CHECK((m.sys_flag() & 0xC) == 8);  // TRANSACTION_COMMIT_TYPE
        CHECK(m.prepared_transaction_offset() == commit.commit_log_offset);
        CHECK(m.property("UNIQ_KEY") == std::optional<std::string_view>("UNIQ-commit"));
        // The committed copy keeps the half message's stored properties string (4.9.8 only
        // clears REAL_TOPIC/REAL_QID/TRAN_MSG from the live map).
        CHECK(m.property("REAL_TOPIC") == std::optional<std::string_view>("TxTopic"));
        CHECK(m.property("PGROUP") == std::optional<std::string_view>("TxGroup"));

        // Two-way END_TRANSACTION: the broker checks what it is told.
        auto late = co_await send_half(p, "TxTopic", 0, "late");
        auto wrong_group = co_await p.call(end_tx(late, 8, false, "OtherGroup"));
        CHECK(wrong_group.code == rs::system_error);
        CHECK(wrong_group.remark.value_or("") == "The producer group wrong");
        auto bad_offset = late;
        bad_offset.queue_offset = 99;
        auto wrong_offset = co_await p.call(end_tx(bad_offset, 8));
        CHECK(wrong_offset.remark.value_or("") == "The transaction state table offset wrong");
        auto missing = late;
        missing.commit_log_offset = 123456789;
        auto not_found = co_await p.call(end_tx(missing, 12));
        CHECK(not_found.remark.value_or("") == "Find prepared transaction message failed");
        auto ok = co_await p.call(end_tx(late, 12));
        CHECK(ok.code == rs::success);
        CHECK(!ok.remark);
        // UNKNOW is only logged by the broker: even a two-way request gets no answer.
        auto [ec, unknown] = co_await p.try_call(end_tx(late, 0), 300ms);
        CHECK(ec == make_error_code(client_errc::timeout));
        co_await p.close();
    });
}

TEST_CASE("Transactions: an unresolved half message is checked back on a producer connection")
{
    testing::cluster_options opts;
    opts.transaction_check_interval = 150ms;
    opts.transaction_timeout = 100ms;
    opts.transaction_check_max = 3;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("TxCheck", 4);
        test_client p(ioc.get_executor(), cluster.broker_address());
        auto hb = heart_beat("tx-producer", {"TxGroup"});
        co_await p.call(std::move(hb));
        auto half = co_await send_half(p, "TxCheck", 2, "unknown");
        co_await p.oneway(end_tx(half, 0));

        auto got_check = co_await p.wait_inbox(1, 3s);
        REQUIRE(got_check);
        auto first = checks(p);
        REQUIRE(first.size() == 1);
        const command& check = *first[0];
        CHECK(check.is_oneway());
        std::vector<std::string> keys;
        for (const auto& [k, v] : check.ext_fields)
            keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"commitLogOffset", "msgId", "tranStateTableOffset", "offsetMsgId",
                                               "transactionId"});
        CHECK(check.ext_fields.get("msgId") == half.uniq_key);
        CHECK(check.ext_fields.get("transactionId") == half.uniq_key);
        // The check refers to the renewed copy at the end of the half queue.
        CHECK(check.ext_fields.get_int("tranStateTableOffset") == half.queue_offset + 1);
        auto batch = decode_messages(check.body);
        REQUIRE(batch.size() == 1);
        const auto& m = batch.messages()[0];
        CHECK(m.topic() == "TxCheck");
        CHECK(m.queue_id() == 2);
        CHECK(m.queue_offset() == *check.ext_fields.get_int("tranStateTableOffset"));
        CHECK(m.commit_log_offset() == *check.ext_fields.get_int("commitLogOffset"));
        CHECK(m.offset_msg_id() == check.ext_fields.get("offsetMsgId"));
        CHECK(m.property("TRANSACTION_CHECK_TIMES") == std::optional<std::string_view>("1"));
        CHECK(m.property("WAIT") == std::optional<std::string_view>("false"));
        CHECK(m.property("REAL_QID") == std::optional<std::string_view>("2"));
        CHECK(m.sys_flag() == 0);

        // Answering UNKNOW leads to another check with the count increased.
        half_sent again{*check.ext_fields.get_int("tranStateTableOffset"), *check.ext_fields.get_int("commitLogOffset"),
                        half.uniq_key};
        co_await p.oneway(end_tx(again, 0, true));
        auto got_second = co_await p.wait_inbox(2, 3s);
        REQUIRE(got_second);
        auto second = checks(p);
        auto second_batch = decode_messages(second[1]->body);
        CHECK(second_batch.messages()[0].property("TRANSACTION_CHECK_TIMES") == std::optional<std::string_view>("2"));

        // COMMIT from the check: the message is delivered and no further checks come.
        half_sent answer{*second[1]->ext_fields.get_int("tranStateTableOffset"),
                         *second[1]->ext_fields.get_int("commitLogOffset"), half.uniq_key};
        co_await p.oneway(end_tx(answer, 8, true));
        co_await sleep_for(500ms);
        CHECK(checks(p).size() == 2);
        auto delivered = co_await topic_bodies(p, "TxCheck", 2);
        CHECK(delivered == std::vector<std::string>{"tx unknown"});
        co_await p.close();
    });
}

TEST_CASE("Transactions: checks stop after transactionCheckMax; immunity time delays the first check")
{
    testing::cluster_options opts;
    opts.transaction_check_interval = 100ms;
    opts.transaction_timeout = 50ms;
    opts.transaction_check_max = 2;
    with_cluster(opts, [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("TxMax", 1);
        test_client p(ioc.get_executor(), cluster.broker_address());
        auto hb = heart_beat("tx-producer", {"TxGroup"});
        co_await p.call(std::move(hb));
        co_await send_half(p, "TxMax", 0, "ignored");
        const auto immunity = props({{"CHECK_IMMUNITY_TIME_IN_SECONDS", "3600"}});
        co_await send_half(p, "TxMax", 0, "immune", immunity);
        co_await sleep_for(800ms);
        auto all = checks(p);
        REQUIRE(all.size() == 2);  // transactionCheckMax checks of the first message only
        for (const auto* c : all)
            CHECK(c->ext_fields.get("msgId") == "UNIQ-ignored");
        auto given_up = co_await topic_bodies(p, "TRANS_CHECK_MAX_TIME_TOPIC", 0);
        CHECK(given_up == std::vector<std::string>{"tx ignored"});
        co_await p.close();
    });
}
