// The Bochs VBE "DISPI" interface of the std VGA (ports 0x1CE index, 0x1CF data, 16 bits).
//
// The register file is eleven 16-bit values. Writes are validated here, once, so the renderer
// and the banked window can use the stored values as they are (every memory access is still
// masked to VRAM). XRES/YRES/BPP can change while enabled, as on QEMU; the picture follows.
#include "devices/vga.h"

#include <algorithm>

namespace vx86::devices {

namespace {

bool valid_bpp(uint16_t b) { return b == 4 || b == 8 || b == 15 || b == 16 || b == 24 || b == 32; }

}  // namespace

void Vga::vbe_reset() {
    vbe_index_ = 0;
    vbe_.fill(0);
    vbe_[kVbeId] = kVbeId5;
    vbe_[kVbeBpp] = 8;
}

unsigned Vga::vbe_bytes_per_pixel() const {
    switch (vbe_[kVbeBpp]) {
    case 15:
    case 16: return 2;
    case 24: return 3;
    case 32: return 4;
    default: return 1;  // 8 bpp (and 4 bpp, which is planar and handled apart)
    }
}

uint32_t Vga::vbe_line_bytes() const {
    uint32_t vw = vbe_[kVbeVirtWidth];
    return vbe_[kVbeBpp] == 4 ? vw / 8 : vw * vbe_bytes_per_pixel();
}

uint32_t Vga::vbe_start() const {
    uint32_t x = vbe_[kVbeXOffset], y = vbe_[kVbeYOffset];
    if (vbe_[kVbeBpp] == 4) return (y * vbe_[kVbeVirtWidth] + x) / 8;
    return y * vbe_line_bytes() + x * vbe_bytes_per_pixel();
}

uint16_t Vga::vbe_read(uint16_t index) const {
    if (index >= kVbeRegCount) return 0;
    if (vbe_[kVbeEnable] & kVbeGetCaps) {
        if (index == kVbeXres) return kVbeMaxXres;
        if (index == kVbeYres) return kVbeMaxYres;
        if (index == kVbeBpp) return kVbeMaxBpp;
    }
    if (index == kVbeVideoMemory64k) return uint16_t(kVgaVramSize >> 16);
    return vbe_[index];
}

void Vga::vbe_write(uint16_t index, uint16_t v) {
    // VIRT_HEIGHT is derived: as many lines of VIRT_WIDTH as fit in VRAM.
    auto update_virt_height = [this] {
        uint32_t line = vbe_line_bytes();
        uint32_t mem = vbe_[kVbeBpp] == 4 ? kVgaVramSize / 4 : kVgaVramSize;
        vbe_[kVbeVirtHeight] = line ? uint16_t(std::min<uint32_t>(mem / line, 0xFFFF)) : 0;
    };
    switch (index) {
    case kVbeId:
        if (v >= kVbeId0 && v <= kVbeId5) vbe_[kVbeId] = v;
        return;
    case kVbeXres:
        if (v >= 1 && v <= kVbeMaxXres) vbe_[kVbeXres] = v;
        if (vbe_enabled() && vbe_[kVbeVirtWidth] < vbe_[kVbeXres]) {
            vbe_[kVbeVirtWidth] = vbe_[kVbeXres];
            update_virt_height();
        }
        return;
    case kVbeYres:
        if (v >= 1 && v <= kVbeMaxYres) vbe_[kVbeYres] = v;
        return;
    case kVbeBpp:
        if (v == 0) v = 8;  // Bochs: 0 means 8
        if (valid_bpp(v)) vbe_[kVbeBpp] = v;
        update_virt_height();
        return;
    case kVbeEnable: {
        bool was = vbe_enabled();
        uint16_t now = v & (kVbeEnabled | kVbeGetCaps | kVbe8BitDac | kVbeLfbEnabled |
                            kVbeNoClearMem);
        vbe_[kVbeEnable] = now;
        if ((now & kVbeEnabled) && !was) {
            vbe_[kVbeVirtWidth] = vbe_[kVbeXres];
            vbe_[kVbeXOffset] = vbe_[kVbeYOffset] = 0;
            vbe_[kVbeBank] = 0;
            update_virt_height();
            if (!(now & kVbeNoClearMem)) {
                uint64_t bytes = uint64_t(vbe_line_bytes()) * vbe_[kVbeYres];
                if (vbe_[kVbeBpp] == 4) bytes *= 4;  // four interleaved planes
                std::fill_n(vram_.begin(), std::min<uint64_t>(bytes, vram_.size()), uint8_t(0));
            }
        }
        return;
    }
    case kVbeBank: vbe_[kVbeBank] = v & ((kVgaVramSize >> 16) - 1); return;
    case kVbeVirtWidth:
        if (v >= 1 && v <= kVbeMaxXres) {
            vbe_[kVbeVirtWidth] = v;
            update_virt_height();
        }
        return;
    case kVbeXOffset:
    case kVbeYOffset: vbe_[index] = v; return;
    default: return;  // VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only
    }
}

}  // namespace vx86::devices
