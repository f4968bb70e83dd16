#include "testing/java_properties.hpp"

#include "message/codec.hpp"
#include "message/properties.hpp"

#include <algorithm>
#include <cstdint>
#include <tuple>

namespace corocket::testing::detail {

namespace {

/// HashMap.hash(): the key's hashCode with its high half folded into the low half.
std::uint32_t spread(std::string_view key) noexcept
{
    auto h = static_cast<std::uint32_t>(corocket::detail::java_string_hash(key));
    return h ^ (h >> 16);
}

}  // namespace

java_properties java_properties::parse(std::string_view text)
{
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    corocket::detail::decode_properties(text, pairs);
    java_properties out;
    for (auto& [k, v] : pairs)
        out.put(k, std::string(v));
    return out;
}

void java_properties::put(std::string_view key, std::string value)
{
    for (auto& item : items_) {
        if (item.first == key) {
            item.second = std::move(value);
            return;
        }
    }
    items_.emplace_back(std::string(key), std::move(value));
    // Java resizes once size exceeds 3/4 of the table; it never shrinks on remove.
    while (items_.size() * 4 > capacity_ * 3)
        capacity_ *= 2;
}

std::optional<std::string> java_properties::remove(std::string_view key)
{
    auto it = std::find_if(items_.begin(), items_.end(), [&](const auto& i) { return i.first == key; });
    if (it == items_.end())
        return std::nullopt;
    std::string value = std::move(it->second);
    items_.erase(it);
    return value;
}

const std::string* java_properties::find(std::string_view key) const noexcept
{
    for (auto& item : items_)
        if (item.first == key)
            return &item.second;
    return nullptr;
}

std::string_view java_properties::get(std::string_view key) const noexcept
{
    const std::string* v = find(key);
    return v ? std::string_view(*v) : std::string_view{};
}

std::vector<std::pair<std::string, std::string>> java_properties::ordered() const
{
    // Iteration visits buckets in index order; a bucket's chain keeps insertion order (resizing
    // splits chains without reordering them).
    std::vector<std::tuple<std::uint32_t, std::size_t>> keys;
    keys.reserve(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i)
        keys.emplace_back(spread(items_[i].first) & static_cast<std::uint32_t>(capacity_ - 1), i);
    std::sort(keys.begin(), keys.end());
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(items_.size());
    for (auto& [bucket, index] : keys)
        out.push_back(items_[index]);
    return out;
}

std::string java_properties::to_string() const
{
    std::string out;
    for (auto& [k, v] : ordered()) {
        corocket::detail::append_property(out, k, v);
    }
    if (!out.empty())
        out.pop_back();  // 4.9.8 drops the separator after the last pair
    return out;
}

}  // namespace corocket::testing::detail
