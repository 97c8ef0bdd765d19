// Tests for the 82077AA floppy controller: driven through its I/O ports like a BIOS or a
// driver would, with a real DMA pair, PhysMemory, memory-backed images and a manual clock.
#include <doctest/doctest.h>

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <vector>

#include "devices/block.h"
#include "devices/dma.h"
#include "devices/fdc.h"
#include "devices/io_bus.h"
#include "devices/irq.h"
#include "mmu/memory.h"
#include "tests/unit/devices/test_clock.h"

using namespace vx86::devices;
using vx86::mmu::PhysMemory;

namespace {

struct IrqProbe final : IrqSink {
    void set_irq(unsigned irq, bool l) override {
        last_irq = irq;
        if (l && !level) ++rises;
        level = l;
    }
    bool level = false;
    int rises = 0;
    unsigned last_irq = 99;
};

// Byte i of the sector at `lba` in the test images.
uint8_t pattern(uint32_t lba, uint32_t i) {
    if (i == 0) return uint8_t(lba);
    if (i == 1) return uint8_t(lba >> 8);
    return uint8_t(i * 7 + lba * 13);
}

constexpr uint32_t k144 = 1474560;
constexpr uint32_t kBuf = 0x10000;   // DMA buffer in guest memory
constexpr uint8_t kRead = 0x46;      // READ DATA, MFM
constexpr uint8_t kReadMt = 0xC6;    // READ DATA, MT + MFM
constexpr uint8_t kWrite = 0x45;     // WRITE DATA, MFM

uint32_t lba144(unsigned c, unsigned h, unsigned r) { return (c * 2 + h) * 18 + (r - 1); }

struct FdcRig {
    FdcRig() : mem(2u << 20), dma(mem), fdc(IrqLine{&irq, kFdcIrq}, dma, clock) {
        dma.attach(bus);
        fdc.attach(bus);
        out(0xD6, 0xC0);  // what POST does: channel 4 cascade, DMA2 unmasked
        out(0xD4, 0x00);
    }

    void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
    uint8_t in(uint16_t port) { return uint8_t(bus.read(port, 1)); }
    uint8_t msr() { return in(0x3F4); }

    BlockDevice* image(uint32_t bytes, bool read_only = false) {
        std::vector<uint8_t> data(bytes);
        for (uint32_t i = 0; i < bytes; ++i) data[i] = pattern(i / 512, i % 512);
        images.push_back(BlockDevice::from_memory(std::move(data), read_only));
        return images.back().get();
    }

    // Leaves reset with DMA and interrupts enabled, drive 0 selected, motor A on, and
    // collects the four polling statuses; selects 500 kbps (1.44M media) in the CCR.
    void bring_up(uint8_t dor = 0x1C) {
        out(0x3F2, dor);
        out(0x3F7, 0x00);
        clock.advance(Fdc::kResetDelayNs);
        for (int d = 0; d < 4; ++d) sense();
    }

    void command(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) {
            REQUIRE((msr() & 0xC0) == 0x80);  // RQM, host to controller
            out(0x3F5, b);
        }
    }
    std::vector<uint8_t> result(size_t n) {
        std::vector<uint8_t> r;
        for (size_t i = 0; i < n; ++i) {
            REQUIRE((msr() & 0xD0) == 0xD0);  // RQM, DIO, CB
            r.push_back(in(0x3F5));
        }
        CHECK((msr() & 0xF0) == 0x80);  // back to the command phase
        return r;
    }
    std::vector<uint8_t> sense() {
        command({0x08});
        return result(2);
    }
    void seek(unsigned drive, uint8_t cyl) {
        command({0x0F, uint8_t(drive), cyl});
        clock.advance(Fdc::kSeekDelayNs);
        auto r = sense();
        CHECK(r[0] == (0x20 | drive));
        CHECK(r[1] == cyl);
    }
    // Programs DMA channel 2 for `bytes` bytes at `phys` (single mode).
    void dma_setup(uint32_t phys, uint32_t bytes, bool to_memory) {
        out(0x0A, 0x06);
        out(0x0C, 0);
        out(0x04, uint8_t(phys));
        out(0x04, uint8_t(phys >> 8));
        out(0x0C, 0);
        out(0x05, uint8_t(bytes - 1));
        out(0x05, uint8_t((bytes - 1) >> 8));
        out(0x0B, to_memory ? 0x46 : 0x4A);
        out(0x81, uint8_t(phys >> 16));
        out(0x0A, 0x02);
    }
    // Sends a 9-byte READ/WRITE command and waits for its result.
    std::vector<uint8_t> rw(uint8_t op, unsigned drive, uint8_t c, uint8_t h, uint8_t r, uint8_t eot,
                            uint8_t n = 2) {
        command({op, uint8_t((h << 2) | drive), c, h, r, n, eot, 0x1B, 0xFF});
        clock.advance(Fdc::kExecDelayNs);
        return result(7);
    }
    bool sector_in_memory(uint32_t phys, uint32_t lba) {
        for (uint32_t i = 0; i < 512; ++i)
            if (mem.read8(phys + i) != pattern(lba, i)) return false;
        return true;
    }

    PhysMemory mem;
    IoBus bus;
    vx86::test::ManualClock clock;
    IrqProbe irq;
    Dma8237Pair dma;
    Fdc fdc;
    std::vector<std::unique_ptr<BlockDevice>> images;
};

}  // namespace

TEST_CASE("FDC: held in reset at power-on; leaving reset interrupts with four polling statuses") {
    FdcRig r;
    CHECK(r.in(0x3F2) == 0x00);
    CHECK(r.msr() == 0x00);  // in reset: not ready
    r.out(0x3F2, 0x0C);
    CHECK(r.msr() == 0x80);
    r.clock.advance(Fdc::kResetDelayNs - 1);
    CHECK_FALSE(r.irq.level);  // a driver can set up its wait after the DOR write
    r.clock.advance(1);
    CHECK(r.irq.level);
    CHECK(r.irq.last_irq == 6);

    auto s0 = r.sense();
    CHECK(s0[0] == 0xC0);
    CHECK_FALSE(r.irq.level);  // SENSE INTERRUPT STATUS clears the interrupt
    CHECK(r.sense()[0] == 0xC1);
    CHECK(r.sense()[0] == 0xC2);
    CHECK(r.sense()[0] == 0xC3);
    r.command({0x08});
    CHECK(r.result(1)[0] == 0x80);  // nothing pending: invalid

    // DSR bit 7 is a software reset too.
    r.out(0x3F4, 0x80);
    r.clock.advance(Fdc::kResetDelayNs);
    CHECK(r.irq.rises == 2);
    CHECK(r.sense()[0] == 0xC0);
}

TEST_CASE("FDC: DOR bit 3 gates the interrupt line") {
    FdcRig r;
    r.out(0x3F2, 0x04);  // out of reset, DMA/IRQ gate closed
    r.clock.advance(Fdc::kResetDelayNs);
    CHECK_FALSE(r.irq.level);
    r.out(0x3F2, 0x0C);  // opening the gate shows the pending interrupt
    CHECK(r.irq.level);
}

TEST_CASE("FDC: VERSION, SPECIFY, CONFIGURE, PERPENDICULAR MODE, LOCK and DUMPREG") {
    FdcRig r;
    r.bring_up();
    r.command({0x10});
    CHECK(r.result(1)[0] == 0x90);

    r.out(0x3F5, 0x03);  // first byte of SPECIFY: busy with a command, still wants bytes
    CHECK(r.msr() == 0x90);
    r.command({0xAF, 0x02});
    r.command({0x13, 0x00, 0x57, 0x05});  // EIS, POLL off, FIFO on, threshold 7, pretrk 5
    r.command({0x12, 0x87});              // OW: drive 0 perpendicular, GAP, WGATE
    r.seek(0, 0);
    r.command({0x0E});
    auto d = r.result(10);
    CHECK(d == std::vector<uint8_t>{0, 0, 0, 0, 0xAF, 0x02, 0x00, 0x07, 0x57, 0x05});

    // Without LOCK a reset returns CONFIGURE to its defaults (EFIFO set, polling on).
    r.out(0x3F2, 0x18);
    r.bring_up();
    r.command({0x0E});
    d = r.result(10);
    CHECK(d[4] == 0xAF);  // SPECIFY survives
    CHECK(d[7] == 0x04);  // GAP and WGATE cleared by reset, drive bits kept
    CHECK(d[8] == 0x20);
    CHECK(d[9] == 0x00);

    // LOCK keeps CONFIGURE over a reset; with polling off, leaving reset does not interrupt.
    r.command({0x13, 0x00, 0x57, 0x05});
    r.command({0x94});
    CHECK(r.result(1)[0] == 0x10);
    r.out(0x3F2, 0x18);
    r.out(0x3F2, 0x1C);
    r.clock.advance(Fdc::kResetDelayNs);
    CHECK_FALSE(r.irq.level);
    r.command({0x0E});
    d = r.result(10);
    CHECK(d[7] == 0x84);
    CHECK(d[8] == 0x57);
    CHECK(d[9] == 0x05);
    r.command({0x14});
    CHECK(r.result(1)[0] == 0x00);
}

TEST_CASE("FDC: invalid commands answer ST0 = 0x80") {
    FdcRig r;
    r.bring_up();
    for (uint8_t op : {0x00, 0x01, 0x0B, 0x17, 0x18, 0x1F}) {
        r.command({op});
        auto res = r.result(1);
        CHECK(res[0] == 0x80);
    }
    CHECK_FALSE(r.irq.level);
}

TEST_CASE("FDC: RECALIBRATE, SEEK and RELATIVE SEEK finish with SENSE INTERRUPT STATUS") {
    FdcRig r;
    r.fdc.insert(0, r.image(k144));
    r.bring_up();
    r.command({0x0F, 0x00, 10});
    CHECK(r.msr() == 0x81);  // drive 0 busy, controller free for commands
    r.clock.advance(Fdc::kSeekDelayNs - 1);
    CHECK_FALSE(r.irq.level);
    r.clock.advance(1);
    CHECK(r.irq.level);
    auto s = r.sense();
    CHECK(s[0] == 0x20);
    CHECK(s[1] == 10);
    CHECK(r.msr() == 0x80);

    r.command({0xCF, 0x00, 5});  // relative seek, step in by 5
    r.clock.advance(Fdc::kSeekDelayNs);
    CHECK(r.sense()[1] == 15);
    r.command({0x8F, 0x00, 20});  // step out by 20: stops at track 0
    r.clock.advance(Fdc::kSeekDelayNs);
    CHECK(r.sense()[1] == 0);

    r.seek(0, 33);
    r.command({0x07, 0x00});
    r.clock.advance(Fdc::kSeekDelayNs);
    s = r.sense();
    CHECK(s[0] == 0x20);
    CHECK(s[1] == 0);

    // No drive B: track 0 is never seen: abnormal termination with equipment check.
    r.command({0x07, 0x01});
    r.clock.advance(Fdc::kSeekDelayNs);
    CHECK(r.sense()[0] == 0x71);

    // SENSE DRIVE STATUS: ready, track 0, two-sided; write protect for read-only media.
    r.command({0x04, 0x00});
    CHECK(r.result(1)[0] == 0x38);
    r.fdc.insert(0, r.image(k144, true));
    r.command({0x04, 0x04});
    CHECK(r.result(1)[0] == 0x7C);
}

TEST_CASE("FDC: READ DATA by C/H/R through DMA") {
    FdcRig r;
    r.fdc.insert(0, r.image(k144));
    r.bring_up();
    r.seek(0, 2);
    r.dma_setup(kBuf, 512, true);
    r.command({kRead, 0x04, 2, 1, 5, 2, 18, 0x1B, 0xFF});
    CHECK(r.msr() == 0x10);  // busy, no data requested from the host in DMA mode
    r.clock.advance(Fdc::kExecDelayNs - 1);
    CHECK_FALSE(r.irq.level);
    r.clock.advance(1);
    CHECK(r.irq.level);
    auto res = r.result(7);
    CHECK_FALSE(r.irq.level);  // reading the result clears it
    CHECK(res == std::vector<uint8_t>{0x04, 0x00, 0x00, 2, 1, 6, 2});
    CHECK(r.sector_in_memory(kBuf, lba144(2, 1, 5)));
    CHECK(r.dma.terminal_count(2));

    // TC in the middle of a sector ends the command normally after that sector.
    r.dma_setup(kBuf + 0x1000, 256, true);
    res = r.rw(kRead, 0, 2, 0, 9, 18);
    CHECK(res == std::vector<uint8_t>{0x00, 0x00, 0x00, 2, 0, 10, 2});
    CHECK(r.mem.read8(kBuf + 0x1000 + 255) == pattern(lba144(2, 0, 9), 255));
    CHECK(r.mem.read8(kBuf + 0x1000 + 256) == 0x00);

    // DMA channel masked: nobody serves the requests: overrun.
    r.out(0x0A, 0x06);
    res = r.rw(kRead, 0, 2, 0, 1, 18);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x10);
}

TEST_CASE("FDC: multi-sector and multi-track reads, and the end-of-cylinder rule") {
    FdcRig r;
    r.fdc.insert(0, r.image(k144));
    r.bring_up();

    // MT: sectors 17 and 18 of side 0, then 1 and 2 of side 1.
    r.dma_setup(kBuf, 4 * 512, true);
    auto res = r.rw(kReadMt, 0, 0, 0, 17, 18);
    CHECK(res == std::vector<uint8_t>{0x04, 0x00, 0x00, 0, 1, 3, 2});
    CHECK(r.sector_in_memory(kBuf, lba144(0, 0, 17)));
    CHECK(r.sector_in_memory(kBuf + 512, lba144(0, 0, 18)));
    CHECK(r.sector_in_memory(kBuf + 1024, lba144(0, 1, 1)));
    CHECK(r.sector_in_memory(kBuf + 1536, lba144(0, 1, 2)));

    // Without MT the command stops at EOT; with DMA count left over that is abnormal + EN,
    // and the result names the next cylinder's first sector.
    std::vector<uint8_t> zero(4 * 512, 0);
    r.mem.copy_to(kBuf, zero.data(), zero.size());
    r.dma_setup(kBuf, 4 * 512, true);
    res = r.rw(kRead, 0, 0, 0, 17, 18);
    CHECK(res == std::vector<uint8_t>{0x40, 0x80, 0x00, 1, 0, 1, 2});
    CHECK(r.sector_in_memory(kBuf + 512, lba144(0, 0, 18)));
    CHECK(r.mem.read8(kBuf + 1024 + 5) == 0);

    // MT on side 1 ending with TC at EOT: next is cylinder + 1, side 0, sector 1.
    r.dma_setup(kBuf, 512, true);
    res = r.rw(kReadMt, 0, 0, 1, 18, 18);
    CHECK(res == std::vector<uint8_t>{0x04, 0x00, 0x00, 1, 0, 1, 2});

    // EOT before the end of the track: TC exactly at the EOT sector is a normal end.
    r.dma_setup(kBuf, 3 * 512, true);
    res = r.rw(kRead, 0, 0, 0, 4, 6);
    CHECK(res == std::vector<uint8_t>{0x00, 0x00, 0x00, 1, 0, 1, 2});
    CHECK(r.sector_in_memory(kBuf + 1024, lba144(0, 0, 6)));
}

TEST_CASE("FDC: WRITE DATA changes the image and reads back") {
    FdcRig r;
    BlockDevice* img = r.image(k144);
    r.fdc.insert(0, img);
    r.bring_up();
    r.seek(0, 3);
    for (uint32_t i = 0; i < 1024; ++i) r.mem.write8(0x20000 + i, uint8_t(0xFF - i % 251));
    r.dma_setup(0x20000, 1024, false);
    auto res = r.rw(kWrite | 0x80, 0, 3, 0, 7, 18);
    CHECK(res == std::vector<uint8_t>{0x00, 0x00, 0x00, 3, 0, 9, 2});

    std::vector<uint8_t> disk(1024);
    REQUIRE(img->read(uint64_t(lba144(3, 0, 7)) * 512, disk.data(), disk.size()));
    bool same = true;
    for (uint32_t i = 0; i < 1024; ++i) same &= disk[i] == uint8_t(0xFF - i % 251);
    CHECK(same);
    std::vector<uint8_t> next(512);
    REQUIRE(img->read(uint64_t(lba144(3, 0, 9)) * 512, next.data(), 512));
    CHECK(next[0] == pattern(lba144(3, 0, 9), 0));

    r.dma_setup(0x30000, 1024, true);
    res = r.rw(kRead, 0, 3, 0, 7, 18);
    CHECK(res[0] == 0x00);
    same = true;
    for (uint32_t i = 0; i < 1024; ++i) same &= r.mem.read8(0x30000 + i) == uint8_t(0xFF - i % 251);
    CHECK(same);
}

TEST_CASE("FDC: write protection, missing medium, sector not found, wrong cylinder and data rate") {
    FdcRig r;
    BlockDevice* ro = r.image(k144, true);
    r.fdc.insert(0, ro);
    r.fdc.set_drive_type(1, 4);  // an empty 1.44M drive B:
    r.bring_up();

    r.dma_setup(kBuf, 512, false);
    auto res = r.rw(kWrite, 0, 0, 0, 1, 18);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x02);  // NW
    uint8_t b = 0;
    REQUIRE(ro->read(0, &b, 1));
    CHECK(b == pattern(0, 0));

    r.dma_setup(kBuf, 512, true);
    res = r.rw(kRead, 1, 0, 0, 1, 18);
    CHECK(res[0] == 0x49);  // abnormal termination, not ready, drive 1
    CHECK(r.irq.level == false);

    res = r.rw(kRead, 0, 0, 0, 19, 19);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x04);  // ND
    CHECK(res[5] == 19);

    res = r.rw(kRead, 0, 5, 0, 1, 18);  // the head is on cylinder 0
    CHECK(res[1] == 0x04);
    CHECK(res[2] == 0x10);  // WC

    res = r.rw(kRead, 0, 0, 0, 1, 18, 3);  // N = 3 does not match the 512-byte IDs
    CHECK(res[1] == 0x04);

    r.out(0x3F7, 0x02);  // 250 kbps: a 1.44M disk has no readable marks at that rate
    res = r.rw(kRead, 0, 0, 0, 1, 18);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x01);  // MA
    r.out(0x3F7, 0x00);
    r.dma_setup(kBuf, 512, true);
    res = r.rw(kRead, 0, 0, 0, 1, 18);
    CHECK(res[0] == 0x00);

    // A single-sided 180K disk has no side 1.
    r.fdc.insert(1, r.image(184320));
    r.out(0x3F7, 0x01);
    r.dma_setup(kBuf, 512, true);
    res = r.rw(kRead, 1, 0, 1, 1, 9);
    CHECK(res[0] == 0x45);
    CHECK(res[1] == 0x01);
    r.dma_setup(kBuf, 512, true);
    res = r.rw(kRead, 1, 0, 0, 9, 9);
    CHECK(res[0] == 0x01);
    CHECK(r.sector_in_memory(kBuf, 8));
}

TEST_CASE("FDC: READ ID reports the track under the head") {
    FdcRig r;
    r.fdc.insert(0, r.image(k144));
    r.bring_up();
    r.seek(0, 4);
    r.command({0x4A, 0x04});
    CHECK(r.msr() == 0x10);
    r.clock.advance(Fdc::kExecDelayNs);
    CHECK(r.irq.level);
    auto res = r.result(7);
    CHECK(res[0] == 0x04);
    CHECK(res[1] == 0x00);
    CHECK(res[3] == 4);
    CHECK(res[4] == 1);
    CHECK(res[5] >= 1);
    CHECK(res[5] <= 18);
    CHECK(res[6] == 2);

    r.fdc.eject(0);
    r.command({0x4A, 0x00});
    r.clock.advance(Fdc::kExecDelayNs);
    CHECK((r.result(7)[0] & 0xC8) == 0x48);
}

TEST_CASE("FDC: FORMAT TRACK fills the sectors with the filler byte") {
    FdcRig r;
    BlockDevice* img = r.image(k144);
    r.fdc.insert(0, img);
    r.bring_up();
    r.seek(0, 7);
    for (uint8_t s = 1; s <= 18; ++s) {
        uint32_t a = 0x40000 + (s - 1) * 4u;
        r.mem.write8(a, 7);
        r.mem.write8(a + 1, 1);
        r.mem.write8(a + 2, s);
        r.mem.write8(a + 3, 2);
    }
    r.dma_setup(0x40000, 18 * 4, false);
    r.command({0x4D, 0x04, 2, 18, 0x54, 0xF6});
    r.clock.advance(Fdc::kExecDelayNs);
    auto res = r.result(7);
    CHECK(res[0] == 0x04);
    CHECK(res[1] == 0x00);

    std::vector<uint8_t> track(18 * 512);
    REQUIRE(img->read(uint64_t(lba144(7, 1, 1)) * 512, track.data(), track.size()));
    bool filled = true;
    for (uint8_t v : track) filled &= v == 0xF6;
    CHECK(filled);
    uint8_t before = 0, after = 0;
    REQUIRE(img->read(uint64_t(lba144(7, 1, 1)) * 512 - 1, &before, 1));
    REQUIRE(img->read(uint64_t(lba144(8, 0, 1)) * 512, &after, 1));
    CHECK(before == pattern(lba144(7, 0, 18), 511));
    CHECK(after == pattern(lba144(8, 0, 1), 0));

    // Formatting a write-protected disk fails with NW.
    r.fdc.insert(0, r.image(k144, true));
    r.dma_setup(0x40000, 18 * 4, false);
    r.command({0x4D, 0x00, 2, 18, 0x54, 0xF6});
    r.clock.advance(Fdc::kExecDelayNs);
    res = r.result(7);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x02);
}

TEST_CASE("FDC: non-DMA mode moves the data through the FIFO") {
    FdcRig r;
    BlockDevice* img = r.image(k144);
    r.fdc.insert(0, img);
    r.bring_up();
    r.command({0x03, 0xAF, 0x03});  // SPECIFY with ND

    r.command({kRead, 0x00, 0, 0, 1, 2, 2, 0x1B, 0xFF});
    r.clock.advance(Fdc::kExecDelayNs);
    CHECK(r.irq.level);  // data is ready
    CHECK(r.msr() == 0xF0);  // RQM, DIO, NDMA, CB
    bool ok = true;
    for (uint32_t i = 0; i < 1024; ++i) {
        if (i % 512 == 0) CHECK(r.msr() == 0xF0);
        ok &= r.in(0x3F5) == pattern(i / 512, i % 512);
    }
    CHECK(ok);
    CHECK(r.irq.level);  // the result phase interrupts
    // No TC exists in PIO mode: the transfer ends at EOT with EN.
    auto res = r.result(7);
    CHECK(res == std::vector<uint8_t>{0x40, 0x80, 0x00, 1, 0, 1, 2});

    r.command({kWrite, 0x00, 0, 0, 3, 2, 3, 0x1B, 0xFF});
    r.clock.advance(Fdc::kExecDelayNs);
    CHECK(r.msr() == 0xB0);  // RQM, NDMA, CB: host to controller
    for (uint32_t i = 0; i < 512; ++i) r.out(0x3F5, uint8_t(i ^ 0x5A));
    res = r.result(7);
    CHECK(res[0] == 0x40);
    CHECK(res[1] == 0x80);
    std::vector<uint8_t> disk(512);
    REQUIRE(img->read(2 * 512, disk.data(), 512));
    bool same = true;
    for (uint32_t i = 0; i < 512; ++i) same &= disk[i] == uint8_t(i ^ 0x5A);
    CHECK(same);
}

TEST_CASE("FDC: the disk-change line in DIR bit 7") {
    FdcRig r;
    r.fdc.insert(0, r.image(k144));
    r.bring_up();
    CHECK((r.in(0x3F7) & 0x80) == 0x80);  // set at power-on / insert
    r.seek(0, 0);
    CHECK((r.in(0x3F7) & 0x80) == 0x80);  // no step pulse, no reset of the line
    r.seek(0, 1);
    CHECK((r.in(0x3F7) & 0x80) == 0x00);  // a step with a disk in clears it

    r.fdc.eject(0);
    CHECK((r.in(0x3F7) & 0x80) == 0x80);
    r.seek(0, 2);
    CHECK((r.in(0x3F7) & 0x80) == 0x80);  // stepping an empty drive does not clear it
    r.fdc.insert(0, r.image(k144));
    CHECK((r.in(0x3F7) & 0x80) == 0x80);
    r.command({0x07, 0x00});  // recalibrate from cylinder 2 steps
    r.clock.advance(Fdc::kSeekDelayNs);
    r.sense();
    CHECK((r.in(0x3F7) & 0x80) == 0x00);

    // The line belongs to the drive selected in the DOR.
    r.fdc.insert(1, r.image(737280));
    r.out(0x3F2, 0x2D);
    CHECK((r.in(0x3F7) & 0x80) == 0x80);
    r.out(0x3F2, 0x1C);
    CHECK((r.in(0x3F7) & 0x80) == 0x00);
}

TEST_CASE("FDC: image sizes, drive types and the port map") {
    FdcRig r;
    const std::pair<uint32_t, uint8_t> sizes[] = {{163840, 1}, {184320, 1}, {327680, 1},
                                                  {368640, 1}, {737280, 3}, {1228800, 2},
                                                  {1474560, 4}, {2949120, 5}};
    for (auto [bytes, type] : sizes) {
        r.fdc.insert(1, r.image(bytes));
        CHECK(r.fdc.drive_type(1) == type);
    }
    CHECK(r.fdc.drive_type(0) == 0);
    CHECK_THROWS_AS(r.fdc.insert(0, r.image(1000 * 512)), std::invalid_argument);
    CHECK_FALSE(r.fdc.has_medium(0));
    CHECK_THROWS_AS(r.fdc.insert(2, r.image(k144)), std::out_of_range);

    // 0x3F6 is the IDE alternate status port: the FDC must not take it.
    struct Probe final : IoDevice {
        uint32_t io_read(uint16_t, unsigned) override { return 0x5C; }
        void io_write(uint16_t, unsigned, uint32_t) override {}
    } probe;
    IoBus bus;
    bus.attach(0x3F6, 1, &probe);
    r.fdc.attach(bus);
    CHECK(bus.read(0x3F6, 1) == 0x5C);
    CHECK(bus.read(0x3F2, 1) == 0x00);
}
