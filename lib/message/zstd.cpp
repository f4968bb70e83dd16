// ZSTD bodies (protocol.md §4.6): frames as Java's ZstdCompressor writes them (zstd-jni's
// ZstdOutputStream) and reads them (ZstdInputStream).
#include "message/codec.hpp"

#include <zstd.h>

namespace corocket::detail {

namespace {

struct dctx_free {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

// One per thread, kept: its window buffers are then allocated once, not per message.
ZSTD_DCtx* thread_dctx() noexcept
{
    thread_local const std::unique_ptr<ZSTD_DCtx, dctx_free> dctx(ZSTD_createDCtx());
    return dctx.get();
}

}  // namespace

struct zstd_compressor::context {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~context() { ZSTD_freeCCtx(cctx); }
};

zstd_compressor::zstd_compressor() = default;
zstd_compressor::~zstd_compressor() = default;

error_code zstd_compressor::compress(std::string_view in, int level, std::string& out)
{
    out.clear();
    if (!valid_compress_level(compression_type::zstd, level)) return make_error_code(client_errc::invalid_argument);
    if (!context_) context_ = std::make_unique<context>();
    auto* cctx = context_->cctx;
    if (!cctx || ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters))
        || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)))
        return compression_failed("zstd context set-up failed", nullptr);
    // ZstdOutputStream's write, flush and close: ZSTD_e_continue until the input is taken (so no
    // content size in the header), ZSTD_e_flush, ZSTD_e_end (an empty last block after the flush).
    out.resize(ZSTD_compressBound(in.size()) + 64);
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    ZSTD_outBuffer dst{out.data(), out.size(), 0};
    for (const auto mode : {ZSTD_e_continue, ZSTD_e_flush, ZSTD_e_end}) {
        std::size_t left = 0;
        do {
            if (dst.pos == dst.size) {  // never with the bound above; grow rather than fail
                out.resize(out.size() * 2);
                dst.dst = out.data();
                dst.size = out.size();
            }
            left = ZSTD_compressStream2(cctx, &dst, &src, mode);
            if (ZSTD_isError(left)) {
                out.clear();
                return compression_failed("zstd compression failed", nullptr);
            }
        } while (mode == ZSTD_e_continue ? src.pos < src.size : left != 0);
    }
    out.resize(dst.pos);
    return {};
}

error_code zstd_decompress(std::string_view in, std::size_t max_out, std::string& out, std::string_view* why)
{
    out.clear();
    auto* dctx = thread_dctx();
    if (!dctx) return compression_failed("ZSTD_createDCtx failed", why);
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);  // an earlier call may have stopped inside a frame
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    char chunk[16384];
    std::size_t hint = 1;  // 0 once a frame has ended and been flushed; more input starts another
    while (src.pos < src.size || hint != 0) {
        ZSTD_outBuffer dst{chunk, sizeof chunk, 0};
        const auto before = src.pos;
        hint = ZSTD_decompressStream(dctx, &dst, &src);
        if (ZSTD_isError(hint)) {
            out.clear();
            return compression_failed(ZSTD_getErrorName(hint), why);
        }
        if (out.size() + dst.pos > max_out) {
            out.clear();
            return compression_failed("inflates past the size limit", why);
        }
        out.append(chunk, dst.pos);
        if (hint != 0 && src.pos == before && dst.pos == 0) {  // the input ends inside a frame
            out.clear();
            return compression_failed("truncated", why);
        }
    }
    return {};
}

}  // namespace corocket::detail
