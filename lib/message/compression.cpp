// zlib (container format) compression and inflation, and the stored body CRC.
#include "message/codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace corocket::detail {

namespace {

error_code compression_failed() noexcept { return make_error_code(client_errc::compression_failed); }

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
        if (deflateInit(&s.zs, level) != Z_OK) return compression_failed();
        s.ready = true;
        s.level = level;
    } else if (deflateReset(&s.zs) != Z_OK) {
        return compression_failed();
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
        return compression_failed();
    }
    out.resize(out.size() - out_left);
    return {};
}

error_code zlib_compress(std::string_view in, int level, std::string& out)
{
    zlib_deflater once;
    return once.compress(in, level, out);
}

error_code zlib_inflate(std::string_view in, std::size_t max_out, std::string& out)
{
    out.clear();
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) return compression_failed();
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    std::size_t in_left = in.size();
    char chunk[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.avail_in = static_cast<uInt>(std::min(in_left, max_chunk));
        zs.next_out = reinterpret_cast<Bytef*>(chunk);
        zs.avail_out = sizeof chunk;
        const auto in_before = zs.avail_in;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_left -= in_before - zs.avail_in;
        const std::size_t produced = sizeof chunk - zs.avail_out;
        if (out.size() + produced > max_out) {
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
        return compression_failed();
    }
    return {};
}

error_code inflate_body(std::string_view body, std::int32_t sys_flag, std::size_t max_out, std::string& out)
{
    const auto type = sys_flag & sys_flag::compression_type_mask;
    if (type != 0 && type != sys_flag::compression_zlib) return compression_failed();
    return zlib_inflate(body, max_out, out);
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
