// Persistence of a broker's metadata under its data directory, in the spirit of the Java
// broker's config/*.json files: topics, subscription groups, consumer offsets, delay progress.
// The commit log itself is appended by message_store and replayed on load.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/codec.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>

namespace corocket::testing::detail {

namespace json = boost::json;

namespace {

constexpr const char* state_file = "/config.json";

std::optional<std::string> read_file(const std::string& path)
{
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f)
        return std::nullopt;
    std::string data;
    char buf[8192];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        data.append(buf, n);
    std::fclose(f);
    return data;
}

void write_file_atomically(const std::string& path, const std::string& data)
{
    const std::string tmp = path + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "wb")) {
        std::fwrite(data.data(), 1, data.size(), f);
        std::fclose(f);
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);
    }
}

}  // namespace

void broker_core::load_state()
{
    if (settings_.data_dir.empty())
        return;
    std::error_code ec;
    std::filesystem::create_directories(settings_.data_dir, ec);
    if (!store_.load())
        log_.warn("embedded broker {}: commit log had a torn tail, kept the intact prefix", settings_.broker_name);

    if (auto text = read_file(settings_.data_dir + state_file)) {
        auto v = parse_body(*text);
        if (v && v->is_object()) {
            const auto& o = v->as_object();
            if (auto* topics = o.if_contains("topicConfigTable"); topics && topics->is_object()) {
                for (const auto& [name, tv] : topics->as_object()) {
                    if (!tv.is_object())
                        continue;
                    const auto& t = tv.as_object();
                    topic_config c;
                    c.name = std::string(name);
                    c.read_queue_nums = static_cast<int>(json_int(t, "readQueueNums"));
                    c.write_queue_nums = static_cast<int>(json_int(t, "writeQueueNums"));
                    c.perm = static_cast<int>(json_int(t, "perm"));
                    c.topic_sys_flag = static_cast<int>(json_int(t, "topicSysFlag"));
                    c.order = json_bool(t, "order");
                    c.filter_type = json_string(t, "topicFilterType");
                    topics_.insert_or_assign(c.name, std::move(c));
                }
            }
            if (auto* groups = o.if_contains("subscriptionGroupTable"); groups && groups->is_object()) {
                for (const auto& [name, gv] : groups->as_object()) {
                    if (!gv.is_object())
                        continue;
                    const auto& g = gv.as_object();
                    subscription_group s;
                    s.name = std::string(name);
                    s.consume_enable = json_bool(g, "consumeEnable", true);
                    s.consume_broadcast_enable = json_bool(g, "consumeBroadcastEnable", true);
                    s.retry_queue_nums = static_cast<int>(json_int(g, "retryQueueNums", 1));
                    s.retry_max_times = static_cast<int>(json_int(g, "retryMaxTimes", 16));
                    s.notify_consumer_ids_changed_enable = json_bool(g, "notifyConsumerIdsChangedEnable", true);
                    groups_.insert_or_assign(s.name, std::move(s));
                }
            }
            if (auto* offsets = o.if_contains("offsetTable"); offsets && offsets->is_object()) {
                for (const auto& [key, qv] : offsets->as_object()) {
                    if (!qv.is_object())
                        continue;
                    auto& table = offsets_[std::string(key)];
                    for (const auto& [qid, off] : qv.as_object()) {
                        int q = 0;
                        std::from_chars(qid.data(), qid.data() + qid.size(), q);
                        if (off.is_int64())
                            table[q] = off.as_int64();
                    }
                }
            }
            if (auto* delays = o.if_contains("delayOffsetTable"); delays && delays->is_object()) {
                for (const auto& [level, off] : delays->as_object()) {
                    int q = 0;
                    std::from_chars(level.data(), level.data() + level.size(), q);
                    if (off.is_int64())
                        delay_offsets_[q] = off.as_int64();
                }
            }
            if (auto* timers = o.if_contains("timerDelivered"); timers && timers->is_array())
                for (const auto& t : timers->as_array())
                    if (t.is_int64())
                        timer_delivered_.insert(t.as_int64());
        }
    }
    ++topics_version_;

    // Transaction progress: the check group's offset, plus every half offset an op record names.
    tx_progress_ = std::max<std::int64_t>(0, query_offset(tx_check_group, half_topic, 0));
    if (const auto* ops = store_.queue(op_half_topic, 0)) {
        for (const auto& e : *ops) {
            corocket::detail::stored_record op;
            if (!store_.decode_at(e.phys_offset, op))
                continue;
            std::int64_t half = 0;
            auto [p, err] = std::from_chars(op.body.data(), op.body.data() + op.body.size(), half);
            if (err == std::errc{})
                tx_resolved_.insert(half);
        }
    }
    while (tx_resolved_.contains(tx_progress_))
        ++tx_progress_;
}

void broker_core::save_state()
{
    dirty_ = false;
    if (settings_.data_dir.empty())
        return;
    json::object topics;
    for (const auto& [name, t] : topics_) {
        json::object o;
        o["topicName"] = t.name;
        o["readQueueNums"] = t.read_queue_nums;
        o["writeQueueNums"] = t.write_queue_nums;
        o["perm"] = t.perm;
        o["topicSysFlag"] = t.topic_sys_flag;
        o["order"] = t.order;
        o["topicFilterType"] = t.filter_type;
        topics[name] = std::move(o);
    }
    json::object groups;
    for (const auto& [name, g] : groups_) {
        json::object o;
        o["groupName"] = g.name;
        o["consumeEnable"] = g.consume_enable;
        o["consumeBroadcastEnable"] = g.consume_broadcast_enable;
        o["retryQueueNums"] = g.retry_queue_nums;
        o["retryMaxTimes"] = g.retry_max_times;
        o["notifyConsumerIdsChangedEnable"] = g.notify_consumer_ids_changed_enable;
        groups[name] = std::move(o);
    }
    json::object offsets;
    for (const auto& [key, table] : offsets_) {
        json::object o;
        for (const auto& [q, off] : table)
            o[std::to_string(q)] = off;
        offsets[key] = std::move(o);
    }
    json::object delays;
    for (const auto& [q, off] : delay_offsets_)
        delays[std::to_string(q)] = off;
    json::array timers;
    for (auto t : timer_delivered_)
        timers.push_back(t);

    json::object root;
    root["topicConfigTable"] = std::move(topics);
    root["subscriptionGroupTable"] = std::move(groups);
    root["offsetTable"] = std::move(offsets);
    root["delayOffsetTable"] = std::move(delays);
    root["timerDelivered"] = std::move(timers);
    write_file_atomically(settings_.data_dir + state_file, json_text(root));
}

}  // namespace corocket::testing::detail
