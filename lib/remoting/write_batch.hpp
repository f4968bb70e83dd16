// Frames waiting to be written, kept as one contiguous block of encoded headers plus the
// bodies by reference (moved in, never copied), so one gather-write sends a whole batch.
// The connection keeps two batches: one filling while the other is on the wire.
#pragma once

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace corocket::remoting::detail {

template <class DoneHandler>
class write_batch {
public:
    /// The string to append the next frame's prefix and header to (encode_header writes here).
    std::string& header_sink() noexcept { return heads_; }

    /// Records a frame whose header was just appended to header_sink() starting at `head_begin`.
    void commit_frame(std::size_t head_begin, std::string body)
    {
        frames_.push_back({head_begin, heads_.size() - head_begin, bodies_.size()});
        bodies_.push_back(std::move(body));
    }

    /// Something to run once the batch has been written (or failed).
    void on_done(DoneHandler h) { done_.push_back(std::move(h)); }

    bool empty() const noexcept { return frames_.empty(); }
    std::size_t frame_count() const noexcept { return frames_.size(); }

    /// The gather list for one write. Valid until the batch is modified.
    const std::vector<boost::asio::const_buffer>& buffers()
    {
        buffers_.clear();
        for (const frame& f : frames_) {
            buffers_.emplace_back(heads_.data() + f.head_begin, f.head_size);
            const std::string& body = bodies_[f.body_index];
            if (!body.empty())
                buffers_.emplace_back(body.data(), body.size());
        }
        return buffers_;
    }

    /// Hands every done-handler to `fn` and empties the batch, keeping its capacity.
    template <class Fn>
    void finish(Fn&& fn)
    {
        for (DoneHandler& h : done_)
            fn(std::move(h));
        clear();
    }

    void clear() noexcept
    {
        heads_.clear();
        frames_.clear();
        bodies_.clear();
        done_.clear();
    }

private:
    struct frame {
        std::size_t head_begin;
        std::size_t head_size;
        std::size_t body_index;
    };
    std::string heads_;
    std::vector<frame> frames_;
    std::vector<std::string> bodies_;
    std::vector<DoneHandler> done_;
    std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace corocket::remoting::detail
