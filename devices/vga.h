// Vga: a VGA compatible with QEMU's "std" VGA (PCI 1234:1111) plus the Bochs VBE "DISPI"
// interface, so that Debian's unmodified SeaBIOS vgabios-stdvga.bin runs on it.
//
// Design decisions:
// - One object is the PCI function (BAR0 = the 16 MiB linear frame buffer, prefetchable; the
//   expansion ROM = the VGA BIOS image), the legacy port block 0x3B0-0x3DF, the DISPI ports
//   0x1CE/0x1CF and the legacy memory window 0xA0000-0xBFFFF. The legacy resources are decoded
//   whatever the PCI command register says, as on QEMU (a VGA is always the boot display).
// - VRAM is one 16 MiB byte array. The VGA's four planes are interleaved in it: byte `o` of
//   plane `p` lives at vram[o * 4 + p], so a VBE linear mode and its banked window see the same
//   bytes as the LFB, and the renderer fetches the four planes of one address at once.
// - Plane addressing follows the real hardware (not a shortcut): in chain-4 the CPU address
//   bits 0-1 pick the plane and the plane offset is the address with those bits cleared; in
//   odd/even the address bit 0 picks plane 0/2 vs 1/3 and the offset is the address with bit 0
//   cleared; the CRTC turns its character-clock address MA into a memory address by the byte,
//   word (MA << 1 | MA13/MA15) or doubleword (MA << 2) rule and, for CGA-style modes, replaces
//   address bits 13/14 by the row scan counter (CR17 bits 0/1). Every BIOS mode therefore
//   renders from the registers alone: the renderer knows no mode numbers.
// - All CPU accesses to the window go through the full pipeline: latches loaded on every read,
//   read mode 0 (map select) and 1 (colour compare with don't-care), write modes 0-3 with
//   rotate, set/reset and enable set/reset, the ALU function and the bit mask, then the map
//   mask. Wider MMIO accesses are split into bytes, low address first.
// - While DISPI is enabled with more than 4 bpp, the A0000 window is a 64 KiB bank into linear
//   VRAM (BANK selects it in 64 KiB units); with 4 bpp the bank moves the planar window instead.
// - Input status 1 (bit 0 display disabled, bit 3 vertical retrace) is a pure function of
//   Clock::now_ns(): a 70 Hz, 449-line frame for 400-line modes (misc output sync polarity 01),
//   60 Hz with 525 lines for 480-line modes (polarity 11) and 60 Hz, 628 lines with DISPI on.
//   No timers: nothing here interrupts the guest.
// - DISPI follows QEMU's device: ID accepts 0xB0C0-0xB0C5, GETCAPS makes XRES/YRES/BPP read
//   their maxima (16000 x 12000 x 32), enabling resets the offsets and the bank, sets
//   VIRT_WIDTH = XRES and clears the visible memory unless NOCLEARMEM, 8BIT_DAC makes the DAC
//   keep 8-bit components. Out-of-range values are ignored, never trusted for memory access.
// - Rendering (vga_render.cpp) is const and bounds-checked: guest register values can make a
//   strange picture but never an out-of-bounds read. It produces 0x00RRGGBB pixels.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/pci.h"
#include "mmu/memory.h"

namespace vx86::devices {

inline constexpr uint32_t kVgaVramSize = 16u << 20;
inline constexpr uint32_t kVgaLegacyBase = 0xA0000;
inline constexpr uint32_t kVgaLegacySize = 0x20000;
inline constexpr uint16_t kVgaPortBase = 0x3B0;
inline constexpr uint16_t kVgaPortCount = 0x30;
inline constexpr uint16_t kVbeIndexPort = 0x1CE;
inline constexpr uint16_t kVbeDataPort = 0x1CF;

// Bochs DISPI register indices and ENABLE bits.
enum VbeIndex : uint16_t {
    kVbeId = 0, kVbeXres = 1, kVbeYres = 2, kVbeBpp = 3, kVbeEnable = 4, kVbeBank = 5,
    kVbeVirtWidth = 6, kVbeVirtHeight = 7, kVbeXOffset = 8, kVbeYOffset = 9,
    kVbeVideoMemory64k = 10, kVbeRegCount = 11,
};
inline constexpr uint16_t kVbeId0 = 0xB0C0, kVbeId5 = 0xB0C5;
inline constexpr uint16_t kVbeEnabled = 0x01, kVbeGetCaps = 0x02, kVbe8BitDac = 0x20,
                          kVbeLfbEnabled = 0x40, kVbeNoClearMem = 0x80;
inline constexpr uint16_t kVbeMaxXres = 16000, kVbeMaxYres = 12000, kVbeMaxBpp = 32;

class Vga final : public PciDevice, public IoDevice {
public:
    // `rom` is the VGA BIOS (the expansion ROM); empty means no ROM BAR.
    Vga(Clock& clock, std::vector<uint8_t> rom);

    // Claims 0x3B0-0x3DF (byte ports; the bus splits a 16-bit OUT into index then data) and
    // 0x1CE-0x1CF (8/16-bit). The machine maps legacy_memory() at kVgaLegacyBase, size
    // kVgaLegacySize, and plugs the device into the PCI bus (QEMU puts it at 00:02.0).
    void attach(IoBus& io);
    mmu::MmioHandler& legacy_memory() { return legacy_; }
    mmu::MmioHandler& linear_frame_buffer() { return lfb_; }

    // PCI reset also returns every VGA and DISPI register to its power-on value (VRAM stays).
    void pci_reset() override;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    // --- Display side (vga_render.cpp) ---
    // True when the VGA is in an alphanumeric mode (GR6 bit 0 clear) and DISPI is off.
    bool text_mode() const;
    // The visible picture, 0x00RRGGBB, w x h pixels (row-major). A blanked screen (attribute
    // PAS clear, SR1 screen off) is black; unprogrammed timings give a 640x400 black frame.
    void render(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const;
    // Text cells (char | attribute << 8) at the CRTC start address, row-major.
    void text_screen(std::vector<uint16_t>& cells, unsigned& cols, unsigned& rows) const;

    // --- Inspection (tests, debugger) ---
    bool vbe_enabled() const { return vbe_[kVbeEnable] & kVbeEnabled; }
    uint8_t plane_byte(unsigned plane, uint32_t offset) const {
        return vram_[plane_index(plane, offset)];
    }
    const std::vector<uint8_t>& vram() const { return vram_; }
    // Colour of DAC entry `i` as 0x00RRGGBB.
    uint32_t dac_rgb(uint8_t i) const;

private:
    class LegacyWindow final : public mmu::MmioHandler {
    public:
        explicit LegacyWindow(Vga& v) : vga_(v) {}
        uint32_t mmio_read(uint32_t addr, unsigned size) override;
        void mmio_write(uint32_t addr, unsigned size, uint32_t value) override;
    private:
        Vga& vga_;
    };
    class LinearFrameBuffer final : public mmu::MmioHandler {
    public:
        explicit LinearFrameBuffer(Vga& v) : vga_(v) {}
        uint32_t mmio_read(uint32_t addr, unsigned size) override;
        void mmio_write(uint32_t addr, unsigned size, uint32_t value) override;
    private:
        Vga& vga_;
    };

    static constexpr uint32_t kPlaneMask = kVgaVramSize / 4 - 1;
    static uint32_t plane_index(unsigned plane, uint32_t offset) {
        return (offset & kPlaneMask) * 4 + (plane & 3);
    }

    // vga.cpp
    void reset_registers();
    uint8_t port_read8(uint16_t port);
    void port_write8(uint16_t port, uint8_t v);
    bool crtc_port(uint16_t port) const;  // 3Bx/3Dx matches misc output bit 0
    uint8_t input_status1() const;
    uint8_t mem_read8(uint32_t off);       // off: 0..0x1FFFF from 0xA0000
    void mem_write8(uint32_t off, uint8_t v);
    bool window_offset(uint32_t off, uint32_t& rel) const;
    uint8_t planar_read(uint32_t addr);
    void planar_write(uint32_t addr, uint8_t v);

    // vbe.cpp
    uint16_t vbe_read(uint16_t index) const;
    void vbe_write(uint16_t index, uint16_t v);
    unsigned vbe_bytes_per_pixel() const;
    uint32_t vbe_line_bytes() const;  // bytes per line (4 bpp: bytes per plane line)
    uint32_t vbe_start() const;       // display start, same units
    void vbe_reset();

    // vga_render.cpp
    uint32_t attr_color(uint8_t index4) const;  // through the attribute palette and the DAC
    uint32_t crtc_mem_addr(uint32_t ma) const;
    unsigned vertical_display_end() const;
    void render_text(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const;
    void render_graphics(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const;
    void render_vbe(std::vector<uint32_t>& rgb, unsigned& w, unsigned& h) const;

    Clock& clock_;
    LegacyWindow legacy_{*this};
    LinearFrameBuffer lfb_{*this};
    std::vector<uint8_t> vram_;

    uint8_t misc_ = 0;
    uint8_t feature_ = 0;
    uint8_t seq_index_ = 0;
    std::array<uint8_t, 8> seq_{};
    uint8_t gc_index_ = 0;
    std::array<uint8_t, 16> gc_{};
    uint8_t crtc_index_ = 0;
    std::array<uint8_t, 64> crtc_{};
    uint8_t ar_index_ = 0;       // bits 0-4 index, bit 5 PAS
    bool ar_data_next_ = false;  // attribute flip-flop: false = next 3C0 write is the index
    std::array<uint8_t, 21> ar_{};
    uint8_t dac_mask_ = 0xFF;
    uint8_t dac_read_index_ = 0;
    uint8_t dac_write_index_ = 0;
    uint8_t dac_read_sub_ = 0;
    uint8_t dac_write_sub_ = 0;
    uint8_t dac_state_ = 0;  // 3C7 read: 0 after a 3C8 write, 3 after a 3C7 write
    std::array<uint8_t, 3> dac_pending_{};
    std::array<uint8_t, 768> dac_{};
    std::array<uint8_t, 4> latch_{};

    uint16_t vbe_index_ = 0;
    std::array<uint16_t, kVbeRegCount> vbe_{};
};

}  // namespace vx86::devices
