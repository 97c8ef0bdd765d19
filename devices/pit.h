// Pit: the 8254 programmable interval timer at 0x40-0x43 and the PC's port 0x61 (channel 2 gate,
// speaker data enable, refresh toggle, channel 2 OUT).
//
// Design decisions:
// - Nothing ticks. The input clock (1193182 Hz) is a pure function of virtual time: CLK edge k
//   (k >= 1) happens at ceil(k * 1e9 / 1193182) ns, and floor(now_ns * 1193182 / 1e9) edges have
//   happened by now_ns. Both are computed with 128-bit integers from time 0, so nothing drifts: a
//   periodic counter stays exact to the tick over any run length.
// - A counting sequence is described by the tick at which the count register was loaded into the
//   counting element (`load`, the first CLK edge after the count was written or after a gate
//   trigger, per the datasheet) and the count N in use. Counter value, OUT and the next OUT edge
//   are closed-form functions of (tick - load) per mode; reads compute them on demand.
// - Counts written while modes 2 and 3 run take effect at the end of the current period (mode 2)
//   or half-cycle (mode 3): stored as a pending (tick, new sequence) pair that is applied lazily.
//   Mode 0 stops on the first byte of a two-byte count and restarts on the next CLK; mode 4
//   restarts on the next CLK; modes 1 and 5 keep the count for the next gate trigger.
// - Between a count write and the CLK edge that loads it, the datasheet leaves the counting
//   element undefined; a read there returns the new count, as if loaded. On a PC no read can
//   land in that window (an ISA I/O cycle takes about a microsecond, a CLK 0.84 us), and
//   software relies on that: Linux's quick TSC calibration writes 0xFFFF and expects the MSB
//   to read 0xFF at once. An emulated IN takes nanoseconds, so the window would otherwise show.
// - Gates: channels 0 and 1 are tied high (so modes 1 and 5 never trigger there, as on a PC);
//   channel 2's gate is port 0x61 bit 0. Gate low pauses modes 0 and 4 (the sequence resumes
//   shifted by the paused ticks), stops modes 2 and 3 with OUT high (a rising gate reloads on the
//   next CLK), and a rising gate triggers modes 1 and 5.
// - Channel 0's OUT drives IRQ0 through one Clock timer armed for the next OUT rising edge (one
//   timer event per edge, none per count). At that edge the line is pulsed: IRQ0 is edge
//   triggered on the PC, so only the rising edges matter to the PIC.
// - Counting uses the integer count (0..65535, or 0..9999 in BCD mode); BCD only changes how the
//   count register is decoded and the counter is presented. An initial count of 0 means 65536
//   (10000 in BCD). Count 1 in mode 2 (illegal per the datasheet) keeps OUT high.
// - The refresh toggle (0x61 bit 4) flips every 18 input clocks (15.085 us), the rate at which the
//   PC's channel 1 requests DRAM refresh; it is derived from virtual time, not from channel 1.
// - Reset (power-on values are undefined on the chip): every channel waits for a count (mode 0,
//   no count, OUT low for mode 0), gate 2 and the speaker bit low, no IRQ0 until programmed.
#pragma once

#include <cstdint>

#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kPitBase = 0x40, kPort61 = 0x61;
inline constexpr uint64_t kPitHz = 1193182;

// What a sound device needs to play the PC speaker.
struct SpeakerState {
    bool enabled = false;    // gate 2 and speaker data both on, and channel 2 counting
    bool gate = false;       // port 0x61 bit 0
    bool data = false;       // port 0x61 bit 1
    bool out = false;        // channel 2 OUT now
    uint8_t mode = 0;        // channel 2 mode (0..5)
    uint32_t divisor = 0;    // count in use (1..65536), 0 when not counting
    double frequency_hz = 0;  // kPitHz / divisor
    uint64_t period_ns = 0;  // divisor / kPitHz in ns (rounded)
};

class Pit final : public IoDevice {
public:
    Pit(Clock& clock, IrqLine irq0);

    // Claims 0x40-0x43 and 0x61.
    void attach(IoBus& bus);
    void reset();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    SpeakerState speaker_state() const;
    // Inspection: OUT of channel `ch` and its counter value now (as the chip presents it).
    bool out(unsigned ch) const;
    uint16_t counter(unsigned ch) const;

    // Input clock edges that happened by `ns`, and the first ns at which edge `tick` happened.
    static int64_t tick_at(uint64_t ns);
    static uint64_t time_of_tick(int64_t tick);

private:
    struct Seq {
        int64_t load;  // tick at which the count was loaded
        uint32_t n;    // count in use, 1..span
    };
    struct Channel {
        uint8_t mode = 0;
        uint8_t access = 3;  // 1 LSB, 2 MSB, 3 LSB then MSB
        bool bcd = false;
        bool write_msb_next = false;
        bool read_msb_next = false;
        uint8_t write_lsb = 0;
        uint16_t cr = 0;  // count register as written
        bool has_cr = false;
        bool count_latched = false;
        bool latch_msb_next = false;
        uint16_t latch = 0;
        bool status_latched = false;
        uint8_t status = 0;
        bool gate = true;
        // Counting state (see the design notes).
        bool counting = false;   // modes 0, 2, 3, 4: a count is in the counting element
        bool triggered = false;  // modes 1, 5: a gate trigger started a sequence
        int64_t load = 0;
        uint32_t n = 0;
        bool pending = false;
        int64_t pending_at = 0;
        Seq pending_seq{};
        bool paused = false;  // gate low
        int64_t pause_at = 0;
        uint32_t frozen = 0;  // counter value shown while not counting
        int64_t null_until = 0;  // status NULL COUNT is set before this tick
    };

    uint32_t span(const Channel& ch) const { return ch.bcd ? 10000u : 65536u; }
    uint32_t cr_count(const Channel& ch) const;
    Seq seq_at(const Channel& ch, int64_t t) const;
    bool out_at(const Channel& ch, int64_t t) const;
    uint32_t count_at(const Channel& ch, int64_t t) const;
    int64_t next_rising(const Channel& ch, int64_t t) const;  // -1: none
    uint16_t present(const Channel& ch, uint32_t v) const;
    uint8_t status_at(const Channel& ch, int64_t t) const;
    void commit(Channel& ch, int64_t t);
    void write_control(uint8_t v, int64_t t);
    void write_count(Channel& ch, uint8_t v, int64_t t);
    void load_count(Channel& ch, int64_t t);
    uint8_t read_counter(Channel& ch, int64_t t);
    void set_gate(Channel& ch, bool level, int64_t t);
    void schedule_irq0();
    void on_irq0_timer();
    int64_t now_tick() const { return tick_at(clock_.now_ns()); }

    Clock& clock_;
    IrqLine irq0_;
    TimerId timer_;
    Channel ch_[3];
    uint8_t port61_ = 0;  // bits 0-3 as written
    int64_t irq0_edge_ = -1;
};

}  // namespace vx86::devices
