// VGA / Bochs VBE unit tests: the register files as the VGA references describe them, the
// planar memory pipeline (write modes 0-3, read modes 0/1, latches, chain-4, odd/even), the
// renderer for the standard BIOS modes (programmed with the standard IBM VGA register tables),
// the DISPI interface, input status 1 timing, the PNG writer and the CP437 screen dump.
#include <doctest/doctest.h>
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/png.h"
#include "core/screen_dump.h"
#include "devices/io_bus.h"
#include "devices/pci.h"
#include "devices/vga.h"
#include "mmu/memory.h"
#include "test_clock.h"

using namespace vx86;
using devices::Vga;

namespace {

// The standard VGA register tables (misc output, SR0-4, CR0-18, AR0-14, GR0-8).
struct ModeRegs {
    uint8_t misc;
    std::array<uint8_t, 5> seq;
    std::array<uint8_t, 25> crtc;
    std::array<uint8_t, 21> ar;
    std::array<uint8_t, 9> gc;
};

const ModeRegs kMode03 = {
    0x67,
    {0x03, 0x00, 0x03, 0x00, 0x02},
    {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
     0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF},
};
const ModeRegs kMode04 = {
    0x63,
    {0x03, 0x09, 0x03, 0x00, 0x02},
    {0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF},
    {0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12,
     0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF},
};
const ModeRegs kMode12 = {
    0xE3,
    {0x03, 0x01, 0x0F, 0x00, 0x06},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
     0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
};
const ModeRegs kMode13 = {
    0x63,
    {0x03, 0x01, 0x0F, 0x00, 0x0E},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
     0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF},
};

struct Rig {
    test::ManualClock clock;
    devices::IoBus io;
    Vga vga{clock, {}};
    Rig() { vga.attach(io); }

    void out(uint16_t p, uint8_t v) { io.write(p, 1, v); }
    uint8_t in(uint16_t p) { return uint8_t(io.read(p, 1)); }
    void seq(uint8_t i, uint8_t v) { out(0x3C4, i), out(0x3C5, v); }
    void gc(uint8_t i, uint8_t v) { out(0x3CE, i), out(0x3CF, v); }
    void crtc(uint8_t i, uint8_t v) { out(0x3D4, i), out(0x3D5, v); }
    void ar(uint8_t i, uint8_t v) {
        in(0x3DA);
        out(0x3C0, i);
        out(0x3C0, v);
    }
    void dac(uint8_t i, uint8_t r, uint8_t g, uint8_t b) {
        out(0x3C8, i);
        out(0x3C9, r), out(0x3C9, g), out(0x3C9, b);
    }
    void wr(uint32_t a, uint8_t v) { vga.legacy_memory().mmio_write(a, 1, v); }
    uint8_t rd(uint32_t a) { return uint8_t(vga.legacy_memory().mmio_read(a, 1)); }
    void vbe(uint16_t i, uint16_t v) { io.write(0x1CE, 2, i), io.write(0x1CF, 2, v); }
    uint16_t vbe_rd(uint16_t i) {
        io.write(0x1CE, 2, i);
        return uint16_t(io.read(0x1CF, 2));
    }
    void set_mode(const ModeRegs& m) {
        out(0x3C2, m.misc);
        for (unsigned i = 0; i < 5; ++i) seq(uint8_t(i), m.seq[i]);
        crtc(0x11, m.crtc[0x11] & 0x7F);  // lift the CR0-7 write protection first
        for (unsigned i = 0; i < 25; ++i) crtc(uint8_t(i), m.crtc[i]);
        for (unsigned i = 0; i < 21; ++i) ar(uint8_t(i), m.ar[i]);
        for (unsigned i = 0; i < 9; ++i) gc(uint8_t(i), m.gc[i]);
        in(0x3DA);
        out(0x3C0, 0x20);  // PAS: palette back to the display
    }
    // Plain planar access: no chain-4, no odd/even, A0000 64 KiB, write mode 0, read mode 0.
    void planar() {
        seq(2, 0x0F);
        seq(4, 0x06);
        for (unsigned i = 0; i < 9; ++i) gc(uint8_t(i), 0);
        gc(6, 0x05);
        gc(8, 0xFF);
    }
    void plane_fill(uint32_t a, std::array<uint8_t, 4> v) {
        for (unsigned p = 0; p < 4; ++p) {
            seq(2, uint8_t(1u << p));
            wr(a, v[p]);
        }
        seq(2, 0x0F);
    }
};

}  // namespace

TEST_CASE("vga: PCI identity, BAR0 frame buffer and expansion ROM") {
    test::ManualClock clock;
    devices::IoBus io;
    mmu::PhysMemory mem(1u << 20);
    std::vector<uint8_t> rom(0x10000, 0);
    rom[0] = 0x55, rom[1] = 0xAA;
    Vga vga(clock, rom);
    devices::PciBus bus(io, mem);
    bus.add(2 << 3, &vga);
    const unsigned devfn = 2 << 3;
    CHECK(bus.config_read(devfn, 0x00, 4) == 0x11111234);
    CHECK(bus.config_read(devfn, 0x08, 4) == 0x03000002);  // class 03/00/00, revision 2
    bus.config_write(devfn, 0x10, 4, 0xFFFFFFFF);
    CHECK(bus.config_read(devfn, 0x10, 4) == 0xFF000008);  // 16 MiB, 32-bit, prefetchable
    bus.config_write(devfn, 0x30, 4, 0xFFFFF800);
    CHECK(bus.config_read(devfn, 0x30, 4) == 0xFFFF0000);  // 64 KiB ROM

    bus.config_write(devfn, 0x10, 4, 0xE0000000);
    bus.config_write(devfn, 0x04, 2, devices::kPciCmdMem);
    mem.write(0xE0000010, 4, 0xCAFEBABE);
    CHECK(vga.vram()[0x10] == 0xBE);
    CHECK(vga.vram()[0x13] == 0xCA);
    CHECK(mem.read(0xE0000010, 2) == 0xBABE);
    CHECK(mem.read(0xE0FFFFFC, 4) == 0);
}

TEST_CASE("vga: sequencer, graphics controller and CRTC index/data ports") {
    Rig r;
    r.io.write(0x3C4, 2, 0x0A02);  // 16-bit OUT: index 2, data 0x0A
    CHECK(r.in(0x3C4) == 0x02);
    CHECK(r.in(0x3C5) == 0x0A);
    r.io.write(0x3CE, 2, 0x5508);
    CHECK(r.in(0x3CE) == 0x08);
    CHECK(r.in(0x3CF) == 0x55);
    CHECK(r.io.read(0x3CE, 2) == 0x5508);

    // Misc output bit 0 moves the CRTC between 3Bx and 3Dx.
    r.out(0x3C2, 0x01);
    CHECK(r.in(0x3CC) == 0x01);
    r.crtc(0x0E, 0x12);
    CHECK(r.in(0x3D5) == 0x12);
    CHECK(r.in(0x3B5) == 0xFF);
    r.out(0x3C2, 0x00);
    r.out(0x3B4, 0x0E);
    CHECK(r.in(0x3B5) == 0x12);
    r.out(0x3B5, 0x34);
    r.out(0x3C2, 0x01);
    r.out(0x3D4, 0x0E);
    CHECK(r.in(0x3D5) == 0x34);

    // CR11 bit 7 protects CR0-CR7 except the line compare bit (CR7 bit 4).
    r.crtc(0x01, 0x4F);
    r.crtc(0x07, 0x00);
    r.crtc(0x11, 0x80);
    r.crtc(0x01, 0x27);
    r.crtc(0x07, 0xFF);
    r.out(0x3D4, 0x01);
    CHECK(r.in(0x3D5) == 0x4F);
    r.out(0x3D4, 0x07);
    CHECK(r.in(0x3D5) == 0x10);
    r.crtc(0x11, 0x00);
    r.crtc(0x01, 0x27);
    r.out(0x3D4, 0x01);
    CHECK(r.in(0x3D5) == 0x27);
}

TEST_CASE("vga: attribute controller flip-flop") {
    Rig r;
    r.out(0x3C2, 0x01);
    r.in(0x3DA);           // reset: next 3C0 write is an index
    r.out(0x3C0, 0x05);    // index 5
    r.out(0x3C0, 0x2A);    // data
    r.out(0x3C0, 0x26);    // index 6 with PAS
    r.out(0x3C0, 0x11);    // data
    CHECK(r.in(0x3C0) == 0x26);
    CHECK(r.in(0x3C1) == 0x11);
    r.out(0x3C0, 0x05);  // the flip-flop is back at "index"
    CHECK(r.in(0x3C1) == 0x2A);
    r.out(0x3C0, 0x3F);  // data for index 5 (palette registers keep 6 bits)
    CHECK(r.in(0x3C1) == 0x3F);
    // Reading input status 1 in the middle returns the flip-flop to "index".
    r.out(0x3C0, 0x10);
    r.in(0x3DA);
    r.out(0x3C0, 0x10);
    r.out(0x3C0, 0x41);
    r.in(0x3DA);
    r.out(0x3C0, 0x10);
    CHECK(r.in(0x3C1) == 0x41);
    // A 16-bit OUT to 3C0 writes index then data.
    r.in(0x3DA);
    r.io.write(0x3C0, 2, 0x0C14);
    r.in(0x3DA);
    r.out(0x3C0, 0x14);
    CHECK(r.in(0x3C1) == 0x0C);
}

TEST_CASE("vga: DAC read and write cycles") {
    Rig r;
    r.dac(5, 0x3F, 0x20, 0x41);  // 6-bit DAC: bit 6 of the blue value is dropped
    r.dac(6, 1, 2, 3);
    CHECK(r.in(0x3C8) == 7);     // write index advanced past entry 6
    CHECK(r.in(0x3C7) == 0x00);  // DAC state: write mode
    r.out(0x3C7, 5);
    CHECK(r.in(0x3C7) == 0x03);  // read mode
    CHECK(r.in(0x3C9) == 0x3F);
    CHECK(r.in(0x3C9) == 0x20);
    CHECK(r.in(0x3C9) == 0x01);
    CHECK(r.in(0x3C9) == 1);  // auto-increment to entry 6
    CHECK(r.in(0x3C9) == 2);
    CHECK(r.in(0x3C9) == 3);
    // An interrupted write cycle does not change the entry; a new 3C8 write restarts it.
    r.out(0x3C8, 9);
    r.out(0x3C9, 0x11);
    r.out(0x3C8, 9);
    r.out(0x3C9, 0x07), r.out(0x3C9, 0x08), r.out(0x3C9, 0x09);
    r.out(0x3C7, 9);
    CHECK(r.in(0x3C9) == 0x07);
    CHECK(r.vga.dac_rgb(5) == 0xFF8204);  // 6-bit components widened to 8 bits
    r.out(0x3C6, 0xFF);
    CHECK(r.in(0x3C6) == 0xFF);
}

TEST_CASE("vga: write mode 0 with set/reset, rotate, ALU, bit mask and map mask") {
    Rig r;
    r.planar();
    r.wr(0xA0000, 0xA5);
    for (unsigned p = 0; p < 4; ++p) CHECK(r.vga.plane_byte(p, 0) == 0xA5);

    r.gc(0, 0x05);  // set/reset colour: planes 0 and 2
    r.gc(1, 0x0F);  // enabled on every plane: the CPU data is ignored
    r.wr(0xA0001, 0x00);
    CHECK(r.vga.plane_byte(0, 1) == 0xFF);
    CHECK(r.vga.plane_byte(1, 1) == 0x00);
    CHECK(r.vga.plane_byte(2, 1) == 0xFF);
    CHECK(r.vga.plane_byte(3, 1) == 0x00);

    r.gc(0, 0x00);
    r.gc(1, 0x01);  // only plane 0 from set/reset
    r.wr(0xA0002, 0x3C);
    CHECK(r.vga.plane_byte(0, 2) == 0x00);
    CHECK(r.vga.plane_byte(1, 2) == 0x3C);
    CHECK(r.vga.plane_byte(3, 2) == 0x3C);

    r.gc(1, 0x00);
    r.gc(3, 0x04);  // rotate right by 4
    r.wr(0xA0003, 0x12);
    CHECK(r.vga.plane_byte(2, 3) == 0x21);
    r.gc(3, 0x00);

    r.wr(0xA0004, 0xF0);
    r.rd(0xA0004);  // latches = F0
    r.gc(8, 0x0F);  // bit mask: only the low nibble comes from the data
    r.wr(0xA0004, 0x55);
    CHECK(r.vga.plane_byte(1, 4) == 0xF5);
    r.gc(8, 0xFF);
    r.rd(0xA0004);
    r.gc(3, 0x18);  // XOR with the latches
    r.wr(0xA0004, 0xFF);
    CHECK(r.vga.plane_byte(0, 4) == 0x0A);
    r.rd(0xA0004);
    r.gc(3, 0x08);  // AND
    r.wr(0xA0004, 0x0F);
    CHECK(r.vga.plane_byte(0, 4) == 0x0A);
    r.gc(3, 0x10);  // OR
    r.wr(0xA0004, 0x50);
    CHECK(r.vga.plane_byte(3, 4) == 0x5A);
    r.gc(3, 0x00);

    r.seq(2, 0x02);  // map mask: plane 1 only
    r.wr(0xA0005, 0x77);
    CHECK(r.vga.plane_byte(0, 5) == 0x00);
    CHECK(r.vga.plane_byte(1, 5) == 0x77);
    CHECK(r.vga.plane_byte(2, 5) == 0x00);
}

TEST_CASE("vga: write modes 1-3 and read modes 0/1 through the latches") {
    Rig r;
    r.planar();
    r.plane_fill(0xA0010, {0x11, 0x22, 0x33, 0x44});

    // Read mode 0 returns the plane chosen by the read map select.
    r.gc(4, 2);
    CHECK(r.rd(0xA0010) == 0x33);
    r.gc(4, 0);
    CHECK(r.rd(0xA0010) == 0x11);

    // Write mode 1: the latches (loaded by the read) are stored, the CPU byte is ignored.
    r.gc(5, 0x01);
    r.wr(0xA0020, 0x99);
    CHECK(r.vga.plane_byte(0, 0x20) == 0x11);
    CHECK(r.vga.plane_byte(3, 0x20) == 0x44);

    // Write mode 2: CPU bit p fills plane p, through the bit mask against the latches.
    r.gc(5, 0x00);
    r.wr(0xA0030, 0xA0);
    r.rd(0xA0030);
    r.gc(5, 0x02);
    r.gc(8, 0x0F);
    r.wr(0xA0030, 0x09);
    CHECK(r.vga.plane_byte(0, 0x30) == 0xAF);
    CHECK(r.vga.plane_byte(1, 0x30) == 0xA0);
    CHECK(r.vga.plane_byte(2, 0x30) == 0xA0);
    CHECK(r.vga.plane_byte(3, 0x30) == 0xAF);

    // Write mode 3: set/reset is the colour (enable set/reset ignored), the rotated CPU byte
    // ANDed with the bit mask is the mask.
    r.gc(5, 0x00);
    r.gc(8, 0xFF);
    r.wr(0xA0040, 0x00);
    r.rd(0xA0040);
    r.gc(5, 0x03);
    r.gc(0, 0x06);
    r.gc(1, 0x00);
    r.gc(8, 0xF0);
    r.wr(0xA0040, 0x3C);
    CHECK(r.vga.plane_byte(0, 0x40) == 0x00);
    CHECK(r.vga.plane_byte(1, 0x40) == 0x30);
    CHECK(r.vga.plane_byte(2, 0x40) == 0x30);
    CHECK(r.vga.plane_byte(3, 0x40) == 0x00);

    // Read mode 1: colour compare. Pixels 7-4 have colour 5 (planes 0, 2), pixels 3-0 colour 1.
    r.gc(5, 0x00);
    r.gc(8, 0xFF);
    r.plane_fill(0xA0050, {0xFF, 0x00, 0xF0, 0x00});
    r.gc(5, 0x08);
    r.gc(2, 0x05);
    r.gc(7, 0x0F);
    CHECK(r.rd(0xA0050) == 0xF0);
    r.gc(7, 0x01);  // only plane 0 matters: every pixel has bit 0 set
    CHECK(r.rd(0xA0050) == 0xFF);
    r.gc(7, 0x00);  // nothing matters: all match
    CHECK(r.rd(0xA0010) == 0xFF);
    // ...and the read loaded the latches from 0xA0010.
    r.gc(5, 0x01);
    r.wr(0xA0060, 0);
    CHECK(r.vga.plane_byte(1, 0x60) == 0x22);
}

TEST_CASE("vga: chain-4, odd/even and the memory map select") {
    Rig r;
    r.planar();
    r.seq(4, 0x0E);  // chain-4
    for (unsigned i = 0; i < 8; ++i) r.wr(0xA0000 + i, uint8_t(0x10 + i));
    CHECK(r.vga.plane_byte(1, 4) == 0x15);  // address 5: plane 1, offset 4
    CHECK(r.vga.plane_byte(3, 0) == 0x13);
    CHECK(r.vga.plane_byte(0, 1) == 0x00);
    CHECK(r.rd(0xA0006) == 0x16);

    // Odd/even (text modes): even addresses go to plane 0, odd ones to plane 1.
    r.seq(4, 0x02);
    r.seq(2, 0x03);
    r.gc(5, 0x10);
    r.gc(6, 0x0E);  // B8000-BFFFF, odd/even chaining
    r.wr(0xB8000, 'A');
    r.wr(0xB8001, 0x1F);
    r.wr(0xB8002, 'B');
    CHECK(r.vga.plane_byte(0, 0) == 'A');
    CHECK(r.vga.plane_byte(1, 0) == 0x1F);
    CHECK(r.vga.plane_byte(0, 2) == 'B');
    CHECK(r.rd(0xB8001) == 0x1F);
    CHECK(r.rd(0xB8002) == 'B');
    // A0000 is outside the B8000 window: reads float, writes vanish.
    CHECK(r.rd(0xA0000) == 0xFF);
    r.wr(0xA0000, 0x42);
    CHECK(r.vga.plane_byte(0, 0) == 'A');
    // 16-bit writes are split low byte first.
    r.vga.legacy_memory().mmio_write(0xB8004, 2, 0x4E43);
    CHECK(r.vga.plane_byte(0, 4) == 0x43);
    CHECK(r.vga.plane_byte(1, 4) == 0x4E);
    CHECK(r.vga.legacy_memory().mmio_read(0xB8004, 2) == 0x4E43);
}

TEST_CASE("vga: a text screen written at B8000 appears in text_screen() and render()") {
    Rig r;
    r.set_mode(kMode03);
    REQUIRE(r.vga.text_mode());
    const char* msg = "Hi";
    for (unsigned i = 0; msg[i]; ++i)
        r.vga.legacy_memory().mmio_write(0xB8000 + 2 * i, 2, 0x1F00u | uint8_t(msg[i]));
    r.vga.legacy_memory().mmio_write(0xB8000 + 2 * 80 + 2 * 3, 2, 0x9FC4);  // row 1, col 3
    std::vector<uint16_t> cells;
    unsigned cols = 0, rows = 0;
    r.vga.text_screen(cells, cols, rows);
    CHECK(cols == 80);
    CHECK(rows == 25);
    REQUIRE(cells.size() == 80u * 25);
    CHECK(cells[0] == 0x1F48);
    CHECK(cells[1] == 0x1F69);
    CHECK(cells[80 + 3] == 0x9FC4);

    // Load two glyphs into plane 2 the way the BIOS does (sequential access to map 2).
    r.seq(2, 0x04), r.seq(4, 0x06), r.gc(4, 0x02), r.gc(5, 0x00), r.gc(6, 0x04);
    r.wr(0xA0000 + 'H' * 32 + 0, 0x81);
    r.wr(0xA0000 + 0xC4 * 32 + 0, 0xFF);
    r.seq(2, 0x03), r.seq(4, 0x02), r.gc(4, 0x00), r.gc(5, 0x10), r.gc(6, 0x0E);
    r.dac(0x3F, 63, 63, 63);  // AR15 -> DAC 3F: white
    r.dac(0x01, 0, 0, 42);    // AR1 -> DAC 1: blue
    r.dac(0x39, 0, 0, 63);    // AR9 -> DAC 39: bright blue (must not appear with blink on)

    std::vector<uint32_t> px;
    unsigned w = 0, h = 0;
    r.vga.render(px, w, h);
    REQUIRE(w == 720);
    REQUIRE(h == 400);
    CHECK(px[0] == 0xFFFFFF);  // 'H' row 0 = 1000 0001
    CHECK(px[1] == 0x0000AA);
    CHECK(px[7] == 0xFFFFFF);
    CHECK(px[8] == 0x0000AA);  // 9th column of a letter is background
    CHECK(px[size_t(720) * 1] == 0x0000AA);  // glyph row 1 is empty
    // 0xC4 (line drawing) on attribute 9F: 9th column repeats the 8th; blink on makes the
    // background index 1, not 9.
    size_t at = size_t(16) * 720 + 3 * 9;
    CHECK(px[at + 7] == 0xFFFFFF);
    CHECK(px[at + 8] == 0xFFFFFF);
    CHECK(px[at + 720] == 0x0000AA);

    // The CRTC start address scrolls: start at row 1 (80 characters).
    r.crtc(0x0C, 0x00);
    r.crtc(0x0D, 80);
    r.vga.text_screen(cells, cols, rows);
    CHECK(cells[3] == 0x9FC4);
}

TEST_CASE("vga: mode 13h renders chain-4 pixels through the DAC") {
    Rig r;
    r.set_mode(kMode13);
    CHECK_FALSE(r.vga.text_mode());
    r.wr(0xA0000 + 5 * 320 + 10, 0x42);
    r.wr(0xA0000 + 199 * 320 + 319, 0x07);
    r.dac(0x42, 63, 0, 21);
    r.dac(0x07, 0, 63, 0);
    std::vector<uint32_t> px;
    unsigned w = 0, h = 0;
    r.vga.render(px, w, h);
    REQUIRE(w == 320);
    REQUIRE(h == 200);
    CHECK(px[5 * 320 + 10] == 0xFF0055);
    CHECK(px[5 * 320 + 11] == 0x000000);
    CHECK(px[199 * 320 + 319] == 0x00FF00);
    // The PEL mask applies to the index.
    r.out(0x3C6, 0x07);
    r.vga.render(px, w, h);
    CHECK(px[5 * 320 + 10] == r.vga.dac_rgb(0x02));
    // Attribute PAS cleared: the screen is blanked.
    r.out(0x3C6, 0xFF);
    r.in(0x3DA);
    r.out(0x3C0, 0x00);
    r.vga.render(px, w, h);
    CHECK(px[199 * 320 + 319] == 0);
}

TEST_CASE("vga: mode 12h planar and mode 04h CGA render") {
    Rig r;
    r.set_mode(kMode12);
    r.gc(1, 0x0F);  // set/reset colour 12 into pixel 8 of line 2
    r.gc(0, 0x0C);
    r.gc(8, 0x80);
    r.rd(0xA0000 + 2 * 80 + 1);
    r.wr(0xA0000 + 2 * 80 + 1, 0);
    r.dac(0x3C, 63, 21, 21);  // AR12 = 3C
    std::vector<uint32_t> px;
    unsigned w = 0, h = 0;
    r.vga.render(px, w, h);
    REQUIRE(w == 640);
    REQUIRE(h == 480);
    CHECK(px[2 * 640 + 8] == 0xFF5555);
    CHECK(px[2 * 640 + 9] == 0);
    CHECK(px[2 * 640 + 7] == 0);

    Rig c;
    c.set_mode(kMode04);
    c.wr(0xB8000, 0xE4);           // line 0: colours 3 2 1 0
    c.wr(0xB8001, 0x40);           // line 0, pixels 4-7: 1 0 0 0
    c.wr(0xB8000 + 0x2000, 0x1B);  // line 1 (odd bank): 0 1 2 3
    c.wr(0xB8000 + 80, 0xC0);      // line 2: colour 3
    c.dac(0x13, 63, 0, 0);
    c.dac(0x15, 0, 63, 0);
    c.dac(0x17, 0, 0, 63);
    c.vga.render(px, w, h);
    REQUIRE(w == 320);
    REQUIRE(h == 200);
    CHECK(px[0] == 0x0000FF);
    CHECK(px[1] == 0x00FF00);
    CHECK(px[2] == 0xFF0000);
    CHECK(px[3] == 0);
    CHECK(px[4] == 0xFF0000);
    CHECK(px[320 + 0] == 0);
    CHECK(px[320 + 3] == 0x0000FF);
    CHECK(px[640] == 0x0000FF);
}

TEST_CASE("vga: Bochs DISPI registers, LFB and banked modes") {
    test::ManualClock clock;
    devices::IoBus io;
    mmu::PhysMemory mem(1u << 20);
    Vga vga(clock, {});
    vga.attach(io);
    devices::PciBus bus(io, mem);
    bus.add(2 << 3, &vga);
    bus.config_write(2 << 3, 0x10, 4, 0xE0000000);
    bus.config_write(2 << 3, 0x04, 2, devices::kPciCmdMem);
    auto vbe = [&](uint16_t i, uint16_t v) { io.write(0x1CE, 2, i), io.write(0x1CF, 2, v); };
    auto vbe_rd = [&](uint16_t i) {
        io.write(0x1CE, 2, i);
        return io.read(0x1CF, 2);
    };

    CHECK(vbe_rd(devices::kVbeId) == 0xB0C5);
    vbe(devices::kVbeId, 0xB0C0);
    CHECK(vbe_rd(devices::kVbeId) == 0xB0C0);
    vbe(devices::kVbeId, 0x1234);  // not an ID: ignored
    CHECK(vbe_rd(devices::kVbeId) == 0xB0C0);
    CHECK(vbe_rd(devices::kVbeVideoMemory64k) == 256);

    vbe(devices::kVbeXres, 64);
    vbe(devices::kVbeYres, 48);
    vbe(devices::kVbeBpp, 32);
    vbe(devices::kVbeEnable, devices::kVbeGetCaps);
    CHECK(vbe_rd(devices::kVbeXres) == 16000);
    CHECK(vbe_rd(devices::kVbeYres) == 12000);
    CHECK(vbe_rd(devices::kVbeBpp) == 32);
    vbe(devices::kVbeEnable, 0);
    CHECK(vbe_rd(devices::kVbeXres) == 64);
    CHECK(vbe_rd(devices::kVbeBpp) == 32);

    mem.write(0xE0000000, 4, 0x00ABCDEF);  // enabling clears the visible memory...
    vbe(devices::kVbeEnable, devices::kVbeEnabled | devices::kVbeLfbEnabled);
    CHECK(mem.read(0xE0000000, 4) == 0);
    CHECK(vbe_rd(devices::kVbeVirtWidth) == 64);
    CHECK(vbe_rd(devices::kVbeVirtHeight) == 0xFFFF);  // 16 MiB / 256 bytes, capped
    CHECK_FALSE(vga.text_mode());
    mem.write(0xE0000000 + (2 * 64 + 3) * 4, 4, 0x00112233);
    std::vector<uint32_t> px;
    unsigned w = 0, h = 0;
    vga.render(px, w, h);
    REQUIRE(w == 64);
    REQUIRE(h == 48);
    CHECK(px[2 * 64 + 3] == 0x112233);
    CHECK(px[2 * 64 + 4] == 0);
    vbe(devices::kVbeYOffset, 1);  // display start one line down
    vga.render(px, w, h);
    CHECK(px[64 + 3] == 0x112233);
    vbe(devices::kVbeYOffset, 0);

    // 16 bpp (5:6:5) and 15 bpp (5:5:5) pixels.
    vbe(devices::kVbeBpp, 16);
    mem.write(0xE0000000, 2, 0xF800);
    mem.write(0xE0000002, 2, 0x07E0);
    vga.render(px, w, h);
    CHECK(px[0] == 0xFF0000);
    CHECK(px[1] == 0x00FF00);
    vbe(devices::kVbeBpp, 15);
    mem.write(0xE0000000, 2, 0x7C00);
    vga.render(px, w, h);
    CHECK(px[0] == 0xFF0000);

    // 8 bpp through the DAC and the 64 KiB bank at A0000; NOCLEARMEM keeps memory.
    vbe(devices::kVbeEnable, 0);
    vbe(devices::kVbeXres, 320);
    vbe(devices::kVbeYres, 240);
    vbe(devices::kVbeBpp, 8);
    vbe(devices::kVbeEnable, devices::kVbeEnabled | devices::kVbeNoClearMem);
    CHECK(mem.read(0xE0000000, 2) == 0x7C00);
    vbe(devices::kVbeBank, 1);
    vga.legacy_memory().mmio_write(0xA0000 + 4, 1, 0x42);
    CHECK(mem.read(0xE0010004, 1) == 0x42);
    CHECK(vga.legacy_memory().mmio_read(0xA0004, 1) == 0x42);
    io.write(0x3C8, 1, 0x42);
    io.write(0x3C9, 1, 63), io.write(0x3C9, 1, 0), io.write(0x3C9, 1, 63);
    vga.render(px, w, h);
    REQUIRE(w == 320);
    REQUIRE(h == 240);
    CHECK(px[0x10004] == 0xFF00FF);
    vbe(devices::kVbeEnable, 0);
    CHECK(vga.text_mode());
}

TEST_CASE("vga: input status 1 retrace follows the clock (70 Hz text, 60 Hz VBE)") {
    Rig r;
    r.out(0x3C2, 0x67);
    auto rising_edges = [&](uint64_t span_ns, std::vector<uint64_t>& edges, unsigned& dd_changes) {
        edges.clear();
        dd_changes = 0;
        bool prev = r.in(0x3DA) & 0x08;
        bool prev_dd = r.in(0x3DA) & 0x01;
        for (uint64_t t = 0; t < span_ns; t += 1000) {
            r.clock.advance(1000);
            uint8_t s = r.in(0x3DA);
            bool vr = s & 0x08;
            if (vr && !prev) edges.push_back(r.clock.now_ns());
            if (bool(s & 0x01) != prev_dd) ++dd_changes;
            prev = vr;
            prev_dd = s & 0x01;
        }
    };
    std::vector<uint64_t> edges;
    unsigned dd = 0;
    rising_edges(50'000'000, edges, dd);  // 50 ms
    REQUIRE(edges.size() >= 3);
    for (size_t i = 1; i < edges.size(); ++i) {
        int64_t period = int64_t(edges[i] - edges[i - 1]);
        CHECK(period > 14'285'714 - 2000);
        CHECK(period < 14'285'714 + 2000);
    }
    CHECK(dd > 100);  // display-disabled toggles every scan line

    r.vbe(devices::kVbeXres, 640);
    r.vbe(devices::kVbeYres, 480);
    r.vbe(devices::kVbeEnable, devices::kVbeEnabled);
    rising_edges(50'000'000, edges, dd);
    REQUIRE(edges.size() >= 2);
    for (size_t i = 1; i < edges.size(); ++i) {
        int64_t period = int64_t(edges[i] - edges[i - 1]);
        CHECK(period > 16'666'666 - 2000);
        CHECK(period < 16'666'666 + 2000);
    }
}

TEST_CASE("png: encoder output decodes back to the pixels") {
    const uint32_t img[6] = {0xFF0000, 0x00FF00, 0x0000FF, 0x123456, 0xFFFFFF, 0x000000};
    std::vector<uint8_t> png = core::encode_png(img, 3, 2);
    REQUIRE(png.size() > 8 + 25 + 12 + 12);
    const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    CHECK(std::equal(sig, sig + 8, png.begin()));
    auto be32 = [&](size_t at) {
        return uint32_t(png[at]) << 24 | uint32_t(png[at + 1]) << 16 | uint32_t(png[at + 2]) << 8 |
               png[at + 3];
    };
    // IHDR: length 13, width 3, height 2, depth 8, colour type 2, compression/filter/interlace 0.
    CHECK(be32(8) == 13);
    CHECK(std::string(png.begin() + 12, png.begin() + 16) == "IHDR");
    CHECK(be32(16) == 3);
    CHECK(be32(20) == 2);
    CHECK(png[24] == 8);
    CHECK(png[25] == 2);
    CHECK(png[26] == 0);
    CHECK(png[27] == 0);
    CHECK(png[28] == 0);
    CHECK(be32(29) == uint32_t(crc32(0, png.data() + 12, 17)));
    // IDAT inflates to filter byte 0 + RGB per row.
    size_t idat = 33;
    uint32_t len = be32(idat);
    CHECK(std::string(png.begin() + idat + 4, png.begin() + idat + 8) == "IDAT");
    std::vector<uint8_t> raw(64);
    uLongf raw_len = raw.size();
    REQUIRE(uncompress(raw.data(), &raw_len, png.data() + idat + 8, len) == Z_OK);
    const std::vector<uint8_t> want = {0, 0xFF, 0, 0, 0, 0xFF, 0, 0, 0, 0xFF,
                                       0, 0x12, 0x34, 0x56, 0xFF, 0xFF, 0xFF, 0, 0, 0};
    CHECK(std::vector<uint8_t>(raw.begin(), raw.begin() + raw_len) == want);
    CHECK(be32(idat + 8 + len) == uint32_t(crc32(0, png.data() + idat + 4, len + 4)));
    size_t iend = idat + 12 + len;
    CHECK(be32(iend) == 0);
    CHECK(std::string(png.begin() + iend + 4, png.begin() + iend + 8) == "IEND");
    CHECK(png.size() == iend + 12);

    std::string err;
    CHECK(core::encode_png(img, 0, 2, &err).empty());
    CHECK_FALSE(err.empty());
    std::string path = "/tmp/vx86-vga-test-" + std::to_string(::getpid()) + ".png";
    REQUIRE(core::write_png(path, img, 3, 2, &err));
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(file == png);
    std::remove(path.c_str());
    CHECK_FALSE(core::write_png("/nonexistent-dir/x.png", img, 3, 2, &err));
}

TEST_CASE("screen dump: CP437 to UTF-8 and the text file") {
    std::string s;
    core::append_cp437_utf8(s, 0xC9);  // box drawing double down and right
    CHECK(s == "\xE2\x95\x94");
    s.clear();
    core::append_cp437_utf8(s, 0xCD);
    CHECK(s == "\xE2\x95\x90");
    s.clear();
    core::append_cp437_utf8(s, 0xB3);
    CHECK(s == "\xE2\x94\x82");
    s.clear();
    core::append_cp437_utf8(s, 0xDB);
    CHECK(s == "\xE2\x96\x88");
    s.clear();
    core::append_cp437_utf8(s, 0x82);  // e acute, two bytes
    CHECK(s == "\xC3\xA9");
    CHECK(core::cp437_to_unicode('A') == 'A');
    CHECK(core::cp437_to_unicode(0x01) == 0x263A);

    Rig r;
    r.set_mode(kMode03);
    for (unsigned i = 0; i < 80 * 25; ++i)
        r.vga.legacy_memory().mmio_write(0xB8000 + 2 * i, 2, 0x0720);
    const uint8_t line[] = {0xC9, 0xCD, 'O', 'K', 0xBB};
    for (unsigned i = 0; i < sizeof line; ++i) r.wr(0xB8000 + 2 * i, line[i]);
    r.wr(0xB8000 + 160 * 2 + 10, 'x');
    std::string text = core::screen_text(r.vga);
    std::string want = "\xE2\x95\x94\xE2\x95\x90OK\xE2\x95\x97\n\n     x" + std::string(22, '\n');
    CHECK(text == want);

    std::string path = "/tmp/vx86-vga-test-" + std::to_string(::getpid()) + ".txt";
    std::string err;
    REQUIRE(core::dump_screen(r.vga, path, &err));
    std::ifstream f(path, std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    f.close();
    CHECK(file == want);
    // In a graphics mode the dump is a PNG whatever the name says.
    r.set_mode(kMode13);
    REQUIRE(core::dump_screen(r.vga, path, &err));
    std::ifstream g(path, std::ios::binary);
    std::string head(8, '\0');
    g.read(head.data(), 8);
    CHECK(head == std::string("\x89PNG\r\n\x1A\n", 8));
    std::remove(path.c_str());
}
