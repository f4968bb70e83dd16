// Sans-I/O choice of name server: start at a random entry, stick with it while it works, move
// round-robin to the next on failure (as the Java client does).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

class name_servers {
public:
    /// `list` is "host:port;host:port" (blanks and empty entries ignored); `start` picks the first
    /// entry to use (callers pass a random number).
    name_servers(std::string_view list, std::size_t start);

    bool empty() const noexcept { return addrs_.empty(); }
    std::size_t size() const noexcept { return addrs_.size(); }
    const std::string& current() const { return addrs_[index_]; }
    /// The current one failed: use the next.
    void rotate() noexcept
    {
        if (!addrs_.empty())
            index_ = (index_ + 1) % addrs_.size();
    }
    const std::vector<std::string>& all() const noexcept { return addrs_; }

private:
    std::vector<std::string> addrs_;
    std::size_t index_ = 0;
};

}  // namespace corocket::detail
