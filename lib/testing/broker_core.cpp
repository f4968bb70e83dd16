#include "testing/broker_core.hpp"

#include "testing/broker_util.hpp"

#include "message/namespace.hpp"

#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace corocket::testing::detail {

namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

std::string faq_suffix(std::string_view url)
{
    return fmt::format("\nSee {} for further details.", url);
}

std::string topic_config::describe() const
{
    std::string perm_text = "---";
    if (perm & queue_data::perm_read)
        perm_text[0] = 'R';
    if (perm & queue_data::perm_write)
        perm_text[1] = 'W';
    if (perm & queue_data::perm_inherit)
        perm_text[2] = 'X';
    return fmt::format("TopicConfig [topicName={}, readQueueNums={}, writeQueueNums={}, perm={}, topicFilterType={}, "
                       "topicSysFlag={}, order={}]",
                       name, read_queue_nums, write_queue_nums, perm_text, filter_type, topic_sys_flag, order);
}

namespace {

store_config make_store_config(const broker_settings& s)
{
    store_config c;
    c.store_host = s.address;
    c.cluster_name = s.cluster_name;
    c.max_message_size = s.options.max_message_size;
    c.memory_bytes = s.options.memory_bytes;
    c.delay_level_ms = parse_delay_levels(s.options.message_delay_level, s.options.delay_time_scale);
    c.timer_wheel_enable = s.options.timer_wheel_enable;
    c.timer_precision_ms = s.options.timer_precision.count();
    c.timer_max_delay_sec = s.options.timer_max_delay_sec;
    if (!s.data_dir.empty())
        c.commit_log_path = s.data_dir + "/commitlog";
    return c;
}

}  // namespace

broker_core::broker_core(broker_settings settings, std::int64_t now_ms)
    : settings_(std::move(settings)), log_(settings_.options.log),
      own_store_(settings_.master ? nullptr : std::make_unique<message_store>(make_store_config(settings_))),
      store_(settings_.master ? settings_.master->store_ : *own_store_)
{
    add_system_topics();
    if (is_slave()) {
        sync_from_master();
        next_slave_sync_ = now_ms + settings_.options.slave_sync_interval.count();
        next_hold_check_ = now_ms + hold_check_interval();
    } else {
        load_state();
    }
    next_tx_check_ = now_ms + settings_.options.transaction_check_interval.count();
    next_client_scan_ = now_ms + client_scan_interval();
}

broker_core::~broker_core()
{
    save_state();
}

void broker_core::add_system_topics()
{
    const auto& o = settings_.options;
    auto system = [&](std::string name, int queues, int perm) {
        topic_config t;
        t.name = std::move(name);
        t.read_queue_nums = t.write_queue_nums = queues;
        t.perm = perm;
        topics_.emplace(t.name, std::move(t));
    };
    constexpr int rw = queue_data::perm_read | queue_data::perm_write;
    constexpr int rwx = rw | queue_data::perm_inherit;
    // TopicConfigManager's constructor of 4.9.8.
    system("SELF_TEST_TOPIC", 1, rw);
    if (o.auto_create_topic)
        system(std::string(auto_create_topic_key), o.default_topic_queue_nums, rwx);
    system("BenchmarkTest", 1024, rw);
    system(settings_.cluster_name, 16, rwx);
    system(settings_.broker_name, 1, rwx);
    system("OFFSET_MOVED_EVENT", 1, rw);
    system(std::string(schedule_topic), 18, rw);
    system(settings_.cluster_name + "_REPLY_TOPIC", 1, rw);
}

void broker_core::create_topic(topic_config cfg)
{
    put_topic(std::move(cfg));
    save_state();
}

void broker_core::inject_response(int request_code, int response_code, int count)
{
    if (count <= 0)
        faults_.erase(request_code);
    else
        faults_[request_code] = {response_code, count};
}

void broker_core::put_topic(topic_config cfg)
{
    auto name = cfg.name;
    topics_.insert_or_assign(std::move(name), std::move(cfg));
    ++topics_version_;
    slave_topics_diverged_ = is_slave();  // created here by a send: the next sync replaces it
    mark_dirty();
}

const topic_config* broker_core::find_topic(std::string_view topic) const
{
    auto it = topics_.find(topic);
    return it == topics_.end() ? nullptr : &it->second;
}

const topic_config* broker_core::create_topic_in_send(std::string_view topic, std::string_view default_topic,
                                                      int client_queue_nums, int topic_sys_flag)
{
    if (auto* t = find_topic(topic))
        return t;
    auto def = topics_.find(default_topic);
    if (def == topics_.end())
        return nullptr;  // "the default topic ... not exist"
    // TopicConfigManager.createTopicInSendMessageMethod: TBW102 without autoCreateTopicEnable
    // loses its inherit bit, so nothing can be created from it.
    if (default_topic == auto_create_topic_key && !settings_.options.auto_create_topic)
        def->second.perm = queue_data::perm_read | queue_data::perm_write;
    if (!(def->second.perm & queue_data::perm_inherit))
        return nullptr;
    topic_config t;
    t.name = std::string(topic);
    const int queues = std::max(0, std::min(client_queue_nums, def->second.write_queue_nums));
    t.read_queue_nums = t.write_queue_nums = queues;
    t.perm = def->second.perm & ~queue_data::perm_inherit;
    t.topic_sys_flag = topic_sys_flag;
    t.filter_type = def->second.filter_type;
    put_topic(std::move(t));
    return find_topic(topic);
}

const topic_config* broker_core::create_topic_in_send_back(std::string_view topic, int queue_nums, int perm,
                                                           int sys_flag)
{
    if (auto* t = find_topic(topic))
        return t;
    topic_config t;
    t.name = std::string(topic);
    t.read_queue_nums = t.write_queue_nums = queue_nums;
    t.perm = perm;
    t.topic_sys_flag = sys_flag;
    put_topic(std::move(t));
    return find_topic(topic);
}

subscription_group* broker_core::find_group(std::string_view group)
{
    if (auto it = groups_.find(group); it != groups_.end())
        return &it->second;
    // SubscriptionGroupManager.findSubscriptionGroupConfig: auto-create, or always for system groups.
    if (!settings_.options.auto_create_subscription_group && !group.starts_with("CID_RMQ_SYS_"))
        return nullptr;
    subscription_group g;
    g.name = std::string(group);
    g.retry_queue_nums = settings_.options.retry_queue_nums;
    g.retry_max_times = settings_.options.retry_max_times;
    mark_dirty();
    return &groups_.emplace(g.name, std::move(g)).first->second;
}

std::int64_t broker_core::query_offset(std::string_view group, std::string_view topic, int queue_id) const
{
    auto it = offsets_.find(offset_key(topic, group));
    if (it == offsets_.end())
        return -1;
    auto q = it->second.find(queue_id);
    return q == it->second.end() ? -1 : q->second;
}

void broker_core::commit_offset(std::string_view group, std::string_view topic, int queue_id, std::int64_t offset)
{
    auto key = offset_key(topic, group);
    auto it = offsets_.find(key);
    if (it == offsets_.end())
        it = offsets_.emplace(std::move(key), std::map<int, std::int64_t>{}).first;
    it->second[queue_id] = offset;
    mark_dirty();
}

// ---- dispatch ---------------------------------------------------------------------------------

void broker_core::handle(const channel_ref& ch, remoting::command req, std::int64_t now_ms, core_actions& out)
{
    out_ = &out;
    const bool oneway = req.is_oneway();
    const int code = req.code;
    const remoting::command_header header = req;
    response resp;
    bool process = true;
    if (apply_fault(req, resp, process); process) {
        if (auto denied = acl_check(ch, req))
            resp = remoting::command::response_to(header, rs::system_error, std::move(*denied));
        else
            resp = dispatch(ch, req, now_ms);
    }
    pending_store_status_ = 0;
    if (resp && !oneway)
        out.out.push_back({ch.id, std::move(*resp), code});
    if (dirty_)
        save_state();
    out_ = nullptr;
}

bool broker_core::apply_fault(const remoting::command& req, response& out, bool& process)
{
    auto it = faults_.find(req.code);
    if (it == faults_.end() || it->second.remaining <= 0)
        return false;
    const int code = it->second.response_code;
    if (--it->second.remaining == 0)
        faults_.erase(it);
    const bool is_send = req.code == rc::send_message || req.code == rc::send_message_v2 || req.code == rc::send_batch_message;
    if (is_send && (code == rs::flush_disk_timeout || code == rs::flush_slave_timeout || code == rs::slave_not_available)) {
        // Stored, but the store status is not OK: handled after processing.
        pending_store_status_ = code;
        return true;
    }
    process = false;
    out = remoting::command::response_to(req, code, injected_remark(code));
    return true;
}

broker_core::response broker_core::dispatch(const channel_ref& ch, remoting::command& req, std::int64_t now)
{
    switch (req.code) {
    case rc::send_message:
    case rc::send_message_v2:
        return send_message(ch, req, now);
    case rc::send_batch_message:
        return send_batch(ch, req, now);
    case rc::consumer_send_msg_back:
        return consumer_send_back(req, now);
    case rc::pull_message:
        return pull_message(ch, req, now, true);
    case rc::query_message:
        return query_message(req);
    case rc::view_message_by_id:
        return view_message(req);
    case rc::query_consumer_offset:
        return query_consumer_offset(req);
    case rc::update_consumer_offset:
        return update_consumer_offset(req);
    case rc::get_consumer_list_by_group:
        return consumer_list(req);
    case rc::heart_beat:
        return heart_beat(ch, req, now);
    case rc::unregister_client:
        return unregister_client(ch, req);
    case rc::check_client_config:
        return check_client_config(req);
    case rc::end_transaction:
        // EndTransactionProcessor: "Message store is slave mode, so end transaction is forbidden."
        if (is_slave())
            return remoting::command::response_to(req, rs::slave_not_available);
        return end_transaction(req, now);
    case rc::update_and_create_topic:
        return update_and_create_topic(req);
    case rc::search_offset_by_timestamp:
        return search_offset(req);
    case rc::get_max_offset:
    case rc::get_min_offset:
    case rc::get_earliest_msg_storetime:
        return queue_offset_query(req);
    case rc::lock_batch_mq:
        return lock_batch(req, now);
    case rc::unlock_batch_mq:
        return unlock_batch(req);
    case rc::get_topic_stats_info:
        return topic_stats(req);
    default:
        return unsupported(req);
    }
}

broker_core::response broker_core::unsupported(const remoting::command& req) const
{
    // AdminBrokerProcessor.getUnknownCmdResponse (the broker's default processor).
    return remoting::command::response_to(req, rs::request_code_not_supported,
                                          fmt::format(" request type {} not supported", req.code));
}

// ---- timers -----------------------------------------------------------------------------------

void broker_core::tick(std::int64_t now_ms, core_actions& out)
{
    out_ = &out;
    expire_held_pulls(now_ms);
    if (is_slave()) {
        // Schedule delivery and transaction checks run on the master only.
        slave_tick(now_ms);
    } else {
        deliver_scheduled(now_ms);
    }
    if (!is_slave() && now_ms >= next_tx_check_) {
        check_transactions(now_ms);
        next_tx_check_ = now_ms + std::max<std::int64_t>(1, settings_.options.transaction_check_interval.count());
    }
    if (now_ms >= next_client_scan_) {
        expire_clients(now_ms);
        next_client_scan_ = now_ms + client_scan_interval();
    }
    if (dirty_)
        save_state();
    out_ = nullptr;
}

std::int64_t broker_core::client_scan_interval() const noexcept
{
    // ClientHousekeepingService runs every 10 s; a shorter expiry (tests) is scanned as often.
    return std::max<std::int64_t>(1, std::min<std::int64_t>(client_scan_interval_ms, settings_.options.client_expiry.count()));
}

std::int64_t broker_core::next_deadline() const noexcept
{
    std::int64_t d = next_client_scan_;
    for (const auto& h : held_)
        d = std::min(d, h.deadline);
    if (is_slave())
        return std::min({d, next_slave_sync_, held_.empty() ? d : next_hold_check_});
    return std::min({d, next_tx_check_, next_scheduled_deadline()});
}

void broker_core::reset_connections()
{
    held_.clear();
    consumers_.clear();
    producers_.clear();
    locks_.clear();
}

void broker_core::channel_closed(channel_id ch, std::int64_t now_ms, core_actions& out)
{
    out_ = &out;
    std::erase_if(held_, [&](const held_pull& h) { return h.channel.id == ch; });
    remove_channel(ch);
    (void)now_ms;
    out_ = nullptr;
}

}  // namespace corocket::testing::detail
