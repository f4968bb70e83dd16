// LZ4 bodies (protocol.md §4.6): frames as Java's Lz4Compressor writes them (lz4-java's
// LZ4FrameOutputStream with its defaults) and reads them (LZ4FrameInputStream).
#include "message/codec.hpp"

#include <lz4frame.h>

namespace corocket::detail {

namespace {

// LZ4FrameOutputStream(out) means BLOCKSIZE.SIZE_4MB, no content size and only the
// BLOCK_INDEPENDENCE flag: no block or content checksum.
LZ4F_preferences_t java_preferences() noexcept
{
    LZ4F_preferences_t p{};
    p.frameInfo.blockSizeID = LZ4F_max4MB;
    p.frameInfo.blockMode = LZ4F_blockIndependent;
    p.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    p.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    p.compressionLevel = 0;  // LZ4_compress_fast with acceleration 1: lz4-java's fastCompressor()
    p.autoFlush = 1;         // compress straight from the input: no 4 MiB staging buffer
    return p;
}

struct dctx_free {
    void operator()(LZ4F_dctx* d) const noexcept { LZ4F_freeDecompressionContext(d); }
};

// One per thread, kept: the first frame of 4 MiB blocks makes LZ4F allocate a staging buffer
// of that size, which later frames reuse instead of allocating it per message.
LZ4F_dctx* thread_dctx() noexcept
{
    thread_local const std::unique_ptr<LZ4F_dctx, dctx_free> dctx = [] {
        LZ4F_dctx* d = nullptr;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) d = nullptr;
        return std::unique_ptr<LZ4F_dctx, dctx_free>(d);
    }();
    return dctx.get();
}

}  // namespace

struct lz4_compressor::context {
    LZ4F_cctx* cctx = nullptr;
    ~context() { LZ4F_freeCompressionContext(cctx); }
};

lz4_compressor::lz4_compressor() = default;
lz4_compressor::~lz4_compressor() = default;

error_code lz4_compressor::compress(std::string_view in, std::string& out)
{
    out.clear();
    if (!context_) {
        auto c = std::make_unique<context>();
        if (LZ4F_isError(LZ4F_createCompressionContext(&c->cctx, LZ4F_VERSION)))
            return compression_failed("LZ4F_createCompressionContext failed", nullptr);
        context_ = std::move(c);
    }
    const auto prefs = java_preferences();
    out.resize(LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(in.size(), &prefs));
    std::size_t pos = 0;
    // Begin writes the header, Update the blocks, End the end mark: a streamed frame keeps the
    // 4 MiB block size in its header as Java's does (LZ4F_compressFrame would shrink it to fit).
    const auto step = [&](std::size_t written) {
        if (LZ4F_isError(written)) return false;
        pos += written;
        return true;
    };
    auto* cctx = context_->cctx;
    if (!step(LZ4F_compressBegin(cctx, out.data(), out.size(), &prefs))
        || !step(LZ4F_compressUpdate(cctx, out.data() + pos, out.size() - pos, in.data(), in.size(), nullptr))
        || !step(LZ4F_compressEnd(cctx, out.data() + pos, out.size() - pos, nullptr))) {
        out.clear();
        return compression_failed("LZ4 compression failed", nullptr);
    }
    out.resize(pos);
    return {};
}

error_code lz4_frame_decompress(std::string_view in, std::size_t max_out, std::string& out, std::string_view* why)
{
    out.clear();
    auto* dctx = thread_dctx();
    if (!dctx) return compression_failed("LZ4F_createDecompressionContext failed", why);
    LZ4F_resetDecompressionContext(dctx);  // an earlier call may have stopped inside a frame
    char chunk[16384];
    std::size_t hint = 1;  // 0 once a frame has ended; more input starts another one
    while (!in.empty() || hint != 0) {
        std::size_t taken = in.size();
        std::size_t produced = sizeof chunk;
        hint = LZ4F_decompress(dctx, chunk, &produced, in.data(), &taken, nullptr);
        if (LZ4F_isError(hint)) {
            out.clear();
            return compression_failed(LZ4F_getErrorName(hint), why);
        }
        in.remove_prefix(taken);
        if (out.size() + produced > max_out) {
            out.clear();
            return compression_failed("inflates past the size limit", why);
        }
        out.append(chunk, produced);
        if (hint != 0 && taken == 0 && produced == 0) {  // the input ends inside a frame
            out.clear();
            return compression_failed("truncated", why);
        }
    }
    return {};
}

}  // namespace corocket::detail
