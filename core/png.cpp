// PNG encoding (see png.h).
#include "core/png.h"

#include <zlib.h>

#include <fstream>

namespace vx86::core {

namespace {

void put32(std::vector<uint8_t>& out, uint32_t v) {
    out.push_back(uint8_t(v >> 24));
    out.push_back(uint8_t(v >> 16));
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}

// Appends one chunk: length, type, data, CRC of type + data.
void chunk(std::vector<uint8_t>& out, const char type[5], const uint8_t* data, size_t n) {
    put32(out, uint32_t(n));
    size_t type_at = out.size();
    out.insert(out.end(), type, type + 4);
    if (n) out.insert(out.end(), data, data + n);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, out.data() + type_at, uInt(4 + n));
    put32(out, uint32_t(crc));
}

void set_err(std::string* err, std::string msg) {
    if (err) *err = std::move(msg);
}

}  // namespace

std::vector<uint8_t> encode_png(const uint32_t* rgb, unsigned w, unsigned h, std::string* err) {
    if (!rgb || w == 0 || h == 0 || w > 0x7FFFFFFFu || h > 0x7FFFFFFFu) {
        set_err(err, "png: empty image");
        return {};
    }
    // Raw scan lines: a filter byte (0 = none) then R, G, B per pixel.
    const size_t row = size_t(w) * 3 + 1;
    std::vector<uint8_t> raw(row * h);
    for (unsigned y = 0; y < h; ++y) {
        uint8_t* d = &raw[row * y];
        *d++ = 0;
        for (unsigned x = 0; x < w; ++x) {
            uint32_t p = rgb[size_t(y) * w + x];
            *d++ = uint8_t(p >> 16);
            *d++ = uint8_t(p >> 8);
            *d++ = uint8_t(p);
        }
    }
    uLongf zlen = compressBound(uLong(raw.size()));
    std::vector<uint8_t> z(zlen);
    if (compress2(z.data(), &zlen, raw.data(), uLong(raw.size()), Z_DEFAULT_COMPRESSION) != Z_OK) {
        set_err(err, "png: zlib compression failed");
        return {};
    }

    std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<uint8_t> ihdr;
    put32(ihdr, w);
    put32(ihdr, h);
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
    chunk(out, "IHDR", ihdr.data(), ihdr.size());
    chunk(out, "IDAT", z.data(), zlen);
    chunk(out, "IEND", nullptr, 0);
    return out;
}

bool write_png(const std::string& path, const uint32_t* rgb, unsigned w, unsigned h,
               std::string* err) {
    std::vector<uint8_t> png = encode_png(rgb, w, h, err);
    if (png.empty()) return false;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) {
        set_err(err, "cannot open " + path + " for writing");
        return false;
    }
    f.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
    if (!f.flush()) {
        set_err(err, "cannot write " + path);
        return false;
    }
    return true;
}

}  // namespace vx86::core
