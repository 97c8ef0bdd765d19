// Vga rendering: turns VRAM and the registers into 0x00RRGGBB pixels.
//
// Design decisions:
// - The renderer knows no BIOS mode numbers. Text or graphics comes from GR6 bit 0; the pixel
//   format from GR5 (bit 6: 256 colours, four planes give four pixels per character clock;
//   bit 5: CGA-style interleaved 2-bit pixels from planes 0/1; else 16 colours from the four
//   planes' bits); geometry from the CRTC (horizontal display end, vertical display end,
//   max scan line and double scan, offset, start address, byte/word/dword addressing).
// - Output is at the mode's own resolution: a scan line repeated by the max-scan-line counter
//   or double scan is drawn once (mode 13h is 320x200, mode 12h 640x480), except where the
//   CGA banking of CR17 bits 0/1 makes each repeat fetch another bank (mode 04h's 200 lines).
//   Text is drawn with 8- or 9-dot cells (SR1 bit 0), the 9th column repeating column 8 for
//   line-drawing characters 0xC0-0xDF when AR10 bit 2 asks for it. Dot-clock halving (SR1
//   bit 3) only changes the pixel aspect and is ignored.
// - Blink (AR10 bit 3) is rendered as "bright background off": attribute bit 7 never makes the
//   background bright and characters never blink, so a picture is a function of state alone.
//   The text cursor is drawn steady (CR0A/CR0B shape, CR0E/CR0F location, CR0A bit 5 off).
// - Colours go through the attribute palette (colour plane enable, AR10 bit 7 and AR14 colour
//   select) and then the DAC with the PEL mask; 256-colour modes index the DAC directly.
#include "devices/vga.h"

#include <algorithm>

namespace vx86::devices {

namespace {

uint32_t dac6(uint8_t v) { return uint32_t((v & 0x3F) << 2 | (v & 0x3F) >> 4); }
uint32_t five(uint32_t v) { return (v << 3) | (v >> 2); }
uint32_t six(uint32_t v) { return (v << 2) | (v >> 4); }

constexpr uint64_t kMaxPixels = 16u << 20;

}  // namespace

uint32_t Vga::dac_rgb(uint8_t i) const {
    const uint8_t* c = &dac_[i * 3u];
    if (vbe_[kVbeEnable] & kVbe8BitDac) return uint32_t(c[0]) << 16 | uint32_t(c[1]) << 8 | c[2];
    return dac6(c[0]) << 16 | dac6(c[1]) << 8 | dac6(c[2]);
}

uint32_t Vga::attr_color(uint8_t index4) const {
    uint8_t i = index4 & ar_[0x12] & 0x0F;  // colour plane enable
    uint8_t v = ar_[i];
    if (ar_[0x10] & 0x80) v = uint8_t((v & 0x0F) | (ar_[0x14] & 0x03) << 4);
    v = uint8_t((v & 0x3F) | (ar_[0x14] & 0x0C) << 4);
    return dac_rgb(v & dac_mask_);
}

uint32_t Vga::crtc_mem_addr(uint32_t ma) const {
    ma &= 0xFFFF;
    if (crtc_[0x14] & 0x40) return ma << 2;  // doubleword mode
    if (!(crtc_[0x17] & 0x40)) {             // word mode: MA13 or MA15 becomes bit 0
        unsigned wrap = (crtc_[0x17] & 0x20) ? 15 : 13;
        return (ma << 1) | ((ma >> wrap) & 1);
    }
    return ma;  // byte mode
}

unsigned Vga::vertical_display_end() const {
    return (crtc_[0x12] | (crtc_[0x07] & 0x02) << 7 | (crtc_[0x07] & 0x40) << 3) + 1u;
}

bool Vga::text_mode() const { return !vbe_enabled() && !(gc_[6] & 1); }

void Vga::text_screen(std::vector<uint16_t>& cells, unsigned& cols, unsigned& rows) const {
    cols = crtc_[0x01] + 1u;
    unsigned ch = (crtc_[0x09] & 0x1F) + 1u;
    unsigned lines = vertical_display_end();
    if (crtc_[0x09] & 0x80) lines /= 2;
    rows = lines / ch;
    cells.assign(size_t(cols) * rows, 0);
    uint32_t start = uint32_t(crtc_[0x0C]) << 8 | crtc_[0x0D];
    uint32_t stride = crtc_[0x13] * 2u;
    for (unsigned r = 0; r < rows; ++r)
        for (unsigned c = 0; c < cols; ++c) {
            uint32_t a = crtc_mem_addr(start + r * stride + c);
            cells[size_t(r) * cols + c] = uint16_t(plane_byte(0, a) | plane_byte(1, a) << 8);
        }
}

void Vga::render(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const {
    if (vbe_enabled()) {
        render_vbe(rgb, w, h);
        return;
    }
    if (gc_[6] & 1)
        render_graphics(rgb, w, h);
    else
        render_text(rgb, w, h);
    if (w == 0 || h == 0) {
        w = 640;
        h = 400;
        rgb.assign(size_t(w) * h, 0);
    }
    // Attribute PAS clear (palette being loaded) or SR1 screen off: the screen is blank.
    if (!(ar_index_ & 0x20) || (seq_[1] & 0x20)) std::fill(rgb.begin(), rgb.end(), 0u);
}

void Vga::render_text(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const {
    std::vector<uint16_t> cells;
    unsigned cols, rows;
    text_screen(cells, cols, rows);
    const unsigned cw = (seq_[1] & 1) ? 8 : 9;
    const unsigned ch = (crtc_[0x09] & 0x1F) + 1u;
    w = cols * cw;
    h = rows * ch;
    rgb.assign(size_t(w) * h, 0);
    if (!w || !h) return;

    const uint8_t sr3 = seq_[3];
    const uint32_t font_a = ((sr3 >> 2) & 3) * 0x4000u + ((sr3 >> 5) & 1) * 0x2000u;
    const uint32_t font_b = (sr3 & 3) * 0x4000u + ((sr3 >> 4) & 1) * 0x2000u;
    const bool blink = ar_[0x10] & 0x08;
    const bool line_graphics = ar_[0x10] & 0x04;
    const bool cursor_on = !(crtc_[0x0A] & 0x20);
    const uint32_t cursor = uint32_t(crtc_[0x0E]) << 8 | crtc_[0x0F];
    const unsigned cur_start = crtc_[0x0A] & 0x1F, cur_end = crtc_[0x0B] & 0x1F;
    const uint32_t start = uint32_t(crtc_[0x0C]) << 8 | crtc_[0x0D];
    const uint32_t stride = crtc_[0x13] * 2u;

    for (unsigned r = 0; r < rows; ++r) {
        for (unsigned c = 0; c < cols; ++c) {
            uint16_t cell = cells[size_t(r) * cols + c];
            uint8_t chr = uint8_t(cell), at = uint8_t(cell >> 8);
            uint32_t font = (at & 0x08) ? font_a : font_b;
            uint32_t fg = attr_color(at & 0x0F);
            uint32_t bg = attr_color(uint8_t(blink ? (at >> 4) & 7 : at >> 4));
            bool is_cursor = cursor_on && ((start + r * stride + c) & 0xFFFF) == cursor;
            bool dup9 = line_graphics && chr >= 0xC0 && chr <= 0xDF;
            for (unsigned line = 0; line < ch; ++line) {
                unsigned bits = plane_byte(2, font + chr * 32u + line);
                unsigned ninth = dup9 ? (bits & 1) : 0;
                if (is_cursor && line >= cur_start && line <= cur_end) bits = 0xFF, ninth = 1;
                uint32_t* out = &rgb[(size_t(r) * ch + line) * w + size_t(c) * cw];
                for (unsigned x = 0; x < 8; ++x) out[x] = ((bits >> (7 - x)) & 1) ? fg : bg;
                if (cw == 9) out[8] = ninth ? fg : bg;
            }
        }
    }
}

void Vga::render_graphics(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const {
    const unsigned chars = crtc_[0x01] + 1u;
    const bool mode256 = gc_[5] & 0x40;
    const bool cga = !mode256 && (gc_[5] & 0x20);
    unsigned lines = vertical_display_end();
    if (crtc_[0x09] & 0x80) lines /= 2;
    const unsigned scans = (crtc_[0x09] & 0x1F) + 1u;
    const uint8_t cr17 = crtc_[0x17];
    const bool banked = (cr17 & 3) != 3;
    w = mode256 ? chars * 4 : chars * 8;
    h = banked ? lines : lines / scans;
    rgb.assign(size_t(w) * h, 0);

    uint32_t pal[256];
    if (mode256)
        for (unsigned i = 0; i < 256; ++i) pal[i] = dac_rgb(uint8_t(i & dac_mask_));
    else
        for (unsigned i = 0; i < 16; ++i) pal[i] = attr_color(uint8_t(i));

    const uint32_t start = uint32_t(crtc_[0x0C]) << 8 | crtc_[0x0D];
    const uint32_t stride = crtc_[0x13] * 2u;
    for (unsigned y = 0; y < h; ++y) {
        unsigned row = banked ? y / scans : y;
        unsigned rs = banked ? y % scans : 0;
        uint32_t ma0 = start + row * stride;
        uint32_t* out = &rgb[size_t(y) * w];
        for (unsigned k = 0; k < chars; ++k) {
            uint32_t a = crtc_mem_addr(ma0 + k);
            if (!(cr17 & 1)) a = (a & ~0x2000u) | (rs & 1) << 13;
            if (!(cr17 & 2)) a = (a & ~0x4000u) | ((rs >> 1) & 1) << 14;
            uint8_t p[4] = {plane_byte(0, a), plane_byte(1, a), plane_byte(2, a), plane_byte(3, a)};
            if (mode256) {
                for (unsigned j = 0; j < 4; ++j) out[k * 4 + j] = pal[p[j]];
            } else if (cga) {
                for (unsigned j = 0; j < 8; ++j) {
                    unsigned sh = 6 - 2 * (j & 3);
                    uint8_t lo = j < 4 ? p[0] : p[1], hi = j < 4 ? p[2] : p[3];
                    out[k * 8 + j] = pal[((lo >> sh) & 3) | ((hi >> sh) & 3) << 2];
                }
            } else {
                for (unsigned j = 0; j < 8; ++j) {
                    unsigned b = 7 - j;
                    out[k * 8 + j] = pal[((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 |
                                         ((p[2] >> b) & 1) << 2 | ((p[3] >> b) & 1) << 3];
                }
            }
        }
    }
}

void Vga::render_vbe(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const {
    w = vbe_[kVbeXres];
    h = vbe_[kVbeYres];
    if (!w || !h) {
        w = 640;
        h = 480;
    }
    if (uint64_t(w) * h > kMaxPixels) h = unsigned(kMaxPixels / w);
    rgb.assign(size_t(w) * h, 0);
    if (!vbe_[kVbeXres] || !vbe_[kVbeYres]) return;

    const unsigned bpp = vbe_[kVbeBpp];
    const uint64_t line = vbe_line_bytes();
    const uint64_t start = vbe_start();
    if (bpp == 4) {
        uint32_t pal[16];
        for (unsigned i = 0; i < 16; ++i) pal[i] = attr_color(uint8_t(i));
        for (unsigned y = 0; y < h; ++y)
            for (unsigned x = 0; x < w; ++x) {
                uint64_t o = start + y * line + x / 8;
                if (o > kPlaneMask) continue;
                unsigned b = 7 - (x & 7), v = 0;
                for (unsigned p = 0; p < 4; ++p) v |= ((plane_byte(p, uint32_t(o)) >> b) & 1) << p;
                rgb[size_t(y) * w + x] = pal[v];
            }
        return;
    }
    const unsigned bytes = vbe_bytes_per_pixel();
    const uint8_t* m = vram_.data();
    for (unsigned y = 0; y < h; ++y) {
        uint32_t* out = &rgb[size_t(y) * w];
        for (unsigned x = 0; x < w; ++x) {
            uint64_t o = start + y * line + uint64_t(x) * bytes;
            if (o + bytes > vram_.size()) break;
            const uint8_t* s = m + o;
            uint32_t v;
            switch (bpp) {
            case 8: v = dac_rgb(s[0] & dac_mask_); break;
            case 15: {
                uint32_t px = s[0] | s[1] << 8;
                v = five((px >> 10) & 31) << 16 | five((px >> 5) & 31) << 8 | five(px & 31);
                break;
            }
            case 16: {
                uint32_t px = s[0] | s[1] << 8;
                v = five((px >> 11) & 31) << 16 | six((px >> 5) & 63) << 8 | five(px & 31);
                break;
            }
            default: v = uint32_t(s[2]) << 16 | uint32_t(s[1]) << 8 | s[0]; break;  // 24, 32
            }
            out[x] = v;
        }
    }
}

}  // namespace vx86::devices
