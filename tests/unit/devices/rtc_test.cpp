// Rtc: the MC146818A's time registers, formats, update cycle and interrupts as the datasheet
// describes them, the calendar across month, year and leap-year ends, and the PC CMOS layout
// that fill_pc_cmos() writes for the BIOS.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "devices/io_bus.h"
#include "devices/rtc.h"
#include "test_clock.h"

using namespace vx86::devices;
using vx86::test::ManualClock;

namespace {

constexpr uint64_t kSec = 1'000'000'000;
constexpr int64_t k2024Feb28_235958 = 1709164798;  // a Wednesday

struct RecordingSink final : IrqSink {
    std::vector<uint64_t> rises;
    bool level = false;
    const ManualClock* clock = nullptr;
    void set_irq(unsigned irq, bool l) override {
        if (irq != 8) return;
        if (l && !level) rises.push_back(clock->now_ns());
        level = l;
    }
};

struct RtcRig {
    ManualClock clock;
    RecordingSink sink;
    Rtc rtc;
    IoBus bus;
    explicit RtcRig(int64_t start) : rtc(clock, IrqLine{&sink, 8}, start) {
        sink.clock = &clock;
        rtc.attach(bus);
    }
    uint8_t rd(uint8_t reg) {
        bus.write(0x70, 1, reg);
        return uint8_t(bus.read(0x71, 1));
    }
    void wr(uint8_t reg, uint8_t v) {
        bus.write(0x70, 1, reg);
        bus.write(0x71, 1, v);
    }
    // Runs a guest interrupt handler that reads reg C whenever IRQ8 is up, stepping time by
    // `step` ns until `until`; returns the number of interrupts handled.
    unsigned run_handler(uint64_t until, uint64_t step) {
        unsigned n = 0;
        while (clock.now_ns() < until) {
            clock.advance_to(std::min(until, clock.now_ns() + step));
            if (sink.level) {
                rd(0x0C);
                ++n;
            }
        }
        return n;
    }
};

}  // namespace

TEST_CASE("RTC: calendar conversion") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(1969, 12, 31) == -1);
    CivilDate d = civil_from_days(19782);  // 2024-02-29
    CHECK(d.year == 2024);
    CHECK(d.month == 2);
    CHECK(d.day == 29);
    d = civil_from_days(-719468);  // 0000-03-01, the start of the 400-year cycle
    CHECK(d.year == 0);
    CHECK(d.month == 3);
    CHECK(d.day == 1);
    int mismatches = 0;  // round trip over +-2000 years
    for (int64_t day = -800000; day < 800000; day += 997) {
        CivilDate c = civil_from_days(day);
        if (days_from_civil(c.year, c.month, c.day) != day) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("RTC: BCD time after advancing the clock, leap day, day of week") {
    RtcRig r(k2024Feb28_235958);
    CHECK(r.rd(0x0B) == 0x02);  // 24 h, BCD
    CHECK(r.rd(0x00) == 0x58);
    CHECK(r.rd(0x02) == 0x59);
    CHECK(r.rd(0x04) == 0x23);
    CHECK(r.rd(0x06) == 4);  // Sunday = 1
    CHECK(r.rd(0x07) == 0x28);
    CHECK(r.rd(0x08) == 0x02);
    CHECK(r.rd(0x09) == 0x24);
    CHECK(r.rd(0x32) == 0x20);
    r.clock.advance(kSec);
    CHECK(r.rd(0x00) == 0x59);
    r.clock.advance(kSec);
    CHECK(r.rd(0x00) == 0x00);
    CHECK(r.rd(0x04) == 0x00);
    CHECK(r.rd(0x07) == 0x29);  // 2024 is a leap year
    CHECK(r.rd(0x08) == 0x02);
    CHECK(r.rd(0x06) == 5);
    r.clock.advance(86400 * kSec);
    CHECK(r.rd(0x07) == 0x01);
    CHECK(r.rd(0x08) == 0x03);
    CHECK(r.rd(0x06) == 6);
    CHECK(r.rtc.guest_time() == k2024Feb28_235958 + 2 + 86400);
}

TEST_CASE("RTC: binary mode and 12-hour mode") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x0B, 0x04);  // binary, 12 h
    CHECK(r.rd(0x00) == 58);
    CHECK(r.rd(0x02) == 59);
    CHECK(r.rd(0x04) == (0x80 | 11));  // 11 PM
    CHECK(r.rd(0x09) == 24);
    CHECK(r.rd(0x32) == 20);
    r.clock.advance(2 * kSec);
    CHECK(r.rd(0x04) == 12);  // midnight is 12 AM
    r.clock.advance(3600 * kSec);
    CHECK(r.rd(0x04) == 1);
    r.clock.advance(11 * 3600 * kSec);
    CHECK(r.rd(0x04) == (0x80 | 12));  // noon is 12 PM
    r.wr(0x0B, 0x00);                    // BCD, 12 h
    r.clock.advance(3600 * kSec);
    CHECK(r.rd(0x04) == 0x81);
    r.wr(0x0B, 0x02);  // BCD, 24 h
    CHECK(r.rd(0x04) == 0x13);
}

TEST_CASE("RTC: month, year and century ends and leap years") {
    struct Case {
        int64_t start;
        uint8_t day, month, year, century;
    };
    const Case cases[] = {
        {1704067199, 0x01, 0x01, 0x24, 0x20},  // 2023-12-31 23:59:59 -> 2024-01-01
        {4107542399, 0x01, 0x03, 0x00, 0x21},  // 2100-02-28 -> 2100-03-01 (not a leap year)
        {951782399, 0x29, 0x02, 0x00, 0x20},   // 2000-02-28 -> 2000-02-29 (leap year)
        {946684799, 0x01, 0x01, 0x00, 0x20},   // 1999-12-31 -> 2000-01-01
    };
    for (const Case& c : cases) {
        RtcRig r(c.start);
        CHECK(r.rd(0x00) == 0x59);
        r.clock.advance(kSec);
        CHECK(r.rd(0x00) == 0x00);
        CHECK(r.rd(0x07) == c.day);
        CHECK(r.rd(0x08) == c.month);
        CHECK(r.rd(0x09) == c.year);
        CHECK(r.rd(0x32) == c.century);
    }
    // 2100-03-01 is a Monday (2).
    RtcRig r(4107542400);
    CHECK(r.rd(0x06) == 2);
}

TEST_CASE("RTC: SET halts updates; written time takes effect") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x0B, 0x82);  // SET
    r.wr(0x00, 0x30);
    r.wr(0x02, 0x15);
    r.wr(0x04, 0x10);
    r.wr(0x07, 0x31);
    r.wr(0x08, 0x12);
    r.wr(0x09, 0x99);
    r.wr(0x32, 0x19);
    r.clock.advance(5 * kSec);
    CHECK(r.rd(0x00) == 0x30);  // no updates while SET
    CHECK((r.rd(0x0A) & 0x80) == 0);
    r.clock.advance(kSec / 4);  // 5.25 s: the divider phase stays at whole seconds
    r.wr(0x0B, 0x02);
    CHECK(r.rd(0x00) == 0x30);
    r.clock.advance_to(6 * kSec - 1);
    CHECK(r.rd(0x00) == 0x30);
    r.clock.advance_to(6 * kSec);
    CHECK(r.rd(0x00) == 0x31);
    r.clock.advance(29 * kSec);
    CHECK(r.rd(0x00) == 0x00);
    CHECK(r.rd(0x02) == 0x16);
    // Without SET, a single register write moves the time at once.
    r.wr(0x04, 0x23);
    r.wr(0x02, 0x59);
    r.wr(0x00, 0x59);
    r.clock.advance(kSec);
    CHECK(r.rd(0x04) == 0x00);
    CHECK(r.rd(0x07) == 0x01);
    CHECK(r.rd(0x08) == 0x01);
    CHECK(r.rd(0x09) == 0x00);
    CHECK(r.rd(0x32) == 0x20);
    CHECK(r.rtc.guest_time() == 946684800);
}

TEST_CASE("RTC: SET clears UIE; day of week counts from the written value") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x0B, 0x12);  // UIE
    r.wr(0x0B, 0x92);  // SET going high clears UIE
    CHECK(r.rd(0x0B) == 0x82);
    r.wr(0x06, 0x07);  // the chip only counts the day of week
    r.wr(0x0B, 0x02);
    r.clock.advance(2 * kSec);  // past midnight
    CHECK(r.rd(0x06) == 0x01);
}

TEST_CASE("RTC: UIP is set during the 244 us before each update") {
    RtcRig r(k2024Feb28_235958);
    r.clock.advance_to(kSec - 300'000);
    CHECK((r.rd(0x0A) & 0x80) == 0);
    r.clock.advance_to(kSec - 200'000);
    CHECK(r.rd(0x0A) == 0xA6);
    CHECK(r.rd(0x00) == 0x58);  // the time is still the old second
    r.clock.advance_to(kSec);
    CHECK(r.rd(0x0A) == 0x26);
    CHECK(r.rd(0x00) == 0x59);
    r.wr(0x0A, 0xA6);  // UIP is read-only
    CHECK(r.rd(0x0A) == 0x26);
    CHECK(r.rd(0x0D) == 0x80);  // VRT
}

TEST_CASE("RTC: periodic interrupt rates") {
    SUBCASE("1024 Hz (RS = 6)") {
        RtcRig r(0);
        r.wr(0x0B, 0x42);  // PIE
        CHECK(r.run_handler(kSec, 100'000) == 1024);
        REQUIRE(r.sink.rises.size() == 1024);
        CHECK(r.sink.rises[0] == 976563);  // 1/1024 s, rounded up to the ns
        CHECK(r.sink.rises[1023] == kSec);
    }
    SUBCASE("2 Hz (RS = 15) and 8192 Hz (RS = 3)") {
        RtcRig r(0);
        r.wr(0x0A, 0x2F);
        r.wr(0x0B, 0x42);
        CHECK(r.run_handler(2 * kSec, 10'000'000) == 4);
        r.wr(0x0A, 0x23);
        CHECK(r.run_handler(3 * kSec, 20'000) == 8192);
        r.wr(0x0A, 0x21);  // RS = 1 repeats RS = 8 (256 Hz) with a 32.768 kHz time base
        CHECK(r.run_handler(4 * kSec, 1'000'000) == 256);
    }
    SUBCASE("RS = 0 disables; PF is set without PIE but raises no IRQ") {
        RtcRig r(0);
        r.wr(0x0A, 0x20);
        r.wr(0x0B, 0x42);
        r.clock.advance(kSec / 2);
        CHECK(r.sink.rises.empty());
        r.wr(0x0A, 0x26);
        r.wr(0x0B, 0x02);
        r.clock.advance(kSec / 10);
        CHECK(r.rd(0x0C) == 0x40);
        CHECK(r.sink.rises.empty());
        CHECK(r.rd(0x0C) == 0x00);
    }
}

TEST_CASE("RTC: reg C read clears the flags and lowers IRQ8") {
    RtcRig r(0);
    r.wr(0x0B, 0x42);
    r.clock.advance(1'000'000);
    CHECK(r.sink.level);
    r.clock.advance(5'000'000);
    CHECK(r.sink.rises.size() == 1);  // stays high: no new edge until reg C is read
    CHECK(r.rd(0x0C) == 0xC0);
    CHECK_FALSE(r.sink.level);
    CHECK(r.rd(0x0C) == 0x00);
    r.clock.advance(1'000'000);
    CHECK(r.sink.rises.size() == 2);
    // Enabling an interrupt whose flag is already set raises IRQ8 at once; disabling it drops it.
    r.wr(0x0B, 0x02);
    CHECK(r.rd(0x0C) == 0x40);
    r.clock.advance(1'000'000);
    CHECK_FALSE(r.sink.level);
    r.wr(0x0B, 0x42);
    CHECK(r.sink.level);
    r.wr(0x0B, 0x02);
    CHECK_FALSE(r.sink.level);
}

TEST_CASE("RTC: update-ended interrupt once per second") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x0A, 0x20);  // no periodic flag
    r.wr(0x0B, 0x12);  // UIE
    CHECK(r.run_handler(5 * kSec + 1, 50'000'000) == 5);
    REQUIRE(r.sink.rises.size() == 5);
    CHECK(r.sink.rises[0] == kSec);
    CHECK(r.sink.rises[4] == 5 * kSec);
    r.clock.advance(kSec);
    CHECK(r.rd(0x0C) == 0x90);  // IRQF | UF
}

TEST_CASE("RTC: alarm interrupt with exact and don't-care values") {
    RtcRig r(k2024Feb28_235958);  // 23:59:58
    r.wr(0x0A, 0x20);             // no periodic flag
    r.wr(0x01, 0x05);
    r.wr(0x03, 0x00);
    r.wr(0x05, 0x00);  // 00:00:05
    r.wr(0x0B, 0x22);  // AIE
    r.clock.advance_to(7 * kSec - 1);
    CHECK(r.sink.rises.empty());
    r.clock.advance_to(7 * kSec);
    REQUIRE(r.sink.rises.size() == 1);
    CHECK(r.sink.rises[0] == 7 * kSec);
    CHECK(r.rd(0x0C) == 0xB0);  // IRQF | AF | UF
    r.clock.advance(60 * kSec);
    CHECK(r.sink.rises.size() == 1);  // next match is a day later
    CHECK((r.rd(0x0C) & 0x20) == 0);

    // Hours and minutes "don't care": once a minute, at second 05.
    r.wr(0x03, 0xC0);
    r.wr(0x05, 0xFF);
    r.rd(0x0C);
    uint64_t now = r.clock.now_ns();  // 00:01:05
    r.clock.advance(59 * kSec);
    CHECK(r.sink.rises.size() == 1);
    r.clock.advance(kSec);
    CHECK(r.sink.rises.size() == 2);
    CHECK(r.sink.rises[1] == now + 60 * kSec);
    r.rd(0x0C);

    // All three don't care: every second.
    r.wr(0x01, 0xC0);
    CHECK(r.run_handler(r.clock.now_ns() + 3 * kSec, 100'000'000) == 3);

    // Alarm flag without AIE: set, no interrupt.
    r.wr(0x0B, 0x02);
    r.clock.advance(kSec);
    CHECK(r.rd(0x0C) == 0x30);
}

TEST_CASE("RTC: divider reset and NMI mask bit") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x0A, 0x66);  // DV = 110: divider held in reset
    r.clock.advance_to(10 * kSec + kSec / 4);
    CHECK(r.rd(0x00) == 0x58);
    r.wr(0x0A, 0x26);  // first update 500 ms later
    r.clock.advance_to(10 * kSec + kSec * 3 / 4 - 1);
    CHECK(r.rd(0x00) == 0x58);
    r.clock.advance_to(10 * kSec + kSec * 3 / 4);
    CHECK(r.rd(0x00) == 0x59);

    r.bus.write(0x70, 1, 0x8D);
    CHECK(r.rtc.nmi_masked());
    CHECK(r.bus.read(0x71, 1) == 0x80);
    r.bus.write(0x70, 1, 0x0D);
    CHECK_FALSE(r.rtc.nmi_masked());
}

TEST_CASE("RTC: reset clears interrupt state, keeps time and NVRAM") {
    RtcRig r(k2024Feb28_235958);
    r.wr(0x40, 0x5A);
    r.wr(0x0B, 0x7A);  // PIE AIE UIE SQWE, 24 h
    r.clock.advance(kSec);
    CHECK(r.sink.level);
    r.rtc.reset();
    CHECK_FALSE(r.sink.level);
    CHECK(r.rd(0x0B) == 0x02);
    CHECK(r.rd(0x0C) == 0x00);
    CHECK(r.rd(0x40) == 0x5A);
    CHECK(r.rd(0x00) == 0x59);
    CHECK(r.rd(0x0A) == 0x26);
}

TEST_CASE("RTC: fill_pc_cmos") {
    SUBCASE("128 MiB, two floppies, one disk, boot c d a, 4 CPUs") {
        RtcRig r(k2024Feb28_235958);
        PcCmos cfg;
        cfg.ram_bytes = 128ull << 20;
        cfg.floppy_a = 4;
        cfg.floppy_b = 3;
        cfg.hd_present[0] = true;
        cfg.hd_geometry[0] = {1024, 16, 63};
        cfg.boot_order = "cda";
        cfg.smp_cpus = 4;
        fill_pc_cmos(r.rtc, cfg);
        CHECK(r.rd(0x10) == 0x43);
        CHECK(r.rd(0x12) == 0xF0);
        CHECK(r.rd(0x19) == 47);
        CHECK(r.rd(0x1B) == 0x00);  // cylinders 1024
        CHECK(r.rd(0x1C) == 0x04);
        CHECK(r.rd(0x1D) == 16);
        CHECK(r.rd(0x20) == 0x08);  // more than 8 heads
        CHECK(r.rd(0x23) == 63);
        CHECK(r.rd(0x14) == 0x43);  // 2 floppies, FPU, VGA
        CHECK(r.rd(0x15) == 0x80);
        CHECK(r.rd(0x16) == 0x02);  // 640 KiB
        CHECK(r.rd(0x17) == 0x00);
        CHECK(r.rd(0x18) == 0xFC);  // 63 MiB = 64512 KiB above 1 MiB
        CHECK(r.rd(0x30) == 0x00);
        CHECK(r.rd(0x31) == 0xFC);
        CHECK(r.rd(0x34) == 0x00);
        CHECK(r.rd(0x35) == 0x07);  // 112 MiB in 64 KiB units = 0x0700
        CHECK(r.rd(0x5B) == 0);
        CHECK(r.rd(0x5C) == 0);
        CHECK(r.rd(0x5D) == 0);
        CHECK(r.rd(0x5F) == 3);
        CHECK(r.rd(0x3D) == 0x32);  // first hard disk (2), second CD-ROM (3)
        CHECK(r.rd(0x38) == 0x10);  // third floppy (1)
        CHECK(r.rd(0x32) == 0x20);
        unsigned sum = 0;
        for (uint8_t a = 0x10; a <= 0x2D; ++a) sum += r.rd(a);
        CHECK(r.rd(0x2E) == (sum >> 8));
        CHECK(r.rd(0x2F) == (sum & 0xFF));
    }
    SUBCASE("6 GiB with 3 GiB below 4 GiB, no floppies") {
        RtcRig r(k2024Feb28_235958);
        PcCmos cfg;
        cfg.ram_bytes = 6ull << 30;
        cfg.below_4g_bytes = 3ull << 30;
        fill_pc_cmos(r.rtc, cfg);
        CHECK(r.rd(0x10) == 0x00);
        CHECK(r.rd(0x14) == 0x02);
        CHECK(r.rd(0x18) == 0xFC);
        CHECK(r.rd(0x34) == 0x00);
        CHECK(r.rd(0x35) == 0xBF);  // (3 GiB - 16 MiB) / 64 KiB = 0xBF00
        CHECK(r.rd(0x5B) == 0x00);
        CHECK(r.rd(0x5C) == 0xC0);  // 3 GiB / 64 KiB = 0x00C000
        CHECK(r.rd(0x5D) == 0x00);
        CHECK(r.rd(0x3D) == 0x02);
        CHECK(r.rd(0x5F) == 0);
    }
    SUBCASE("16 GiB above 4 GiB needs the third byte; small RAM") {
        RtcRig r(0);
        PcCmos cfg;
        cfg.ram_bytes = 20ull << 30;  // 4 GiB below (no hole given), 16 GiB above
        fill_pc_cmos(r.rtc, cfg);
        CHECK(r.rd(0x34) == 0x00);
        CHECK(r.rd(0x35) == 0xFF);  // (4 GiB - 16 MiB) / 64 KiB = 0xFF00
        CHECK(r.rd(0x5D) == 0x04);  // 16 GiB / 64 KiB = 0x040000
        cfg.ram_bytes = 8ull << 20;
        fill_pc_cmos(r.rtc, cfg);
        CHECK(r.rd(0x17) == 0x00);
        CHECK(r.rd(0x18) == 0x1C);  // 7 MiB = 7168 KiB
        CHECK(r.rd(0x35) == 0x00);
    }
}
