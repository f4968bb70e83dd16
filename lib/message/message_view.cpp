// message_view accessors and message_batch decoding (protocol.md §4.4.3).
#include <corocket/message.hpp>

#include "message/codec.hpp"
#include "message/ids.hpp"
#include "message/properties.hpp"

#include <fmt/format.h>

namespace corocket {

std::optional<std::string_view> message_view::property(std::string_view name) const noexcept
{
    // The last duplicate wins, as in Java's HashMap-based parser.
    for (auto it = properties_.rbegin(); it != properties_.rend(); ++it)
        if (it->first == name) return it->second;
    return std::nullopt;
}

std::string_view message_view::tags() const noexcept { return property(property_name::tags).value_or(""); }

std::vector<std::string_view> message_view::keys() const
{
    std::vector<std::string_view> out;
    std::string_view rest = property(property_name::keys).value_or("");
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        if (space != 0) out.push_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
    return out;
}

std::string_view message_view::msg_id() const noexcept
{
    return property(property_name::uniq_key).value_or(std::string_view(offset_msg_id_));
}

message message_view::to_message() const
{
    message out{std::string(topic_), std::string(body_)};
    out.set_flag(flag_);
    auto& props = out.properties_mut();
    props.clear();
    for (const auto& [name, value] : properties_) props.insert_or_assign(std::string(name), std::string(value));
    return out;
}

error_code message_batch::decode(std::string body_bytes, message_batch& out)
{
    out = message_batch{};
    auto batch = decode_lenient(std::move(body_bytes));
    if (batch.unparsed_bytes_ > 0) return make_error_code(client_errc::bad_message);
    for (const auto& m : batch.messages_)
        if (m.undecodable()) return m.decode_error();
    out = std::move(batch);
    return {};
}

message_batch message_batch::decode_lenient(std::string body_bytes)
{
    message_batch batch;
    batch.raw_ = std::make_unique<std::string>(std::move(body_bytes));
    std::vector<std::string_view> records;
    if (detail::split_stored_records(*batch.raw_, records)) {
        std::size_t split = 0;
        for (const auto record : records) split += record.size();
        batch.unparsed_bytes_ = batch.raw_->size() - split;
    }
    batch.messages_.reserve(records.size());
    for (const auto record : records) batch.messages_.push_back(batch.decode_one(record));
    return batch;
}

message_view message_batch::decode_one(std::string_view record)
{
    detail::stored_record_view rec;
    const auto malformed = detail::decode_stored(record, rec);
    if (malformed) {
        rec = {};
        detail::decode_leading_fields(record, rec);
    }
    message_view view;
    view.raw_record_ = record;
    view.topic_ = rec.topic;
    view.body_ = rec.body;
    view.properties_string_ = rec.properties;
    view.flag_ = rec.flag;
    view.queue_id_ = rec.queue_id;
    view.queue_offset_ = rec.queue_offset;
    view.commit_log_offset_ = rec.commit_log_offset;
    view.sys_flag_ = rec.sys_flag;
    view.stored_sys_flag_ = rec.sys_flag;
    view.born_timestamp_ = rec.born_timestamp;
    view.born_host_ = rec.born_host;
    view.store_timestamp_ = rec.store_timestamp;
    view.store_host_ = rec.store_host;
    view.reconsume_times_ = rec.reconsume_times;
    view.prepared_transaction_offset_ = rec.prepared_transaction_offset;
    view.body_crc_ = rec.body_crc;
    if (malformed) {
        view.decode_error_ = malformed;
        view.decode_failure_ = "malformed record: its lengths, magic code or hosts are inconsistent";
        return view;
    }
    detail::decode_properties(rec.properties, view.properties_);
    view.offset_msg_id_ = detail::make_offset_msg_id(rec.store_host, rec.commit_log_offset);
    if (rec.sys_flag & sys_flag::compressed) inflate(view);
    return view;
}

void message_batch::inflate(message_view& view)
{
    auto inflated = std::make_unique<std::string>();
    std::string_view why;
    if (auto ec = detail::inflate_body(view.body_, view.sys_flag_, max_inflated_body, *inflated, &why)) {
        view.decode_error_ = ec;
        const auto type = detail::compression_of(view.sys_flag_);
        view.decode_failure_ = type ? fmt::format("{} body of {} bytes does not inflate: {}", to_string(*type),
                                                  view.body_.size(), why)
                                    : fmt::format("unknown compression type {}",
                                                  (view.sys_flag_ & sys_flag::compression_type_mask) >> 8);
        return;
    }
    view.body_ = *inflated;
    view.sys_flag_ &= ~sys_flag::compressed;
    inflated_.push_back(std::move(inflated));
}

}  // namespace corocket
