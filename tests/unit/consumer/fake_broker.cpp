#include "fake_broker.hpp"

#include "message/codec.hpp"
#include "message/properties.hpp"

#include <corocket/filter.hpp>
#include <corocket/message.hpp>
#include <corocket/remoting/codes.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace asio = boost::asio;

namespace corocket::test {

using remoting::command;
using remoting::connection;
namespace rq = remoting::request_code;
namespace rc = remoting::response_code;

namespace {

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<std::chrono::milliseconds> delay_levels()
{
    using namespace std::chrono;
    return {1s, 5s, 10s, 30s, 1min, 2min, 3min, 4min, 5min, 6min, 7min, 8min, 9min, 10min, 20min, 30min, 1h, 2h};
}

}  // namespace

struct fake_cluster::broker {
    struct stored {
        std::string record;
        std::int64_t store_ts = 0;
        std::string tags;
    };
    struct member {
        std::optional<connection> conn;
        std::map<std::string, subscription_data> subs;  ///< topic → subscription
    };
    using queue_key = std::pair<std::string, int>;

    fake_cluster& owner;
    int index;
    asio::any_io_executor ex;
    loopback_peer peer;
    std::map<std::string, int> topics;
    std::map<queue_key, std::vector<stored>> queues;
    std::map<std::int64_t, std::pair<queue_key, std::size_t>> by_phys;
    std::int64_t commit_log = 0;
    std::map<std::tuple<std::string, std::string, int>, std::int64_t> offsets;
    std::map<std::string, std::map<std::string, member>> groups;
    std::map<std::tuple<std::string, std::string, int>, std::pair<std::string, std::chrono::steady_clock::time_point>>
        locks;
    std::list<asio::steady_timer*> waiters;
    bool closed = false;
    /// Held pulls and delayed deliveries may resume after the broker is gone: they check this.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    ~broker() { *alive = false; }

    broker(fake_cluster& o, int i, asio::any_io_executor e)
        : owner(o), index(i), ex(e), peer(e, [this](connection& s) { accept(s); })
    {
    }

    std::string name() const { return owner.broker_name(index); }

    void accept(connection& s)
    {
        std::weak_ptr<remoting::detail::connection_impl> w = s.impl();
        s.set_request_handler([this, w](command req) {
            if (auto impl = w.lock())
                handle(connection(impl), std::move(req));
        });
        s.on_close([this, w](error_code) {
            if (closed)
                return;
            for (auto& [g, members] : groups) {
                bool changed = std::erase_if(members, [&](const auto& m) { return !m.second.conn || m.second.conn->impl() == w.lock() || !m.second.conn->is_open(); }) > 0;
                if (changed)
                    notify(g, "");
            }
        });
    }

    void reply(connection& c, const command& req, command resp)
    {
        if (!req.is_oneway())
            c.send_response(std::move(resp));
    }

    void handle(connection c, command req)
    {
        ++owner.counts_[req.code];
        if (auto it = owner.injected_.find(req.code); it != owner.injected_.end() && it->second.second > 0) {
            --it->second.second;
            return reply(c, req, command::response_to(req, it->second.first, "injected"));
        }
        switch (req.code) {
        case rq::get_routeinfo_by_topic: return reply(c, req, route(req));
        case rq::heart_beat: return reply(c, req, heartbeat(c, req));
        case rq::unregister_client: return reply(c, req, unregister(req));
        case rq::get_consumer_list_by_group: return reply(c, req, consumer_list(req));
        case rq::send_message_v2: return reply(c, req, send(req));
        case rq::pull_message:
        case rq::lite_pull_message: asio::co_spawn(ex, pull(c, std::move(req)), asio::detached); return;
        case rq::query_consumer_offset: return reply(c, req, query_offset(req));
        case rq::update_consumer_offset: return reply(c, req, update_offset(req));
        case rq::get_max_offset:
        case rq::get_min_offset:
        case rq::search_offset_by_timestamp: return reply(c, req, queue_offset(req));
        case rq::consumer_send_msg_back: return reply(c, req, send_back(req));
        case rq::lock_batch_mq: return reply(c, req, lock(req, true));
        case rq::unlock_batch_mq: return reply(c, req, lock(req, false));
        default: return reply(c, req, command::response_to(req, rc::request_code_not_supported));
        }
    }

    command route(const command& req)
    {
        const std::string topic(req.ext_fields.get("topic"));
        topic_route r;
        for (const auto& b : owner.brokers_) {
            auto it = b->topics.find(topic);
            if (it == b->topics.end())
                continue;
            r.queue_datas.push_back({b->name(), it->second, it->second, 6, 0});
            r.broker_datas.push_back({"DefaultCluster", b->name(), {{0, owner.broker_address(b->index)}}});
        }
        if (r.queue_datas.empty())
            return command::response_to(req, rc::topic_not_exist, "No topic route info in name server for the topic: " + topic);
        auto resp = command::response_to(req, rc::success);
        resp.body = to_json(r);
        return resp;
    }

    static subscription_data sub_from_json(const boost::json::object& o)
    {
        subscription_data s;
        s.topic = std::string(o.at("topic").as_string());
        s.sub_string = std::string(o.at("subString").as_string());
        s.expression_type = std::string(o.at("expressionType").as_string());
        for (const auto& t : o.at("tagsSet").as_array())
            s.tags.emplace_back(t.as_string());
        return s;
    }

    command heartbeat(connection& c, const command& req)
    {
        auto v = boost::json::parse(req.body).as_object();
        const std::string cid(v.at("clientID").as_string());
        for (const auto& cd : v.at("consumerDataSet").as_array()) {
            const auto& o = cd.as_object();
            const std::string group(o.at("groupName").as_string());
            auto& members = groups[group];
            const bool is_new = !members.contains(cid);
            auto& m = members[cid];
            m.conn = c;
            m.subs.clear();
            for (const auto& s : o.at("subscriptionDataSet").as_array()) {
                auto sub = sub_from_json(s.as_object());
                m.subs[sub.topic] = sub;
            }
            if (!topics.contains("%RETRY%" + group))
                topics["%RETRY%" + group] = 1;
            if (is_new)
                notify(group, cid);
        }
        return command::response_to(req, rc::success);
    }

    void notify(const std::string& group, const std::string& except)
    {
        for (auto& [cid, m] : groups[group]) {
            if (cid == except || !m.conn || !m.conn->is_open())
                continue;
            auto n = command::request(rq::notify_consumer_ids_changed);
            n.ext_fields.set("consumerGroup", group);
            m.conn->post_oneway(std::move(n));
        }
    }

    command unregister(const command& req)
    {
        const std::string group(req.ext_fields.get("consumerGroup"));
        if (!group.empty() && groups[group].erase(std::string(req.ext_fields.get("clientID"))) > 0)
            notify(group, "");
        return command::response_to(req, rc::success);
    }

    command consumer_list(const command& req)
    {
        const std::string group(req.ext_fields.get("consumerGroup"));
        auto it = groups.find(group);
        if (it == groups.end() || it->second.empty())
            return command::response_to(req, rc::system_error, "no consumer for this group, " + group);
        boost::json::array ids;
        for (const auto& [cid, m] : it->second)
            ids.emplace_back(cid);
        auto resp = command::response_to(req, rc::success);
        resp.body = boost::json::serialize(boost::json::object{{"consumerIdList", std::move(ids)}});
        return resp;
    }

    /// Appends a message; returns its queue offset.
    std::int64_t append(const std::string& topic, int qid, std::string body, std::string props, std::int32_t flag,
                        std::int32_t sys_flag, std::int64_t born, std::int32_t reconsume)
    {
        auto& q = queues[{topic, qid}];
        detail::stored_record rec;
        rec.queue_id = qid;
        rec.flag = flag;
        rec.queue_offset = static_cast<std::int64_t>(q.size());
        rec.commit_log_offset = commit_log;
        rec.sys_flag = sys_flag;
        rec.born_timestamp = born;
        rec.born_host = *host_address::parse("127.0.0.1:40000");
        rec.store_timestamp = now_ms();
        rec.store_host = *host_address::parse(owner.broker_address(index));
        rec.reconsume_times = reconsume;
        rec.body = std::move(body);
        rec.topic = topic;
        rec.properties = std::move(props);
        properties parsed;
        detail::decode_properties(rec.properties, parsed);
        stored s;
        detail::encode_stored(rec, s.record);
        s.store_ts = rec.store_timestamp;
        if (auto it = parsed.find("TAGS"); it != parsed.end())
            s.tags = it->second;
        by_phys[commit_log] = {{topic, qid}, q.size()};
        commit_log += static_cast<std::int64_t>(s.record.size());
        q.push_back(std::move(s));
        for (auto* w : waiters)
            w->cancel();
        return rec.queue_offset;
    }

    command send(const command& req)
    {
        const auto& x = req.ext_fields;
        const std::string topic(x.get("b"));
        if (!topics.contains(topic))
            return command::response_to(req, rc::topic_not_exist, "topic not exist");
        const int qid = static_cast<int>(x.get_int("e").value_or(0)) % topics[topic];
        auto off = append(topic, qid, req.body, std::string(x.get("i")), static_cast<std::int32_t>(x.get_int("h").value_or(0)),
                          static_cast<std::int32_t>(x.get_int("f").value_or(0)), x.get_int("g").value_or(now_ms()),
                          static_cast<std::int32_t>(x.get_int("j").value_or(0)));
        auto resp = command::response_to(req, rc::success);
        resp.ext_fields.set("queueId", std::to_string(qid));
        resp.ext_fields.set("queueOffset", std::to_string(off));
        resp.ext_fields.set("msgId", "00");
        return resp;
    }

    bool matches(const subscription_data& sub, const stored& s) const
    {
        if (sub.sub_string.empty() || sub.sub_string == "*")
            return true;
        return std::find(sub.tags.begin(), sub.tags.end(), s.tags) != sub.tags.end();
    }

    command pull_answer(const command& req, const subscription_data& sub, bool& empty)
    {
        const auto& x = req.ext_fields;
        const std::string topic(x.get("topic"));
        const int qid = static_cast<int>(x.get_int("queueId").value_or(0));
        const auto offset = x.get_int("queueOffset").value_or(0);
        const auto max = std::min<std::int64_t>(x.get_int("maxMsgNums").value_or(32), 32);
        auto& q = queues[{topic, qid}];
        const auto size = static_cast<std::int64_t>(q.size());
        auto answer = [&](int code, std::int64_t next) {
            auto r = command::response_to(req, code);
            r.ext_fields.set("nextBeginOffset", std::to_string(next));
            r.ext_fields.set("minOffset", "0");
            r.ext_fields.set("maxOffset", std::to_string(size));
            r.ext_fields.set("suggestWhichBrokerId", "0");
            return r;
        };
        empty = false;
        if (size == 0 && offset != 0)
            return answer(rc::pull_offset_moved, 0);
        if (offset > size)
            return answer(rc::pull_offset_moved, size);
        if (offset < 0)
            return answer(rc::pull_offset_moved, 0);
        if (offset == size) {
            empty = true;
            return answer(rc::pull_not_found, offset);
        }
        auto r = answer(rc::success, offset);
        std::int64_t i = offset, n = 0;
        for (; i < size && n < max; ++i)
            if (matches(sub, q[static_cast<std::size_t>(i)])) {
                r.body += q[static_cast<std::size_t>(i)].record;
                ++n;
            }
        r.ext_fields.set("nextBeginOffset", std::to_string(i));
        if (n == 0)
            r.code = rc::pull_retry_immediately;
        return r;
    }

    asio::awaitable<void> pull(connection c, command req)
    {
        const auto& x = req.ext_fields;
        const auto flag = x.get_int("sysFlag").value_or(0);
        const std::string group(x.get("consumerGroup"));
        const std::string topic(x.get("topic"));
        const int qid = static_cast<int>(x.get_int("queueId").value_or(0));
        if (!topics.contains(topic)) {
            reply(c, req, command::response_to(req, rc::topic_not_exist));
            co_return;
        }
        subscription_data sub;
        if (flag & 0x04) {
            sub = parse_tag_expression(topic, x.get("subscription"));
        } else {
            bool found = false;
            for (auto& [cid, m] : groups[group])
                if (auto it = m.subs.find(topic); it != m.subs.end()) {
                    sub = it->second;
                    found = true;
                }
            if (!found) {
                reply(c, req, command::response_to(req, rc::subscription_not_exist));
                co_return;
            }
        }
        if (flag & 0x01)
            offsets[{group, topic, qid}] = x.get_int("commitOffset").value_or(0);
        const auto hold = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(x.get_int("suspendTimeoutMillis").value_or(0)), owner.opts_.long_poll_cap);
        const auto deadline = std::chrono::steady_clock::now() + hold;
        for (;;) {
            bool empty = false;
            auto resp = pull_answer(req, sub, empty);
            if (!empty || !(flag & 0x02) || std::chrono::steady_clock::now() >= deadline || closed || !c.is_open()) {
                reply(c, req, std::move(resp));
                co_return;
            }
            asio::steady_timer t(ex);
            t.expires_at(deadline);
            waiters.push_back(&t);
            auto alive_now = alive;
            co_await t.async_wait(asio::as_tuple(asio::deferred));
            if (!*alive_now)
                co_return;
            waiters.remove(&t);
        }
    }

    command query_offset(const command& req)
    {
        const auto& x = req.ext_fields;
        auto it = offsets.find({std::string(x.get("consumerGroup")), std::string(x.get("topic")),
                                static_cast<int>(x.get_int("queueId").value_or(0))});
        auto resp = command::response_to(req, rc::success);
        if (it != offsets.end())
            resp.ext_fields.set("offset", std::to_string(it->second));
        else if (owner.opts_.young_queue_reads_zero)
            resp.ext_fields.set("offset", "0");
        else
            return command::response_to(req, rc::query_not_found, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
        return resp;
    }

    command update_offset(const command& req)
    {
        const auto& x = req.ext_fields;
        offsets[{std::string(x.get("consumerGroup")), std::string(x.get("topic")),
                 static_cast<int>(x.get_int("queueId").value_or(0))}] = x.get_int("commitOffset").value_or(0);
        return command::response_to(req, rc::success);
    }

    command queue_offset(const command& req)
    {
        const auto& x = req.ext_fields;
        const std::string topic(x.get("topic"));
        if (!topics.contains(topic))
            return command::response_to(req, rc::topic_not_exist);
        const auto& q = queues[{topic, static_cast<int>(x.get_int("queueId").value_or(0))}];
        std::int64_t off = 0;
        if (req.code == rq::get_max_offset)
            off = static_cast<std::int64_t>(q.size());
        else if (req.code == rq::search_offset_by_timestamp) {
            const auto ts = x.get_int("timestamp").value_or(0);
            off = static_cast<std::int64_t>(q.size());
            for (std::size_t i = 0; i < q.size(); ++i)
                if (q[i].store_ts >= ts) {
                    off = static_cast<std::int64_t>(i);
                    break;
                }
        }
        auto resp = command::response_to(req, rc::success);
        resp.ext_fields.set("offset", std::to_string(off));
        return resp;
    }

    command send_back(const command& req)
    {
        const auto& x = req.ext_fields;
        const auto phys = x.get_int("offset").value_or(-1);
        auto it = by_phys.find(phys);
        if (it == by_phys.end())
            return command::response_to(req, rc::system_error, "look message by offset failed");
        const auto& [key, idx] = it->second;
        detail::stored_record rec;
        if (detail::decode_stored(queues[key][idx].record, rec))
            return command::response_to(req, rc::system_error, "corrupt");
        const std::string group(x.get("group"));
        const int level = static_cast<int>(x.get_int("delayLevel").value_or(0));
        const int max = static_cast<int>(x.get_int("maxReconsumeTimes").value_or(owner.opts_.retry_max_times));
        properties props;
        detail::decode_properties(rec.properties, props);
        if (!props.contains("RETRY_TOPIC"))
            props["RETRY_TOPIC"] = rec.topic;
        if (!props.contains("ORIGIN_MESSAGE_ID"))
            props["ORIGIN_MESSAGE_ID"] = std::string(x.get("originMsgId"));
        std::string topic = "%RETRY%" + group;
        int delay = level == 0 ? 3 + rec.reconsume_times : level;
        if (rec.reconsume_times >= max || level < 0) {
            topic = "%DLQ%" + group;
            topics.emplace(topic, 1);
            delay = 0;
        }
        topics.emplace(topic, 1);
        const auto levels = delay_levels();
        const auto wait = delay <= 0 ? std::chrono::milliseconds(0)
                                     : std::chrono::milliseconds(static_cast<std::int64_t>(
                                           levels[std::min<std::size_t>(delay, levels.size()) - 1].count() *
                                           owner.opts_.delay_time_scale));
        asio::co_spawn(ex, deliver_later(wait, topic, rec.body, detail::encode_properties(props), rec.flag, rec.sys_flag,
                                         rec.born_timestamp, rec.reconsume_times + 1),
                       asio::detached);
        return command::response_to(req, rc::success);
    }

    asio::awaitable<void> deliver_later(std::chrono::milliseconds wait, std::string topic, std::string body,
                                        std::string props, std::int32_t flag, std::int32_t sys_flag, std::int64_t born,
                                        std::int32_t reconsume)
    {
        asio::steady_timer t(ex);
        t.expires_after(wait);
        auto alive_now = alive;
        co_await t.async_wait(asio::as_tuple(asio::deferred));
        if (*alive_now && !closed)
            append(topic, 0, std::move(body), std::move(props), flag, sys_flag & ~0x30, born, reconsume);
    }

    command lock(const command& req, bool lock_it)
    {
        auto v = boost::json::parse(req.body).as_object();
        const std::string group(v.at("consumerGroup").as_string());
        const std::string cid(v.at("clientId").as_string());
        boost::json::array ok;
        const auto now = std::chrono::steady_clock::now();
        for (const auto& mqv : v.at("mqSet").as_array()) {
            const auto& mq = mqv.as_object();
            std::tuple key{group, std::string(mq.at("topic").as_string()), static_cast<int>(mq.at("queueId").as_int64())};
            auto it = locks.find(key);
            if (!lock_it) {
                if (it != locks.end() && it->second.first == cid)
                    locks.erase(it);
                continue;
            }
            if (it == locks.end() || it->second.first == cid || now - it->second.second > std::chrono::seconds(60)) {
                locks[key] = {cid, now};
                ok.push_back(mqv);
            }
        }
        auto resp = command::response_to(req, rc::success);
        if (lock_it)
            resp.body = boost::json::serialize(boost::json::object{{"lockOKMQSet", std::move(ok)}});
        return resp;
    }
};

fake_cluster::fake_cluster(asio::any_io_executor ex, fake_options opts) : opts_(opts)
{
    for (int i = 0; i < opts.brokers; ++i)
        brokers_.push_back(std::make_unique<broker>(*this, i, ex));
}

fake_cluster::~fake_cluster() { close(); }

void fake_cluster::close()
{
    for (auto& b : brokers_) {
        if (b->closed)
            continue;
        b->closed = true;
        for (auto* w : b->waiters)
            w->cancel();
        b->peer.close();
    }
}

std::string fake_cluster::namesrv_address() const { return brokers_.front()->peer.address(); }
std::string fake_cluster::broker_address(int i) const { return brokers_.at(static_cast<std::size_t>(i))->peer.address(); }

void fake_cluster::create_topic(const std::string& topic, int queues)
{
    for (auto& b : brokers_)
        b->topics[topic] = queues;
}

void fake_cluster::truncate_queue(const std::string& topic, int queue_id, std::size_t keep, int broker)
{
    auto& q = brokers_.at(static_cast<std::size_t>(broker))->queues[{topic, queue_id}];
    if (q.size() > keep)
        q.resize(keep);
}

std::int64_t fake_cluster::max_offset(const std::string& topic, int queue_id, int broker) const
{
    const auto& b = *brokers_.at(static_cast<std::size_t>(broker));
    auto it = b.queues.find({topic, queue_id});
    return it == b.queues.end() ? 0 : static_cast<std::int64_t>(it->second.size());
}

std::int64_t fake_cluster::committed(const std::string& group, const std::string& topic, int queue_id, int broker) const
{
    const auto& b = *brokers_.at(static_cast<std::size_t>(broker));
    auto it = b.offsets.find({group, topic, queue_id});
    return it == b.offsets.end() ? -1 : it->second;
}

std::vector<std::string> fake_cluster::bodies(const std::string& topic) const
{
    std::vector<std::string> out;
    for (const auto& b : brokers_)
        for (const auto& [key, msgs] : b->queues)
            if (key.first == topic)
                for (const auto& m : msgs) {
                    detail::stored_record rec;
                    if (!detail::decode_stored(m.record, rec))
                        out.push_back(rec.body);
                }
    return out;
}

int fake_cluster::requests(int code) const
{
    auto it = counts_.find(code);
    return it == counts_.end() ? 0 : it->second;
}

void fake_cluster::inject_response(int request_code, int response_code, int count)
{
    injected_[request_code] = {response_code, count};
}

asio::awaitable<std::tuple<error_code, command>> fake_cluster::ask_client(const std::string& group, command req,
                                                                         bool oneway)
{
    auto& members = brokers_.at(0)->groups[group];
    for (auto& [cid, m] : members) {
        if (!m.conn || !m.conn->is_open())
            continue;
        if (oneway) {
            m.conn->post_oneway(std::move(req));
            co_return std::tuple{error_code{}, command{}};
        }
        auto conn = *m.conn;
        co_return co_await conn.async_call(std::move(req), {std::chrono::seconds(5)}, asio::as_tuple(asio::deferred));
    }
    co_return std::tuple{make_error_code(client_errc::connection_closed), command{}};
}

void fake_cluster::drop_connections()
{
    for (auto& b : brokers_)
        for (auto& s : b->peer.sessions())
            s.close();
}

}  // namespace corocket::test
