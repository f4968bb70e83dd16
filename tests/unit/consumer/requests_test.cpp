// Sans-I/O consumer codecs: pull request fields, pull answers (status mapping, decoding of
// compressed/V2/IPv6 records, malformed and undecodable records), presentation (tag re-filter, retry topics,
// namespaces), offset answers, consumer lists, send-back and lock bodies.
#include "consumer/requests.hpp"
#include "message/codec.hpp"
#include "message/properties.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

using namespace corocket;
using namespace corocket::detail;
using remoting::command;
namespace rc = remoting::response_code;

namespace {

stored_record make_record(std::string topic, std::string body, properties props, std::int64_t queue_offset = 0)
{
    stored_record r;
    r.queue_id = 1;
    r.flag = 7;
    r.queue_offset = queue_offset;
    r.commit_log_offset = 1000 + queue_offset;
    r.born_timestamp = 1700000000000;
    r.born_host = *host_address::parse("10.0.0.5:50000");
    r.store_timestamp = 1700000000100;
    r.store_host = *host_address::parse("10.0.0.1:10911");
    r.reconsume_times = 2;
    r.body = std::move(body);
    r.topic = std::move(topic);
    r.properties = encode_properties(props);
    return r;
}

command pull_answer(int code, std::string body = {})
{
    command c;
    c.code = code;
    c.flag = remoting::flag_response;
    c.ext_fields.set("nextBeginOffset", "12");
    c.ext_fields.set("minOffset", "3");
    c.ext_fields.set("maxOffset", "40");
    c.ext_fields.set("suggestWhichBrokerId", "1");
    c.body = std::move(body);
    return c;
}

}  // namespace

TEST_CASE("pull request carries every header field of §3.4")
{
    pull_request_fields f;
    f.group = "CG";
    f.queue = {"T", "broker-a", 3};
    f.queue_offset = 42;
    f.max_messages = 10;
    f.sys_flag = pull_flag::suspend | pull_flag::subscription | pull_flag::lite_pull;
    f.suspend_timeout_ms = 20000;
    f.subscription = "TagA || TagB";
    f.expression_type = "TAG";
    f.sub_version = 0;
    auto req = make_pull_request(f);
    CHECK(req.code == remoting::request_code::pull_message);
    const auto& x = req.ext_fields;
    CHECK(x.get("consumerGroup") == "CG");
    CHECK(x.get("topic") == "T");
    CHECK(x.get("queueId") == "3");
    CHECK(x.get("queueOffset") == "42");
    CHECK(x.get("maxMsgNums") == "10");
    CHECK(x.get("sysFlag") == "22");
    CHECK(x.get("commitOffset") == "0");
    CHECK(x.get("suspendTimeoutMillis") == "20000");
    CHECK(x.get("subscription") == "TagA || TagB");
    CHECK(x.get("subVersion") == "0");
    CHECK(x.get("expressionType") == "TAG");
    CHECK(x.get("bname") == "broker-a");
    CHECK_FALSE(x.contains("maxMsgBytes"));

    f.lite_code = true;
    f.max_bytes = 256 * 1024;
    f.subscription.clear();
    req = make_pull_request(f);
    CHECK(req.code == remoting::request_code::lite_pull_message);
    CHECK(req.ext_fields.get("maxMsgBytes") == "262144");
    CHECK(req.ext_fields.get("subscription") == "*");  // never an empty value
}

TEST_CASE("pull answer codes map to statuses, other codes to broker errors")
{
    struct {
        int code;
        pull_status status;
    } cases[] = {{rc::pull_not_found, pull_status::no_new_msg},
                 {rc::pull_retry_immediately, pull_status::no_matched_msg},
                 {rc::pull_offset_moved, pull_status::offset_illegal}};
    for (auto c : cases) {
        auto resp = pull_answer(c.code);
        pull_result r;
        REQUIRE_FALSE(parse_pull_response(resp, r));
        CHECK(r.status == c.status);
        CHECK(r.next_begin_offset == 12);
        CHECK(r.min_offset == 3);
        CHECK(r.max_offset == 40);
        CHECK(r.suggest_which_broker_id == 1);
        CHECK(r.empty());
    }
    for (int code : {rc::subscription_not_exist, rc::subscription_not_latest, rc::no_permission, rc::flow_control,
                     rc::system_busy, rc::topic_not_exist}) {
        auto resp = pull_answer(code);
        pull_result r;
        auto ec = parse_pull_response(resp, r);
        CHECK(ec == make_broker_error(code));
    }
    auto missing = pull_answer(rc::pull_not_found);
    missing.ext_fields.erase("nextBeginOffset");
    pull_result r;
    CHECK(parse_pull_response(missing, r) == client_errc::unexpected_response);
}

TEST_CASE("FOUND decodes every record: compressed, V2 topic, IPv6 hosts, properties, ids")
{
    std::string body;
    auto plain = make_record("T", "hello", {{"TAGS", "TagA"}, {"KEYS", "k1 k2"}, {"UNIQ_KEY", "AABB"}}, 10);
    encode_stored(plain, body);

    auto zipped = make_record("T", "", {{"TAGS", "TagB"}}, 11);
    const std::string big(5000, 'z');
    REQUIRE_FALSE(zlib_compress(big, 5, zipped.body));
    zipped.sys_flag = sys_flag::compressed | sys_flag::compression_zlib;
    encode_stored(zipped, body);

    auto v6 = make_record(std::string(200, 't'), "six", {}, 12);  // long topic → V2 record
    v6.born_host = *host_address::parse("[2001:db8::1]:1234");
    v6.store_host = *host_address::parse("[2001:db8::2]:10911");
    encode_stored(v6, body);

    auto resp = pull_answer(rc::success, body);
    pull_result r;
    REQUIRE_FALSE(parse_pull_response(resp, r));
    REQUIRE(r.status == pull_status::found);
    REQUIRE(r.size() == 3);
    auto m = r.messages();
    CHECK(m[0].body() == "hello");
    CHECK(m[0].tags() == "TagA");
    CHECK(m[0].keys() == std::vector<std::string_view>{"k1", "k2"});
    CHECK(m[0].msg_id() == "AABB");
    CHECK(m[0].reconsume_times() == 2);
    CHECK(m[0].flag() == 7);
    CHECK(m[0].born_host().to_string() == "10.0.0.5:50000");
    CHECK(m[0].store_host().to_string() == "10.0.0.1:10911");
    CHECK(m[0].queue_offset() == 10);
    CHECK(m[0].commit_log_offset() == 1010);
    CHECK(m[1].body() == big);
    CHECK((m[1].sys_flag() & sys_flag::compressed) == 0);
    CHECK(m[1].msg_id() == m[1].offset_msg_id());  // no UNIQ_KEY: the offset id
    CHECK(m[2].topic() == std::string(200, 't'));
    CHECK(m[2].born_host().v6);
    CHECK(m[2].store_host().to_string() == "[2001:db8::2]:10911");
    CHECK(m[2].body() == "six");
}

TEST_CASE("a malformed pull body is skipped and counted, never an error or a crash")
{
    const auto all = parse_tag_expression("T", "*");
    std::string body;
    encode_stored(make_record("T", "hello", {{"TAGS", "TagA"}}), body);
    for (std::size_t cut = 1; cut < body.size(); ++cut) {
        INFO("cut at " << cut);
        auto resp = pull_answer(rc::success, body.substr(0, cut));
        pull_result r;
        REQUIRE_FALSE(parse_pull_response(resp, r));
        CHECK(r.batch().unparsed_bytes() == cut);  // its TOTALSIZE runs past the end
        present_pulled(r, {"T", "broker-a", 1}, all, "", "%RETRY%CG", 0);
        CHECK(r.empty());
        CHECK(r.undecodable == 1);
        CHECK(r.next_begin_offset == 12);  // the queue still moves on
    }
    auto bad_magic = body;
    bad_magic[4] = 0x11;
    auto resp = pull_answer(rc::success, bad_magic);
    pull_result r;
    REQUIRE_FALSE(parse_pull_response(resp, r));
    REQUIRE(r.batch().size() == 1);
    CHECK(r.batch().messages()[0].decode_error() == client_errc::bad_message);
    present_pulled(r, {"T", "broker-a", 1}, all, "", "%RETRY%CG", 0);
    CHECK(r.empty());
    CHECK(r.undecodable == 1);
}

TEST_CASE("undecodable records are left out and logged; the good ones around them are presented")
{
    std::string body;
    encode_stored(make_record("T", "good-0", {{"TAGS", "TagA"}, {"UNIQ_KEY", "U0"}}, 20), body);
    auto corrupt = make_record("T", "not an LZ4 frame", {{"TAGS", "TagA"}, {"UNIQ_KEY", "BAD_LZ4"}}, 21);
    corrupt.sys_flag = 0x101;
    encode_stored(corrupt, body);
    auto zstd = make_record("T", "", {{"TAGS", "TagA"}, {"UNIQ_KEY", "U2"}}, 22);
    body_compressor c;
    REQUIRE_FALSE(c.compress(compression_type::zstd, std::string(6000, 'q'), 5, zstd.body));
    zstd.sys_flag = 0x201;
    encode_stored(zstd, body);
    auto unknown = make_record("T", "body", {{"UNIQ_KEY", "TYPE_5"}}, 23);
    unknown.sys_flag = 0x501;
    encode_stored(unknown, body);
    std::string malformed;
    encode_stored(make_record("T", "body", {}, 24), malformed);
    malformed[4] = 0x11;  // magic code
    body += malformed;
    encode_stored(make_record("T", "good-5", {{"TAGS", "TagA"}}, 25), body);
    body += std::string("\x00\x00\x00\x07", 4);  // a TOTALSIZE below the minimum: the rest is lost

    auto resp = pull_answer(rc::success, body);
    pull_result r;
    REQUIRE_FALSE(parse_pull_response(resp, r));
    std::vector<std::string> lines;
    const logger log(log_level::warn, [&](log_level, std::string_view line) { lines.emplace_back(line); });
    warn_undecodable(log, {"T", "broker-a", 1}, 20, r.batch());
    present_pulled(r, {"T", "broker-a", 1}, parse_tag_expression("T", "TagA"), "", "%RETRY%CG", 0);

    REQUIRE(r.size() == 3);
    CHECK(r.messages()[0].body() == "good-0");
    CHECK(r.messages()[1].body() == std::string(6000, 'q'));
    CHECK(r.messages()[2].body() == "good-5");
    CHECK(r.messages()[2].queue_offset() == 25);
    CHECK(r.undecodable == 4);  // LZ4, type 5, malformed, and the unparsed tail

    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "corocket: skipped an undecodable message: topic T, broker broker-a, queue 1, offset 21, "
                      "msgId BAD_LZ4: LZ4 body of 16 bytes does not inflate: ERROR_frameType_unknown");
    CHECK(lines[1] == "corocket: skipped an undecodable message: topic T, broker broker-a, queue 1, offset 23, "
                      "msgId TYPE_5: unknown compression type 5");
    CHECK(lines[2] == "corocket: skipped an undecodable message: topic T, broker broker-a, queue 1, offset 24, "
                      "msgId unknown: malformed record: its lengths, magic code or hosts are inconsistent");
    CHECK(lines[3] == "corocket: skipped the last 4 bytes of a pull answer, which are no stored records (bad "
                      "TOTALSIZE): topic T, broker broker-a, queue 1, from offset 26; the messages in them cannot "
                      "be located");
}

TEST_CASE("presentation: tag re-filter, retry topic, namespace, queue and broker")
{
    std::string body;
    encode_stored(make_record("NS%T", "a", {{"TAGS", "TagA"}}, 0), body);
    encode_stored(make_record("NS%T", "b", {{"TAGS", "TagC"}}, 1), body);  // hash collision on the broker
    encode_stored(make_record("NS%T", "c", {}, 2), body);                 // no tag
    encode_stored(make_record("%RETRY%NS%CG", "d", {{"TAGS", "TagB"}, {"RETRY_TOPIC", "NS%T"}}, 3), body);
    auto resp = pull_answer(rc::success, body);
    pull_result r;
    REQUIRE_FALSE(parse_pull_response(resp, r));
    auto filter = parse_tag_expression("NS%T", "TagA || TagB");
    present_pulled(r, {"T", "broker-b", 5}, filter, "NS", "%RETRY%NS%CG", 100);
    REQUIRE(r.size() == 2);
    CHECK(r.messages()[0].body() == "a");
    CHECK(r.messages()[0].topic() == "T");
    CHECK(r.messages()[0].queue_id() == 5);
    CHECK(r.messages()[0].queue_offset() == 100);
    CHECK(r.messages()[0].broker_name == "broker-b");
    CHECK(r.messages()[1].body() == "d");
    CHECK(r.messages()[1].topic() == "T");  // presented under RETRY_TOPIC, namespace stripped
    CHECK(r.messages()[1].queue_offset() == 103);
    CHECK(r.queue == message_queue{"T", "broker-b", 5});

    // "*" keeps everything, including messages without a tag.
    auto resp2 = pull_answer(rc::success, body);
    pull_result all;
    REQUIRE_FALSE(parse_pull_response(resp2, all));
    present_pulled(all, {"T", "broker-b", 5}, parse_tag_expression("NS%T", "*"), "NS", "%RETRY%NS%CG", 0);
    CHECK(all.size() == 4);
}

TEST_CASE("namespace stripping keeps unrelated names")
{
    CHECK(strip_namespace_view("NS", "NS%T") == "T");
    CHECK(strip_namespace_view("NS", "NSX%T") == "NSX%T");
    CHECK(strip_namespace_view("", "NS%T") == "NS%T");
    CHECK(strip_namespace_view("NS", "NS%") == "NS%");
    CHECK(strip_namespace_view("NS", "T") == "T");
}

TEST_CASE("offset requests and answers")
{
    message_queue q{"T", "broker-a", 2};
    auto query = make_query_offset_request("CG", q);
    CHECK(query.code == remoting::request_code::query_consumer_offset);
    CHECK(query.ext_fields.get("consumerGroup") == "CG");
    CHECK(query.ext_fields.get("topic") == "T");
    CHECK(query.ext_fields.get("queueId") == "2");
    auto update = make_update_offset_request("CG", q, 77);
    CHECK(update.code == remoting::request_code::update_consumer_offset);
    CHECK(update.ext_fields.get("commitOffset") == "77");
    auto search = make_queue_offset_request(remoting::request_code::search_offset_by_timestamp, q, 1700000000000);
    CHECK(search.ext_fields.get("timestamp") == "1700000000000");
    CHECK_FALSE(make_queue_offset_request(remoting::request_code::get_max_offset, q).ext_fields.contains("timestamp"));

    command ok;
    ok.code = rc::success;
    ok.ext_fields.set("offset", "123");
    std::int64_t v = 0;
    REQUIRE_FALSE(parse_offset_response(ok, true, v));
    CHECK(v == 123);
    command not_found;
    not_found.code = rc::query_not_found;
    REQUIRE_FALSE(parse_offset_response(not_found, true, v));
    CHECK(v == -1);
    CHECK(parse_offset_response(not_found, false, v) == make_broker_error(rc::query_not_found));
    command garbled;
    garbled.code = rc::success;
    garbled.ext_fields.set("offset", "12x");
    CHECK(parse_offset_response(garbled, false, v) == client_errc::unexpected_response);
}

TEST_CASE("retry re-send: DELAY 3 + reconsume times, none for a dead letter")
{
    std::string body;
    encode_stored(make_record("T", "x", {{"DELAY", "2"}, {"UNIQ_KEY", "AABB"}}), body);
    auto resp = pull_answer(rc::success, body);
    pull_result r;
    REQUIRE_FALSE(parse_pull_response(resp, r));
    REQUIRE(r.size() == 1);
    retry_resend_fields f{.wire_retry_topic = "%RETRY%CG", .wire_topic = "T", .reconsume_times = 2,
                          .max_reconsume_times = 2};
    auto retry = make_retry_resend_request(r.messages()[0], f);
    CHECK(retry.ext_fields.get("b") == "%RETRY%CG");
    CHECK(retry.ext_fields.get("j") == "2");
    CHECK(retry.ext_fields.get("l") == "2");
    properties props;
    decode_properties(retry.ext_fields.get("i"), props);
    CHECK(props.at("DELAY") == "5");
    CHECK(props.at("RETRY_TOPIC") == "T");

    // 4.9.7 applies a DELAY sent along to the DLQ copy too (it clears the level, then copies the
    // request's properties over it): a dead letter goes without one, the original's included.
    f.dead_letter = true;
    auto dead = make_retry_resend_request(r.messages()[0], f);
    properties dead_props;
    decode_properties(dead.ext_fields.get("i"), dead_props);
    CHECK_FALSE(dead_props.contains("DELAY"));
    CHECK(dead_props.at("RETRY_TOPIC") == "T");
}

TEST_CASE("consumer list, send-back and lock bodies")
{
    std::vector<std::string> ids;
    REQUIRE_FALSE(parse_consumer_list(R"({"consumerIdList":["b@1","a@2"]})", ids));
    CHECK(ids == std::vector<std::string>{"b@1", "a@2"});
    CHECK(parse_consumer_list(R"({"consumerIdList":[1]})", ids) == client_errc::bad_body);
    CHECK(parse_consumer_list("not json", ids) == client_errc::bad_body);

    send_back_fields f;
    f.commit_log_offset = 4096;
    f.group = "CG";
    f.origin_msg_id = "ID";
    f.origin_topic = "T";
    f.broker_name = "broker-a";
    auto sb = make_send_back_request(f);
    CHECK(sb.code == remoting::request_code::consumer_send_msg_back);
    CHECK(sb.ext_fields.get("offset") == "4096");
    CHECK(sb.ext_fields.get("group") == "CG");
    CHECK(sb.ext_fields.get("delayLevel") == "0");
    CHECK(sb.ext_fields.get("originMsgId") == "ID");
    CHECK(sb.ext_fields.get("originTopic") == "T");
    CHECK(sb.ext_fields.get("unitMode") == "false");
    CHECK(sb.ext_fields.get("maxReconsumeTimes") == "16");
    CHECK(sb.ext_fields.get("bname") == "broker-a");

    auto body = lock_batch_body("CG", "cid", {{"T", "broker-a", 0}, {"T", "broker-a", 1}});
    auto v = boost::json::parse(body).as_object();
    CHECK(v.at("consumerGroup").as_string() == "CG");
    CHECK(v.at("clientId").as_string() == "cid");
    CHECK(v.at("onlyThisBroker").as_bool() == false);
    CHECK(v.at("mqSet").as_array().size() == 2);
    std::vector<message_queue> locked;
    REQUIRE_FALSE(parse_lock_batch_response(R"({"lockOKMQSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"}]})", locked));
    CHECK(locked == std::vector<message_queue>{{"T", "broker-a", 1}});
    CHECK(parse_lock_batch_response(R"({"lockOKMQSet":[{"queueId":"x"}]})", locked) == client_errc::bad_body);
}
