// The producer's sans-I/O core against the Java 4.9.8 client's captured frames and by hand.
#include "capture.hpp"

#include "message/codec.hpp"
#include "message/ids.hpp"
#include "message/properties.hpp"
#include "producer/send_codec.hpp"

#include <corocket/remoting/codes.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <array>
#include <cstdio>

using namespace corocket;
using namespace corocket::detail;
using corocket::test::comparable_fields;
using corocket::test::load_capture;

namespace {

uniq_id_generator test_ids()
{
    const std::array<std::uint8_t, 4> ip{10, 0, 0, 1};
    return uniq_id_generator(ip, 0x1234, 0x6D06D69C);
}

// The 8192-byte body the capture sent compressed: 128 numbered lines.
std::string golden_big_body()
{
    std::string out;
    char line[80];
    for (int i = 0; i < 128; ++i) {
        std::snprintf(line, sizeof line, "golden-line-%05d: The quick brown fox jumps over the lazy dog.\n", i);
        out += line;
    }
    return out;
}

// The message behind send_json seq 6 (and its V1 twin, seq 39).
message golden_tag_a_message(std::string uniq_key)
{
    message m("GoldenSend", load_capture("send_json.jsonl", 6).cmd.body);
    m.set_tags("TagA");
    m.set_keys({"GoldenKey1", "GoldenKey2"});
    m.set_property("orderId", "1001");
    m.set_property("golden-prop", "caf\xC3\xA9");
    m.properties_mut().emplace("UNIQ_KEY", std::move(uniq_key));
    return m;
}

send_target target(std::string_view group, int queue, std::string_view broker, std::int64_t born)
{
    return {group, "TBW102", 4, queue, broker, born};
}

prepared_send prepare_ok(message& m, prepare_options opts = {})
{
    auto ids = test_ids();
    prepared_send p;
    diagnostics diag;
    REQUIRE_FALSE(prepare_message(m, opts, ids, p, diag));
    return p;
}

}  // namespace

TEST_CASE("SEND_MESSAGE_V2 request equals the Java client's (send_json seq 6)")
{
    const auto golden = load_capture("send_json.jsonl", 6);
    auto m = golden_tag_a_message("FD00000000000000000000000000000253BF5FFD2B276CF9C8420000");
    const auto p = prepare_ok(m);
    CHECK(p.sys_flag == 0);
    const auto req = make_send_request(p, target("GoldenSendProducerGroup", 2, "broker-a", 1795319509058),
                                       send_header_version::v2, p.body);
    CHECK(req.code == golden.cmd.code);
    CHECK(req.code == remoting::request_code::send_message_v2);
    CHECK(comparable_fields(req.ext_fields) == comparable_fields(golden.cmd.ext_fields));
    CHECK(req.body == golden.cmd.body);
}

TEST_CASE("SEND_MESSAGE (V1) request equals the Java client's (send_json seq 39)")
{
    const auto golden = load_capture("send_json.jsonl", 39);
    properties golden_props;
    decode_properties(golden.cmd.ext_fields.get("properties"), golden_props);
    auto m = golden_tag_a_message(golden_props.at("UNIQ_KEY"));
    const auto p = prepare_ok(m);
    const auto req = make_send_request(
        p, target("GoldenSendV1ProducerGroup", 2, "broker-a", *golden.cmd.ext_fields.get_int("bornTimestamp")),
        send_header_version::v1, p.body);
    CHECK(req.code == remoting::request_code::send_message);
    CHECK(comparable_fields(req.ext_fields) == comparable_fields(golden.cmd.ext_fields));
}

TEST_CASE("bodies of 4 KiB and more are zlib-compressed with sysFlag 0x301, byte for byte as Java (seq 8)")
{
    const auto golden = load_capture("send_json.jsonl", 8);
    message m("GoldenSend", golden_big_body());
    m.set_tags("TagBig");
    m.set_key("GoldenBigKey");
    m.properties_mut().emplace("UNIQ_KEY", "FD00000000000000000000000000000253BF5FFD2B276CF9C8710001");
    const auto p = prepare_ok(m);
    CHECK(p.sys_flag == 769);
    CHECK(p.body == golden.cmd.body);
    const auto req = make_send_request(p, target("GoldenSendProducerGroup", 3, "broker-a", 1795319509107),
                                       send_header_version::v2, p.body);
    CHECK(comparable_fields(req.ext_fields) == comparable_fields(golden.cmd.ext_fields));
    CHECK(m.body() == golden_big_body());  // the caller's message keeps its plain body

    SECTION("below the threshold, or with compression off, the body goes as it is")
    {
        message small("T", std::string(4095, 'x'));
        CHECK(prepare_ok(small).sys_flag == 0);
        message big("T", std::string(5000, 'x'));
        CHECK(prepare_ok(big, {.compress_threshold = 0}).body == std::string(5000, 'x'));
        message custom("T", std::string(200, 'y'));
        auto q = prepare_ok(custom, {.compress_threshold = 100, .compress_level = 9});
        CHECK(q.sys_flag == 769);
        std::string inflated;
        REQUIRE_FALSE(zlib_inflate(q.body, 1 << 20, inflated));
        CHECK(inflated == std::string(200, 'y'));
    }
}

TEST_CASE("LZ4 and ZSTD bodies: sysFlag 0x101 / 0x201 and Java's bytes")
{
    // Length and CRC-32 of what Java's Lz4Compressor / ZstdCompressor (rocketmq-common 4.9.8,
    // level 5) make of golden_big_body().
    struct java_output {
        compression_type type;
        std::int32_t sys_flag;
        std::size_t size;
        std::uint32_t crc;
    };
    for (const auto& j : {java_output{compression_type::lz4, 0x101, 732, 0xDE97511D},
                          java_output{compression_type::zstd, 0x201, 247, 0x253D5C84}}) {
        INFO(to_string(j.type));
        message m("GoldenSend", golden_big_body());
        const auto p = prepare_ok(m, {.compression = j.type});
        CHECK(p.sys_flag == j.sys_flag);
        CHECK(p.body.size() == j.size);
        CHECK(static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(p.body.data()),
                                                 static_cast<uInt>(p.body.size()))) == j.crc);
        std::string back;
        REQUIRE_FALSE(inflate_body(p.body, p.sys_flag, 1 << 20, back));
        CHECK(back == golden_big_body());
        const auto req = make_send_request(p, target("G", 0, "broker-a", 1), send_header_version::v2, p.body);
        CHECK(req.ext_fields.get("f") == std::to_string(j.sys_flag));

        std::vector<message> batch{message("GoldenSend", golden_big_body())};
        auto ids = test_ids();
        std::vector<prepared_send> parts;
        diagnostics diag;
        REQUIRE_FALSE(prepare_batch(batch, {.compression = j.type}, 1 << 22, ids, parts, diag));
        CHECK(parts.at(0).sys_flag == 0);  // batches are never compressed, as in Java
    }
}

TEST_CASE("the compression level is checked against the algorithm")
{
    diagnostics diag;
    producer_config cfg;
    CHECK_FALSE(check_compression(cfg, diag));  // zlib at 5
    cfg.compress_level = 10;
    CHECK(check_compression(cfg, diag) == client_errc::invalid_argument);
    CHECK(diag.client_message == "compress_level 10 is not a ZLIB level (-1..9)");
    cfg.compression = compression_type::zstd;
    CHECK_FALSE(check_compression(cfg, diag));
    cfg.compress_level = 23;
    CHECK(check_compression(cfg, diag) == client_errc::invalid_argument);
    CHECK(diag.client_message == "compress_level 23 is not a ZSTD level (-131072..22)");
    cfg.compression = compression_type::lz4;
    CHECK_FALSE(check_compression(cfg, diag));  // LZ4 has no level
}

TEST_CASE("delay levels travel as the DELAY property (seq 10)")
{
    const auto golden = load_capture("send_json.jsonl", 10);
    message m("GoldenSend", golden.cmd.body);
    m.set_tags("TagDelay");
    m.set_key("GoldenDelayKey");
    m.set_delay_level(3);
    m.properties_mut().emplace("UNIQ_KEY", "FD00000000000000000000000000000253BF5FFD2B276CF9C87C0002");
    const auto p = prepare_ok(m);
    const auto req = make_send_request(p, target("GoldenSendProducerGroup", 0, "broker-a", 1795319509116),
                                       send_header_version::v2, p.body);
    CHECK(comparable_fields(req.ext_fields) == comparable_fields(golden.cmd.ext_fields));
}

TEST_CASE("SEND_BATCH_MESSAGE equals the Java client's batch of 10 (seq 17)")
{
    const auto golden = load_capture("send_json.jsonl", 17);
    std::vector<batch_entry> golden_entries;
    REQUIRE_FALSE(decode_batch(golden.cmd.body, golden_entries));
    REQUIRE(golden_entries.size() == 10);
    std::vector<message> msgs;
    for (const auto& e : golden_entries) {
        properties props;
        decode_properties(e.properties, props);
        message m("GoldenSend", std::string(e.body));
        m.set_flag(e.flag);
        for (const auto& [k, v] : props)
            m.properties_mut().insert_or_assign(k, v);
        msgs.push_back(std::move(m));
    }
    auto ids = test_ids();
    std::vector<prepared_send> parts;
    diagnostics diag;
    REQUIRE_FALSE(prepare_batch(msgs, {}, 4 << 20, ids, parts, diag));
    REQUIRE(parts.size() == 1);
    const auto& p = parts[0];
    CHECK(p.batch);
    CHECK(p.message_count == 10);
    CHECK(p.sys_flag == 0);
    const auto req = make_send_request(p, target("GoldenSendProducerGroup", 2, "broker-a", 1795319509238),
                                       send_header_version::v1, p.body);  // batches always use V2 keys
    CHECK(req.code == remoting::request_code::send_batch_message);
    CHECK(comparable_fields(req.ext_fields) == comparable_fields(golden.cmd.ext_fields));
    CHECK(req.ext_fields.get("m") == "true");

    std::vector<batch_entry> entries;
    REQUIRE_FALSE(decode_batch(req.body, entries));
    REQUIRE(entries.size() == golden_entries.size());
    std::string joined;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        CHECK(entries[i].flag == golden_entries[i].flag);
        CHECK(entries[i].body == golden_entries[i].body);
        properties mine, theirs;
        decode_properties(entries[i].properties, mine);
        decode_properties(golden_entries[i].properties, theirs);
        CHECK(mine == theirs);
        joined += (i ? "," : "") + mine.at("UNIQ_KEY");
    }
    CHECK(p.uniq_key == joined);
}

TEST_CASE("a batch over the request size limit is split into several requests, in order")
{
    std::vector<message> msgs;
    for (int i = 0; i < 100; ++i)
        msgs.emplace_back("T", std::string(1000, static_cast<char>('a' + i % 26)));
    msgs[50].set_body(std::string(30000, 'z'));  // larger than the limit: travels alone
    auto ids = test_ids();
    std::vector<prepared_send> parts;
    diagnostics diag;
    REQUIRE_FALSE(prepare_batch(msgs, {.name_space = "NS"}, 10000, ids, parts, diag));
    REQUIRE(parts.size() > 2);
    std::size_t next = 0;
    for (const auto& p : parts) {
        CHECK(p.first_index == next);
        CHECK(p.topic == "NS%T");
        CHECK(p.properties.find("INSTANCE_ID\x01NS") != std::string::npos);
        std::vector<batch_entry> entries;
        REQUIRE_FALSE(decode_batch(p.body, entries));
        CHECK(entries.size() == p.message_count);
        if (p.message_count > 1)
            CHECK(p.body.size() <= 10000);
        for (std::size_t i = 0; i < entries.size(); ++i)
            CHECK(entries[i].body == msgs[next + i].body());
        next += p.message_count;
    }
    CHECK(next == msgs.size());
    const auto lone = std::find_if(parts.begin(), parts.end(), [](const auto& p) { return p.first_index == 50; });
    REQUIRE(lone != parts.end());
    CHECK(lone->message_count == 1);
    for (const auto& m : msgs)
        CHECK(m.property("UNIQ_KEY"));
}

TEST_CASE("batches break the rules with errors that name the problem")
{
    auto ids = test_ids();
    std::vector<prepared_send> parts;
    diagnostics diag;
    const auto check = [&](std::vector<message> msgs, client_errc want, std::string_view words) {
        diag.clear();
        CHECK(prepare_batch(msgs, {}, 4 << 20, ids, parts, diag) == want);
        CHECK_THAT(diag.client_message, Catch::Contains(std::string(words)));
    };
    check({}, client_errc::invalid_argument, "empty");
    check({message("A", "x"), message("B", "y")}, client_errc::invalid_argument, "topic 'B'");
    message delayed("A", "y");
    delayed.set_delay_level(2);
    check({message("A", "x"), delayed}, client_errc::invalid_argument, "delay");
    check({message("%RETRY%G", "x")}, client_errc::invalid_argument, "retry topic");
    message nowait("A", "y");
    nowait.set_wait_store_ok(false);
    check({message("A", "x"), nowait}, client_errc::invalid_argument, "WAIT");
    check({message("A", "x"), message("A", "")}, client_errc::empty_body, "batch message 1");
}

TEST_CASE("prepare_message: ids, namespace, transactions, retry topics, transient properties, validation")
{
    SECTION("a UNIQ_KEY is generated once and kept by the caller's message")
    {
        message m("T", "b");
        const auto p = prepare_ok(m);
        REQUIRE(m.property("UNIQ_KEY"));
        CHECK(p.uniq_key == *m.property("UNIQ_KEY"));
        CHECK(p.uniq_key.size() == 32);
        CHECK(p.uniq_key.starts_with("0A00000112346D06D69C"));
        const auto again = prepare_ok(m);
        CHECK(again.uniq_key == p.uniq_key);
    }
    SECTION("a namespace wraps the topic and adds INSTANCE_ID")
    {
        message m("Orders", "b");
        const auto p = prepare_ok(m, {.name_space = "MQ_INST_1"});
        CHECK(p.topic == "MQ_INST_1%Orders");
        CHECK(m.topic() == "Orders");
        CHECK(m.property("INSTANCE_ID") == "MQ_INST_1");
        CHECK(p.properties.find("INSTANCE_ID\x01MQ_INST_1\x02") != std::string::npos);
    }
    SECTION("TRAN_MSG=true sets the prepared transaction bit")
    {
        message m("T", "b");
        m.properties_mut().emplace("TRAN_MSG", "true");
        CHECK(prepare_ok(m).sys_flag == sys_flag::transaction_prepared);
    }
    SECTION("sends to a retry topic carry reconsume counts in the header")
    {
        message m("%RETRY%G", "b");
        m.properties_mut().emplace("RECONSUME_TIME", "3");
        m.properties_mut().emplace("MAX_RECONSUME_TIMES", "16");
        const auto p = prepare_ok(m);
        CHECK(p.reconsume_times == 3);
        CHECK(p.max_reconsume_times == 16);
        CHECK(p.properties.find("RECONSUME_TIME") == std::string::npos);
        const auto req = make_send_request(p, target("G", 0, "b", 1), send_header_version::v2, p.body);
        CHECK(req.ext_fields.get("j") == "3");
        CHECK(req.ext_fields.get("l") == "16");
    }
    SECTION("client-local transient properties never go on the wire")
    {
        message m("T", "b");
        m.properties_mut().emplace("__RMQ.TRANSIENT.TOPIC_SYS_FLAG", "1");
        CHECK(prepare_ok(m).properties.find("TRANSIENT") == std::string::npos);
    }
    SECTION("validation errors name the problem")
    {
        auto ids = test_ids();
        prepared_send p;
        diagnostics diag;
        message empty("T", "");
        CHECK(prepare_message(empty, {}, ids, p, diag) == client_errc::empty_body);
        CHECK_FALSE(diag.client_message.empty());
        message bad("bad topic", "b");
        CHECK(prepare_message(bad, {}, ids, p, diag) == client_errc::invalid_topic);
        CHECK_THAT(diag.client_message, Catch::Contains("bad topic"));
        message big("T", std::string(101, 'x'));
        CHECK(prepare_message(big, {.max_body_size = 100}, ids, p, diag) == client_errc::message_too_large);
        message reserved("T", "b");
        reserved.set_property("UNIQ_KEY", "mine");
        CHECK(prepare_message(reserved, {}, ids, p, diag) == client_errc::reserved_property);
        CHECK_THAT(diag.client_message, Catch::Contains("UNIQ_KEY"));
        message huge_props("T", "b");
        huge_props.set_property("big", std::string(40000, 'p'));
        CHECK(prepare_message(huge_props, {}, ids, p, diag) == client_errc::invalid_argument);
    }
    SECTION("booleans are always the words true and false")
    {
        message m("T", "b");
        const auto p = prepare_ok(m);
        for (auto v : {send_header_version::v1, send_header_version::v2}) {
            const auto req = make_send_request(p, target("G", 0, "b", 1), v, p.body);
            for (const auto& [k, val] : req.ext_fields)
                if (k == "k" || k == "m" || k == "unitMode" || k == "batch")
                    CHECK((val == "true" || val == "false"));
        }
    }
}

TEST_CASE("send responses: statuses, ids, queue, and errors with the broker's remark")
{
    message m("GoldenSend", "b");
    m.properties_mut().emplace("UNIQ_KEY", "FD00000000000000000000000000000253BF5FFD2B276CF9C8420000");
    const auto p = prepare_ok(m);
    send_result r;
    diagnostics diag;

    SECTION("a stored message (send_json seq 7)")
    {
        const auto resp = load_capture("send_json.jsonl", 7).cmd;
        REQUIRE_FALSE(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag));
        CHECK(r.status == send_status::send_ok);
        CHECK(r.msg_id == p.uniq_key);
        CHECK(r.offset_msg_id == "7F00000100002A9F000000001668CEA8");
        CHECK(r.queue == message_queue{"GoldenSend", "broker-a", 2});
        CHECK(r.queue_offset == 0);
        CHECK(r.transaction_id == p.uniq_key);  // 4.x brokers never fill transactionId
        CHECK(r.region_id == "DefaultRegion");
        CHECK(r.trace_on);
    }
    SECTION("FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT and SLAVE_NOT_AVAILABLE are stored statuses")
    {
        auto resp = load_capture("send_json.jsonl", 7).cmd;
        const std::pair<int, send_status> cases[] = {{10, send_status::flush_disk_timeout},
                                                     {12, send_status::flush_slave_timeout},
                                                     {11, send_status::slave_not_available}};
        for (const auto& [code, status] : cases) {
            resp.code = code;
            REQUIRE_FALSE(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag));
            CHECK(r.status == status);
            CHECK(to_string(status) != "UNKNOWN");
        }
    }
    SECTION("a broker error carries its remark (seq 20: illegal queue id)")
    {
        const auto resp = load_capture("send_json.jsonl", 20).cmd;
        const auto ec = parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag);
        CHECK(ec == make_broker_error(1));
        CHECK(is_retriable(ec));
        CHECK_THAT(diag.remark, Catch::StartsWith("request queueId[99] is illegal"));
    }
    SECTION("TOPIC_NOT_EXIST (seq 24)")
    {
        const auto resp = load_capture("send_json.jsonl", 24).cmd;
        CHECK(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag) == make_broker_error(17));
    }
    SECTION("a batch answer lists every offset id (seq 18)")
    {
        const auto resp = load_capture("send_json.jsonl", 18).cmd;
        REQUIRE_FALSE(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag));
        CHECK(std::count(r.offset_msg_id.begin(), r.offset_msg_id.end(), ',') == 9);
    }
    SECTION("5.x fields: transactionId and batchUniqId")
    {
        auto resp = load_capture("send_json.jsonl", 7).cmd;
        resp.ext_fields.set("transactionId", "TX");
        resp.ext_fields.set("batchUniqId", "BATCH");
        resp.ext_fields.set("TRACE_ON", "false");
        REQUIRE_FALSE(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag));
        CHECK(r.transaction_id == "TX");
        CHECK(r.msg_id == "BATCH");
        CHECK_FALSE(r.trace_on);
    }
    SECTION("a stored answer without queue fields is an unexpected response")
    {
        auto resp = remoting::command::response_to({}, 0);
        CHECK(parse_send_response(resp, p, "GoldenSend", "broker-a", r, diag) == client_errc::unexpected_response);
    }
}

TEST_CASE("END_TRANSACTION requests equal the Java client's (transaction seq 8, 11, 14, 18, 20)")
{
    SECTION("after the local transaction")
    {
        const std::pair<int, transaction_state> cases[] = {
            {8, transaction_state::commit}, {11, transaction_state::rollback}, {14, transaction_state::unknown}};
        for (const auto& [seq, state] : cases) {
            const auto golden = load_capture("transaction.jsonl", seq).cmd;
            const auto& g = golden.ext_fields;
            end_transaction_args a;
            a.group = g.get("producerGroup");
            a.tran_state_table_offset = *g.get_int("tranStateTableOffset");
            a.commit_log_offset = *g.get_int("commitLogOffset");
            a.state = state;
            a.msg_id = g.get("msgId");
            a.transaction_id = g.get("msgId");
            a.broker_name = g.get("bname");
            const auto req = make_end_transaction_request(a);
            CHECK(req.code == remoting::request_code::end_transaction);
            auto mine = comparable_fields(req.ext_fields);
            CHECK(mine["transactionId"] == std::string(g.get("msgId")));  // 4.x Java leaves it out
            mine.erase("transactionId");
            CHECK(mine == comparable_fields(g));
            CHECK_FALSE(req.remark);
        }
    }
    SECTION("answering a check-back")
    {
        const auto check = load_capture("transaction.jsonl", 17).cmd;
        check_request c;
        REQUIRE_FALSE(parse_check_request(check, c));
        CHECK(c.tran_state_table_offset == 3);
        CHECK(c.commit_log_offset == 1680);
        CHECK(c.offset_msg_id == "7F00000100002AA90000000000000690");
        message_batch batch;
        REQUIRE_FALSE(message_batch::decode(check.body, batch));
        REQUIRE(batch.size() == 1);
        CHECK(batch.messages()[0].property("PGROUP") == "GoldenTxProducerGroup");
        for (const auto& [seq, state] : {std::pair{18, transaction_state::unknown}, {20, transaction_state::commit}}) {
            const auto golden = load_capture("transaction.jsonl", seq).cmd;
            const auto request = load_capture("transaction.jsonl", seq - 1).cmd;
            REQUIRE_FALSE(parse_check_request(request, c));
            end_transaction_args a;
            a.group = "GoldenTxProducerGroup";
            a.tran_state_table_offset = c.tran_state_table_offset;
            a.commit_log_offset = c.commit_log_offset;
            a.state = state;
            a.from_transaction_check = true;
            a.msg_id = c.msg_id;
            a.transaction_id = c.transaction_id;
            a.topic = c.topic;
            a.broker_name = c.broker_name;
            CHECK(comparable_fields(make_end_transaction_request(a).ext_fields) == comparable_fields(golden.ext_fields));
        }
    }
    SECTION("an exception text goes in the remark; a malformed check is refused")
    {
        end_transaction_args a;
        a.group = "G";
        a.remark = "executeLocalTransactionBranch exception: boom";
        CHECK(make_end_transaction_request(a).remark == "executeLocalTransactionBranch exception: boom");
        CHECK(commit_or_rollback(transaction_state::commit) == 8);
        CHECK(commit_or_rollback(transaction_state::rollback) == 12);
        CHECK(commit_or_rollback(transaction_state::unknown) == 0);
        auto bad = remoting::command::request(remoting::request_code::check_transaction_state);
        bad.ext_fields.set("tranStateTableOffset", "x");
        check_request c;
        CHECK(parse_check_request(bad, c) == client_errc::bad_header);
    }
}

TEST_CASE("publish queues, and the default topic's queues clamped for an unknown topic")
{
    topic_route r;
    r.queue_datas = {{"broker-b", 8, 8, 6, 0}, {"broker-a", 2, 8, 6, 0}, {"broker-c", 8, 8, 4, 0}};
    r.broker_datas = {{"C", "broker-a", {{0, "a:1"}}}, {"C", "broker-b", {{0, "b:1"}}}, {"C", "broker-c", {{0, "c:1"}}}};
    const auto normal = publish_queues(r, "T");
    CHECK(normal.size() == 16);  // broker-c is read-only
    const auto def = default_topic_publish_queues(r, "T", 4);
    REQUIRE(def.size() == 6);
    CHECK(def[0] == message_queue{"T", "broker-a", 0});
    CHECK(def[1] == message_queue{"T", "broker-a", 1});  // clamped to its 2 read queues
    CHECK(def[2] == message_queue{"T", "broker-b", 0});
    CHECK(def[5] == message_queue{"T", "broker-b", 3});
}

TEST_CASE("the sharding-key selector matches Java's SelectMessageQueueByHash")
{
    // Values of Java's String.hashCode, checked against a Java-semantics model.
    CHECK(hash_queue_index("hello", 4) == 2);                 // 99162322
    CHECK(hash_queue_index("order-42", 4) == 1);              // 1234255197
    CHECK(hash_queue_index("polygenelubricants", 4) == 0);    // Integer.MIN_VALUE
    CHECK(hash_queue_index("zzzzzzzzzz", 7) == 2);            // -1580979136
    CHECK(hash_queue_index("order-1", 7) == 6);               // -1207111310
    CHECK(hash_queue_index("order-2", 3) == 1);
    CHECK(hash_queue_index("x", 0) == 0);
    const std::vector<message_queue> queues(4);
    message m("T", "b");
    m.set_sharding_key("order-42");
    CHECK(queue_selectors::by_sharding_key()(queues, m) == 1);
    auto rnd = queue_selectors::random();
    for (int i = 0; i < 100; ++i)
        CHECK(rnd(queues, m) < 4);
}
