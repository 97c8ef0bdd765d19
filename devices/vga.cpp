// Vga registers, ports and the legacy memory window. See vga.h for the design.
#include "devices/vga.h"

#include <utility>

namespace vx86::devices {

namespace {

// Register counts the hardware decodes; indices beyond them read 0 and ignore writes.
constexpr uint8_t kSeqRegs = 5, kGcRegs = 9, kCrtcRegs = 0x19, kArRegs = 21;

// Sequencer / graphics controller register numbers used below.
constexpr uint8_t kSeqMapMask = 2, kSeqMemMode = 4;
constexpr uint8_t kGcSetReset = 0, kGcEnableSetReset = 1, kGcColorCompare = 2, kGcRotate = 3,
                  kGcReadMap = 4, kGcMode = 5, kGcMisc = 6, kGcDontCare = 7, kGcBitMask = 8;

uint8_t expand(unsigned bit) { return bit ? 0xFF : 0x00; }

}  // namespace

Vga::Vga(Clock& clock, std::vector<uint8_t> rom)
    : PciDevice(0x1234, 0x1111, 2, 0x030000), clock_(clock), vram_(kVgaVramSize, 0) {
    set_cfg16(kPciSubsysVendor, 0x1AF4);  // as QEMU's stdvga
    set_cfg16(kPciSubsysId, 0x1100);
    declare_mem_bar(0, kVgaVramSize, &lfb_, true);
    if (!rom.empty()) declare_rom(std::move(rom));
    reset_registers();
}

void Vga::attach(IoBus& io) {
    io.attach(kVgaPortBase, kVgaPortCount, this, kIoSize8);
    io.attach(kVbeIndexPort, 2, this, kIoSize8 | kIoSize16);
}

void Vga::pci_reset() {
    PciDevice::pci_reset();
    reset_registers();
}

void Vga::reset_registers() {
    misc_ = 0;
    feature_ = 0;
    seq_index_ = gc_index_ = crtc_index_ = ar_index_ = 0;
    seq_.fill(0);
    gc_.fill(0);
    crtc_.fill(0);
    ar_.fill(0);
    ar_data_next_ = false;
    gc_[kGcBitMask] = 0xFF;
    seq_[kSeqMapMask] = 0x0F;
    dac_mask_ = 0xFF;
    dac_read_index_ = dac_write_index_ = dac_read_sub_ = dac_write_sub_ = dac_state_ = 0;
    dac_.fill(0);
    latch_.fill(0);
    vbe_reset();
}

// ---------------------------------------------------------------------------------------------
// Ports

bool Vga::crtc_port(uint16_t port) const {
    // Misc output bit 0 (I/O address select): 1 = colour (3Dx), 0 = monochrome (3Bx).
    return (misc_ & 1) ? (port & 0xFFF0) == 0x3D0 : (port & 0xFFF0) == 0x3B0;
}

uint8_t Vga::input_status1() const {
    struct Timing {
        uint64_t frame_ns;
        unsigned total, active, vr_start, vr_end;
    };
    Timing t;
    if (vbe_enabled())
        t = {kNsPerSec / 60, 628, 600, 601, 605};
    else if ((misc_ >> 6) == 3)
        t = {kNsPerSec / 60, 525, 480, 490, 492};
    else
        t = {kNsPerSec / 70, 449, 400, 412, 414};
    uint64_t pos = clock_.now_ns() % t.frame_ns;
    uint64_t scaled = pos * t.total;  // line = scaled / frame, position in line = remainder
    unsigned line = unsigned(scaled / t.frame_ns);
    uint64_t in_line = scaled % t.frame_ns;
    bool h_active = in_line < t.frame_ns * 4 / 5;  // 640 of 800 dot clocks
    bool retrace = line >= t.vr_start && line < t.vr_end;
    bool disabled = line >= t.active || !h_active;
    return uint8_t((retrace ? 0x08 : 0) | (disabled ? 0x01 : 0));
}

uint32_t Vga::io_read(uint16_t port, unsigned size) {
    if (port == kVbeIndexPort || port == kVbeDataPort) {
        uint16_t v = port == kVbeIndexPort ? vbe_index_ : vbe_read(vbe_index_);
        return size == 1 ? v & 0xFFu : v;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; ++i) v |= uint32_t(port_read8(uint16_t(port + i))) << (8 * i);
    return v;
}

void Vga::io_write(uint16_t port, unsigned size, uint32_t value) {
    if (port == kVbeIndexPort || port == kVbeDataPort) {
        uint16_t v = uint16_t(size == 1 ? value & 0xFF : value & 0xFFFF);
        if (port == kVbeIndexPort)
            vbe_index_ = v;
        else
            vbe_write(vbe_index_, v);
        return;
    }
    // A wide OUT to an index port writes the index, then the data port (low byte first).
    for (unsigned i = 0; i < size && i < 4; ++i)
        port_write8(uint16_t(port + i), uint8_t(value >> (8 * i)));
}

uint8_t Vga::port_read8(uint16_t port) {
    switch (port) {
    case 0x3C0: return uint8_t(ar_index_ & 0x3F);
    case 0x3C1: {
        uint8_t i = ar_index_ & 0x1F;
        return i < kArRegs ? ar_[i] : 0;
    }
    case 0x3C2: return 0x00;  // input status 0: no interrupt pending, switch sense 0
    case 0x3C3: return 0x01;  // video subsystem enable
    case 0x3C4: return seq_index_;
    case 0x3C5: return seq_index_ < kSeqRegs ? seq_[seq_index_] : 0;
    case 0x3C6: return dac_mask_;
    case 0x3C7: return dac_state_;
    case 0x3C8: return dac_write_index_;
    case 0x3C9: {
        uint8_t v = dac_[dac_read_index_ * 3 + dac_read_sub_];
        if (++dac_read_sub_ == 3) {
            dac_read_sub_ = 0;
            ++dac_read_index_;
        }
        return v;
    }
    case 0x3CA: return feature_;
    case 0x3CC: return misc_;
    case 0x3CE: return gc_index_;
    case 0x3CF: return gc_index_ < kGcRegs ? gc_[gc_index_] : 0;
    default: break;
    }
    if (!crtc_port(port)) return 0xFF;
    switch (port & 0xF) {
    case 0x4: return crtc_index_;
    case 0x5: return crtc_index_ < kCrtcRegs ? crtc_[crtc_index_] : 0;
    case 0xA:
        ar_data_next_ = false;  // reading input status 1 resets the attribute flip-flop
        return input_status1();
    default: return 0xFF;
    }
}

void Vga::port_write8(uint16_t port, uint8_t v) {
    switch (port) {
    case 0x3C1:  // data writes belong to 3C0; a byte here in the data phase counts as one, so
                 // that a 16-bit OUT to 3C0 writes index then data
        if (!ar_data_next_) return;
        [[fallthrough]];
    case 0x3C0:
        if (!ar_data_next_) {
            ar_index_ = v & 0x3F;
        } else {
            uint8_t i = ar_index_ & 0x1F;
            if (i < kArRegs) ar_[i] = (i < 16) ? (v & 0x3F) : v;
        }
        ar_data_next_ = !ar_data_next_;
        return;
    case 0x3C2: misc_ = v; return;
    case 0x3C4: seq_index_ = v & 0x07; return;
    case 0x3C5:
        if (seq_index_ < kSeqRegs) seq_[seq_index_] = v;
        return;
    case 0x3C6: dac_mask_ = v; return;
    case 0x3C7:
        dac_read_index_ = v;
        dac_read_sub_ = 0;
        dac_state_ = 3;
        return;
    case 0x3C8:
        dac_write_index_ = v;
        dac_write_sub_ = 0;
        dac_state_ = 0;
        return;
    case 0x3C9: {
        dac_pending_[dac_write_sub_] = (vbe_[kVbeEnable] & kVbe8BitDac) ? v : (v & 0x3F);
        if (++dac_write_sub_ == 3) {  // the entry changes when its third component arrives
            for (unsigned c = 0; c < 3; ++c) dac_[dac_write_index_ * 3 + c] = dac_pending_[c];
            dac_write_sub_ = 0;
            ++dac_write_index_;
        }
        return;
    }
    case 0x3CE: gc_index_ = v & 0x0F; return;
    case 0x3CF:
        if (gc_index_ < kGcRegs) gc_[gc_index_] = v;
        return;
    default: break;
    }
    if (!crtc_port(port)) return;
    switch (port & 0xF) {
    case 0x4: crtc_index_ = v & 0x3F; return;
    case 0x5:
        if (crtc_index_ >= kCrtcRegs) return;
        // CR11 bit 7 write-protects CR0-CR7, except the line compare bit 4 of CR7.
        if ((crtc_[0x11] & 0x80) && crtc_index_ <= 7) {
            if (crtc_index_ == 7) crtc_[7] = uint8_t((crtc_[7] & ~0x10) | (v & 0x10));
            return;
        }
        crtc_[crtc_index_] = v;
        return;
    case 0xA: feature_ = v; return;
    default: return;
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy memory window

bool Vga::window_offset(uint32_t off, uint32_t& rel) const {
    switch ((gc_[kGcMisc] >> 2) & 3) {
    case 0: rel = off; return off < 0x20000;
    case 1: rel = off; return off < 0x10000;
    case 2: rel = off - 0x10000; return off >= 0x10000 && off < 0x18000;
    default: rel = off - 0x18000; return off >= 0x18000 && off < 0x20000;
    }
}

uint8_t Vga::mem_read8(uint32_t off) {
    uint32_t a;
    if (!window_offset(off, a)) return 0xFF;
    if (vbe_enabled()) {
        if (a >= 0x10000) return 0xFF;
        uint32_t bank = uint32_t(vbe_[kVbeBank]) << 16;
        if (vbe_[kVbeBpp] != 4) return vram_[(bank + a) & (kVgaVramSize - 1)];
        a += bank;
    }
    return planar_read(a);
}

void Vga::mem_write8(uint32_t off, uint8_t v) {
    uint32_t a;
    if (!window_offset(off, a)) return;
    if (vbe_enabled()) {
        if (a >= 0x10000) return;
        uint32_t bank = uint32_t(vbe_[kVbeBank]) << 16;
        if (vbe_[kVbeBpp] != 4) {
            vram_[(bank + a) & (kVgaVramSize - 1)] = v;
            return;
        }
        a += bank;
    }
    planar_write(a, v);
}

uint8_t Vga::planar_read(uint32_t a) {
    uint32_t offset;
    unsigned plane;
    if (seq_[kSeqMemMode] & 0x08) {  // chain-4
        plane = a & 3;
        offset = a & ~3u;
    } else if (gc_[kGcMode] & 0x10) {  // host odd/even
        plane = (gc_[kGcReadMap] & 2) | (a & 1);
        offset = a & ~1u;
    } else {
        plane = gc_[kGcReadMap] & 3;
        offset = a;
    }
    for (unsigned p = 0; p < 4; ++p) latch_[p] = vram_[plane_index(p, offset)];
    if (!(gc_[kGcMode] & 0x08)) return latch_[plane];
    // Read mode 1: a bit is 1 where every plane not marked don't-care matches colour compare.
    uint8_t diff = 0;
    for (unsigned p = 0; p < 4; ++p) {
        if (!(gc_[kGcDontCare] & (1u << p))) continue;
        diff |= uint8_t(latch_[p] ^ expand(gc_[kGcColorCompare] & (1u << p)));
    }
    return uint8_t(~diff);
}

void Vga::planar_write(uint32_t a, uint8_t v) {
    uint32_t offset;
    unsigned planes = seq_[kSeqMapMask] & 0x0F;
    if (seq_[kSeqMemMode] & 0x08) {  // chain-4
        planes &= 1u << (a & 3);
        offset = a & ~3u;
    } else if (!(seq_[kSeqMemMode] & 0x04)) {  // odd/even: even -> planes 0/2, odd -> 1/3
        planes &= (a & 1) ? 0x0A : 0x05;
        offset = a & ~1u;
    } else {
        offset = a;
    }
    if (!planes) return;

    const uint8_t mode = gc_[kGcMode] & 3;
    const unsigned rot = gc_[kGcRotate] & 7;
    const unsigned func = (gc_[kGcRotate] >> 3) & 3;
    const uint8_t rotated = uint8_t((v >> rot) | (v << ((8 - rot) & 7)));
    uint8_t mask = gc_[kGcBitMask];
    if (mode == 3) mask &= rotated;
    for (unsigned p = 0; p < 4; ++p) {
        if (!(planes & (1u << p))) continue;
        uint8_t d;
        switch (mode) {
        case 0:
            d = (gc_[kGcEnableSetReset] & (1u << p)) ? expand(gc_[kGcSetReset] & (1u << p))
                                                      : rotated;
            break;
        case 1: vram_[plane_index(p, offset)] = latch_[p]; continue;
        case 2: d = expand(v & (1u << p)); break;
        default: d = expand(gc_[kGcSetReset] & (1u << p)); break;
        }
        switch (func) {
        case 1: d &= latch_[p]; break;
        case 2: d |= latch_[p]; break;
        case 3: d ^= latch_[p]; break;
        default: break;
        }
        vram_[plane_index(p, offset)] = uint8_t((d & mask) | (latch_[p] & ~mask));
    }
}

uint32_t Vga::LegacyWindow::mmio_read(uint32_t addr, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
        v |= uint32_t(vga_.mem_read8(addr + i - kVgaLegacyBase)) << (8 * i);
    return v;
}

void Vga::LegacyWindow::mmio_write(uint32_t addr, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i)
        vga_.mem_write8(addr + i - kVgaLegacyBase, uint8_t(value >> (8 * i)));
}

// ---------------------------------------------------------------------------------------------
// Linear frame buffer (BAR0)

uint32_t Vga::LinearFrameBuffer::mmio_read(uint32_t addr, unsigned size) {
    uint32_t off = addr - vga_.bar_base(0);
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
        v |= uint32_t(vga_.vram_[(off + i) & (kVgaVramSize - 1)]) << (8 * i);
    return v;
}

void Vga::LinearFrameBuffer::mmio_write(uint32_t addr, unsigned size, uint32_t value) {
    uint32_t off = addr - vga_.bar_base(0);
    for (unsigned i = 0; i < size && i < 4; ++i)
        vga_.vram_[(off + i) & (kVgaVramSize - 1)] = uint8_t(value >> (8 * i));
}

}  // namespace vx86::devices
