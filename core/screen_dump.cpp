// Screen dumps (see screen_dump.h).
#include "core/screen_dump.h"

#include <fstream>
#include <vector>

#include "core/png.h"

namespace vx86::core {

namespace {

// Code points for CP437 0x80-0xFF.
constexpr uint16_t kHigh[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,  // 80
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,  // 90
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,  // A0
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,  // B0
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,  // C0
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,  // D0
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,  // E0
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,  // F0
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x0020,
};

// Code points for CP437 0x00-0x1F.
constexpr uint16_t kLow[32] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,  // 00
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,  // 10
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
};

void set_err(std::string* err, std::string msg) {
    if (err) *err = std::move(msg);
}

}  // namespace

uint32_t cp437_to_unicode(uint8_t c) {
    if (c < 0x20) return kLow[c];
    if (c == 0x7F) return 0x2302;
    if (c >= 0x80) return kHigh[c - 0x80];
    return c;
}

void append_cp437_utf8(std::string& out, uint8_t c) {
    uint32_t u = cp437_to_unicode(c);  // all of CP437 is in the BMP: at most 3 bytes
    if (u < 0x80) {
        out += char(u);
    } else if (u < 0x800) {
        out += char(0xC0 | (u >> 6));
        out += char(0x80 | (u & 0x3F));
    } else {
        out += char(0xE0 | (u >> 12));
        out += char(0x80 | ((u >> 6) & 0x3F));
        out += char(0x80 | (u & 0x3F));
    }
}

std::string screen_text(const devices::Vga& vga) {
    std::vector<uint16_t> cells;
    unsigned cols = 0, rows = 0;
    vga.text_screen(cells, cols, rows);
    std::string out;
    for (unsigned r = 0; r < rows; ++r) {
        if (r) out += '\n';
        std::string line;
        for (unsigned c = 0; c < cols; ++c) append_cp437_utf8(line, uint8_t(cells[size_t(r) * cols + c]));
        line.erase(line.find_last_not_of(' ') + 1);  // npos + 1 == 0: an all-blank line
        out += line;
    }
    return out;
}

bool dump_screen(devices::Vga& vga, const std::string& path, std::string* err) {
    bool want_png = path.size() >= 4 && path.compare(path.size() - 4, 4, ".png") == 0;
    if (vga.text_mode() && !want_png) {
        std::string text = screen_text(vga);
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (!f) {
            set_err(err, "cannot open " + path + " for writing");
            return false;
        }
        f.write(text.data(), std::streamsize(text.size()));
        if (!f.flush()) {
            set_err(err, "cannot write " + path);
            return false;
        }
        return true;
    }
    std::vector<uint32_t> rgb;
    unsigned w = 0, h = 0;
    vga.render(rgb, w, h);
    return write_png(path, rgb.data(), w, h, err);
}

}  // namespace vx86::core
