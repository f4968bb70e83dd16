// The producer's sans-I/O core (see send_codec.hpp).
#include "producer/send_codec.hpp"

#include "message/codec.hpp"
#include "message/namespace.hpp"
#include "message/properties.hpp"
#include "message/validate.hpp"

#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace corocket::detail {
namespace {

error_code fail(client_errc e, diagnostics& diag, std::string text)
{
    diag.client_message = std::move(text);
    return make_error_code(e);
}

const char* bool_text(bool b) noexcept { return b ? "true" : "false"; }

// Encodes every property except the client-local transient ones, which are never sent.
std::string encode_wire_properties(const properties& props)
{
    std::string out;
    for (const auto& [name, value] : props)
        if (!name.starts_with(property_name::transient_prefix))
            append_property(out, name, value);
    return out;
}

void ensure_uniq_key(message& msg, uniq_id_generator& ids)
{
    auto& props = msg.properties_mut();
    if (!props.contains(property_name::uniq_key))
        props.emplace(std::string(property_name::uniq_key), ids.next(std::chrono::system_clock::now()));
}

// Java moves these two properties into header fields for sends to a retry topic.
std::optional<std::int32_t> take_int_property(message& msg, std::string_view name)
{
    auto& props = msg.properties_mut();
    auto it = props.find(name);
    if (it == props.end())
        return std::nullopt;
    std::optional<std::int32_t> value;
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (end && *end == '\0' && !it->second.empty())
        value = static_cast<std::int32_t>(v);
    props.erase(it);
    return value;
}

error_code check_properties_length(const std::string& encoded, diagnostics& diag)
{
    if (encoded.size() > max_properties_length)
        return fail(client_errc::invalid_argument, diag,
                    fmt::format("the encoded properties are {} bytes, more than the {} allowed", encoded.size(),
                                max_properties_length));
    return {};
}

error_code compress_body(std::string_view body, const prepare_options& opts, prepared_send& out, diagnostics& diag)
{
    if (opts.compress_threshold == 0 || body.size() < opts.compress_threshold) {
        out.body.assign(body);
        return {};
    }
    body_compressor once;
    auto& compressor = opts.compressor ? *opts.compressor : once;
    if (auto ec = compressor.compress(opts.compression, body, opts.compress_level, out.body))
        return fail(client_errc::compression_failed, diag,
                    fmt::format("{} compression at level {} failed: {}", to_string(opts.compression),
                                opts.compress_level, ec.message()));
    out.sys_flag |= compressed_sys_flag(opts.compression);
    return {};
}

void add_int(remoting::ext_fields& f, std::string_view key, std::int64_t v) { f.set(key, std::to_string(v)); }

void add_if(remoting::ext_fields& f, std::string_view key, std::string_view v)
{
    if (!v.empty())  // an empty value reads back as null and breaks ACL signatures (§7.14)
        f.set(key, std::string(v));
}

}  // namespace

error_code check_compression(const producer_config& cfg, diagnostics& diag)
{
    if (valid_compress_level(cfg.compression, cfg.compress_level))
        return {};
    return fail(client_errc::invalid_argument, diag,
                fmt::format("compress_level {} is not a {} level ({})", cfg.compress_level, to_string(cfg.compression),
                            compress_level_range(cfg.compression)));
}

error_code prepare_message(message& msg, const prepare_options& opts, uniq_id_generator& ids, prepared_send& out,
                           diagnostics& diag)
{
    if (auto ec = validate_message(msg, opts.max_body_size, diag))
        return ec;
    out = prepared_send{};
    out.topic = wrap_namespace(opts.name_space, msg.topic());
    ensure_uniq_key(msg, ids);
    if (!opts.name_space.empty())
        msg.properties_mut().insert_or_assign(std::string(property_name::instance_id), std::string(opts.name_space));
    if (out.topic.starts_with(retry_topic_prefix)) {
        out.reconsume_times = take_int_property(msg, property_name::reconsume_time).value_or(0);
        out.max_reconsume_times = take_int_property(msg, property_name::max_reconsume_times);
    }
    out.properties = encode_wire_properties(msg.properties());
    if (auto ec = check_properties_length(out.properties, diag))
        return ec;
    if (auto tran = msg.property(property_name::tran_msg); tran && *tran == "true")
        out.sys_flag |= sys_flag::transaction_prepared;
    out.flag = msg.flag();
    out.uniq_key = *msg.property(property_name::uniq_key);
    return compress_body(msg.body(), opts, out, diag);
}

namespace {

error_code check_batch_member(const message& first, const message& m, std::size_t i, const prepare_options& opts,
                              diagnostics& diag)
{
    if (auto ec = validate_message(m, opts.max_body_size, diag)) {
        diag.client_message = fmt::format("batch message {}: {}", i, diag.client_message);
        return ec;
    }
    if (m.topic() != first.topic())
        return fail(client_errc::invalid_argument, diag,
                    fmt::format("batch message {} has topic '{}', the batch is for '{}'", i, m.topic(), first.topic()));
    if (m.delay_level() > 0)
        return fail(client_errc::invalid_argument, diag,
                    fmt::format("batch message {} has a delay level: batches cannot be delayed", i));
    if (m.topic().starts_with(retry_topic_prefix))
        return fail(client_errc::invalid_argument, diag, "batches cannot be sent to a retry topic");
    if (m.wait_store_ok() != first.wait_store_ok())
        return fail(client_errc::invalid_argument, diag,
                    fmt::format("batch message {} differs from message 0 in WAIT", i));
    return {};
}

prepared_send batch_wrapper(const message& first, std::string_view wire_topic, const prepare_options& opts,
                            std::size_t first_index)
{
    prepared_send p;
    p.batch = true;
    p.topic = std::string(wire_topic);
    p.first_index = first_index;
    p.message_count = 0;
    // 4.9.8 puts only WAIT on the wrapper (tests/wire/send_json.jsonl seq 17), plus the
    // namespace's INSTANCE_ID, which sendKernelImpl adds to every message it sends.
    append_property(p.properties, property_name::wait, bool_text(first.wait_store_ok()));
    if (!opts.name_space.empty())
        append_property(p.properties, property_name::instance_id, opts.name_space);
    return p;
}

}  // namespace

error_code prepare_batch(std::span<message> msgs, const prepare_options& opts, std::size_t max_request_body,
                         uniq_id_generator& ids, std::vector<prepared_send>& out, diagnostics& diag)
{
    out.clear();
    if (msgs.empty())
        return fail(client_errc::invalid_argument, diag, "the batch is empty");
    for (std::size_t i = 0; i < msgs.size(); ++i)
        if (auto ec = check_batch_member(msgs[0], msgs[i], i, opts, diag))
            return ec;
    const std::string wire_topic = wrap_namespace(opts.name_space, msgs[0].topic());
    std::vector<prepared_send> parts;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        ensure_uniq_key(msgs[i], ids);
        const std::string props = encode_wire_properties(msgs[i].properties());
        if (auto ec = check_properties_length(props, diag))
            return ec;
        const std::size_t entry = batch_entry_size(msgs[i].body().size(), props.size());
        if (parts.empty() || (parts.back().message_count > 0 && parts.back().body.size() + entry > max_request_body))
            parts.push_back(batch_wrapper(msgs[0], wire_topic, opts, i));
        auto& part = parts.back();
        encode_batch_entry(msgs[i].flag(), msgs[i].body(), props, part.body);
        if (part.message_count++ > 0)
            part.uniq_key += ',';
        part.uniq_key += *msgs[i].property(property_name::uniq_key);
    }
    out = std::move(parts);
    return {};
}

remoting::command make_send_request(const prepared_send& p, const send_target& t, send_header_version version,
                                    std::string body)
{
    namespace rc = remoting::request_code;
    const bool v2 = p.batch || version == send_header_version::v2;
    auto cmd = remoting::command::request(p.batch ? rc::send_batch_message : v2 ? rc::send_message_v2 : rc::send_message);
    auto& f = cmd.ext_fields;
    f.reserve(14);
    // Java's SendMessageRequestHeaderV2 keys a..n stand for the V1 names, in this order.
    const auto key = [v2](std::string_view short_key, std::string_view long_key) { return v2 ? short_key : long_key; };
    f.set(key("a", "producerGroup"), std::string(t.group));
    f.set(key("b", "topic"), p.topic);
    f.set(key("c", "defaultTopic"), std::string(t.default_topic));
    add_int(f, key("d", "defaultTopicQueueNums"), t.default_topic_queue_nums);
    add_int(f, key("e", "queueId"), t.queue_id);
    add_int(f, key("f", "sysFlag"), p.sys_flag);
    add_int(f, key("g", "bornTimestamp"), t.born_timestamp_ms);
    add_int(f, key("h", "flag"), p.flag);
    add_if(f, key("i", "properties"), p.properties);
    add_int(f, key("j", "reconsumeTimes"), p.reconsume_times);
    f.set(key("k", "unitMode"), "false");
    if (p.max_reconsume_times)
        add_int(f, key("l", "maxReconsumeTimes"), *p.max_reconsume_times);
    f.set(key("m", "batch"), bool_text(p.batch));
    add_if(f, key("n", "bname"), t.broker_name);
    cmd.body = std::move(body);
    return cmd;
}

namespace {

std::optional<send_status> status_of(int code) noexcept
{
    namespace rc = remoting::response_code;
    switch (code) {
    case rc::success: return send_status::send_ok;
    case rc::flush_disk_timeout: return send_status::flush_disk_timeout;
    case rc::flush_slave_timeout: return send_status::flush_slave_timeout;
    case rc::slave_not_available: return send_status::slave_not_available;
    default: return std::nullopt;
    }
}

}  // namespace

error_code parse_send_response(const remoting::command& resp, const prepared_send& p, std::string_view user_topic,
                               std::string_view broker_name, send_result& out, diagnostics& diag)
{
    const auto status = status_of(resp.code);
    if (!status) {
        diag.remark = resp.remark.value_or("");
        return make_broker_error(resp.code);
    }
    const auto& f = resp.ext_fields;
    const auto queue_id = f.get_int("queueId");
    const auto queue_offset = f.get_int("queueOffset");
    if (!queue_id || !queue_offset)
        return fail(client_errc::unexpected_response, diag,
                    fmt::format("the {} answer lacks queueId or queueOffset", response_code_name(resp.code)));
    out.status = *status;
    const std::string_view batch_uniq_id = f.get("batchUniqId");
    out.msg_id = batch_uniq_id.empty() ? p.uniq_key : std::string(batch_uniq_id);
    out.offset_msg_id = std::string(f.get("msgId"));
    out.queue = {std::string(user_topic), std::string(broker_name), static_cast<int>(*queue_id)};
    out.queue_offset = *queue_offset;
    const std::string_view tx = f.get("transactionId");
    out.transaction_id = tx.empty() ? p.uniq_key : std::string(tx);  // 4.x never fills it
    out.region_id = std::string(f.get("MSG_REGION"));
    out.trace_on = f.get_bool("TRACE_ON").value_or(true);
    return {};
}

std::vector<message_queue> publish_queues(const topic_route& route, std::string_view topic)
{
    return route.publish_queues(topic);
}

std::vector<message_queue> default_topic_publish_queues(const topic_route& default_route, std::string_view topic,
                                                         int default_queue_nums)
{
    topic_route r = default_route;
    r.order_topic_conf.clear();
    for (auto& q : r.queue_datas) {
        const int n = std::min(default_queue_nums, q.read_queue_nums);
        q.read_queue_nums = n;
        q.write_queue_nums = n;
    }
    return r.publish_queues(topic);
}

std::size_t hash_queue_index(std::string_view key, std::size_t n) noexcept
{
    if (n == 0)
        return 0;
    // SelectMessageQueueByHash: value = arg.hashCode() % size; if (value < 0) value = abs(value).
    const std::int32_t h = java_string_hash(key);
    std::int32_t v = h % static_cast<std::int32_t>(n);
    return static_cast<std::size_t>(v < 0 ? -v : v);
}

std::int32_t commit_or_rollback(transaction_state s) noexcept
{
    switch (s) {
    case transaction_state::commit: return sys_flag::transaction_commit;
    case transaction_state::rollback: return sys_flag::transaction_rollback;
    case transaction_state::unknown: break;
    }
    return sys_flag::transaction_not_type;
}

remoting::command make_end_transaction_request(const end_transaction_args& a)
{
    auto cmd = remoting::command::request(remoting::request_code::end_transaction);
    auto& f = cmd.ext_fields;
    f.set("producerGroup", std::string(a.group));
    add_int(f, "tranStateTableOffset", a.tran_state_table_offset);
    add_int(f, "commitLogOffset", a.commit_log_offset);
    add_int(f, "commitOrRollback", commit_or_rollback(a.state));
    f.set("fromTransactionCheck", bool_text(a.from_transaction_check));
    add_if(f, "msgId", a.msg_id);
    add_if(f, "transactionId", a.transaction_id);
    add_if(f, "topic", a.topic);
    add_if(f, "bname", a.broker_name);
    if (!a.remark.empty())
        cmd.remark = std::string(a.remark);
    return cmd;
}

error_code parse_check_request(const remoting::command& req, check_request& out)
{
    const auto& f = req.ext_fields;
    const auto tran = f.get_int("tranStateTableOffset");
    const auto commit = f.get_int("commitLogOffset");
    if (!tran || !commit)
        return make_error_code(client_errc::bad_header);
    out.tran_state_table_offset = *tran;
    out.commit_log_offset = *commit;
    out.msg_id = std::string(f.get("msgId"));
    out.transaction_id = std::string(f.get("transactionId"));
    out.offset_msg_id = std::string(f.get("offsetMsgId"));
    out.topic = std::string(f.get("topic"));
    out.broker_name = std::string(f.get("bname"));
    return {};
}

}  // namespace corocket::detail
