// zlib (container format) compression and inflation, the choice between zlib, LZ4 and ZSTD by
// type and sysFlag (the LZ4 and ZSTD codecs are in lz4.cpp and zstd.cpp), and the body CRC.
#include "message/codec.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace corocket::detail {

namespace {


// zlib counts in uInt; feed large inputs in slices that fit.
constexpr std::size_t max_chunk = std::numeric_limits<uInt>::max();

}  // namespace

struct zlib_deflater::stream {
    z_stream zs{};
    int level = 0;
    bool ready = false;
    ~stream()
    {
        if (ready) deflateEnd(&zs);
    }
};

zlib_deflater::zlib_deflater() : stream_(std::make_unique<stream>()) {}
zlib_deflater::~zlib_deflater() = default;

error_code zlib_deflater::compress(std::string_view in, int level, std::string& out)
{
    out.clear();
    if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION) return make_error_code(client_errc::invalid_argument);
    auto& s = *stream_;
    if (s.ready && s.level != level) {
        deflateEnd(&s.zs);
        s.ready = false;
    }
    if (!s.ready) {
        s.zs = z_stream{};
        if (deflateInit(&s.zs, level) != Z_OK) return compression_failed("deflateInit failed", nullptr);
        s.ready = true;
        s.level = level;
    } else if (deflateReset(&s.zs) != Z_OK) {
        return compression_failed("deflateReset failed", nullptr);
    }
    z_stream& zs = s.zs;
    out.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    std::size_t in_left = in.size();
    std::size_t out_left = out.size();
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.avail_in = static_cast<uInt>(std::min(in_left, max_chunk));
        zs.avail_out = static_cast<uInt>(std::min(out_left, max_chunk));
        const auto in_before = zs.avail_in;
        const auto out_before = zs.avail_out;
        rc = deflate(&zs, zs.avail_in == in_left ? Z_FINISH : Z_NO_FLUSH);
        in_left -= in_before - zs.avail_in;
        out_left -= out_before - zs.avail_out;
    }
    if (rc != Z_STREAM_END) {
        out.clear();
        return compression_failed("deflate failed", nullptr);
    }
    out.resize(out.size() - out_left);
    return {};
}

error_code zlib_compress(std::string_view in, int level, std::string& out)
{
    zlib_deflater once;
    return once.compress(in, level, out);
}

error_code zlib_inflate(std::string_view in, std::size_t max_out, std::string& out, std::string_view* why)
{
    out.clear();
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) return compression_failed("inflateInit failed", why);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    std::size_t in_left = in.size();
    char chunk[16384];
    int rc = Z_OK;
    bool too_large = false;
    while (rc == Z_OK) {
        zs.avail_in = static_cast<uInt>(std::min(in_left, max_chunk));
        zs.next_out = reinterpret_cast<Bytef*>(chunk);
        zs.avail_out = sizeof chunk;
        const auto in_before = zs.avail_in;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_left -= in_before - zs.avail_in;
        const std::size_t produced = sizeof chunk - zs.avail_out;
        if (out.size() + produced > max_out) {
            too_large = true;
            rc = Z_MEM_ERROR;
            break;
        }
        out.append(chunk, produced);
        // No progress possible: input exhausted before the end of the stream (truncated).
        if (rc == Z_BUF_ERROR || (rc == Z_OK && in_left == 0 && produced == 0)) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        out.clear();
        return compression_failed(too_large ? "inflates past the size limit"
                                  : rc == Z_DATA_ERROR || rc == Z_NEED_DICT ? "not a zlib stream"
                                                                            : "truncated",
                                  why);
    }
    return {};
}

bool valid_compress_level(compression_type type, int level) noexcept
{
    switch (type) {
    case compression_type::zlib: return level >= Z_DEFAULT_COMPRESSION && level <= Z_BEST_COMPRESSION;
    case compression_type::zstd: return level >= ZSTD_minCLevel() && level <= ZSTD_maxCLevel();
    case compression_type::lz4: return true;
    }
    return false;
}

std::string compress_level_range(compression_type type)
{
    switch (type) {
    case compression_type::zlib: return fmt::format("{}..{}", Z_DEFAULT_COMPRESSION, Z_BEST_COMPRESSION);
    case compression_type::zstd: return fmt::format("{}..{}", ZSTD_minCLevel(), ZSTD_maxCLevel());
    case compression_type::lz4: break;
    }
    return "any (ignored)";
}

error_code body_compressor::compress(compression_type type, std::string_view in, int level, std::string& out)
{
    out.clear();
    if (!valid_compress_level(type, level)) return make_error_code(client_errc::invalid_argument);
    switch (type) {
    case compression_type::zlib: return zlib_.compress(in, level, out);
    case compression_type::lz4: return lz4_.compress(in, out);
    case compression_type::zstd: return zstd_.compress(in, level, out);
    }
    return make_error_code(client_errc::invalid_argument);
}

std::optional<compression_type> compression_of(std::int32_t flag) noexcept
{
    switch ((flag & sys_flag::compression_type_mask) >> 8) {
    case 0:  // clients before 4.9.8 / 5.0 set no type: zlib was the only one
    case 3: return compression_type::zlib;
    case 1: return compression_type::lz4;
    case 2: return compression_type::zstd;
    default: return std::nullopt;
    }
}

error_code inflate_body(std::string_view body, std::int32_t flag, std::size_t max_out, std::string& out,
                        std::string_view* why)
{
    out.clear();
    const auto type = compression_of(flag);
    if (!type) return compression_failed("unknown compression type", why);
    switch (*type) {
    case compression_type::zlib: return zlib_inflate(body, max_out, out, why);
    case compression_type::lz4: return lz4_frame_decompress(body, max_out, out, why);
    case compression_type::zstd: return zstd_decompress(body, max_out, out, why);
    }
    return compression_failed("unknown compression type", why);
}

std::int32_t body_crc(std::string_view body) noexcept
{
    uLong crc = ::crc32(0L, Z_NULL, 0);
    while (!body.empty()) {
        const auto n = std::min(body.size(), max_chunk);
        crc = ::crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(n));
        body.remove_prefix(n);
    }
    return static_cast<std::int32_t>(crc & 0x7FFFFFFF);
}

}  // namespace corocket::detail
