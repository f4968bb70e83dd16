// The user's log sink: a (level, message) callback. No log files, no global logger; the
// message is formatted only when the level is enabled.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string_view>
#include <utility>

namespace corocket {

enum class log_level { trace, debug, info, warn, error, off };

using log_sink = std::function<void(log_level, std::string_view)>;

class logger {
public:
    /// A logger that discards everything.
    logger() = default;
    logger(log_level min_level, log_sink sink) : min_(min_level), sink_(std::move(sink)) {}

    bool enabled(log_level l) const noexcept { return sink_ && l >= min_ && l != log_level::off; }

    template <class... Args>
    void log(log_level l, fmt::format_string<Args...> f, Args&&... args) const
    {
        if (enabled(l))
            sink_(l, fmt::vformat(f, fmt::make_format_args(args...)));
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::debug, f, std::forward<Args>(a)...); }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::info, f, std::forward<Args>(a)...); }
    template <class... Args>
    void warn(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::warn, f, std::forward<Args>(a)...); }
    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::error, f, std::forward<Args>(a)...); }

private:
    log_level min_ = log_level::off;
    log_sink sink_;
};

/// "TRACE", "DEBUG", ...
const char* to_string(log_level) noexcept;

}  // namespace corocket
