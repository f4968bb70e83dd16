// Fidelity: replays the client side of every wire capture (tests/wire/*.jsonl, official Java
// client ↔ Apache RocketMQ 4.9.8) against the embedded cluster and compares each answer with the
// recorded one: response code, the set of header field names, and the body's structure (JSON
// keys, or the number — and topic, queue, body, property names — of stored messages). Values that
// naturally differ (offsets, timestamps, ids, hosts, opaque) are tolerated; offsets and ids the
// client echoes back later are translated from the recorded value to the embedded broker's.
#include "broker_client.hpp"
#include "wire_captures.hpp"

#include "message/ids.hpp"
#include "remoting/header_codec.hpp"
#include "util/json.hpp"

#include <corocket/acl.hpp>
#include <corocket/route.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <map>
#include <set>

using namespace corocket;
using namespace corocket::test;
namespace json = boost::json;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

/// The replay runs the captured timeline this much faster; every broker timer (delay levels,
/// transaction check-back) and every suspend time and timestamp the client sends is scaled the
/// same way, so what was due (or not yet due) in the capture is due (or not) here too.
constexpr double time_scale = 0.05;

/// When each scenario started, in seconds after the first one (the captures' README).
double scenario_start(const std::string& file)
{
    static const std::map<std::string, double> starts{
        {"route.jsonl", 0.0},           {"send_json.jsonl", 7.581},
        {"send_binary.jsonl", 19.795},  {"consume_push.jsonl", 40.327},
        {"consume_orderly.jsonl", 77.852}, {"consume_broadcast_litepull.jsonl", 105.531},
        {"admin.jsonl", 115.301},       {"trace.jsonl", 122.861},
        {"transaction.jsonl", 133.483}, {"acl.jsonl", 150.122}};
    return starts.at(file);
}

struct frame {
    int seq = 0;
    std::string conn;          // "clientPort->serverPort"
    bool from_client = false;
    std::string kind;          // "request" / "response"
    command cmd;
    int request_seq = -1;      // responses: the request they answer
    std::int64_t ts_us = 0;    // since the scenario's first frame
    json::object annot;
};

/// The frames of a capture with their commands decoded (tests/support/wire_captures.hpp).
std::vector<frame> load(const std::string& name)
{
    std::vector<frame> out;
    for (const auto& w : wire_frames(name)) {
        frame f;
        f.seq = static_cast<int>(w.seq);
        f.conn = std::string(w.line.at("conn").as_string());
        f.ts_us = w.line.at("ts_us").as_int64();
        f.from_client = w.line.at("dir").as_string() == "client_to_server";
        f.annot = w.annot();
        f.kind = std::string(f.annot.at("kind").as_string());
        if (auto* r = f.annot.if_contains("request_seq"))
            f.request_seq = static_cast<int>(r->as_int64());
        REQUIRE(!remoting::detail::decode_frame_bytes(w.bytes, f.cmd));
        out.push_back(std::move(f));
    }
    return out;
}

std::set<std::string> key_set(const remoting::ext_fields& f)
{
    std::set<std::string> keys;
    for (const auto& [k, v] : f)
        keys.insert(k);
    return keys;
}

std::string join(const std::set<std::string>& s)
{
    std::string out;
    for (const auto& k : s)
        out += (out.empty() ? "" : ",") + k;
    return out;
}

/// `text` with every "127.0.0.1:<port>" turned into "127.0.0.1:*".
std::string without_ports(std::string text)
{
    constexpr std::string_view host = "127.0.0.1:";
    for (auto pos = text.find(host); pos != std::string::npos; pos = text.find(host, pos + host.size())) {
        auto end = pos + host.size();
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
            ++end;
        text.replace(pos + host.size(), end - pos - host.size(), "*");
    }
    return text;
}

/// Same JSON shape: object keys recursively, array lengths, kinds of values.
bool same_shape(const json::value& a, const json::value& b, std::string& why, const std::string& path = "$")
{
    if (a.is_object() != b.is_object() || a.is_array() != b.is_array() || a.is_string() != b.is_string() ||
        a.is_bool() != b.is_bool() || (a.is_number() != b.is_number())) {
        why = path + ": different kinds";
        return false;
    }
    if (a.is_object()) {
        std::set<std::string> ka, kb;
        for (const auto& [k, v] : a.as_object())
            ka.insert(std::string(k));
        for (const auto& [k, v] : b.as_object())
            kb.insert(std::string(k));
        if (ka != kb) {
            why = path + ": keys {" + join(ka) + "} vs {" + join(kb) + "}";
            return false;
        }
        for (const auto& [k, v] : a.as_object())
            if (!same_shape(v, b.as_object().at(k), why, path + "." + std::string(k)))
                return false;
    } else if (a.is_array()) {
        if (a.as_array().size() != b.as_array().size()) {
            why = path + ": array sizes " + std::to_string(a.as_array().size()) + " vs " +
                  std::to_string(b.as_array().size());
            return false;
        }
        for (std::size_t i = 0; i < a.as_array().size(); ++i)
            if (!same_shape(a.as_array()[i], b.as_array()[i], why, path + "[" + std::to_string(i) + "]"))
                return false;
    }
    return true;
}

/// Which embedded cluster (and server in it) a recorded server port belongs to.
struct server_ref {
    std::string cluster;  // "main", "tx", "acl"
    bool namesrv = false;
};

server_ref server_of(const std::string& conn)
{
    const auto port = conn.substr(conn.find("->") + 2);
    if (port == "9876") return {"main", true};
    if (port == "10911") return {"main", false};
    if (port == "9877") return {"tx", true};
    if (port == "10921") return {"tx", false};
    if (port == "9878") return {"acl", true};
    if (port == "10931") return {"acl", false};
    FAIL("unknown server port in " << conn);
    return {};
}

/// The result of a replayed two-way call, filled when it completes.
struct pending {
    bool done = false;
    error_code ec;
    command resp;
};

class replayer {
public:
    replayer(asio::io_context& ioc, std::map<std::string, testing::embedded_cluster*> clusters)
        : ioc_(ioc), clusters_(std::move(clusters))
    {
    }

    asio::awaitable<void> run(const std::string& file);
    /// Sleeps until `capture_ms` (scaled) after the replay started.
    asio::awaitable<void> wait_until(double capture_ms);

    int compared = 0;
    std::map<std::string, int> skipped;  // reason → count
    std::vector<std::string> mismatches;

private:
    struct client {
        std::shared_ptr<test_client> c;
        std::size_t inbox_read = 0;
    };

    client& connection_for(const frame& f);
    void prepare(const frame& f, command& req);
    void translate(command& req) const;
    void learn(const frame& recorded, const command& actual);
    void compare(const std::string& what, const frame& recorded, const command& actual);
    void mismatch(const std::string& what, const frame& f, const std::string& detail)
    {
        mismatches.push_back(current_ + " seq " + std::to_string(f.seq) + " " + what + ": " + detail);
    }
    void skip(const std::string& reason) { ++skipped[reason]; }

    asio::io_context& ioc_;
    std::map<std::string, testing::embedded_cluster*> clusters_;
    std::map<std::string, client> clients_;               // by recorded conn
    std::map<int, std::shared_ptr<pending>> calls_;       // by recorded request seq
    std::map<std::string, std::string> phys_;             // recorded → actual commit-log offset
    std::map<std::string, std::string> queue_offsets_;    // recorded → actual half-queue offset
    std::int64_t recorded_origin_ = 0;  // recorded wall clock (ms) of the scenario's first frame
    std::int64_t replay_origin_ = 0;    // our wall clock (ms) at that point
    std::map<int, command> requests_;   // by recorded seq
    std::string current_;
    std::chrono::steady_clock::time_point run_start_ = std::chrono::steady_clock::now();
};

replayer::client& replayer::connection_for(const frame& f)
{
    auto it = clients_.find(f.conn);
    if (it != clients_.end())
        return it->second;
    const auto server = server_of(f.conn);
    auto* cluster = clusters_.at(server.cluster);
    const auto address = server.namesrv ? cluster->namesrv_address() : cluster->broker_address();
    auto c = std::make_shared<test_client>(ioc_.get_executor(), address, f.cmd.type, 409);
    return clients_.emplace(f.conn, client{std::move(c), 0}).first->second;
}

/// Values the client echoes: commit-log offsets, half-queue offsets, shifted timestamps.
void replayer::translate(command& req) const
{
    auto& f = req.ext_fields;
    auto map_field = [&](const char* key, const std::map<std::string, std::string>& table) {
        if (const std::string* v = f.find(key))
            if (auto it = table.find(*v); it != table.end())
                f.set(key, it->second);
    };
    if (req.code == rc::end_transaction) {
        map_field("commitLogOffset", phys_);
        map_field("tranStateTableOffset", queue_offsets_);
    }
    if (req.code == rc::view_message_by_id || req.code == rc::consumer_send_msg_back)
        map_field("offset", phys_);
    // Wall-clock values move onto the replay's (faster) timeline.
    for (const char* key : {"g", "bornTimestamp", "beginTimestamp", "endTimestamp", "timestamp"})
        if (auto v = f.get_int(key))
            f.set(key, std::to_string(replay_origin_ + static_cast<std::int64_t>((*v - recorded_origin_) * time_scale)));
    if (auto v = f.get_int("suspendTimeoutMillis"))
        f.set("suspendTimeoutMillis", std::to_string(static_cast<std::int64_t>(*v * time_scale)));
}

void replayer::prepare(const frame& f, command& req)
{
    translate(req);
    // Signed (ACL) requests whose fields changed are signed again with the secret that made the
    // recorded signature (the capture's README names them).
    if (const std::string* sig = f.cmd.ext_fields.find("Signature"); sig && req.ext_fields != f.cmd.ext_fields) {
        auto unsigned_fields = [](const remoting::ext_fields& e) {
            remoting::ext_fields out;
            for (const auto& [k, v] : e)
                if (k != "Signature")
                    out.set(k, v);
            return out;
        };
        for (const char* secret : {"12345678", "wrong-secret"}) {
            if (acl_signature(unsigned_fields(f.cmd.ext_fields), f.cmd.body, secret) == *sig) {
                req.ext_fields.set("Signature", acl_signature(unsigned_fields(req.ext_fields), req.body, secret));
                break;
            }
        }
    }
}

/// Records how recorded offsets map to the embedded broker's, from a pair of answers.
void replayer::learn(const frame& recorded, const command& actual)
{
    const auto& rf = recorded.cmd.ext_fields;
    const auto& af = actual.ext_fields;
    auto pair_ids = [&](std::string_view rid, std::string_view aid) {
        auto r = corocket::detail::decode_offset_msg_id(rid);
        auto a = corocket::detail::decode_offset_msg_id(aid);
        if (r && a)
            phys_[std::to_string(r->second)] = std::to_string(a->second);
    };
    if (rf.contains("msgId") && af.contains("msgId")) {
        // Batches answer a comma-separated list.
        std::string_view r = rf.get("msgId"), a = af.get("msgId");
        while (!r.empty() && !a.empty()) {
            auto rc_ = r.find(','), ac = a.find(',');
            pair_ids(r.substr(0, rc_), a.substr(0, ac));
            r = rc_ == std::string_view::npos ? std::string_view{} : r.substr(rc_ + 1);
            a = ac == std::string_view::npos ? std::string_view{} : a.substr(ac + 1);
        }
    }
    if (recorded.cmd.code == rc::check_transaction_state) {
        phys_[std::string(rf.get("commitLogOffset"))] = std::string(af.get("commitLogOffset"));
        queue_offsets_[std::string(rf.get("tranStateTableOffset"))] = std::string(af.get("tranStateTableOffset"));
    }
    // A half message's queueOffset comes back as END_TRANSACTION's tranStateTableOffset.
    if (auto req = requests_.find(recorded.request_seq);
        req != requests_.end() && (req->second.ext_fields.get_int("f").value_or(0) & 4) && af.contains("queueOffset"))
        queue_offsets_[std::string(rf.get("queueOffset"))] = std::string(af.get("queueOffset"));
    if (auto* msgs = recorded.annot.if_contains("body_messages"); msgs && !actual.body.empty()) {
        message_batch batch;
        if (!message_batch::decode(actual.body, batch) && batch.size() == msgs->as_array().size())
            for (std::size_t i = 0; i < batch.size(); ++i)
                phys_[std::to_string(msgs->as_array()[i].as_object().at("commitLogOffset").as_int64())] =
                    std::to_string(batch.messages()[i].commit_log_offset());
    }
}

void replayer::compare(const std::string& what, const frame& recorded, const command& actual)
{
    ++compared;
    const auto& r = recorded.cmd;
    if (r.code != actual.code) {
        mismatch(what, recorded,
                 "code " + std::to_string(r.code) + " vs " + std::to_string(actual.code) + " (" +
                     actual.remark.value_or("") + ")");
        return;
    }
    if (key_set(r.ext_fields) != key_set(actual.ext_fields))
        mismatch(what, recorded, "header fields {" + join(key_set(r.ext_fields)) + "} vs {" + join(key_set(actual.ext_fields)) + "}");
    // Remarks are compared as text, with client ports (which naturally differ) blanked out.
    if (r.remark.has_value() != actual.remark.has_value() ||
        without_ports(r.remark.value_or("")) != without_ports(actual.remark.value_or("")))
        mismatch(what, recorded, "remark \"" + r.remark.value_or("<none>") + "\" vs \"" + actual.remark.value_or("<none>") + "\"");
    if (auto* msgs = recorded.annot.if_contains("body_messages")) {
        message_batch batch;
        if (message_batch::decode(actual.body, batch)) {
            mismatch(what, recorded, "body does not decode as stored messages");
            return;
        }
        const auto& expected = msgs->as_array();
        if (batch.size() != expected.size()) {
            mismatch(what, recorded,
                     "messages " + std::to_string(expected.size()) + " vs " + std::to_string(batch.size()));
            return;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& e = expected[i].as_object();
            const auto& m = batch.messages()[i];
            std::set<std::string> ep, ap;
            for (const auto& [k, v] : e.at("properties").as_object())
                ep.insert(std::string(k));
            for (const auto& [k, v] : m.properties())
                ap.insert(std::string(k));
            if (e.at("topic").as_string() != m.topic() || e.at("queueId").as_int64() != m.queue_id() ||
                e.at("reconsumeTimes").as_int64() != m.reconsume_times() || ep != ap ||
                e.at("sysFlag").as_int64() != m.stored_sys_flag())
                mismatch(what, recorded,
                         "message " + std::to_string(i) + " differs: " + std::string(m.topic()) + "/" +
                             std::to_string(m.queue_id()) + " props {" + join(ap) + "} vs {" + join(ep) + "}");
        }
        return;
    }
    if (r.body.empty() != actual.body.empty()) {
        mismatch(what, recorded, "body presence differs");
        return;
    }
    if (!r.body.empty() && (r.body.front() == '{' || r.body.front() == '[')) {
        json::value a, b;
        std::string why;
        if (corocket::detail::parse_lenient_json(r.body, a) || corocket::detail::parse_lenient_json(actual.body, b))
            mismatch(what, recorded, "JSON body does not parse: " + actual.body);
        else if (!same_shape(a, b, why))
            mismatch(what, recorded, "JSON shape " + why + "\n  recorded " + r.body + "\n  actual   " + actual.body);
    }
}

asio::awaitable<void> replayer::run(const std::string& file)
{
    current_ = file;
    const auto frames = load(file);
    // The scenarios were captured seconds apart: keep their (scaled) distance.
    co_await wait_until(scenario_start(file) * 1000.0);
    const auto scenario_begin = std::chrono::steady_clock::now();
    // The recorded wall clock at the first frame, from the first born timestamp.
    for (const auto& f : frames) {
        if (auto g = f.cmd.ext_fields.get_int(f.cmd.code == rc::send_message ? "bornTimestamp" : "g");
            g && f.from_client && f.kind == "request") {
            recorded_origin_ = *g - f.ts_us / 1000;
            break;
        }
    }
    replay_origin_ = epoch_ms();
    for (const auto& f : frames) {
        // Pacing: every frame no earlier than its scaled time in the capture.
        const auto due = scenario_begin + std::chrono::microseconds(static_cast<std::int64_t>(f.ts_us * time_scale));
        if (auto now = std::chrono::steady_clock::now(); now < due)
            co_await sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(due - now));
        auto& cl = connection_for(f);
        if (f.from_client)
            requests_[f.seq] = f.cmd;
        if (f.from_client) {
            command req = f.cmd;
            prepare(f, req);
            if (req.is_oneway()) {
                co_await cl.c->oneway(std::move(req));
                continue;
            }
            auto p = std::make_shared<pending>();
            calls_[f.seq] = p;
            cl.c->conn().async_call(std::move(req), {.timeout = 30s}, [p](error_code ec, command resp) {
                p->done = true;
                p->ec = ec;
                p->resp = std::move(resp);
            });
            continue;
        }
        if (f.kind == "response") {
            auto it = calls_.find(f.request_seq);
            REQUIRE(it != calls_.end());
            auto p = it->second;
            for (int i = 0; i < 2500 && !p->done; ++i)
                co_await sleep_for(2ms);
            if (!p->done || p->ec) {
                mismatch("response", f, p->done ? p->ec.message() : std::string("no answer"));
                continue;
            }
            compare(fmt::format("response to {}", request_code_name(static_cast<int>(f.annot.at("request_code").as_int64()))), f, p->resp);
            learn(f, p->resp);
            continue;
        }
        // A request the broker sent (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE).
        std::optional<command> got;
        for (int i = 0; i < 1500 && !got; ++i) {
            auto& inbox = cl.c->inbox();
            while (cl.inbox_read < inbox.size() && !got) {
                if (inbox[cl.inbox_read].code == f.cmd.code)
                    got = inbox[cl.inbox_read];
                ++cl.inbox_read;
            }
            if (!got)
                co_await sleep_for(2ms);
        }
        if (!got) {
            mismatch("broker request", f, "never sent " + request_code_name(f.cmd.code));
            continue;
        }
        compare("broker request " + request_code_name(f.cmd.code), f, *got);
        learn(f, *got);
    }
    // Requests still waiting had no recorded answer: the client shut down while they were held.
    for (const auto& f : frames)
        if (f.from_client && !f.cmd.is_oneway() && calls_.contains(f.seq)) {
            bool answered = false;
            for (const auto& r : frames)
                answered = answered || (r.kind == "response" && r.request_seq == f.seq);
            if (!answered)
                skip("pull held by the broker when the client shut down (no recorded answer)");
        }
    for (auto& [conn, cl] : clients_)
        co_await cl.c->close();
    clients_.clear();
    calls_.clear();
    requests_.clear();
}

asio::awaitable<void> replayer::wait_until(double capture_ms)
{
    const auto due = run_start_ + std::chrono::microseconds(static_cast<std::int64_t>(capture_ms * 1000 * time_scale));
    if (auto now = std::chrono::steady_clock::now(); now < due)
        co_await sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(due - now));
}

/// Topics that existed before the capture: the first route lookup of them succeeded, before
/// anything in the file could have created them.
void precreate_topics(const std::vector<frame>& frames, std::map<std::string, testing::embedded_cluster*>& clusters)
{
    std::set<std::string> seen, created_in_file;
    std::map<int, std::string> route_topic;
    for (const auto& f : frames) {
        if (f.from_client && f.kind == "request") {
            if (f.cmd.code == rc::get_routeinfo_by_topic)
                route_topic[f.seq] = std::string(f.cmd.ext_fields.get("topic"));
            if (f.cmd.code == rc::update_and_create_topic || f.cmd.code == rc::send_message_v2 ||
                f.cmd.code == rc::heart_beat)
                created_in_file.insert(std::string(f.cmd.ext_fields.get(f.cmd.code == rc::send_message_v2 ? "b" : "topic")));
        }
        if (f.kind != "response" || !route_topic.contains(f.request_seq))
            continue;
        const auto& topic = route_topic[f.request_seq];
        if (!seen.insert(topic).second || f.cmd.code != rs::success || created_in_file.contains(topic) || topic == "TBW102")
            continue;
        topic_route route;
        REQUIRE(!parse_topic_route(f.cmd.body, route));
        auto* cluster = clusters.at(server_of(f.conn).cluster);
        cluster->create_topic(topic, route.queue_datas[0].write_queue_nums, route.queue_datas[0].perm);
    }
}

testing::cluster_options main_options()
{
    testing::cluster_options o;
    o.broker_names = {"broker-a"};
    o.cluster_name = "DefaultCluster";
    o.delay_time_scale = time_scale;
    return o;
}

testing::cluster_options tx_options()
{
    testing::cluster_options o;
    o.broker_names = {"broker-tx"};
    o.cluster_name = "GoldenTxCluster";
    // The capture's tx broker: transactionCheckInterval 5000 ms, transactionTimeOut 3000 ms.
    o.transaction_check_interval = std::chrono::milliseconds(static_cast<int>(5000 * time_scale));
    o.transaction_timeout = std::chrono::milliseconds(static_cast<int>(3000 * time_scale));
    return o;
}

testing::cluster_options acl_options()
{
    testing::cluster_options o;
    o.broker_names = {"broker-acl"};
    o.cluster_name = "GoldenAclCluster";
    o.acl_enable = true;
    testing::acl_account user;
    user.access_key = "RocketMQ";
    user.secret_key = "12345678";
    user.topic_perms = {{"topicA", "DENY"}, {"topicB", "PUB|SUB"}, {"topicC", "SUB"},
                        {"GoldenAcl", "PUB|SUB"}, {"GoldenAclDenied", "DENY"}};
    user.group_perms = {{"groupA", "DENY"}, {"groupB", "PUB|SUB"}, {"groupC", "SUB"}, {"GoldenAclGroup", "SUB"}};
    testing::acl_account admin;
    admin.access_key = "rocketmq2";
    admin.secret_key = "12345678";
    admin.admin = true;
    o.acl_accounts = {user, admin};
    return o;
}

}  // namespace

TEST_CASE("Fidelity: the wire captures replayed against the embedded cluster")
{
    run_coro(
        [](asio::io_context& ioc) -> asio::awaitable<void> {
            testing::embedded_cluster main_cluster(ioc.get_executor(), main_options());
            testing::embedded_cluster tx_cluster(ioc.get_executor(), tx_options());
            testing::embedded_cluster acl_cluster(ioc.get_executor(), acl_options());
            REQUIRE(!main_cluster.start());
            REQUIRE(!tx_cluster.start());
            REQUIRE(!acl_cluster.start());
            std::map<std::string, testing::embedded_cluster*> clusters{
                {"main", &main_cluster}, {"tx", &tx_cluster}, {"acl", &acl_cluster}};
            replayer r(ioc, clusters);
            // Capture order: the main broker keeps its state from one scenario to the next.
            for (const char* file : {"route.jsonl", "send_json.jsonl", "send_binary.jsonl", "consume_push.jsonl",
                                     "consume_orderly.jsonl", "consume_broadcast_litepull.jsonl", "admin.jsonl",
                                     "trace.jsonl", "transaction.jsonl", "acl.jsonl"}) {
                precreate_topics(load(file), clusters);
                co_await r.run(file);
            }
            for (auto* c : {&main_cluster, &tx_cluster, &acl_cluster})
                co_await c->async_stop(tuple_token);

            std::string skipped;
            int skip_total = 0;
            for (const auto& [reason, n] : r.skipped) {
                skipped += "\n  " + std::to_string(n) + " × " + reason;
                skip_total += n;
            }
            WARN("fidelity: " << r.compared << " exchanges compared, " << skip_total << " skipped:" << skipped);
            for (const auto& m : r.mismatches)
                UNSCOPED_INFO(m);
            CHECK(r.mismatches.empty());
            CHECK(r.compared > 300);
        },
        std::chrono::seconds(120));
}
