// PIIX4 power management (00:01.3): configuration space, PMBA mapping, the ACPI PM timer, the
// PM1 registers, the SCI, the APM control port and S5, driven through the I/O ports as a BIOS
// and Linux do. Facts from the Intel 82371AB datasheet and ACPI 1.0 (fixed hardware).
#include "devices/piix4_pm.h"

#include <doctest/doctest.h>

#include "devices/io_bus.h"
#include "devices/pci.h"
#include "mmu/memory.h"
#include "test_clock.h"
#include "test_irq.h"

using namespace vx86;
using namespace vx86::devices;

namespace {

constexpr unsigned kDevfn = 0x0B;  // 00:01.3
constexpr uint16_t kBase = 0x600;
constexpr uint64_t kSec = 1'000'000'000ull;

// The PM timer count an ideal 3.579545 MHz counter shows at `ns` (ns < ~5e12 here).
uint32_t ideal_timer(uint64_t ns) { return uint32_t((ns * 3579545ull / kSec) & 0xFFFFFF); }

struct Rig {
    IoBus io;
    mmu::PhysMemory mem{1u << 20};
    PciBus bus{io, mem};
    test::ManualClock clock;
    test::IrqRecorder pic;
    Piix4Pm pm{io, clock, IrqLine{&pic, 9}};
    int power_offs = 0;

    Rig() {
        bus.attach();
        bus.add(kDevfn, &pm);
        pm.attach();
        pm.power_off = [this] { ++power_offs; };
    }
    uint32_t cfg(uint8_t off, unsigned size) {
        io.write(0xCF8, 4, 0x80000000u | kDevfn << 8 | (off & 0xFC));
        return io.read(uint16_t(0xCFC + (off & 3)), size);
    }
    void set_cfg(uint8_t off, unsigned size, uint32_t v) {
        io.write(0xCF8, 4, 0x80000000u | kDevfn << 8 | (off & 0xFC));
        io.write(uint16_t(0xCFC + (off & 3)), size, v);
    }
    // What SeaBIOS's piix4_pm_setup does: PMBA = 0x600, PMIOSE on.
    void enable_pm() {
        set_cfg(0x40, 4, kBase | 1);
        set_cfg(0x80, 1, 0x01);
    }
    uint16_t sts() { return uint16_t(io.read(kBase + 0, 2)); }
    uint16_t cnt() { return uint16_t(io.read(kBase + 4, 2)); }
    uint32_t tmr() { return io.read(kBase + 8, 4); }
};

}  // namespace

TEST_CASE("piix4-pm: identity and power-on configuration") {
    Rig r;
    CHECK(r.cfg(0x00, 4) == 0x71138086);
    CHECK(r.cfg(0x08, 4) == 0x06800003);  // class 06 subclass 80 prog-if 0, revision 03
    CHECK(r.cfg(0x3D, 1) == 1);           // INTA#
    CHECK(r.cfg(0x40, 4) == 0x00000001);  // PMBA: I/O space indicator only
    CHECK(r.cfg(0x80, 1) == 0x00);        // PMIOSE off
    CHECK(r.cfg(0x90, 4) == 0x00000001);  // SMBBA
    CHECK((r.cfg(0x58, 4) & (1u << 25)) != 0);  // APMC_EN: no SMM to set up
    CHECK(r.pm.pm_base() == 0);
    CHECK(r.io.read(kBase + 8, 4) == 0xFFFFFFFF);  // nothing decoded yet
    r.set_cfg(0x3C, 1, 9);
    CHECK(r.cfg(0x3C, 1) == 9);
}

TEST_CASE("piix4-pm: PMBA takes bits 15:6, and the block is decoded only while PMIOSE is set") {
    Rig r;
    r.set_cfg(0x40, 4, 0xFFFFFFFF);
    CHECK(r.cfg(0x40, 4) == 0x0000FFC1);
    r.set_cfg(0x40, 4, 0x0000063F);  // low bits below 64-byte alignment are not stored
    CHECK(r.cfg(0x40, 4) == 0x00000601);
    CHECK(r.io.read(kBase + 4, 2) == 0xFFFF);  // still off
    r.set_cfg(0x80, 1, 0xFF);
    CHECK(r.cfg(0x80, 1) == 0x01);
    CHECK(r.pm.pm_base() == kBase);
    CHECK(r.io.read(kBase + 4, 2) == 0x0000);
    CHECK(r.io.read(kBase + 0x3F, 1) == 0x00);  // inside the 64-port block
    CHECK(r.io.read(kBase + 0x40, 1) == 0xFF);  // past it

    r.set_cfg(0x40, 2, 0x0701);  // move it
    CHECK(r.pm.pm_base() == 0x700);
    CHECK(r.io.read(kBase + 4, 2) == 0xFFFF);
    CHECK(r.io.read(0x704, 2) == 0x0000);

    r.set_cfg(0x80, 1, 0x00);
    CHECK(r.pm.pm_base() == 0);
    CHECK(r.io.read(0x704, 2) == 0xFFFF);

    r.set_cfg(0x90, 4, 0x0000710F);  // SMBus base and host configuration: storage only
    CHECK(r.cfg(0x90, 4) == 0x00007101);
    r.set_cfg(0xD2, 1, 0x09);
    CHECK(r.cfg(0xD2, 1) == 0x09);
}

TEST_CASE("piix4-pm: the PM timer counts at 3.579545 MHz of virtual time, 24 bits wide") {
    Rig r;
    r.enable_pm();
    CHECK(r.tmr() == 0);
    r.clock.advance(123'456'789);
    uint32_t t0 = r.tmr();
    CHECK(t0 == ideal_timer(123'456'789));
    r.clock.advance(kSec);
    uint32_t t1 = r.tmr();
    uint32_t delta = (t1 - t0) & 0xFFFFFF;
    CHECK(delta >= 3579544);
    CHECK(delta <= 3579546);

    // 2^24 ticks take 4.686969 s: the count wraps to small values and bits 31:24 stay 0.
    r.clock.advance_to(4'686'000'000ull);
    uint32_t before = r.tmr();
    CHECK(before == ideal_timer(4'686'000'000ull));
    CHECK(before > 0xFF0000);
    r.clock.advance_to(4'688'000'000ull);
    uint32_t after = r.tmr();
    CHECK(after == ideal_timer(4'688'000'000ull));
    CHECK(after < 0x10000);
    // Long runs stay exact (no 64-bit overflow in ns * rate).
    r.clock.advance_to(10'000ull * kSec + 5);
    CHECK(r.tmr() == uint32_t((10'000ull * 3579545ull + 5ull * 3579545ull / kSec) & 0xFFFFFF));
    // Byte reads see the same count; byte 3 is reserved.
    uint32_t t = r.tmr();
    CHECK(r.io.read(kBase + 8, 1) == (t & 0xFF));
    CHECK(r.io.read(kBase + 10, 1) == ((t >> 16) & 0xFF));
    CHECK(r.io.read(kBase + 11, 1) == 0);
    r.io.write(kBase + 8, 4, 0);  // read-only
    CHECK(r.tmr() == t);
}

namespace {
// A clock that moves 100 ns each time it is read, as host time does under a real-time run.
class CreepingClock final : public devices::Clock {
public:
    uint64_t now_ns() const override { return now_ += 100; }
    devices::TimerId add_timer(std::string, std::function<void()>) override { return 0; }
    void arm(devices::TimerId, uint64_t) override {}
    void cancel(devices::TimerId) override {}
    bool armed(devices::TimerId) const override { return false; }
    mutable uint64_t now_ = 0;
};
}  // namespace

TEST_CASE("piix4-pm: a word or dword read of the PM timer is one sample of it") {
    // Read byte by byte, with time moving between the bytes, a carry out of the low byte
    // tears the count (low byte FFh, high bytes already incremented): it jumps ahead, then
    // back. Each wide read must be the timer at one instant: never backwards, never ahead.
    IoBus io;
    mmu::PhysMemory mem{1u << 20};
    PciBus bus{io, mem};
    CreepingClock clock;
    test::IrqRecorder pic;
    Piix4Pm pm{io, clock, IrqLine{&pic, 9}};
    bus.attach();
    bus.add(kDevfn, &pm);
    pm.attach();
    io.write(0xCF8, 4, 0x80000000u | kDevfn << 8 | 0x40);
    io.write(0xCFC, 4, kBase | 1);
    io.write(0xCF8, 4, 0x80000000u | kDevfn << 8 | 0x80);
    io.write(0xCFC, 1, 0x01);
    for (unsigned size : {4u, 2u}) {
        CAPTURE(size);
        const uint32_t mask = size == 4 ? 0xFFFFFF : 0xFFFF;
        uint32_t prev = io.read(kBase + 8, size), carries = 0;
        for (int k = 0; k < 20000; ++k) {
            const uint32_t v = io.read(kBase + 8, size);
            const uint32_t step = (v - prev) & mask;
            if ((v ^ prev) & 0x100) ++carries;
            REQUIRE(step <= 2);  // 100 ns a read: a tick (279 ns) every 2-3 reads
            prev = v;
        }
        CHECK(carries > 20);  // the low byte carried many times on the way
    }
}

TEST_CASE("piix4-pm: TMROF_STS is set each time bit 23 of the timer toggles") {
    Rig r;
    r.enable_pm();
    // Bit 23 first goes 0 -> 1 at tick 2^23 = 8388608, i.e. at 2.343484 s.
    r.clock.advance_to(2'343'000'000ull);
    CHECK((r.sts() & kPmTmrSts) == 0);
    r.clock.advance_to(2'344'000'000ull);
    CHECK((r.sts() & kPmTmrSts) != 0);
    r.io.write(kBase + 0, 2, 0x0000);  // writing 0 clears nothing
    CHECK((r.sts() & kPmTmrSts) != 0);
    r.io.write(kBase + 0, 2, kPmTmrSts);
    CHECK((r.sts() & kPmTmrSts) == 0);
    // Next toggle (1 -> 0, the 24-bit wrap) at 4.686968 s.
    r.clock.advance_to(4'686'000'000ull);
    CHECK((r.sts() & kPmTmrSts) == 0);
    r.clock.advance_to(4'687'500'000ull);
    CHECK((r.sts() & kPmTmrSts) != 0);
}

TEST_CASE("piix4-pm: PM1 status bits are write-1-to-clear, enables keep only defined bits") {
    Rig r;
    r.enable_pm();
    r.pm.press_power_button();
    CHECK(r.sts() == kPmPwrbtnSts);
    r.io.write(kBase + 0, 2, kPmTmrSts | kPmWakSts);  // other bits: PWRBTN_STS stays
    CHECK(r.sts() == kPmPwrbtnSts);
    r.io.write(kBase + 1, 1, 0x01);  // byte write to the high half clears bit 8
    CHECK(r.sts() == 0);
    r.io.write(kBase + 0, 2, 0xFFFF);  // 1s never set anything
    CHECK(r.sts() == 0);

    r.io.write(kBase + 2, 2, 0xFFFF);
    CHECK(r.io.read(kBase + 2, 2) == (kPmTmrEn | kPmGblEn | kPmPwrbtnEn | kPmRtcEn));
    r.io.write(kBase + 2, 1, 0x00);  // low byte only
    CHECK(r.io.read(kBase + 2, 2) == (kPmPwrbtnEn | kPmRtcEn));
}

TEST_CASE("piix4-pm: the SCI follows enabled, pending events while SCI_EN is set") {
    Rig r;
    r.enable_pm();
    r.io.write(kBase + 2, 2, kPmPwrbtnEn);
    r.pm.press_power_button();
    CHECK_FALSE(r.pic.level[9]);  // SCI_EN clear: the event waits
    r.io.write(kApmCntPort, 1, kAcpiEnableCmd);
    CHECK((r.cnt() & kPmSciEn) != 0);
    CHECK(r.pic.level[9]);
    CHECK(r.pic.rises[9] == 1);
    r.io.write(kBase + 0, 2, kPmPwrbtnSts);  // the OS acknowledges
    CHECK_FALSE(r.pic.level[9]);

    r.io.write(kBase + 2, 2, 0);  // disabled event: status without SCI
    r.pm.press_power_button();
    CHECK(r.sts() == kPmPwrbtnSts);
    CHECK_FALSE(r.pic.level[9]);
    r.io.write(kBase + 2, 2, kPmPwrbtnEn);  // enabling a pending event raises it
    CHECK(r.pic.level[9]);
    r.io.write(kApmCntPort, 1, kAcpiDisableCmd);
    CHECK((r.cnt() & kPmSciEn) == 0);
    CHECK_FALSE(r.pic.level[9]);
    CHECK(r.pic.rises[9] == 2);
    CHECK(r.pic.level[10] == false);  // only IRQ 9 is driven
}

TEST_CASE("piix4-pm: with TMROF_EN the SCI comes at the bit-23 toggle, without a read") {
    Rig r;
    r.enable_pm();
    r.io.write(kApmCntPort, 1, kAcpiEnableCmd);
    r.io.write(kBase + 2, 2, kPmTmrEn);
    r.clock.advance_to(2'343'400'000ull);
    CHECK_FALSE(r.pic.level[9]);
    r.clock.advance_to(2'343'500'000ull);  // tick 2^23 at 2'343'484'xxx ns
    CHECK(r.pic.level[9]);
    r.io.write(kBase + 0, 2, kPmTmrSts);
    CHECK_FALSE(r.pic.level[9]);
    r.clock.advance_to(4'686'900'000ull);
    CHECK_FALSE(r.pic.level[9]);
    r.clock.advance_to(4'687'000'000ull);  // the wrap at 4'686'968'xxx ns
    CHECK(r.pic.level[9]);
    CHECK(r.pic.rises[9] == 2);
    // Disabling the timer event drops the SCI; no more timer interrupts.
    r.io.write(kBase + 2, 2, 0);
    CHECK_FALSE(r.pic.level[9]);
    r.clock.advance_to(12 * kSec);
    CHECK(r.pic.rises[9] == 2);
}

TEST_CASE("piix4-pm: APM control and status ports") {
    Rig r;
    r.enable_pm();
    r.io.write(kApmStsPort, 1, 0x5A);
    CHECK(r.io.read(kApmStsPort, 1) == 0x5A);
    r.io.write(kApmCntPort, 1, 0x42);  // another command: no SCI_EN change
    CHECK(r.io.read(kApmCntPort, 1) == 0x42);
    CHECK((r.cnt() & kPmSciEn) == 0);
    r.io.write(kApmCntPort, 1, 0xF1);
    CHECK((r.cnt() & kPmSciEn) != 0);
    r.io.write(kApmCntPort, 1, 0x42);
    CHECK((r.cnt() & kPmSciEn) != 0);
    r.io.write(kApmCntPort, 1, 0xF0);
    CHECK((r.cnt() & kPmSciEn) == 0);
    // SeaBIOS's SMM probe: with APMC_EN already set it never writes these; the status port
    // keeps what was written (nothing clears it behind the BIOS's back).
    r.io.write(kApmStsPort, 1, 0x01);
    r.io.write(kApmCntPort, 1, 0x00);
    CHECK(r.io.read(kApmStsPort, 1) == 0x01);
}

TEST_CASE("piix4-pm: SUS_EN with SUS_TYP soft-off powers off; other types only wake") {
    Rig r;
    r.enable_pm();
    r.io.write(kApmCntPort, 1, kAcpiEnableCmd);
    // SLP_TYP without SLP_EN: stored, nothing happens.
    r.io.write(kBase + 4, 2, 1u << 10 | kPmSciEn);
    CHECK(r.cnt() == (1u << 10 | kPmSciEn));
    CHECK(r.power_offs == 0);
    // S1/S3-like type 1 (suspend to RAM) with SLP_EN: wakes at once, WAK_STS set.
    r.io.write(kBase + 4, 2, 1u << 10 | kPmSlpEn | kPmSciEn);
    CHECK(r.power_offs == 0);
    CHECK((r.sts() & kPmWakSts) != 0);
    CHECK((r.cnt() & kPmSlpEn) == 0);  // write-only
    r.io.write(kBase + 0, 2, kPmWakSts);
    CHECK((r.sts() & kPmWakSts) == 0);
    // Type 5 (reserved on the PIIX4 list after "working") is not soft off either.
    r.io.write(kBase + 4, 2, 5u << 10 | kPmSlpEn | kPmSciEn);
    CHECK(r.power_offs == 0);
    // Soft off (SUS_TYP 000), as Linux writes it: type first, then type | SLP_EN.
    r.io.write(kBase + 4, 2, kPmSciEn);
    CHECK(r.power_offs == 0);
    r.io.write(kBase + 4, 2, kPmSlpEn | kPmSciEn);
    CHECK(r.power_offs == 1);
    // A byte write to the high half is enough (outb of 0x20 to PMCNTRL+1).
    r.io.write(kBase + 5, 1, 0x20);
    CHECK(r.power_offs == 2);
}

TEST_CASE("piix4-pm: GPE0 block at 0xAFE0: status reads 0, enables are read/write") {
    Rig r;
    CHECK(r.io.read(0xAFE0, 2) == 0);
    r.io.write(0xAFE0, 2, 0xFFFF);
    CHECK(r.io.read(0xAFE0, 2) == 0);
    r.io.write(0xAFE2, 2, 0xBEEF);
    CHECK(r.io.read(0xAFE2, 2) == 0xBEEF);
    CHECK(r.io.read(0xAFE0, 4) == 0xBEEF0000);
    CHECK(r.io.read(0xAFE4, 1) == 0xFF);  // four bytes only
    CHECK_FALSE(r.pic.level[9]);
}

TEST_CASE("piix4-pm: reset returns to power-on state and unmaps the block") {
    Rig r;
    r.enable_pm();
    r.io.write(kApmCntPort, 1, kAcpiEnableCmd);
    r.io.write(kBase + 2, 2, kPmPwrbtnEn);
    r.io.write(0xAFE2, 2, 0x0001);
    r.pm.press_power_button();
    REQUIRE(r.pic.level[9]);
    r.bus.reset();
    CHECK_FALSE(r.pic.level[9]);
    CHECK(r.pm.pm_base() == 0);
    CHECK(r.cfg(0x40, 4) == 0x00000001);
    CHECK(r.cfg(0x80, 1) == 0);
    CHECK(r.io.read(kBase + 4, 2) == 0xFFFF);
    CHECK(r.io.read(0xAFE2, 2) == 0);
    CHECK((r.cfg(0x58, 4) & (1u << 25)) != 0);
    r.enable_pm();
    CHECK(r.cnt() == 0);
    CHECK(r.sts() == 0);
    CHECK(r.io.read(kBase + 2, 2) == 0);
    r.pm.reset();  // the same without a bus
    CHECK(r.pm.pm_base() == 0);
}
