#include "interop_env.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <charconv>
#include <set>

namespace asio = boost::asio;

namespace corocket::test {

namespace {

/// Java's UtilAll.crc32: the CRC-32 of the bytes, masked to a non-negative int.
std::int64_t java_crc32(std::string_view bytes)
{
    const auto crc = ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
    return static_cast<std::int64_t>(crc & 0x7FFFFFFF);
}

int delay_level_of(std::optional<std::string_view> delay)
{
    int level = 0;
    if (delay)
        std::from_chars(delay->data(), delay->data() + delay->size(), level);
    return level;
}

/// The fields of Peer.describe(Message): what a message (to send) and a message_view share.
template <class Message>
json::object describe_message(const Message& m)
{
    json::object o;
    o["topic"] = m.topic();
    o["flag"] = m.flag();
    o["body"] = base64(m.body());
    o["bodyLength"] = m.body().size();
    o["bodyCrc"] = java_crc32(m.body());
    if (auto tags = m.property(property_name::tags))
        o["tags"] = *tags;
    if (auto keys = m.property(property_name::keys))
        o["keys"] = *keys;
    o["delayLevel"] = delay_level_of(m.property(property_name::delay));
    json::object props;
    for (const auto& [k, v] : m.properties())
        props[k] = v;
    o["props"] = std::move(props);
    return o;
}

const json::value& field(const json::object& o, std::string_view key)
{
    static const json::value null;
    auto it = o.find(key);
    return it == o.end() ? null : it->value();
}

const json::object& props_of(const json::object& o)
{
    static const json::object none;
    auto it = o.find("props");
    return it == o.end() ? none : it->value().as_object();
}

/// `a` and `b` are equal; a difference says what differs, with the two values cut short.
void check_field(const std::string& what, const json::value& a, const json::value& b)
{
    const auto x = json::serialize(a), y = json::serialize(b);
    auto cut = [](const std::string& s) { return s.size() > 80 ? s.substr(0, 80) + "..." : s; };
    if (x != y)
        FAIL_CHECK(what << " differs: " << cut(x) << " vs " << cut(y));
}

/// The commit-log offset an offset message id carries (its last 16 hex digits).
std::int64_t commit_log_offset_of(std::string_view offset_msg_id)
{
    std::int64_t v = -1;
    if (offset_msg_id.size() >= 16)
        std::from_chars(offset_msg_id.data() + offset_msg_id.size() - 16, offset_msg_id.data() + offset_msg_id.size(),
                        v, 16);
    return v;
}

/// The properties the Java consumer adds on delivery (not stored).
bool java_delivery_property(std::string_view name)
{
    return name == "CONSUME_START_TIME" || name == property_name::min_offset || name == property_name::max_offset;
}

}  // namespace

void run_interop(std::function<asio::awaitable<void>(asio::io_context&)> body)
{
    asio::io_context ioc{1};
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    const auto end = std::chrono::steady_clock::now() + interop_time_limit;
    while (!done && ioc.run_one_until(end) > 0) {
    }
    // Let whatever the body closed finish its own loops (as run_coro does).
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
    if (error)
        std::rethrow_exception(error);
    REQUIRE(done);
}

std::string base64(std::string_view bytes)
{
    namespace b64 = boost::beast::detail::base64;
    std::string out(b64::encoded_size(bytes.size()), '\0');
    out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
    return out;
}

std::string text(const json::object& o, std::string_view key)
{
    const auto& v = field(o, key);
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

json::object queue_json(const message_queue& q)
{
    return {{"topic", q.topic}, {"brokerName", q.broker_name}, {"queueId", q.queue_id}};
}

message_queue queue_of(const json::value& v)
{
    const auto& o = v.as_object();
    return {text(o, "topic"), text(o, "brokerName"), static_cast<int>(o.at("queueId").to_number<std::int64_t>())};
}

std::vector<message_queue> queues_of(const json::value& array)
{
    std::vector<message_queue> out;
    for (const auto& q : array.as_array())
        out.push_back(queue_of(q));
    return out;
}

json::array queues_json(const std::vector<message_queue>& queues)
{
    json::array out;
    for (const auto& q : queues)
        out.push_back(queue_json(q));
    return out;
}

json::object to_peer(const message& m)
{
    json::object o{{"topic", m.topic()}, {"body", base64(m.body())}, {"flag", m.flag()}};
    json::object props;
    for (const auto& [k, v] : m.properties()) {
        if (k == property_name::tags)
            o["tags"] = v;
        else if (k == property_name::keys)
            o["keys"] = json::value_from(m.keys());
        else if (k == property_name::delay)
            o["delayLevel"] = m.delay_level();
        else if (k != property_name::wait)
            props[k] = v;
    }
    o["props"] = std::move(props);
    return o;
}

json::object describe(const message_view& m)
{
    auto o = describe_message(m);
    o["queueId"] = m.queue_id();
    o["queueOffset"] = m.queue_offset();
    o["msgId"] = m.msg_id();
    o["offsetMsgId"] = m.offset_msg_id();
    o["storedBodyCrc"] = m.body_crc();
    // Java's MessageExt.getSysFlag() is the flag as stored; corocket's sys_flag() clears the
    // COMPRESSED bit of an inflated body, its stored_sys_flag() is Java's.
    o["sysFlag"] = m.stored_sys_flag();
    o["bornHost"] = m.born_host().to_string();
    o["bornTimestamp"] = m.born_timestamp();
    o["storeHost"] = m.store_host().to_string();
    o["storeTimestamp"] = m.store_timestamp();
    o["reconsumeTimes"] = m.reconsume_times();
    o["preparedTransactionOffset"] = m.prepared_transaction_offset();
    o["commitLogOffset"] = m.commit_log_offset();
    o["storeSize"] = m.store_size();
    if (!m.broker_name.empty())  // the consumer sets it; a checker's view has none (nor has Java's)
        o["brokerName"] = m.broker_name;
    return o;
}

json::object describe_sent(const message& m, std::string_view uniq_key)
{
    auto o = describe_message(m);
    o["props"].as_object()[property_name::uniq_key] = uniq_key;
    return o;
}

json::object describe(const send_result& r)
{
    return {{"status", to_string(r.status)},
            {"msgId", r.msg_id},
            {"offsetMsgId", r.offset_msg_id},
            {"queue", queue_json(r.queue)},
            {"queueOffset", r.queue_offset},
            {"transactionId", r.transaction_id},
            {"regionId", r.region_id},
            {"traceOn", r.trace_on}};
}

std::string brief(const json::object& o)
{
    auto copy = o;
    if (auto* body = copy.if_contains("body"); body && body->is_string() && body->as_string().size() > 48)
        *body = std::string(body->as_string().subview(0, 40)) + "...";
    return json::serialize(copy);
}


void check_same_view(const json::object& java, const json::object& corocket)
{
    INFO("Java:     " << brief(java));
    INFO("corocket: " << brief(corocket));
    std::set<std::string_view> keys;
    for (const auto& o : {&java, &corocket})
        for (const auto& [k, v] : *o)
            if (k != "props" && k != "transactionId")
                keys.insert(k);
    // PullAPIWrapper.processPullResult sets the transaction id of a TRAN_MSG message to its
    // UNIQ_KEY; corocket's message_view has no such field (the property is there).
    const bool transactional = text(props_of(java), property_name::tran_msg) == "true";
    check_field("Java's transactionId", field(java, "transactionId"),
                transactional ? field(props_of(java), property_name::uniq_key) : json::value());
    CHECK_FALSE(corocket.contains("transactionId"));
    for (auto k : keys)
        check_field("field " + std::string(k) + " (Java vs corocket)", field(java, k), field(corocket, k));
    std::set<std::string_view> names;
    for (const auto& o : {&java, &corocket})
        for (const auto& [k, v] : props_of(*o))
            if (!java_delivery_property(k))
                names.insert(k);
    for (auto k : names)
        check_field("property " + std::string(k) + " (Java vs corocket)", field(props_of(java), k),
                    field(props_of(corocket), k));
}

void check_delivered(const json::object& view, const json::object& sent, const json::object* result, sent_as kind)
{
    INFO("sent:      " << brief(sent));
    INFO("result:    " << (result ? json::serialize(*result) : std::string("none (one-way)")));
    INFO("delivered: " << brief(view));
    for (auto k : {"topic", "flag", "body", "bodyLength", "bodyCrc", "tags", "keys", "delayLevel"})
        check_field(std::string("field ") + k + " (delivered vs sent)", field(view, k), field(sent, k));
    const auto& stored = props_of(view);
    for (const auto& [k, v] : props_of(sent))
        if (k != property_name::wait)  // the broker does not store WAIT
            check_field("property " + std::string(k) + " (delivered vs sent)", field(stored, k), v);
    const auto uniq_key = text(props_of(sent), property_name::uniq_key);
    CHECK_FALSE(uniq_key.empty());
    CHECK(text(view, "msgId") == uniq_key);
    const auto queue_id = std::to_string(field(view, "queueId").to_number<std::int64_t>());
    const auto sys_flag = field(view, "sysFlag").to_number<std::int64_t>();
    const bool transactional = kind == sent_as::transactional || kind == sent_as::checked;
    if (kind != sent_as::plain) {
        CHECK(text(stored, property_name::real_topic) == text(view, "topic"));
        CHECK(text(stored, property_name::real_qid) == queue_id);
    }
    if (transactional) {
        CHECK(text(stored, property_name::tran_msg) == "true");
        CHECK((sys_flag & sys_flag::transaction_mask) == sys_flag::transaction_commit);
    } else {
        CHECK((sys_flag & sys_flag::transaction_mask) == 0);
    }
    if (!result)
        return;
    const auto& r = *result;
    CHECK(text(r, "status") == "SEND_OK");
    CHECK(text(r, "msgId") == uniq_key);
    const auto q = queue_of(field(r, "queue"));
    CHECK(q.topic == text(view, "topic"));
    CHECK(q.broker_name == text(view, "brokerName"));
    CHECK(std::to_string(q.queue_id) == queue_id);
    if (kind == sent_as::plain) {
        CHECK(field(r, "queueOffset") == field(view, "queueOffset"));
        CHECK(text(r, "offsetMsgId") == text(view, "offsetMsgId"));
    } else {
        // The result names the record in SCHEDULE_TOPIC_XXXX or the half queue; the delivered one
        // is a copy written later.
        CHECK(text(r, "offsetMsgId") != text(view, "offsetMsgId"));
    }
    // Java's TransactionSendResult has neither (4.9 brokers send no transactionId, and it does
    // not copy offsetMsgId); the tests check that where they know the sender.
    if (transactional && r.contains("transactionId"))
        CHECK(text(r, "transactionId") == uniq_key);
    // A check-back re-stores the half message first: then the committed copy names that one.
    if (kind == sent_as::transactional && r.contains("offsetMsgId"))
        CHECK(field(view, "preparedTransactionOffset").to_number<std::int64_t>() ==
              commit_log_offset_of(text(r, "offsetMsgId")));
}

json::object batch_member_result(const json::object& batch_result, std::size_t index)
{
    auto nth = [index](std::string_view list) {
        for (std::size_t i = 0; i < index && !list.empty(); ++i) {
            const auto comma = list.find(',');
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        }
        return std::string(list.substr(0, list.find(',')));
    };
    auto r = batch_result;
    r["msgId"] = nth(text(batch_result, "msgId"));
    r["offsetMsgId"] = nth(text(batch_result, "offsetMsgId"));
    r["queueOffset"] = field(batch_result, "queueOffset").to_number<std::int64_t>() + static_cast<std::int64_t>(index);
    return r;
}

asio::awaitable<std::vector<sent_record>> java_send(java_peer& peer, std::string_view producer, std::string_view mode,
                                                     const std::vector<message>& msgs, json::object extra, sent_as kind)
{
    json::array wire;
    for (const auto& m : msgs)
        wire.push_back(to_peer(m));
    extra["op"] = "send";
    extra["id"] = producer;
    extra["mode"] = mode;
    extra["msgs"] = std::move(wire);
    auto reply = co_await peer.call(std::move(extra));
    std::vector<sent_record> out;
    const auto& reported = reply.at("msgs").as_array();
    for (std::size_t i = 0; i < reported.size(); ++i) {
        sent_record s{reported[i].as_object(), nullptr, kind};
        if (auto r = reply.if_contains("result"))
            s.result = mode == "batch" ? json::value(batch_member_result(r->as_object(), i)) : *r;
        out.push_back(std::move(s));
    }
    co_return out;
}

asio::awaitable<std::vector<sent_record>> java_send_one(java_peer& peer, std::string_view producer,
                                                        std::string_view mode, message msg, json::object extra,
                                                        sent_as kind)
{
    std::vector<message> one;
    one.push_back(std::move(msg));
    co_return co_await java_send(peer, producer, mode, one, std::move(extra), kind);
}

json::object by_key(std::string_view key) { return {{"key", key}}; }

json::object local_state(std::string_view state) { return {{"local", state}}; }

void check_all_delivered(const std::vector<sent_record>& sent, const std::vector<json::object>& java,
                         const std::vector<json::object>& corocket)
{
    CHECK(java.size() == sent.size());
    CHECK(corocket.size() == sent.size());
    for (const auto& s : sent) {
        const auto id = text(props_of(s.msg), property_name::uniq_key);
        INFO("message " << id << ": " << brief(s.msg));
        const auto* j = find_message(java, id);
        const auto* c = find_message(corocket, id);
        REQUIRE(j);
        REQUIRE(c);
        const auto* result = s.result.is_object() ? &s.result.as_object() : nullptr;
        check_same_view(*j, *c);
        check_delivered(*c, s.msg, result, s.kind);
        check_delivered(*j, s.msg, result, s.kind);
    }
}

void check_same_half_message_shape(const json::object& java, const json::object& corocket)
{
    INFO("Java's checker:     " << brief(java));
    INFO("corocket's checker: " << brief(corocket));
    auto names = [](const json::object& o) {
        std::set<std::string> out;
        for (const auto& [k, v] : o)
            out.emplace(k);
        return out;
    };
    // Java's checker gets a plain MessageExt: its msgId is the offset id, and
    // ClientRemotingProcessor sets its transactionId to the UNIQ_KEY. corocket's view has the
    // UNIQ_KEY as msgId and the offset id apart.
    auto java_names = names(java), corocket_names = names(corocket);
    java_names.erase("transactionId");
    corocket_names.erase("offsetMsgId");
    CHECK(java_names == corocket_names);
    CHECK(names(props_of(java)) == names(props_of(corocket)));
    CHECK(text(java, "transactionId") == text(props_of(java), property_name::uniq_key));
    CHECK(commit_log_offset_of(text(java, "msgId")) == field(java, "commitLogOffset").to_number<std::int64_t>());
    CHECK(text(corocket, "msgId") == text(props_of(corocket), property_name::uniq_key));
    CHECK(commit_log_offset_of(text(corocket, "offsetMsgId")) ==
          field(corocket, "commitLogOffset").to_number<std::int64_t>());
    for (auto k : {"topic", "flag", "tags", "keys", "delayLevel", "sysFlag", "storeHost", "reconsumeTimes",
                   "preparedTransactionOffset", "brokerName"})
        check_field(std::string("field ") + k + " (Java vs corocket)", field(java, k), field(corocket, k));
    for (auto k : {"TRAN_MSG", "REAL_TOPIC", "TRANSACTION_CHECK_TIMES", "WAIT", "CLUSTER"})
        check_field(std::string("property ") + k + " (Java vs corocket)", field(props_of(java), k),
                    field(props_of(corocket), k));
}

const json::object* find_message(const std::vector<json::object>& views, std::string_view msg_id)
{
    for (const auto& v : views)
        if (text(v, "msgId") == msg_id)
            return &v;
    return nullptr;
}

message with_properties(message m, std::initializer_list<std::pair<std::string, std::string>> props)
{
    for (const auto& [k, v] : props)
        m.set_property(k, v);
    return m;
}

std::vector<message> sample_messages(const std::string& topic)
{
    message tagged(topic, "tagged");
    tagged.set_tags("TagA");
    tagged.set_keys({"key-1", "key-2"});
    tagged.set_flag(7);
    return {message(topic, "plain"), tagged,
            with_properties(message(topic, "properties"), {{"ключ", "значение = 1; 2 3"},
                                                           {"a=b", "c;d"},
                                                           {"with space", "  leading and trailing  "},
                                                           {"emoji", "😀 ✓"}})};
}

std::vector<message> sample_batch(const std::string& topic)
{
    std::vector<message> out;
    for (int i = 0; i < 5; ++i) {
        message m(topic, "batch-" + std::to_string(i));
        m.set_key("bk" + std::to_string(i));
        out.push_back(with_properties(std::move(m), {{"index", std::to_string(i)}}));
    }
    return out;
}

const std::vector<std::string>& ordering_keys()
{
    static const std::vector<std::string> keys{"order-a", "order-b", "заказ", "😀", "k5", "k6"};
    return keys;
}

std::string queues_text(const std::vector<message_queue>& queues)
{
    std::string out;
    for (const auto& q : queues)
        out += q.to_string() + " ";
    return out;
}

std::string text_body(std::size_t size, std::string_view seed)
{
    std::string out;
    for (int line = 0; out.size() < size; ++line)
        out += std::string(seed) + " line " + std::to_string(line) + ": the quick brown fox jumps over the lazy dog\n";
    out.resize(size);
    return out;
}

// ---- recording_consumer ---------------------------------------------------------------------------

recording_consumer::recording_consumer(asio::any_io_executor ex, client_config cfg, push_options opts)
    : client_(ex, std::move(cfg)), consumer_(std::make_unique<push_consumer>(client_, std::move(opts)))
{
    client_.start();
}

recording_consumer::~recording_consumer() = default;

void recording_consumer::start(const std::string& topic, const std::string& expression)
{
    REQUIRE_FALSE(consumer_->subscribe(topic, expression));
    run();
}

void recording_consumer::start_sql92(const std::string& topic, const std::string& expression)
{
    REQUIRE_FALSE(consumer_->subscribe_sql92(topic, expression));
    run();
}

void recording_consumer::run()
{
    running_ = true;
    consumer_->async_run(make_consume_handler([this](std::span<const message_view> batch) {
                             auto status = consume_status::success;
                             for (const auto& m : batch) {
                                 received.push_back(describe(m));
                                 if (answer(m) == consume_status::retry_later)
                                     status = consume_status::retry_later;
                             }
                             return status;
                         }),
                         [this](error_code ec) {
                             CHECK_FALSE(ec);
                             done_ = true;
                         });
}

asio::awaitable<void> recording_consumer::stop()
{
    if (running_) {
        co_await consumer_->async_stop(tuple_token);
        const bool finished = co_await wait_until([this] { return done_; });
        CHECK(finished);
        running_ = false;
    }
    co_await client_.async_stop(tuple_token);
}

// ---- delivery_env ----------------------------------------------------------------------------------

namespace {

client_config in_namespace(client_config cfg, std::string ns)
{
    cfg.name_space = std::move(ns);
    return cfg;
}

}  // namespace

delivery_env::delivery_env(asio::any_io_executor e, std::string ns)
    : ex(std::move(e)), name_space(std::move(ns)), cluster(ex), peer(ex, cluster.namesrv()),
      sender(ex, in_namespace(cluster.config(), name_space))
{
    sender.start();
}

json::object delivery_env::java_namespace() const
{
    return name_space.empty() ? json::object{} : json::object{{"namespace", name_space}};
}

asio::awaitable<void> delivery_env::start(std::string_view prefix, int queues)
{
    topic = unique_name(prefix);
    // (GCC 12 destroys a temporary of a ?: inside a co_await expression twice: hoisted.)
    const auto wire_topic = name_space.empty() ? topic : name_space + "%" + topic;
    co_await cluster.create_topic(wire_topic, queues);
    co_await peer.start();
    auto java = java_namespace();
    java.insert({{"op", "consumer"}, {"id", "c"}, {"group", unique_name("CGJ")}, {"topic", topic}});
    co_await peer.call(std::move(java));
    corocket = std::make_unique<recording_consumer>(ex, in_namespace(cluster.config(), name_space),
                                                    interop_push_options(unique_name("CGC")));
    corocket->start(topic);
}

asio::awaitable<void> delivery_env::wait_for(std::size_t n)
{
    const bool arrived = co_await wait_until(
        [&] { return java_received().size() >= n && corocket->received.size() >= n; }, delivery_wait);
    INFO("the Java consumer has " << java_received().size() << " messages, corocket " << corocket->received.size()
                                  << ", of " << n);
    CHECK(arrived);
}

void delivery_env::check(const std::vector<sent_record>& sent) const
{
    check_all_delivered(sent, java_received(), corocket->received);
}

asio::awaitable<void> delivery_env::close()
{
    if (corocket)
        co_await corocket->stop();
    co_await sender.async_stop(tuple_token);
    co_await peer.close();
    co_await cluster.close();
}

allocate_strategy corocket_strategy(const json::object& spec)
{
    const auto name = text(spec, "name");
    if (name == "AVG")
        return allocate_averagely();
    if (name == "AVG_BY_CIRCLE")
        return allocate_averagely_by_circle();
    if (name == "CONSISTENT_HASH")
        return spec.contains("virtualNodes") ? allocate_consistent_hash(spec.at("virtualNodes").to_number<int>())
                                             : allocate_consistent_hash();
    if (name == "CONFIG")
        return allocate_by_config(queues_of(spec.at("queues")));
    if (name == "MACHINE_ROOM") {
        std::set<std::string> idcs;
        for (const auto& idc : spec.at("idcs").as_array())
            idcs.insert(std::string(idc.as_string()));
        return allocate_by_machine_room(std::move(idcs));
    }
    REQUIRE(name == "MACHINE_ROOM_NEARBY");
    json::object rooms = spec.contains("brokerRooms") ? spec.at("brokerRooms").as_object() : json::object{};
    auto mq_room = [rooms](const message_queue& mq) {
        if (auto it = rooms.find(mq.broker_name); it != rooms.end())
            return std::string(it->value().as_string());
        return mq.broker_name.substr(0, mq.broker_name.find('@'));
    };
    auto client_room = [](std::string_view cid) {
        const auto instance = cid.substr(cid.find('@') + 1);
        return std::string(instance.substr(0, instance.find('-')));
    };
    return allocate_machine_room_nearby(corocket_strategy(spec.at("inner").as_object()), mq_room, client_room);
}

push_options interop_push_options(std::string group)
{
    return test_consumer_options<push_options>(std::move(group));
}

client_config interop_client_config(const consumer_cluster& cluster, std::string instance)
{
    auto cfg = cluster.config();
    cfg.instance_name = std::move(instance);
    return cfg;
}

}  // namespace corocket::test
