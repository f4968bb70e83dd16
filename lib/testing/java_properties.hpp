// Message properties as a 4.9.8 broker holds them: a java.util.HashMap<String,String>. Its
// iteration order decides the order of pairs in the stored properties string, so the embedded
// broker reproduces it (buckets by String.hashCode, insertion order inside a bucket) and writes
// records byte-identical to a real broker's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket::testing::detail {

class java_properties {
public:
    java_properties() = default;
    /// MessageDecoder.string2messageProperties: a fresh HashMap filled in string order.
    static java_properties parse(std::string_view text);

    /// HashMap.put: replaces the value in place or appends a new key.
    void put(std::string_view key, std::string value);
    /// HashMap.remove: returns the removed value.
    std::optional<std::string> remove(std::string_view key);
    const std::string* find(std::string_view key) const noexcept;
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    std::string_view get(std::string_view key) const noexcept;
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }

    /// MessageDecoder.messageProperties2String of 4.9.8: pairs in HashMap iteration order,
    /// separated by \x02, without a trailing separator.
    std::string to_string() const;

    /// Pairs in HashMap iteration order.
    std::vector<std::pair<std::string, std::string>> ordered() const;

private:
    std::vector<std::pair<std::string, std::string>> items_;  // insertion order
    std::size_t capacity_ = 16;                               // the table never shrinks
};

}  // namespace corocket::testing::detail
