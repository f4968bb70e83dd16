// Every stored message, batch body and compressed body in the golden wire captures.
#include "message/codec.hpp"
#include "message/properties.hpp"
#include "test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace corocket;
using corocket::test::wire_frame;

namespace {

namespace json = boost::json;

std::int64_t num(const json::object& o, std::string_view key) { return o.at(key).to_number<std::int64_t>(); }
std::string_view str(const json::object& o, std::string_view key) { return o.at(key).as_string(); }

properties json_properties(const json::object& o)
{
    properties out;
    for (const auto& [k, v] : o) out.emplace(std::string(k), std::string(v.as_string()));
    return out;
}

properties view_properties(const message_view::property_list& list)
{
    properties out;
    for (const auto& [k, v] : list) out.insert_or_assign(std::string(k), std::string(v));
    return out;
}

// Long texts are abbreviated in the annotations as "<prefix>...(N chars)".
void check_annotated_text(std::string_view body, std::string_view text)
{
    const auto marker = text.rfind("...(");
    if (marker == std::string_view::npos || !text.ends_with(" chars)")) {
        CHECK(body == text);
        return;
    }
    const auto count = std::stoul(std::string(text.substr(marker + 4)));
    CHECK(body.size() == count);
    CHECK(body.substr(0, marker) == text.substr(0, marker));
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

void check_stored_message(const message_view& m, const json::object& exp)
{
    CHECK(m.store_size() == num(exp, "storeSize"));
    CHECK(m.body_crc() == num(exp, "bodyCRC"));
    CHECK(m.topic() == str(exp, "topic"));
    CHECK(m.queue_id() == num(exp, "queueId"));
    CHECK(m.queue_offset() == num(exp, "queueOffset"));
    CHECK(m.commit_log_offset() == num(exp, "commitLogOffset"));
    CHECK(m.flag() == num(exp, "flag"));
    CHECK(m.stored_sys_flag() == num(exp, "sysFlag"));
    CHECK(m.sys_flag() == (num(exp, "sysFlag") & ~sys_flag::compressed));
    CHECK(m.born_timestamp() == num(exp, "bornTimestamp"));
    CHECK(m.born_host().to_string() == str(exp, "bornHost"));
    CHECK(m.store_timestamp() == num(exp, "storeTimestamp"));
    CHECK(m.store_host().to_string() == str(exp, "storeHost"));
    CHECK(m.reconsume_times() == num(exp, "reconsumeTimes"));
    CHECK(m.prepared_transaction_offset() == num(exp, "preparedTransactionOffset"));
    CHECK(m.offset_msg_id() == str(exp, "offsetMsgId"));

    const auto props = json_properties(exp.at("properties").as_object());
    CHECK(view_properties(m.properties()) == props);
    const auto uniq = props.find("UNIQ_KEY");
    CHECK(m.msg_id() == (uniq != props.end() ? uniq->second : std::string(str(exp, "offsetMsgId"))));
    if (const auto tags = props.find("TAGS"); tags != props.end()) CHECK(m.tags() == tags->second);

    if (exp.contains("compressed")) {
        CHECK(str(exp, "compressed") == "ZLIB");
        CHECK(m.body().size() == static_cast<std::size_t>(num(exp, "inflated_len")));
        check_annotated_text(m.body(), str(exp, "inflated_text"));
        CHECK(m.body() == golden_big_body());
    } else {
        CHECK(m.body().size() == static_cast<std::size_t>(num(exp, "body_len")));
        if (exp.at("body_text").is_string()) check_annotated_text(m.body(), str(exp, "body_text"));
    }
}

}  // namespace

TEST_CASE("stored messages of pull/view/query responses and check-backs decode as annotated")
{
    const auto frames = test::load_wire_frames([](const json::object& a) { return a.contains("body_messages"); });
    // 43 frames in the captures carry store-format messages (pull, query, view, CHECK_TRANSACTION_STATE).
    REQUIRE(frames.size() == 43);
    std::size_t messages = 0, compressed = 0;
    for (const auto& f : frames) {
        INFO(f.where());
        const auto& expected = f.annot().at("body_messages").as_array();
        message_batch batch;
        REQUIRE_FALSE(message_batch::decode(std::string(f.body()), batch));
        REQUIRE(batch.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            INFO("message " << i);
            check_stored_message(batch.messages()[i], expected[i].as_object());
            compressed += expected[i].as_object().contains("compressed") ? 1 : 0;
        }
        messages += batch.size();
    }
    CHECK(messages == 95);
    CHECK(compressed > 0);
}

TEST_CASE("every captured stored record re-encodes byte for byte")
{
    const auto frames = test::load_wire_frames([](const json::object& a) { return a.contains("body_messages"); });
    REQUIRE_FALSE(frames.empty());
    for (const auto& f : frames) {
        INFO(f.where());
        std::vector<std::string_view> records;
        REQUIRE_FALSE(detail::split_stored_records(f.body(), records));
        std::string reencoded;
        for (const auto record : records) {
            detail::stored_record rec;
            REQUIRE_FALSE(detail::decode_stored(record, rec));
            CHECK(detail::stored_size(rec) == record.size());
            CHECK(rec.body_crc == detail::body_crc(rec.body));
            detail::encode_stored(rec, reencoded);
        }
        CHECK(test::hex(reencoded) == test::hex(f.body()));
    }
}

TEST_CASE("SEND_BATCH_MESSAGE bodies decode as annotated and re-encode byte for byte")
{
    const auto frames = test::load_wire_frames([](const json::object& a) { return a.contains("body_batch_messages"); });
    REQUIRE(frames.size() == 2);
    for (const auto& f : frames) {
        INFO(f.where());
        const auto& expected = f.annot().at("body_batch_messages").as_array();
        std::vector<detail::batch_entry> entries;
        REQUIRE_FALSE(detail::decode_batch(f.body(), entries));
        REQUIRE(entries.size() == expected.size());
        std::string reencoded;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            INFO("entry " << i);
            const auto& exp = expected[i].as_object();
            const auto& e = entries[i];
            CHECK(num(exp, "magicCode") == 0);
            CHECK(num(exp, "bodyCRC") == 0);
            CHECK(static_cast<std::int64_t>(detail::batch_entry_size(e.body.size(), e.properties.size()))
                  == num(exp, "totalSize"));
            CHECK(e.flag == num(exp, "flag"));
            CHECK(e.body.size() == static_cast<std::size_t>(num(exp, "body_len")));
            check_annotated_text(e.body, str(exp, "body_text"));
            properties props;
            detail::decode_properties(e.properties, props);
            CHECK(props == json_properties(exp.at("properties").as_object()));
            detail::encode_batch_entry(e.flag, e.body, e.properties, reencoded);
        }
        CHECK(test::hex(reencoded) == test::hex(f.body()));
    }
}

TEST_CASE("compressed send bodies inflate to the annotated text, and level 5 reproduces them")
{
    const auto frames = test::load_wire_frames([](const json::object& a) { return a.contains("body_inflated"); });
    REQUIRE(frames.size() == 4);
    for (const auto& f : frames) {
        INFO(f.where());
        const auto& exp = f.annot().at("body_inflated").as_object();
        CHECK(str(exp, "compressed") == "ZLIB");
        std::string inflated;
        REQUIRE_FALSE(detail::zlib_inflate(f.body(), 1 << 20, inflated));
        CHECK(inflated.size() == static_cast<std::size_t>(num(exp, "inflated_len")));
        check_annotated_text(inflated, str(exp, "inflated_text"));
        CHECK(inflated == golden_big_body());
        // The Java client uses zlib's deflate at level 5, so the same input gives the same bytes.
        std::string recompressed;
        REQUIRE_FALSE(detail::zlib_compress(inflated, 5, recompressed));
        CHECK(test::hex(recompressed) == test::hex(f.body()));
        // The send header carries COMPRESSED | ZLIB type bits (769).
        const auto& ext = f.line.at("decoded").as_object().at("extFields").as_object();
        const auto* flag = ext.if_contains("f") ? ext.if_contains("f") : ext.if_contains("sysFlag");
        REQUIRE(flag != nullptr);
        CHECK(flag->as_string() == "769");
    }
}

TEST_CASE("captured send properties round-trip through the properties codec")
{
    const auto frames = test::load_wire_frames([](const json::object& a) { return a.contains("properties_parsed"); });
    REQUIRE_FALSE(frames.empty());
    for (const auto& f : frames) {
        INFO(f.where());
        const auto& ext = f.line.at("decoded").as_object().at("extFields").as_object();
        const auto* text = ext.if_contains("i") ? ext.if_contains("i") : ext.if_contains("properties");
        REQUIRE(text != nullptr);
        properties props;
        detail::decode_properties(text->as_string(), props);
        CHECK(props == json_properties(f.annot().at("properties_parsed").as_object()));
    }
}
