#include <corocket/acl.hpp>

#include "wire_frames.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using corocket::acl_hook;
using corocket::acl_signature;
using corocket::remoting::command;
using corocket::remoting::ext_fields;
using corocket::remoting::serialize_type;

namespace {

ext_fields fields(std::initializer_list<std::pair<const char*, const char*>> items)
{
    ext_fields f;
    for (const auto& [k, v] : items)
        f.set(k, v);
    return f;
}

ext_fields captured_fields(const corocket::test::wire_frame& f)
{
    ext_fields out;
    const auto& ext = f.decoded().at("extFields");
    if (ext.is_object()) {
        for (const auto& [k, v] : ext.as_object())
            out.set(std::string_view(k), std::string(v.as_string()));
    }
    return out;
}

// The aclBadProducer instance signed with "wrong-secret" (found by recomputing every frame).
const std::set<std::int64_t> wrong_secret_seqs = {18, 20, 21, 24, 28, 30, 32};

}  // namespace

TEST_CASE("acl_signature: the test vectors of §7.14 / A.9", "[acl]")
{
    CHECK(acl_signature(fields({{"AccessKey", "ak"}, {"topic", "T"}}), "", "sk") == "vX6jW2Q9g11lvMjNC+gReuZ8fTQ=");
    const auto send = fields({{"AccessKey", "ak"},
                              {"a", "PG"},
                              {"b", "T"},
                              {"c", "TBW102"},
                              {"d", "4"},
                              {"e", "0"},
                              {"f", "0"},
                              {"g", "1700000000000"},
                              {"h", "0"},
                              {"i", "WAIT\x01true\x02"},
                              {"j", "0"},
                              {"k", "false"},
                              {"m", "false"}});
    CHECK(acl_signature(send, "hi", "sk") == "8RD3TCGR2ZczUm3rmfVwKAsh3n4=");
}

TEST_CASE("acl_signature: key order, not insertion order; Signature itself is skipped", "[acl]")
{
    const auto sorted = fields({{"AccessKey", "ak"}, {"topic", "T"}});
    const auto shuffled = fields({{"topic", "T"}, {"Signature", "stale"}, {"AccessKey", "ak"}});
    CHECK(acl_signature(shuffled, "", "sk") == acl_signature(sorted, "", "sk"));
    // Uppercase keys sort before lowercase ones (Java String order = byte order for ASCII).
    CHECK(acl_signature(fields({{"b", "2"}, {"Z", "1"}}), "", "k") == acl_signature(fields({{"x", "12"}}), "", "k"));
    CHECK(acl_signature(fields({{"b", "2"}, {"Z", "1"}}), "", "k") != acl_signature(fields({{"x", "21"}}), "", "k"));
    // The body is appended after the values.
    CHECK(acl_signature(fields({{"a", "x"}}), "y", "k") == acl_signature(fields({{"a", "xy"}}), "", "k"));
    // An empty secret is still a valid HMAC key (Python: hmac.new(b"", b"akT", sha1)).
    CHECK(acl_signature(fields({{"AccessKey", "ak"}, {"topic", "T"}}), "", std::string_view()) ==
          "SNvdquq36yydxtQwJ4zCkhC9wJM=");
}

TEST_CASE("acl_signature: every signed request of acl.jsonl recomputes", "[acl][wire]")
{
    int checked = 0;
    for (const auto& f : corocket::test::load_wire("acl.jsonl")) {
        const auto ext = captured_fields(f);
        const auto* captured = ext.find("Signature");
        if (!f.is_request() || !captured)
            continue;
        INFO("seq " << f.seq << " " << f.annot().at("code_name").as_string());
        const bool wrong = wrong_secret_seqs.contains(f.seq);
        CHECK(acl_signature(ext, f.body(), wrong ? "wrong-secret" : "12345678") == *captured);
        if (wrong)
            CHECK(acl_signature(ext, f.body(), "12345678") != *captured);
        ++checked;
    }
    CHECK(checked == 54);
}

TEST_CASE("acl_hook: re-signing captured requests reproduces their signatures", "[acl][wire]")
{
    const auto frames = corocket::test::load_wire("acl.jsonl");
    // JSON SEND_MESSAGE_V2 with a body, a JSON heartbeat, and the binary send and pull.
    for (std::int64_t seq : {14, 26, 73, 86}) {
        const auto& f = *std::find_if(frames.begin(), frames.end(), [&](const auto& fr) { return fr.seq == seq; });
        INFO("seq " << seq);
        command request = command::request(static_cast<int>(f.code()));
        request.type = f.decoded().at("serializeType") == "ROCKETMQ" ? serialize_type::rocketmq : serialize_type::json;
        request.ext_fields = captured_fields(f);
        const std::string signature = *request.ext_fields.find("Signature");
        request.ext_fields.erase("Signature");
        request.ext_fields.erase("AccessKey");
        request.body = std::string(f.body());

        acl_hook hook({"RocketMQ", "12345678", ""});
        hook.before_request("127.0.0.1:10931", request);
        CHECK(request.ext_fields.get("AccessKey") == "RocketMQ");
        CHECK(request.ext_fields.get("Signature") == signature);
        CHECK_FALSE(request.ext_fields.contains("SecurityToken"));
    }
}

TEST_CASE("acl_hook: security token, _UNIQUE_KEY_QUERY and empty binary values", "[acl]")
{
    acl_hook hook({"ak", "sk", "token"});

    command query = command::request(12);
    query.ext_fields = fields({{"topic", "T"}, {"key", "K"}, {"_UNIQUE_KEY_QUERY", "true"}, {"Signature", "old"}});
    hook.before_request("b:1", query);
    CHECK_FALSE(query.ext_fields.contains("_UNIQUE_KEY_QUERY"));
    CHECK(query.ext_fields.get("SecurityToken") == "token");
    // Content: AccessKey, SecurityToken, key, topic → "ak" "token" "K" "T".
    CHECK(query.ext_fields.get("Signature") == acl_signature(fields({{"x", "aktokenKT"}}), "", "sk"));

    // Binary headers turn "" into null (signed as "null" by the broker): such fields are dropped.
    command binary = command::request(14);
    binary.type = serialize_type::rocketmq;
    binary.ext_fields = fields({{"topic", "T"}, {"empty", ""}});
    hook.before_request("b:1", binary);
    CHECK_FALSE(binary.ext_fields.contains("empty"));
    CHECK(binary.ext_fields.get("Signature") == acl_signature(fields({{"x", "aktokenT"}}), "", "sk"));

    // JSON keeps them: "" is signed as "" on both sides.
    command json = command::request(14);
    json.ext_fields = fields({{"topic", "T"}, {"empty", ""}});
    hook.before_request("b:1", json);
    CHECK(json.ext_fields.contains("empty"));
    CHECK(json.ext_fields.get("Signature") == binary.ext_fields.get("Signature"));
}
