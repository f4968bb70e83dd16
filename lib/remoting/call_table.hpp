// Sans-I/O bookkeeping of calls waiting for a response: opaque → parked handler, plus a heap
// of deadlines. Opaques are handed out sequentially, so a power-of-two ring indexed by opaque
// finds a slot in O(1) without allocating per call; it grows only when a long-lived call (a
// long-poll pull) still occupies the slot a new opaque maps to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

namespace corocket::remoting::detail {

template <class Handler>
class call_table {
public:
    using clock = std::chrono::steady_clock;

    struct entry {
        Handler handler;
        int request_code = 0;
    };

    explicit call_table(std::size_t initial_capacity = 64) : slots_(round_up(initial_capacity)) {}

    /// Whether `opaque` is free to use for a new call.
    bool is_free(std::int32_t opaque) const noexcept
    {
        const slot& s = slots_[index(opaque)];
        return !s.used || s.opaque != opaque;
    }

    /// Parks `handler` under `opaque` (which must be free). A zero deadline means none.
    void insert(std::int32_t opaque, int request_code, Handler handler,
                std::optional<clock::time_point> deadline)
    {
        while (slots_[index(opaque)].used)
            grow();
        slot& s = slots_[index(opaque)];
        s.used = true;
        s.opaque = opaque;
        s.value.emplace(entry{std::move(handler), request_code});
        ++size_;
        if (deadline)
            deadlines_.push({*deadline, opaque});
    }

    /// Removes and returns the call parked under `opaque`, if any (a late or unknown response
    /// finds nothing).
    std::optional<entry> take(std::int32_t opaque)
    {
        slot& s = slots_[index(opaque)];
        if (!s.used || s.opaque != opaque)
            return std::nullopt;
        std::optional<entry> out = std::move(s.value);
        s.value.reset();
        s.used = false;
        --size_;
        return out;
    }

    /// The earliest deadline still pending (stale heap entries are dropped on the way).
    std::optional<clock::time_point> next_deadline()
    {
        drop_stale();
        if (deadlines_.empty())
            return std::nullopt;
        return deadlines_.top().first;
    }

    /// Removes every call whose deadline is <= now and hands it to `fn(opaque, entry)`.
    template <class Fn>
    void expire(clock::time_point now, Fn&& fn)
    {
        for (;;) {
            drop_stale();
            if (deadlines_.empty() || deadlines_.top().first > now)
                return;
            const std::int32_t opaque = deadlines_.top().second;
            deadlines_.pop();
            if (auto e = take(opaque))
                fn(opaque, std::move(*e));
        }
    }

    /// Removes every call and hands it to `fn(opaque, entry)` (connection lost).
    template <class Fn>
    void drain(Fn&& fn)
    {
        for (slot& s : slots_) {
            if (!s.used)
                continue;
            const std::int32_t opaque = s.opaque;
            entry e = std::move(*s.value);
            s.value.reset();
            s.used = false;
            --size_;
            fn(opaque, std::move(e));
        }
        deadlines_ = {};
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t capacity() const noexcept { return slots_.size(); }

private:
    struct slot {
        bool used = false;
        std::int32_t opaque = 0;
        std::optional<entry> value;
    };
    using deadline_entry = std::pair<clock::time_point, std::int32_t>;

    static std::size_t round_up(std::size_t n)
    {
        std::size_t c = 1;
        while (c < n)
            c <<= 1;
        return c;
    }
    std::size_t index(std::int32_t opaque) const noexcept
    {
        return static_cast<std::uint32_t>(opaque) & (slots_.size() - 1);
    }
    void grow()
    {
        std::vector<slot> old = std::move(slots_);
        slots_ = std::vector<slot>(old.size() * 2);
        for (slot& s : old)
            if (s.used)
                slots_[index(s.opaque)] = std::move(s);
    }
    // A heap entry is stale when its call completed already (or the opaque was reused).
    void drop_stale()
    {
        while (!deadlines_.empty() && is_free(deadlines_.top().second))
            deadlines_.pop();
    }

    std::vector<slot> slots_;
    std::size_t size_ = 0;
    std::priority_queue<deadline_entry, std::vector<deadline_entry>, std::greater<>> deadlines_;
};

}  // namespace corocket::remoting::detail
