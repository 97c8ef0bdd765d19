// A minimal PNG writer for screenshots: 8-bit RGB, no interlace, filter type 0 on every row.
//
// Design decisions:
// - Only what a screenshot needs: one IHDR, one IDAT holding the whole zlib stream (zlib's
//   compress2 at the default level), IEND. Chunk CRCs come from zlib's crc32, so there is no
//   table or checksum code of our own to get wrong.
// - Pixels come in as 0x00RRGGBB (the format devices::Vga::render produces); the top byte is
//   ignored. encode_png builds the file in memory (tests decode it back); write_png stores it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vx86::core {

// The PNG file for a w x h image; empty (and *err set) when w or h is 0 or zlib fails.
std::vector<uint8_t> encode_png(const uint32_t* rgb, unsigned w, unsigned h,
                                std::string* err = nullptr);

// Writes the image to `path`; false with a one-line message in *err (when given) on failure.
bool write_png(const std::string& path, const uint32_t* rgb, unsigned w, unsigned h,
               std::string* err);

}  // namespace vx86::core
