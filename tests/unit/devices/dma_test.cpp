// Tests for the 8237A DMA pair: register programming through the I/O ports (flip-flop, page
// registers, masks, modes, status), and device transfers against a real PhysMemory.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "devices/dma.h"
#include "devices/io_bus.h"
#include "mmu/memory.h"

using vx86::devices::Dma8237Pair;
using vx86::devices::IoBus;
using vx86::mmu::PhysMemory;

namespace {

struct DmaRig {
    explicit DmaRig(uint32_t ram = 1u << 20) : mem(ram), dma(mem) { dma.attach(bus); }

    void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
    uint8_t in(uint16_t port) { return uint8_t(bus.read(port, 1)); }

    // What firmware does at POST: channel 4 to cascade mode and DMA2 unmasked.
    void enable_cascade() {
        out(0xD6, 0xC0);
        out(0xD4, 0x00);
    }
    // Programs byte channel ch (0-3) as a BIOS does, leaving it unmasked.
    void setup8(unsigned ch, uint8_t page, uint16_t addr, uint16_t count, uint8_t mode) {
        static const uint16_t kPage[4] = {0x87, 0x83, 0x81, 0x82};
        out(0x0A, uint8_t(0x04 | ch));
        out(0x0C, 0);
        out(uint16_t(ch * 2), uint8_t(addr));
        out(uint16_t(ch * 2), uint8_t(addr >> 8));
        out(0x0C, 0);
        out(uint16_t(ch * 2 + 1), uint8_t(count));
        out(uint16_t(ch * 2 + 1), uint8_t(count >> 8));
        out(0x0B, uint8_t(mode | ch));
        out(kPage[ch], page);
        out(0x0A, uint8_t(ch));
    }
    // Word channel ch (5-7): addr is a word address, count a word count.
    void setup16(unsigned ch, uint8_t page, uint16_t addr, uint16_t count, uint8_t mode) {
        static const uint16_t kPage[4] = {0x8F, 0x8B, 0x89, 0x8A};
        unsigned sel = ch - 4;
        out(0xD4, uint8_t(0x04 | sel));
        out(0xD8, 0);
        out(uint16_t(0xC0 + sel * 4), uint8_t(addr));
        out(uint16_t(0xC0 + sel * 4), uint8_t(addr >> 8));
        out(0xD8, 0);
        out(uint16_t(0xC2 + sel * 4), uint8_t(count));
        out(uint16_t(0xC2 + sel * 4), uint8_t(count >> 8));
        out(0xD6, uint8_t(mode | sel));
        out(kPage[sel], page);
        out(0xD4, uint8_t(sel));
    }

    PhysMemory mem;
    IoBus bus;
    Dma8237Pair dma;
};

constexpr uint8_t kWrite = 0x44;     // single mode, write transfer (device -> memory)
constexpr uint8_t kRead = 0x48;      // single mode, read transfer (memory -> device)
constexpr uint8_t kVerify = 0x40;    // single mode, verify
constexpr uint8_t kAutoInit = 0x10, kDecrement = 0x20;

}  // namespace

TEST_CASE("DMA: address and count registers are read and written through the flip-flop") {
    DmaRig r;
    r.out(0x0C, 0);
    r.out(0x04, 0x34);
    r.out(0x04, 0x12);
    r.out(0x05, 0xFF);
    r.out(0x05, 0x01);
    r.out(0x0C, 0);
    CHECK(r.in(0x04) == 0x34);
    CHECK(r.in(0x04) == 0x12);
    CHECK(r.in(0x05) == 0xFF);
    CHECK(r.in(0x05) == 0x01);

    // One flip-flop per chip, shared by all registers: a lone write leaves it on the high byte.
    r.out(0x0C, 0);
    r.out(0x02, 0x78);
    CHECK(r.in(0x04) == 0x12);
    // Master clear resets it to the low byte.
    r.out(0x0D, 0);
    CHECK(r.in(0x04) == 0x34);

    // DMA2 on even ports: channel 5's address register is 0xC4.
    r.out(0xD8, 0);
    r.out(0xC4, 0xCD);
    r.out(0xC4, 0xAB);
    r.out(0xD8, 0);
    CHECK(r.in(0xC4) == 0xCD);
    CHECK(r.in(0xC4) == 0xAB);
}

TEST_CASE("DMA: page registers sit at the AT ports and port 0x80 is left alone") {
    DmaRig r;
    const uint16_t ports[8] = {0x87, 0x83, 0x81, 0x82, 0x8F, 0x8B, 0x89, 0x8A};
    for (unsigned ch = 0; ch < 8; ++ch) r.out(ports[ch], uint8_t(0x10 + ch));
    for (unsigned ch = 0; ch < 8; ++ch) CHECK(r.in(ports[ch]) == 0x10 + ch);
    CHECK(r.dma.current_address(2) == 0x120000);
    CHECK(r.dma.current_address(1) == 0x110000);
    // Word channels drop page bit 0: page 0x15 means 0x140000.
    CHECK(r.dma.current_address(5) == 0x140000);

    // The POST port and the other 0x8x ports are not claimed.
    r.out(0x80, 0x55);
    for (uint16_t p : {0x80, 0x84, 0x85, 0x86, 0x88, 0x8C, 0x8D, 0x8E}) CHECK(r.in(p) == 0xFF);
    for (unsigned ch = 0; ch < 8; ++ch) CHECK(r.in(ports[ch]) == 0x10 + ch);
}

TEST_CASE("DMA: mask registers, controller disable and the cascade channel") {
    DmaRig r;
    for (unsigned ch = 0; ch < 8; ++ch) CHECK_FALSE(r.dma.channel_ready(ch));  // all masked
    r.out(0x0A, 0x02);  // unmask channel 2
    CHECK_FALSE(r.dma.channel_ready(2));  // DMA2's channel 4 still masked
    r.enable_cascade();
    CHECK(r.dma.channel_ready(2));
    CHECK_FALSE(r.dma.channel_ready(1));

    r.out(0x0A, 0x06);  // set mask bit 2
    CHECK_FALSE(r.dma.channel_ready(2));

    r.out(0x0F, 0x0B);  // all-mask: channels 0, 1, 3 masked, 2 open
    CHECK(r.dma.channel_ready(2));
    CHECK_FALSE(r.dma.channel_ready(0));
    CHECK_FALSE(r.dma.channel_ready(3));
    CHECK((r.in(0x0F) & 0x0F) == 0x0B);

    r.out(0x0E, 0);  // clear mask register
    for (unsigned ch = 0; ch < 4; ++ch) CHECK(r.dma.channel_ready(ch));

    r.out(0x08, 0x04);  // command: controller disable
    CHECK_FALSE(r.dma.channel_ready(2));
    r.out(0x08, 0x00);
    CHECK(r.dma.channel_ready(2));

    r.out(0xD0, 0x04);  // disabling DMA2 cuts off DMA1 too
    CHECK_FALSE(r.dma.channel_ready(2));
    r.out(0xD0, 0x00);

    r.out(0xD4, 0x04);  // masking channel 4 cuts off DMA1
    CHECK_FALSE(r.dma.channel_ready(0));
    r.out(0xD4, 0x00);

    r.out(0x0D, 0);  // master clear masks everything and clears the temporary register
    for (unsigned ch = 0; ch < 4; ++ch) CHECK_FALSE(r.dma.channel_ready(ch));
    CHECK(r.in(0x0D) == 0x00);
}

TEST_CASE("DMA: a write transfer fills memory and stops at terminal count") {
    DmaRig r;
    r.enable_cascade();
    r.setup8(2, 0x01, 0x1000, 9, kWrite);  // 10 bytes at 0x11000
    CHECK(r.dma.current_address(2) == 0x11000);

    uint8_t data[16];
    for (int i = 0; i < 16; ++i) data[i] = uint8_t(0xA0 + i);
    CHECK(r.dma.transfer_to_memory(2, data, 16) == 10);
    CHECK(r.dma.terminal_count(2));
    for (uint32_t i = 0; i < 10; ++i) CHECK(r.mem.read8(0x11000 + i) == 0xA0 + i);
    CHECK(r.mem.read8(0x1100A) == 0x00);

    // Status: TC bit for channel 2, cleared by the read.
    CHECK((r.in(0x08) & 0x0F) == 0x04);
    CHECK((r.in(0x08) & 0x0F) == 0x00);

    // Without auto-init the channel masks itself at TC; the count has rolled over to 0xFFFF.
    CHECK_FALSE(r.dma.channel_ready(2));
    r.out(0x0C, 0);
    CHECK(r.in(0x04) == 0x0A);
    CHECK(r.in(0x04) == 0x10);
    CHECK(r.in(0x05) == 0xFF);
    CHECK(r.in(0x05) == 0xFF);
    CHECK(r.dma.transfer_to_memory(2, data, 16) == 0);
    CHECK_FALSE(r.dma.terminal_count(2));

    // A transfer shorter than the count leaves the channel mid-way, without TC.
    r.setup8(2, 0x01, 0x2000, 99, kWrite);
    CHECK(r.dma.transfer_to_memory(2, data, 16) == 16);
    CHECK_FALSE(r.dma.terminal_count(2));
    CHECK(r.dma.current_count(2) == 99 - 16);
    CHECK(r.dma.current_address(2) == 0x12010);
    CHECK((r.in(0x08) & 0x04) == 0);
}

TEST_CASE("DMA: auto-init reloads the base registers at terminal count") {
    DmaRig r;
    r.enable_cascade();
    r.setup8(1, 0x00, 0x4000, 3, kWrite | kAutoInit);
    const uint8_t a[4] = {'A', 'B', 'C', 'D'}, e[4] = {'E', 'F', 'G', 'H'};
    CHECK(r.dma.transfer_to_memory(1, a, 4) == 4);
    CHECK(r.dma.terminal_count(1));
    CHECK(r.dma.channel_ready(1));  // not masked in auto-init mode
    CHECK(r.dma.current_address(1) == 0x4000);
    CHECK(r.dma.current_count(1) == 3);
    CHECK(r.dma.transfer_to_memory(1, e, 2) == 2);
    CHECK_FALSE(r.dma.terminal_count(1));
    CHECK(r.mem.read8(0x4000) == 'E');
    CHECK(r.mem.read8(0x4001) == 'F');
    CHECK(r.mem.read8(0x4002) == 'C');
    CHECK((r.in(0x08) & 0x02) == 0x02);
}

TEST_CASE("DMA: address decrement mode") {
    DmaRig r;
    r.enable_cascade();
    r.setup8(3, 0x00, 0x2005, 3, kWrite | kDecrement);
    const uint8_t d[4] = {1, 2, 3, 4};
    CHECK(r.dma.transfer_to_memory(3, d, 4) == 4);
    CHECK(r.mem.read8(0x2005) == 1);
    CHECK(r.mem.read8(0x2004) == 2);
    CHECK(r.mem.read8(0x2003) == 3);
    CHECK(r.mem.read8(0x2002) == 4);
    CHECK(r.mem.read8(0x2006) == 0);
    CHECK(r.mem.read8(0x2001) == 0);
    CHECK(r.dma.current_address(3) == 0x2001);
}

TEST_CASE("DMA: read transfers, verify transfers and a mode that does not match the device") {
    DmaRig r;
    r.enable_cascade();
    for (uint32_t i = 0; i < 8; ++i) r.mem.write8(0x3000 + i, uint8_t(0x30 + i));

    r.setup8(2, 0x00, 0x3000, 7, kRead);
    uint8_t out[8] = {};
    CHECK(r.dma.transfer_from_memory(2, out, 8) == 8);
    CHECK(r.dma.terminal_count(2));
    for (int i = 0; i < 8; ++i) CHECK(out[i] == 0x30 + i);

    // Verify: the counters run to TC, memory is not touched.
    const uint8_t junk[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    r.setup8(2, 0x00, 0x3000, 7, kVerify);
    CHECK(r.dma.transfer_to_memory(2, junk, 8) == 8);
    CHECK(r.dma.terminal_count(2));
    CHECK(r.mem.read8(0x3000) == 0x30);

    // A read-mode channel never stores what a device writes.
    r.setup8(2, 0x00, 0x3000, 7, kRead);
    CHECK(r.dma.transfer_to_memory(2, junk, 8) == 8);
    CHECK(r.mem.read8(0x3003) == 0x33);

    // A cascade-mode channel does not transfer for devices.
    r.setup8(2, 0x00, 0x3000, 7, 0xC0);
    CHECK(r.dma.transfer_to_memory(2, junk, 8) == 0);
}

TEST_CASE("DMA: 16-bit channels count words and address 128 KiB pages") {
    DmaRig r;
    r.enable_cascade();
    // Page 0x03 with bit 0 dropped = 0x020000; word address 0x8000 = byte offset 0x10000.
    r.setup16(5, 0x03, 0x8000, 1, kWrite);
    CHECK(r.dma.current_address(5) == 0x30000);
    const uint8_t d[6] = {1, 2, 3, 4, 5, 6};
    CHECK(r.dma.transfer_to_memory(5, d, 6) == 4);  // two words
    CHECK(r.dma.terminal_count(5));
    CHECK(r.mem.read8(0x30000) == 1);
    CHECK(r.mem.read8(0x30003) == 4);
    CHECK(r.mem.read8(0x30004) == 0);
    CHECK((r.in(0xD0) & 0x0F) == 0x02);  // TC of channel 5 = DMA2 channel 1
    CHECK((r.in(0xD0) & 0x0F) == 0x00);
    r.out(0xD8, 0);
    CHECK(r.in(0xC4) == 0x02);  // word address advanced by two words
    CHECK(r.in(0xC4) == 0x80);
}

TEST_CASE("DMA: the address counter wraps inside its page") {
    DmaRig r;
    r.enable_cascade();
    r.setup8(2, 0x05, 0xFFFE, 3, kWrite);
    const uint8_t d[4] = {0x11, 0x22, 0x33, 0x44};
    CHECK(r.dma.transfer_to_memory(2, d, 4) == 4);
    CHECK(r.mem.read8(0x5FFFE) == 0x11);
    CHECK(r.mem.read8(0x5FFFF) == 0x22);
    CHECK(r.mem.read8(0x50000) == 0x33);
    CHECK(r.mem.read8(0x50001) == 0x44);
    CHECK(r.mem.read8(0x60000) == 0x00);

    // A word channel wraps at 128 KiB: word 0xFFFF of page 0x02 is 0x3FFFE, then 0x20000.
    r.setup16(6, 0x02, 0xFFFF, 1, kWrite);
    CHECK(r.dma.transfer_to_memory(6, d, 4) == 4);
    CHECK(r.mem.read8(0x3FFFE) == 0x11);
    CHECK(r.mem.read8(0x3FFFF) == 0x22);
    CHECK(r.mem.read8(0x20000) == 0x33);
    CHECK(r.mem.read8(0x20001) == 0x44);
    CHECK(r.mem.read8(0x40000) == 0x00);
}

TEST_CASE("DMA: bad addresses move nothing for those bytes and never crash") {
    DmaRig r(0x81000);  // RAM ends at 0x81000
    r.enable_cascade();
    std::vector<uint8_t> d(64, 0x5A);

    r.setup8(2, 0xFF, 0x0000, 63, kWrite);  // 0xFF0000: no RAM there
    CHECK(r.dma.transfer_to_memory(2, d.data(), d.size()) == 64);
    CHECK(r.dma.terminal_count(2));

    r.setup8(2, 0xFF, 0x0000, 63, kRead);
    std::vector<uint8_t> got(64, 0);
    CHECK(r.dma.transfer_from_memory(2, got.data(), got.size()) == 64);
    for (uint8_t b : got) CHECK(b == 0xFF);

    // A run that straddles the end of RAM: the bytes inside land.
    r.setup8(2, 0x08, 0x0FFE, 3, kWrite);
    const uint8_t s[4] = {1, 2, 3, 4};
    CHECK(r.dma.transfer_to_memory(2, s, 4) == 4);
    CHECK(r.mem.read8(0x80FFE) == 1);
    CHECK(r.mem.read8(0x80FFF) == 2);

    CHECK(r.dma.transfer_to_memory(8, s, 4) == 0);  // no such channel
    CHECK_FALSE(r.dma.channel_ready(8));
}

TEST_CASE("DMA: request register bits show in the status register and clear at TC") {
    DmaRig r;
    r.enable_cascade();
    r.out(0x09, 0x06);  // set request, channel 2
    CHECK((r.in(0x08) & 0xF0) == 0x40);
    r.out(0x09, 0x02);  // clear it
    CHECK((r.in(0x08) & 0xF0) == 0x00);
    r.out(0x09, 0x06);
    r.setup8(2, 0, 0x1000, 0, kWrite);
    const uint8_t b = 7;
    CHECK(r.dma.transfer_to_memory(2, &b, 1) == 1);
    CHECK(r.in(0x08) == 0x04);  // TC of channel 2, request gone
    r.out(0x09, 0x05);
    r.out(0x0D, 0);  // master clear clears requests
    CHECK(r.in(0x08) == 0x00);
}
