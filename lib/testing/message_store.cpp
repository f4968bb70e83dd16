#include "testing/message_store.hpp"

#include "message/ids.hpp"
#include "message/properties.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <unistd.h>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace pn = corocket::property_name;

namespace {

// DefaultMessageStore caps per pull: 32 messages / 256 KiB from memory, 8 / 64 KiB from disk.
constexpr int max_transfer_count_in_memory = 32;
constexpr std::int64_t max_transfer_bytes_in_memory = 256 * 1024;
constexpr int max_transfer_count_on_disk = 8;
constexpr std::int64_t max_transfer_bytes_on_disk = 64 * 1024;
// Max queue offset count scanned per pull: max(16000, maxMsgNums * 20) bytes of consume queue.
constexpr std::int64_t cq_unit_size = 20;

std::optional<std::int64_t> parse_long(std::string_view s) noexcept
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}

std::string queue_index_key(std::string_view topic, std::string_view key)
{
    std::string k(topic);
    k += '#';
    k += key;
    return k;
}

bool is_dispatched(std::int32_t sys_flag) noexcept
{
    const auto tran = sys_flag & sys_flag::transaction_mask;
    return tran == sys_flag::transaction_not_type || tran == sys_flag::transaction_commit;
}

}  // namespace

const char* to_string(get_status s) noexcept
{
    switch (s) {
    case get_status::found: return "FOUND";
    case get_status::no_matched_message: return "NO_MATCHED_MESSAGE";
    case get_status::message_was_removing: return "MESSAGE_WAS_REMOVING";
    case get_status::offset_found_null: return "OFFSET_FOUND_NULL";
    case get_status::offset_overflow_badly: return "OFFSET_OVERFLOW_BADLY";
    case get_status::offset_overflow_one: return "OFFSET_OVERFLOW_ONE";
    case get_status::offset_too_small: return "OFFSET_TOO_SMALL";
    case get_status::no_matched_logic_queue: return "NO_MATCHED_LOGIC_QUEUE";
    case get_status::no_message_in_queue: return "NO_MESSAGE_IN_QUEUE";
    }
    return "UNKNOWN";
}

int inner_message::delay_level() const noexcept
{
    auto v = parse_long(properties.get(pn::delay));
    return v ? static_cast<int>(*v) : 0;
}

std::int64_t tags_code_of(const java_properties& props) noexcept
{
    // MessageExtBrokerInner.tagsString2tagsCode: String.hashCode widened to long.
    auto tags = props.get(pn::tags);
    return tags.empty() ? 0 : static_cast<std::int64_t>(cd::java_string_hash(tags));
}

message_store::message_store(store_config cfg) : cfg_(std::move(cfg)) {}

message_store::~message_store()
{
    if (file_)
        std::fclose(file_);
}

bool message_store::load()
{
    if (cfg_.commit_log_path.empty())
        return true;
    bool intact = true;
    if (std::FILE* in = std::fopen(cfg_.commit_log_path.c_str(), "rb")) {
        std::string data;
        char buf[65536];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;)
            data.append(buf, n);
        std::fclose(in);
        std::vector<std::string_view> slices;
        std::string_view rest(data);
        // Keep the intact prefix of a file cut short by a crash.
        while (!rest.empty()) {
            std::vector<std::string_view> one;
            auto size = rest.size() >= 4 ? (static_cast<std::uint32_t>(static_cast<unsigned char>(rest[0])) << 24
                                             | static_cast<std::uint32_t>(static_cast<unsigned char>(rest[1])) << 16
                                             | static_cast<std::uint32_t>(static_cast<unsigned char>(rest[2])) << 8
                                             | static_cast<std::uint32_t>(static_cast<unsigned char>(rest[3])))
                                          : 0;
            if (size == 0 || size > rest.size() || cd::split_stored_records(rest.substr(0, size), one)) {
                intact = false;
                break;
            }
            slices.push_back(one.front());
            rest.remove_prefix(size);
        }
        for (auto s : slices)
            dispatch(std::string(s), next_phys_, false);
        if (!intact) {
            // Rewrite the file without the torn tail so that later appends line up.
            if (std::FILE* out = std::fopen(cfg_.commit_log_path.c_str(), "wb")) {
                for (auto& r : records_)
                    std::fwrite(r.data(), 1, r.size(), out);
                std::fclose(out);
            }
        }
    }
    file_ = std::fopen(cfg_.commit_log_path.c_str(), "ab");
    return intact && file_ != nullptr;
}

std::int64_t message_store::deliver_timestamp(int level, std::int64_t store_ts) const noexcept
{
    if (level >= 1 && level <= max_delay_level())
        return store_ts + cfg_.delay_level_ms[static_cast<std::size_t>(level - 1)];
    return store_ts + 1000;
}

put_result message_store::put(inner_message msg, std::int64_t now_ms)
{
    const auto tran = msg.sys_flag & sys_flag::transaction_mask;
    if (tran == sys_flag::transaction_not_type || tran == sys_flag::transaction_commit) {
        if (int level = msg.delay_level(); level > 0) {
            if (level > max_delay_level())
                msg.properties.put(pn::delay, std::to_string(max_delay_level()));
            level = std::min(level, max_delay_level());
            msg.properties.put(pn::real_topic, msg.topic);
            msg.properties.put(pn::real_qid, std::to_string(msg.queue_id));
            msg.sync_properties_string();
            msg.topic = schedule_topic;
            msg.queue_id = level - 1;
        } else if (cfg_.timer_wheel_enable) {
            if (auto r = transform_timer(msg, now_ms); r.status != put_status::ok)
                return r;
        }
    }
    return write(msg, now_ms);
}

put_result message_store::transform_timer(inner_message& msg, std::int64_t now_ms) const
{
    // 5.x HookUtils.transformTimerMessage: precedence DELAY_SEC, DELAY_MS, DELIVER_MS.
    std::optional<std::int64_t> deliver;
    if (auto* sec = msg.properties.find(pn::timer_delay_sec)) {
        auto v = parse_long(*sec);
        if (!v)
            return put_result::failure(put_status::timer_illegal);
        deliver = now_ms + *v * 1000;
    } else if (auto* ms = msg.properties.find(pn::timer_delay_ms)) {
        auto v = parse_long(*ms);
        if (!v)
            return put_result::failure(put_status::timer_illegal);
        deliver = now_ms + *v;
    } else if (auto* at = msg.properties.find(pn::timer_deliver_ms)) {
        deliver = parse_long(*at);
        if (!deliver)
            return put_result::failure(put_status::timer_illegal);
    }
    if (!deliver || *deliver <= now_ms)
        return {};
    if (*deliver - now_ms > cfg_.timer_max_delay_sec * 1000)
        return put_result::failure(put_status::timer_illegal);
    const auto precision = std::max<std::int64_t>(1, cfg_.timer_precision_ms);
    // Rounded down to the wheel's slot; an exact multiple goes one slot earlier.
    if (*deliver % precision == 0)
        *deliver -= precision;
    else
        *deliver = *deliver / precision * precision;
    msg.properties.put(pn::timer_out_ms, std::to_string(*deliver));
    msg.properties.put(pn::real_topic, msg.topic);
    msg.properties.put(pn::real_qid, std::to_string(msg.queue_id));
    msg.sync_properties_string();
    msg.topic = timer_topic;
    msg.queue_id = 0;
    return {};
}

put_result message_store::append(inner_message msg, std::int64_t now_ms)
{
    return write(msg, now_ms);
}

put_result message_store::write(inner_message& msg, std::int64_t now_ms)
{
    put_result r;
    // DefaultMessageStore.putMessage / MessageExtEncoder checks.
    if (msg.topic.size() > cd::max_v1_topic_length)
        return put_result::failure(put_status::message_illegal);
    if (msg.properties_string.size() > cd::max_properties_length)
        return put_result::failure(put_status::properties_size_exceeded);

    cd::stored_record rec;
    rec.queue_id = msg.queue_id;
    rec.flag = msg.flag;
    rec.commit_log_offset = next_phys_;
    rec.sys_flag = msg.sys_flag;
    rec.born_timestamp = msg.born_timestamp;
    rec.born_host = msg.born_host;
    rec.store_timestamp = now_ms;
    rec.store_host = msg.store_host;
    rec.reconsume_times = msg.reconsume_times;
    rec.prepared_transaction_offset = msg.prepared_transaction_offset;
    rec.body = std::move(msg.body);
    rec.topic = msg.topic;
    rec.properties = msg.properties_string;
    // Prepared and rollback records take no queue offset (CommitLog.doAppend).
    rec.queue_offset = is_dispatched(rec.sys_flag) ? max_offset(rec.topic, rec.queue_id) : 0;

    const auto size = cd::stored_size(rec);
    if (size > cfg_.max_message_size)
        return put_result::failure(put_status::message_illegal);

    std::string bytes;
    cd::encode_stored(rec, bytes);
    r.phys_offset = next_phys_;
    r.queue_offset = rec.queue_offset;
    r.store_timestamp = now_ms;
    r.size = static_cast<std::int32_t>(size);
    r.msg_id = cd::make_offset_msg_id(rec.store_host, r.phys_offset);
    r.topic = rec.topic;
    r.queue_id = rec.queue_id;
    dispatch(std::move(bytes), r.phys_offset, true);
    return r;
}

void message_store::dispatch(std::string bytes, std::int64_t phys, bool persist)
{
    cd::stored_record_view rec;
    if (cd::decode_stored(bytes, rec))
        return;
    if (persist && file_) {
        std::fwrite(bytes.data(), 1, bytes.size(), file_);
        std::fflush(file_);
    }
    auto props = java_properties::parse(rec.properties);
    const auto size = static_cast<std::int32_t>(bytes.size());
    by_phys_.emplace(phys, records_.size());
    records_.push_back(std::move(bytes));
    next_phys_ = phys + size;

    if (is_dispatched(rec.sys_flag)) {
        std::int64_t tags_code = tags_code_of(props);
        if (rec.topic == schedule_topic) {
            if (auto level = parse_long(props.get(pn::delay)); level && *level > 0)
                tags_code = deliver_timestamp(static_cast<int>(std::min<std::int64_t>(*level, max_delay_level())),
                                              rec.store_timestamp);
        } else if (rec.topic == timer_topic) {
            tags_code = parse_long(props.get(pn::timer_out_ms)).value_or(rec.store_timestamp);
        }
        queue_mut(rec.topic, rec.queue_id).push_back({phys, size, tags_code, rec.store_timestamp});
    }
    if ((rec.sys_flag & sys_flag::transaction_mask) == sys_flag::transaction_rollback)
        return;
    // IndexService.buildIndex: UNIQ_KEY and every KEYS token, under "topic#key".
    auto add_key = [&](std::string_view key) {
        if (!key.empty())
            index_[queue_index_key(rec.topic, key)].push_back(phys);
    };
    add_key(props.get(pn::uniq_key));
    std::string_view keys = props.get(pn::keys);
    while (!keys.empty()) {
        auto sp = keys.find(' ');
        add_key(keys.substr(0, sp));
        keys = sp == std::string_view::npos ? std::string_view{} : keys.substr(sp + 1);
    }
    index_last_ts_ = rec.store_timestamp;
    index_last_phy_ = phys;
}

std::vector<cq_entry>& message_store::queue_mut(std::string_view topic, int queue_id)
{
    auto it = queues_.find(std::pair<std::string_view, int>(topic, queue_id));
    if (it == queues_.end())
        it = queues_.emplace(queue_key(std::string(topic), queue_id), std::vector<cq_entry>{}).first;
    return it->second;
}

const std::vector<cq_entry>* message_store::queue(std::string_view topic, int queue_id) const noexcept
{
    auto it = queues_.find(std::pair<std::string_view, int>(topic, queue_id));
    return it == queues_.end() ? nullptr : &it->second;
}

const std::string* message_store::record_at(std::int64_t phys_offset) const noexcept
{
    auto it = by_phys_.find(phys_offset);
    return it == by_phys_.end() ? nullptr : &records_[it->second];
}

bool message_store::decode_at(std::int64_t phys_offset, cd::stored_record& out) const
{
    const std::string* r = record_at(phys_offset);
    return r && !cd::decode_stored(*r, out);
}

std::int64_t message_store::max_offset(std::string_view topic, int queue_id) const noexcept
{
    const auto* q = queue(topic, queue_id);
    return q ? static_cast<std::int64_t>(q->size()) : 0;
}

std::int64_t message_store::min_offset(std::string_view, int) const noexcept
{
    // Nothing is ever deleted from the embedded store.
    return 0;
}

std::int64_t message_store::memory_limit() const noexcept
{
    if (cfg_.memory_bytes != 0)
        return static_cast<std::int64_t>(cfg_.memory_bytes);
    // StoreUtil.TOTAL_PHYSICAL_MEMORY_SIZE × accessMessageInMemoryMaxRatio (40 %).
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0)
        return std::int64_t{1} << 40;
    return static_cast<std::int64_t>(pages) * page / 100 * 40;
}

bool message_store::in_disk_by_consume_offset(std::string_view topic, int queue_id, std::int64_t offset) const
{
    const auto* q = queue(topic, queue_id);
    if (!q || offset < 0 || offset >= static_cast<std::int64_t>(q->size()))
        return false;
    return next_phys_ - (*q)[static_cast<std::size_t>(offset)].phys_offset > memory_limit();
}

get_result message_store::get(std::string_view topic, int queue_id, std::int64_t offset, int max_msg_nums,
                              const message_filter& filter) const
{
    get_result r;
    const auto* q = queue(topic, queue_id);
    const std::int64_t min = 0;
    const std::int64_t max = q ? static_cast<std::int64_t>(q->size()) : 0;
    r.min_offset = min;
    r.max_offset = max;
    if (max == 0) {
        r.status = get_status::no_message_in_queue;
        r.next_begin_offset = 0;
    } else if (offset < min) {
        r.status = get_status::offset_too_small;
        r.next_begin_offset = min;
    } else if (offset == max) {
        r.status = get_status::offset_overflow_one;
        r.next_begin_offset = offset;
    } else if (offset > max) {
        r.status = get_status::offset_overflow_badly;
        r.next_begin_offset = min == 0 ? min : max;
    } else {
        r.status = get_status::no_matched_message;
        const std::int64_t memory = memory_limit();
        const std::int64_t scan_limit = std::max<std::int64_t>(16000, std::int64_t{max_msg_nums} * cq_unit_size) / cq_unit_size;
        std::int64_t scanned = 0;
        std::int64_t bytes = 0;
        std::int64_t max_phy_pulling = 0;
        for (std::int64_t i = offset; i < max && scanned < scan_limit; ++i, ++scanned) {
            const cq_entry& e = (*q)[static_cast<std::size_t>(i)];
            max_phy_pulling = e.phys_offset;
            const bool in_disk = next_phys_ - e.phys_offset > memory;
            if (bytes != 0 && r.message_count != 0) {  // DefaultMessageStore.isTheBatchFull
                if (max_msg_nums <= r.message_count)
                    break;
                if (in_disk ? (bytes + e.size > max_transfer_bytes_on_disk || r.message_count > max_transfer_count_on_disk - 1)
                            : (bytes + e.size > max_transfer_bytes_in_memory || r.message_count > max_transfer_count_in_memory - 1))
                    break;
            }
            if (filter.by_tags_code && !filter.by_tags_code(e.tags_code))
                continue;
            const std::string* rec = record_at(e.phys_offset);
            if (!rec) {
                if (bytes == 0)
                    r.status = get_status::message_was_removing;
                continue;
            }
            if (filter.by_properties) {
                cd::stored_record_view view;
                if (cd::decode_stored(*rec, view) || !filter.by_properties(view.properties))
                    continue;
            }
            r.body += *rec;
            bytes += e.size;
            ++r.message_count;
            r.status = get_status::found;
        }
        r.next_begin_offset = offset + scanned;
        r.suggest_pulling_from_slave = next_phys_ - max_phy_pulling > memory;
    }
    return r;
}

std::int64_t message_store::offset_by_time(std::string_view topic, int queue_id, std::int64_t timestamp) const
{
    // ConsumeQueue.getOffsetInQueueByTime over one consume-queue file: binary search, exact hit
    // or the nearer neighbour.
    const auto* q = queue(topic, queue_id);
    if (!q || q->empty())
        return 0;
    std::int64_t low = 0, high = static_cast<std::int64_t>(q->size()) - 1;
    std::int64_t target = -1, left = -1, right = -1, left_value = -1, right_value = -1;
    while (high >= low) {
        const std::int64_t mid = (low + high) / 2;
        const std::int64_t t = (*q)[static_cast<std::size_t>(mid)].store_timestamp;
        if (t == timestamp) {
            target = mid;
            break;
        }
        if (t > timestamp) {
            high = mid - 1;
            right = mid;
            right_value = t;
        } else {
            low = mid + 1;
            left = mid;
            left_value = t;
        }
    }
    if (target != -1)
        return target;
    if (left_value == -1)
        return right;
    if (right_value == -1)
        return left;
    return std::abs(timestamp - left_value) > std::abs(timestamp - right_value) ? right : left;
}

std::int64_t message_store::earliest_store_time(std::string_view topic, int queue_id) const
{
    const auto* q = queue(topic, queue_id);
    return q && !q->empty() ? q->front().store_timestamp : -1;
}

std::vector<std::int64_t> message_store::query(std::string_view topic, std::string_view key, int max_num,
                                               std::int64_t begin, std::int64_t end) const
{
    std::vector<std::int64_t> out;
    auto it = index_.find(queue_index_key(topic, key));
    if (it == index_.end())
        return out;
    // The index is walked newest first; the hits are then sorted by offset.
    for (auto p = it->second.rbegin(); p != it->second.rend() && static_cast<int>(out.size()) < max_num; ++p) {
        cd::stored_record_view rec;
        const std::string* bytes = record_at(*p);
        if (!bytes || cd::decode_stored(*bytes, rec))
            continue;
        if (rec.store_timestamp >= begin && rec.store_timestamp <= end)
            out.push_back(*p);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace corocket::testing::detail
