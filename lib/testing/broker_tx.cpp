// Transactional messages (TransactionalMessageBridge, EndTransactionProcessor and the check
// service of 4.9.8) and the delivery of delayed / timer messages (ScheduleMessageService).
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/codec.hpp"
#include "message/ids.hpp"

#include <corocket/remoting/codes.hpp>

#include <charconv>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace pn = corocket::property_name;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

std::optional<std::int64_t> to_long(std::string_view s) noexcept
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}

/// MessageExtBrokerInner built from a stored record (the common part of several Java paths).
inner_message inner_from(const cd::stored_record& rec)
{
    inner_message m;
    m.topic = rec.topic;
    m.queue_id = rec.queue_id;
    m.body = rec.body;
    m.flag = rec.flag;
    m.properties = java_properties::parse(rec.properties);
    m.properties_string = rec.properties;
    m.sys_flag = rec.sys_flag;
    m.born_timestamp = rec.born_timestamp;
    m.born_host = rec.born_host;
    m.store_host = rec.store_host;
    m.reconsume_times = rec.reconsume_times;
    return m;
}

}  // namespace

put_result broker_core::put_half_message(inner_message msg, std::int64_t now)
{
    // TransactionalMessageBridge.parseHalfMessageInner: parked in queue 0 of the half topic as a
    // plain (non-transactional) record, remembering where it was going.
    msg.properties.put(pn::real_topic, msg.topic);
    msg.properties.put(pn::real_qid, std::to_string(msg.queue_id));
    msg.sys_flag &= ~sys_flag::transaction_mask;
    msg.topic = half_topic;
    msg.queue_id = 0;
    msg.sync_properties_string();
    return store_message(std::move(msg), now);
}

void broker_core::put_op_message(std::int64_t half_queue_offset, std::int64_t now)
{
    // addRemoveTagInTransactionOp: a message tagged "d" whose body is the half-queue offset.
    inner_message op;
    op.topic = op_half_topic;
    op.queue_id = 0;
    op.body = std::to_string(half_queue_offset);
    op.properties.put(pn::tags, "d");
    op.properties.put(pn::wait, "true");
    op.sync_properties_string();
    op.born_timestamp = now;
    op.born_host = settings_.address;
    op.store_host = settings_.address;
    store_message(std::move(op), now);
    tx_resolved_.insert(half_queue_offset);
    while (tx_resolved_.contains(tx_progress_))
        ++tx_progress_;
    commit_offset(tx_check_group, half_topic, 0, tx_progress_);
}

broker_core::response broker_core::end_transaction(remoting::command& req, std::int64_t now)
{
    header_reader h(req.ext_fields);
    const std::string group = h.str("producerGroup");
    const std::int64_t table_offset = h.num("tranStateTableOffset");
    const std::int64_t log_offset = h.num("commitLogOffset");
    const std::int64_t type = h.num("commitOrRollback");
    h.str("msgId");
    if (h.error())
        return remoting::command::response_to(req, rs::system_error, *h.error());
    if (type != sys_flag::transaction_not_type && type != sys_flag::transaction_commit &&
        type != sys_flag::transaction_rollback)
        return remoting::command::response_to(
            req, rs::system_error, "org.apache.rocketmq.remoting.exception.RemotingCommandException: commitOrRollback field wrong");
    // UNKNOW (and anything else) is only logged: no response at all, even for a two-way request.
    if (type == sys_flag::transaction_not_type)
        return std::nullopt;

    auto resp = remoting::command::response_to(req, rs::system_error, "not set any response code");
    cd::stored_record half;
    auto fail = [&](std::string remark) {
        resp.code = rs::system_error;
        resp.remark = std::move(remark);
        return resp;
    };
    if (!store_.decode_at(log_offset, half))
        return fail("Find prepared transaction message failed");
    // EndTransactionProcessor.checkPrepareMessage.
    auto props = java_properties::parse(half.properties);
    if (props.get(pn::pgroup) != group)
        return fail("The producer group wrong");
    if (half.queue_offset != table_offset)
        return fail("The transaction state table offset wrong");
    if (half.commit_log_offset != log_offset)
        return fail("The commit log offset wrong");

    if (type == sys_flag::transaction_commit) {
        // endMessageTransaction: the stored string keeps REAL_TOPIC/REAL_QID/TRAN_MSG; only the
        // live map loses them.
        inner_message msg = inner_from(half);
        msg.topic = std::string(props.get(pn::real_topic));
        msg.queue_id = static_cast<int>(to_long(props.get(pn::real_qid)).value_or(0));
        msg.properties.put(pn::wait, "false");
        msg.properties.remove(pn::real_topic);
        msg.properties.remove(pn::real_qid);
        msg.properties.remove(pn::tran_msg);
        msg.sys_flag = (msg.sys_flag & ~sys_flag::transaction_mask) | sys_flag::transaction_commit;
        msg.prepared_transaction_offset = log_offset;
        put_result r = store_message(std::move(msg), now);
        if (r.status != put_status::ok) {
            resp.code = rs::message_illegal;
            resp.remark = "the message is illegal, maybe msg body or properties length not matched. msg body length "
                          "limit 128k, msg properties length limit 32k.";
            return resp;
        }
    }
    put_op_message(half.queue_offset, now);
    resp.code = rs::success;
    resp.remark.reset();
    return resp;
}

std::optional<channel_id> broker_core::producer_channel(std::string_view group)
{
    auto it = producers_.find(group);
    if (it == producers_.end() || it->second.empty())
        return std::nullopt;
    return it->second[producer_rr_++ % it->second.size()].id;
}

void broker_core::check_transactions(std::int64_t now)
{
    const auto* q = store_.queue(half_topic, 0);
    if (!q)
        return;
    const std::int64_t timeout = settings_.options.transaction_timeout.count();
    const int check_max = settings_.options.transaction_check_max;
    const auto end = static_cast<std::int64_t>(q->size());
    for (std::int64_t i = tx_progress_; i < end; ++i) {
        if (tx_resolved_.contains(i))
            continue;
        cd::stored_record half;
        if (!store_.decode_at((*q)[static_cast<std::size_t>(i)].phys_offset, half)) {
            tx_resolved_.insert(i);
            continue;
        }
        auto props = java_properties::parse(half.properties);
        const std::int64_t checked = to_long(props.get(pn::transaction_check_times)).value_or(0);
        if (checked >= check_max) {
            // Given up: parked in TRANS_CHECK_MAX_TIME_TOPIC (createTopicOfTranCheckMaxTime).
            create_topic_in_send_back(check_max_topic, 1, queue_data::perm_read | queue_data::perm_write, 0);
            inner_message give_up = inner_from(half);
            give_up.topic = check_max_topic;
            give_up.queue_id = 0;
            store_message(std::move(give_up), now);
            tx_resolved_.insert(i);
            continue;
        }
        if (half.store_timestamp >= now)
            break;
        const std::int64_t age = now - half.born_timestamp;
        std::int64_t immunity = timeout;
        const std::string* immunity_text = props.find(pn::check_immunity_time);
        if (immunity_text) {
            if (auto seconds = to_long(*immunity_text); seconds && *seconds != -1)
                immunity = *seconds * 1000;
        }
        if (!(age > immunity || age <= -1)) {
            // Too young. A message with its own immunity time does not hold up the others.
            if (!immunity_text)
                break;
            continue;
        }
        // putBackHalfMsgQueue: a renewed copy (one more check) goes to the end of the half queue.
        props.put(pn::transaction_check_times, std::to_string(checked + 1));
        inner_message renewed = inner_from(half);
        renewed.properties = props;
        renewed.sync_properties_string();
        renewed.properties.put(pn::wait, "false");
        const java_properties check_props = renewed.properties;
        put_result r = store_message(std::move(renewed), now);
        if (r.status != put_status::ok)
            continue;
        tx_resolved_.insert(i);

        // sendCheckMessage: the checked record with its real topic/queue and the new offsets.
        cd::stored_record body = half;
        body.topic = std::string(check_props.get(pn::real_topic));
        body.queue_id = static_cast<int>(to_long(check_props.get(pn::real_qid)).value_or(0));
        body.queue_offset = r.queue_offset;
        body.commit_log_offset = r.phys_offset;
        body.properties = check_props.to_string();
        const std::string uniq(check_props.get(pn::uniq_key));

        auto ch = producer_channel(props.get(pn::pgroup));
        if (!ch)
            continue;
        auto cmd = remoting::command::request(rc::check_transaction_state);
        cmd.type = remoting::serialize_type::json;
        cmd.ext_fields.set("commitLogOffset", std::to_string(r.phys_offset));
        cmd.ext_fields.set("msgId", uniq);
        cmd.ext_fields.set("tranStateTableOffset", std::to_string(r.queue_offset));
        cmd.ext_fields.set("offsetMsgId", r.msg_id);
        cmd.ext_fields.set("transactionId", uniq);
        cd::encode_stored(body, cmd.body);
        out_->out.push_back({*ch, std::move(cmd), 0});
    }
    const auto before = tx_progress_;
    while (tx_resolved_.contains(tx_progress_))
        ++tx_progress_;
    if (tx_progress_ != before)
        commit_offset(tx_check_group, half_topic, 0, tx_progress_);
}

// ---- delayed and timer messages -----------------------------------------------------------------

void broker_core::deliver_scheduled(std::int64_t now)
{
    // ScheduleMessageService.messageTimeup: the stored properties string is kept as is (DELAY,
    // REAL_TOPIC and REAL_QID stay in it); the live map loses DELAY so the copy is not delayed again.
    auto deliver = [&](const cd::stored_record& rec, bool timer) {
        inner_message msg = inner_from(rec);
        msg.properties.put(pn::wait, "false");
        msg.properties.remove(pn::delay);
        if (timer) {
            msg.properties.remove(pn::timer_delay_sec);
            msg.properties.remove(pn::timer_delay_ms);
            msg.properties.remove(pn::timer_deliver_ms);
        }
        msg.topic = std::string(msg.properties.get(pn::real_topic));
        msg.queue_id = static_cast<int>(to_long(msg.properties.get(pn::real_qid)).value_or(0));
        store_message(std::move(msg), now);
    };
    for (int level = 1; level <= store_.max_delay_level(); ++level) {
        const auto* q = store_.queue(schedule_topic, level - 1);
        if (!q)
            continue;
        std::int64_t& next = delay_offsets_[level - 1];
        while (next < static_cast<std::int64_t>(q->size()) && (*q)[static_cast<std::size_t>(next)].tags_code <= now) {
            cd::stored_record rec;
            if (store_.decode_at((*q)[static_cast<std::size_t>(next)].phys_offset, rec))
                deliver(rec, false);
            ++next;
            mark_dirty();
        }
    }
    if (const auto* q = store_.queue(timer_topic, 0)) {
        for (std::size_t i = 0; i < q->size(); ++i) {
            if ((*q)[i].tags_code > now || timer_delivered_.contains(static_cast<std::int64_t>(i)))
                continue;
            cd::stored_record rec;
            if (store_.decode_at((*q)[i].phys_offset, rec))
                deliver(rec, true);
            timer_delivered_.insert(static_cast<std::int64_t>(i));
            mark_dirty();
        }
    }
}

std::int64_t broker_core::next_scheduled_deadline() const noexcept
{
    std::int64_t d = std::numeric_limits<std::int64_t>::max();
    for (int level = 1; level <= store_.max_delay_level(); ++level) {
        const auto* q = store_.queue(schedule_topic, level - 1);
        if (!q)
            continue;
        auto it = delay_offsets_.find(level - 1);
        const std::int64_t next = it == delay_offsets_.end() ? 0 : it->second;
        if (next < static_cast<std::int64_t>(q->size()))
            d = std::min(d, (*q)[static_cast<std::size_t>(next)].tags_code);
    }
    if (const auto* q = store_.queue(timer_topic, 0))
        for (std::size_t i = 0; i < q->size(); ++i)
            if (!timer_delivered_.contains(static_cast<std::int64_t>(i)))
                d = std::min(d, (*q)[i].tags_code);
    return d;
}

}  // namespace corocket::testing::detail
