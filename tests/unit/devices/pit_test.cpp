// Pit: the 8254's modes checked tick by tick against the datasheet's waveforms. Times are given
// in input-clock ticks (1193182 Hz): CLK edge k happens at ceil(k * 1e9 / 1193182) ns. A count
// written between edges k and k+1 is loaded on edge k+1 ("on the next CLK pulse").
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "devices/io_bus.h"
#include "devices/pit.h"
#include "test_clock.h"

using namespace vx86::devices;
using vx86::test::ManualClock;

namespace {

constexpr uint64_t kHz = 1193182;

uint64_t tick_ns(uint64_t k) { return (k * 1'000'000'000ull + kHz - 1) / kHz; }
// floor(ns * f / 1e9); exact in 64 bits for the spans used here (< 4 hours).
uint64_t ticks_by(uint64_t ns) { return ns * kHz / 1'000'000'000; }

struct RecordingSink final : IrqSink {
    std::vector<uint64_t> rises;  // virtual time of every rising edge
    bool level[16] = {};
    const ManualClock* clock = nullptr;
    void set_irq(unsigned irq, bool l) override {
        if (l && !level[irq] && irq == 0) rises.push_back(clock->now_ns());
        level[irq] = l;
    }
};

struct PitRig {
    ManualClock clock;
    RecordingSink sink;
    Pit pit{clock, IrqLine{&sink, 0}};
    IoBus bus;
    PitRig() {
        sink.clock = &clock;
        pit.attach(bus);
    }
    void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
    uint8_t in(uint16_t port) { return uint8_t(bus.read(port, 1)); }
    void at(uint64_t tick) { clock.advance_to(tick_ns(tick)); }
    // Programs channel `ch` with a control word and a 16-bit count (LSB then MSB).
    void program(unsigned ch, uint8_t control, uint16_t count) {
        out(0x43, control);
        out(uint16_t(0x40 + ch), uint8_t(count));
        out(uint16_t(0x40 + ch), uint8_t(count >> 8));
    }
    uint16_t latch_read(unsigned ch) {
        out(0x43, uint8_t(ch << 6));  // counter latch command
        uint8_t lo = in(uint16_t(0x40 + ch));
        uint8_t hi = in(uint16_t(0x40 + ch));
        return uint16_t(lo | hi << 8);
    }
    uint8_t status(unsigned ch) {
        out(0x43, uint8_t(0xE0 | 2u << ch));  // read-back: status only
        return in(uint16_t(0x40 + ch));
    }
    bool out0() { return status(0) & 0x80; }
    bool out2() { return in(0x61) & 0x20; }
};

}  // namespace

TEST_CASE("PIT: the input clock is exact over long runs") {
        CHECK(Pit::tick_at(1'000'000'000) == int64_t(kHz));
    CHECK(Pit::tick_at(3600 * 1'000'000'000ull) == int64_t(3600 * kHz));
    CHECK(Pit::time_of_tick(int64_t(kHz)) == 1'000'000'000);
    CHECK(Pit::tick_at(tick_ns(1234567) - 1) == 1234566);
}

TEST_CASE("PIT: mode 2 rate generator counts and OUT") {
    PitRig r;
    r.program(0, 0x34, 100);  // channel 0, LSB/MSB, mode 2, binary; written at tick 0
    r.at(1);
    CHECK(r.latch_read(0) == 100);
    r.at(31);
    CHECK(r.latch_read(0) == 70);
    r.at(99);
    CHECK(r.out0());
    r.at(100);  // count 1: OUT low for one clock
    CHECK(r.latch_read(0) == 1);
    CHECK_FALSE(r.out0());
    CHECK(r.sink.rises.empty());
    r.at(101);  // reload: OUT high again, IRQ0 raised at that edge
    CHECK(r.out0());
    CHECK(r.latch_read(0) == 100);
    REQUIRE(r.sink.rises.size() == 1);
    CHECK(r.sink.rises[0] == tick_ns(101));
    r.at(301);
    REQUIRE(r.sink.rises.size() == 3);
    CHECK(r.sink.rises[2] == tick_ns(301));
}

TEST_CASE("PIT: mode 2 new count waits for the end of the period") {
    PitRig r;
    r.program(0, 0x34, 100);
    r.at(51);
    r.out(0x40, 10);
    r.out(0x40, 0);
    CHECK(r.latch_read(0) == 50);  // current period unaffected
    r.at(100);
    CHECK_FALSE(r.out0());
    r.at(101);
    CHECK(r.latch_read(0) == 10);
    r.at(110);
    CHECK_FALSE(r.out0());
    r.at(111);
    CHECK(r.out0());
    CHECK(r.sink.rises.size() == 2);
}

TEST_CASE("PIT: mode 3 square wave, even and odd counts") {
    PitRig r;
    r.out(0x61, 0x01);        // gate 2 high
    r.program(2, 0xB6, 10);   // channel 2, mode 3
    r.at(1);
    CHECK(r.latch_read(2) == 10);
    CHECK(r.out2());
    r.at(2);
    CHECK(r.latch_read(2) == 8);  // decrements by two
    r.at(5);
    CHECK(r.latch_read(2) == 2);
    CHECK(r.out2());
    r.at(6);  // N/2 clocks high, then low
    CHECK_FALSE(r.out2());
    CHECK(r.latch_read(2) == 10);
    r.at(10);
    CHECK_FALSE(r.out2());
    r.at(11);
    CHECK(r.out2());

    // Odd N = 7: high for (N+1)/2 = 4 clocks counting N-1 down by two, low for 3.
    r.program(2, 0xB6, 7);  // written at tick 11, loaded at 12
    r.at(12);
    CHECK(r.latch_read(2) == 6);
    r.at(15);
    CHECK(r.latch_read(2) == 0);
    CHECK(r.out2());
    r.at(16);
    CHECK_FALSE(r.out2());
    CHECK(r.latch_read(2) == 6);
    r.at(18);
    CHECK_FALSE(r.out2());
    CHECK(r.latch_read(2) == 2);
    r.at(19);
    CHECK(r.out2());

    // Gate low forces OUT high at once and stops counting; a rising gate reloads.
    r.at(23);  // low half again (ticks 23..25)
    CHECK_FALSE(r.out2());
    r.out(0x61, 0x00);
    CHECK(r.out2());
    uint16_t held = r.latch_read(2);
    r.at(40);
    CHECK(r.latch_read(2) == held);
    r.out(0x61, 0x01);  // rising gate at tick 40: reload on tick 41
    r.at(41);
    CHECK(r.latch_read(2) == 6);
    r.at(45);
    CHECK_FALSE(r.out2());
}

TEST_CASE("PIT: mode 0 interrupt on terminal count") {
    PitRig r;
    r.clock.advance_to(12345);  // not on a clock edge
    const uint64_t w = ticks_by(12345);
    r.out(0x43, 0x30);  // channel 0, LSB/MSB, mode 0
    CHECK_FALSE(r.out0());  // OUT low after the control word
    r.out(0x40, 50);
    r.out(0x40, 0);
    r.at(w + 1);
    CHECK(r.latch_read(0) == 50);
    r.at(w + 50);
    CHECK_FALSE(r.out0());
    CHECK(r.sink.rises.empty());
    r.at(w + 51);  // N+1 clocks after the write
    CHECK(r.out0());
    CHECK(r.latch_read(0) == 0);
    REQUIRE(r.sink.rises.size() == 1);
    CHECK(r.sink.rises[0] == tick_ns(w + 51));
    r.at(w + 52);
    CHECK(r.latch_read(0) == 0xFFFF);  // keeps counting, wraps
    CHECK(r.out0());                   // OUT stays high
    r.at(w + 70000);
    CHECK(r.sink.rises.size() == 1);   // once only

    // Writing the first byte of a new count stops the counter and drops OUT.
    uint64_t t = w + 70000;
    r.out(0x40, 5);
    CHECK_FALSE(r.out0());
    uint16_t held = r.latch_read(0);
    r.at(t + 10);
    CHECK(r.latch_read(0) == held);
    r.out(0x40, 0);  // second byte at t+10: load at t+11, terminal at t+16
    r.at(t + 15);
    CHECK_FALSE(r.out0());
    r.at(t + 16);
    CHECK(r.out0());
    CHECK(r.sink.rises.size() == 2);
}

TEST_CASE("PIT: mode 0 gate low pauses counting on channel 2") {
    PitRig r;
    r.out(0x61, 0x01);
    r.program(2, 0xB0, 20);  // loaded at tick 1, terminal at 21
    r.at(6);
    r.out(0x61, 0x00);
    uint16_t held = r.latch_read(2);
    CHECK(held == 15);
    r.at(100);
    CHECK(r.latch_read(2) == 15);
    CHECK_FALSE(r.out2());
    r.out(0x61, 0x01);  // 94 ticks paused: terminal moves to 21 + 94
    r.at(114);
    CHECK_FALSE(r.out2());
    r.at(115);
    CHECK(r.out2());
}

TEST_CASE("PIT: mode 1 one-shot triggered by gate 2") {
    PitRig r;
    r.program(2, 0xB2, 20);
    CHECK(r.out2());
    r.at(10);
    CHECK(r.out2());  // no trigger yet: nothing happens
    r.out(0x61, 0x01);  // rising gate at tick 10
    CHECK(r.out2());
    r.at(11);
    CHECK_FALSE(r.out2());
    CHECK(r.latch_read(2) == 20);
    r.at(30);
    CHECK_FALSE(r.out2());
    r.at(31);
    CHECK(r.out2());
    // Retrigger during a one-shot restarts it.
    r.out(0x61, 0x00);
    r.at(40);
    r.out(0x61, 0x01);
    r.at(50);
    r.out(0x61, 0x00);
    r.out(0x61, 0x01);  // retrigger at 50: low until 71
    r.at(70);
    CHECK_FALSE(r.out2());
    r.at(71);
    CHECK(r.out2());
}

TEST_CASE("PIT: mode 5 hardware strobe and mode 4 software strobe") {
    PitRig r;
    r.program(2, 0xBA, 5);  // mode 5
    r.at(10);
    r.out(0x61, 0x01);  // trigger: load at 11, strobe at 16
    r.at(15);
    CHECK(r.out2());
    r.at(16);
    CHECK_FALSE(r.out2());
    r.at(17);
    CHECK(r.out2());

    r.program(0, 0x38, 5);  // channel 0, mode 4, written at tick 17
    CHECK(r.out0());
    r.at(23);
    CHECK_FALSE(r.out0());  // N+1 clocks after the write, for one clock
    CHECK(r.sink.rises.empty());
    r.at(24);
    CHECK(r.out0());
    REQUIRE(r.sink.rises.size() == 1);
    CHECK(r.sink.rises[0] == tick_ns(24));
    r.at(200000);
    CHECK(r.sink.rises.size() == 1);  // not periodic
}

TEST_CASE("PIT: BCD counting") {
    PitRig r;
    r.out(0x61, 0x01);
    r.program(2, 0xB5, 0x0100);  // mode 2, BCD, count 100 decimal
    r.at(1);
    CHECK(r.latch_read(2) == 0x0100);
    r.at(2);
    CHECK(r.latch_read(2) == 0x0099);
    r.at(11);
    CHECK(r.latch_read(2) == 0x0090);
    r.at(100);
    CHECK_FALSE(r.out2());
    r.at(101);
    CHECK(r.out2());

    // Count 0 in BCD is 10000.
    r.program(2, 0xB5, 0x0000);  // written at 101, loaded at 102
    r.at(103);
    CHECK(r.latch_read(2) == 0x9999);
    r.at(102 + 9999);
    CHECK_FALSE(r.out2());
}

TEST_CASE("PIT: counter latch, read-back and null count") {
    PitRig r;
    r.out(0x43, 0x34);
    // Status after the control word: OUT high (mode 2), NULL COUNT, LSB/MSB, mode 2, binary.
    CHECK(r.status(0) == 0xF4);
    r.out(0x40, 0xE8);
    r.out(0x40, 0x03);  // 1000
    CHECK(r.status(0) == 0xF4);  // not yet transferred to the counting element
    r.at(1);
    CHECK(r.status(0) == 0xB4);

    r.at(100);
    r.out(0x43, 0x00);  // latch: 1000 - 99
    r.at(500);
    r.out(0x43, 0x00);  // ignored: a latched count is pending
    CHECK(r.in(0x40) == (901 & 0xFF));
    r.at(600);
    CHECK(r.in(0x40) == (901 >> 8));
    uint8_t lo = r.in(0x40);  // live again
    uint8_t hi = r.in(0x40);
    CHECK((lo | hi << 8) == 1000 - 599);

    // Read-back of count and status of channels 0 and 2: status first, then the count.
    r.out(0x61, 0x01);
    r.out(0x43, 0x94);  // channel 2, LSB only, mode 2
    r.out(0x42, 77);
    r.at(610);
    r.out(0x43, 0xCA);  // COUNT and STATUS, channels 0 and 2
    CHECK(r.in(0x42) == 0x94);
    CHECK(r.in(0x42) == 77 - 9);
    CHECK(r.in(0x40) == (0x34 | 0x80));
    CHECK(r.in(0x40) == ((1000 - 609) & 0xFF));
    CHECK(r.in(0x40) == ((1000 - 609) >> 8));

    // MSB-only access.
    r.out(0x43, 0x64);  // channel 1, MSB only, mode 2: the MSB write is the whole count
    r.out(0x41, 0x02);  // count 0x0200, written at 610
    r.at(611 + 0x100);
    r.out(0x43, 0x40);
    CHECK(r.in(0x41) == 0x01);
}

TEST_CASE("PIT: IRQ0 count over one virtual second and one minute is exact") {
    SUBCASE("mode 2, divisor 1000, one second") {
        PitRig r;
        r.program(0, 0x34, 1000);
        r.clock.advance_to(1'000'000'000);
        // Loaded on edge 1, OUT rises at 1 + k*1000 for every edge up to 1193182.
        CHECK(r.sink.rises.size() == (kHz - 1) / 1000);
    }
    SUBCASE("mode 3, count 0 (65536), one minute") {
        PitRig r;
        r.program(0, 0x36, 0);
        r.clock.advance_to(60'000'000'000ull);
        CHECK(r.sink.rises.size() == (60 * kHz - 1) / 65536);
        CHECK(r.sink.rises.back() == tick_ns(1 + 1092 * 65536ull));
    }
    SUBCASE("mode 2, ~100 Hz, one minute in uneven steps") {
        PitRig r;
        r.program(0, 0x34, 11932);
        uint64_t t = 0;
        while (t < 60'000'000'000ull) {
            t = std::min<uint64_t>(t + 7'777'777, 60'000'000'000ull);
            r.clock.advance_to(t);
            r.latch_read(0);  // reads in between change nothing
        }
        CHECK(r.sink.rises.size() == 5999);
        CHECK(r.sink.rises.back() == tick_ns(1 + 5999 * 11932ull));
    }
}

TEST_CASE("PIT: port 0x61") {
    PitRig r;
    r.out(0x61, 0xF3);  // upper bits are status on the AT: writes ignore them
    uint8_t v = r.in(0x61);
    CHECK((v & 0x0F) == 0x03);
    CHECK((v & 0xC0) == 0);
    // Refresh toggle: flips every 18 input clocks.
    r.at(0);
    CHECK((r.in(0x61) & 0x10) == 0);
    r.at(18);
    CHECK((r.in(0x61) & 0x10) == 0x10);
    r.at(35);
    CHECK((r.in(0x61) & 0x10) == 0x10);
    r.at(36);
    CHECK((r.in(0x61) & 0x10) == 0);

    // Speaker: mode 3 on channel 2 at ~1 kHz.
    r.program(2, 0xB6, 1193);
    SpeakerState s = r.pit.speaker_state();
    CHECK(s.enabled);
    CHECK(s.mode == 3);
    CHECK(s.divisor == 1193);
    CHECK(s.frequency_hz == doctest::Approx(1000.15).epsilon(0.0001));
    CHECK(s.period_ns == 999847);
    r.out(0x61, 0x01);  // speaker data off
    CHECK_FALSE(r.pit.speaker_state().enabled);
    // OUT2 appears in bit 5.
    r.at(36 + 1);
    CHECK((r.in(0x61) & 0x20) == 0x20);
    r.at(36 + 1 + 597);
    CHECK((r.in(0x61) & 0x20) == 0);
}

// Linux's quick TSC calibration (arch/x86/kernel/tsc.c): gate channel 2 on through port 0x61,
// mode 0 with count 0xFFFF, then read the counter at once and expect its MSB to be 0xFF for
// about 256 ticks, then 0xFE, 0xFD ... On a PC the reads are ISA cycles of about a microsecond,
// so they never see the counter before the CLK that loads it; ours must not either.
TEST_CASE("8254: a count read right after it is written shows the new count (quick calibration)") {
    PitRig r;
    r.at(1000);
    r.clock.advance_to(tick_ns(1000) + 100);   // between CLK edges 1000 and 1001
    r.out(0x61, 0x01);                          // gate 2 high, speaker off
    r.out(0x43, 0xB0);                          // channel 2, LSB then MSB, mode 0, binary
    r.out(0x42, 0xFF);
    r.out(0x42, 0xFF);
    uint8_t lo = r.in(0x42), hi = r.in(0x42);   // still before edge 1001
    CHECK(hi == 0xFF);
    CHECK(lo == 0xFF);
    r.at(1001 + 256);                           // loaded at 1001, 256 ticks later
    lo = r.in(0x42);
    hi = r.in(0x42);
    CHECK(hi == 0xFE);
    CHECK(lo == 0xFF);
    r.at(1001 + 3 * 256 + 5);
    lo = r.in(0x42);
    hi = r.in(0x42);
    CHECK(hi == 0xFC);
    CHECK(lo == 0xFA);
}
