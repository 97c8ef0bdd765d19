// Rtc: the MC146818A real-time clock and its 128 bytes of CMOS RAM at 0x70 (index, bit 7 = NMI
// mask) / 0x71 (data), plus fill_pc_cmos(), which writes what PC firmware reads from CMOS.
//
// Design decisions:
// - The clock never reads host time. It starts at a given Unix time (the machine passes host time
//   in real-time mode, a configured constant in deterministic mode) and advances with the Clock's
//   virtual time. Guest writes to the time registers move it from then on.
// - Time registers 0-9 and the century byte (0x32) are stored in CMOS as the guest sees them and
//   re-encoded from `secs_` (guest time in seconds since 1970, UTC unless the machine passes local
//   time) whenever an update cycle has passed. Updates happen once per second of the divider's
//   phase, computed lazily on every access; the chip's carry logic is replaced by exact calendar
//   math (days_from_civil / civil_from_days below), so month ends and leap years are exact.
// - A guest write to a time register with SET clear takes effect at once (the register set is
//   decoded back into `secs_`, out-of-range fields clamped). With SET set the registers just hold
//   what was written and updates stop; clearing SET decodes them. The day of week is kept as an
//   offset from the computed one, since the chip only counts it. Changing the data mode or 12/24
//   hour bit re-encodes the time registers at once (the alarm registers keep what was written).
// - The divider (reg A DV bits): 11x holds it in reset (no updates, no periodic ticks); leaving
//   reset puts the first update 500 ms later, as the datasheet says. Any other DV value runs the
//   32.768 kHz chain. UIP reads 1 during the 244 us before each update.
// - Flags (reg C) are computed lazily too: UF when an update passed, AF when a passed second
//   matched the alarm (0xC0-0xFF in an alarm byte is "don't care"), PF when a periodic tick
//   passed. IRQF = PF&PIE | AF&AIE | UF&UIE drives IRQ8 high until reg C is read. Clock timers
//   are armed only for enabled interrupts, and not while IRQ8 is already high (nothing the guest
//   can see changes until it reads reg C, and the lazy flags catch up then).
// - Periodic ticks are at exact multiples of the rate (in 1/32768 s) from the divider's phase,
//   computed with 128-bit integers, so they never drift.
// - reset() is the chip's RESET pin: it clears PIE, AIE, UIE, SQWE and the flags (lowering IRQ8)
//   and keeps time, the divider and all CMOS bytes.
#pragma once

#include <cstdint>
#include <string>

#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kRtcBase = 0x70;

// Proleptic Gregorian calendar: days since 1970-01-01 from a date, and back.
struct CivilDate {
    int64_t year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
};
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
CivilDate civil_from_days(int64_t days);

class Rtc final : public IoDevice {
public:
    // Register numbers.
    enum : uint8_t {
        kSec = 0x00, kSecAlarm = 0x01, kMin = 0x02, kMinAlarm = 0x03, kHour = 0x04,
        kHourAlarm = 0x05, kDayOfWeek = 0x06, kDay = 0x07, kMonth = 0x08, kYear = 0x09,
        kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D, kCentury = 0x32,
    };
    static constexpr uint8_t kAUip = 0x80;
    static constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBSqwe = 0x08,
                             kBBinary = 0x04, kB24h = 0x02, kBDse = 0x01;
    static constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;
    static constexpr uint8_t kDVrt = 0x80;
    static constexpr int64_t kUipNs = 244141;  // 8 cycles of 32.768 kHz before each update

    Rtc(Clock& clock, IrqLine irq8, int64_t start_unix_seconds);

    // Claims 0x70-0x71.
    void attach(IoBus& bus);
    void reset();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    bool nmi_masked() const { return nmi_masked_; }

    // The byte the guest would read at `addr` now, without side effects (reg C is not cleared).
    uint8_t cmos(uint8_t addr) const;
    // Writes `addr` as the guest would (time and control registers keep their meaning; C and D
    // are read-only); plain CMOS bytes are stored as given.
    void set_cmos(uint8_t addr, uint8_t v);
    // Guest time now, in seconds since the Unix epoch (what the time registers show).
    int64_t guest_time() const;

private:
    struct Projection {
        int64_t secs;
        int64_t next_update;
        uint8_t flags;  // PF/AF/UF
    };
    struct Fields {
        unsigned sec, min, hour, dow, day, month, year, century;
    };

    bool divider_running() const { return (cmos_[kRegA] & 0x60) != 0x60; }
    bool updating() const { return divider_running() && !(cmos_[kRegB] & kBSet); }
    uint8_t enc(unsigned v) const;
    unsigned dec(uint8_t v) const;
    uint8_t enc_hour(unsigned h) const;
    Fields split(int64_t secs) const;
    uint8_t encode_field(uint8_t addr, int64_t secs) const;
    void encode_time();
    void decode_time();
    int64_t periodic_ticks() const;  // rate in 1/32768 s units, 0 = off
    int64_t periodic_index(int64_t ns) const;
    int64_t next_alarm_after(int64_t secs) const;  // -1: never
    Projection project(int64_t now) const;
    bool uip(int64_t now, int64_t next_update) const;
    int64_t now() const { return int64_t(clock_.now_ns()); }
    void sync(int64_t now);
    void update_irq();
    void rearm(int64_t now);
    void on_timer();
    uint8_t read_reg(uint8_t a);
    void write_reg(uint8_t a, uint8_t v);

    Clock& clock_;
    IrqLine irq_;
    TimerId periodic_timer_;
    TimerId update_timer_;
    uint8_t cmos_[128] = {};
    uint8_t index_ = 0;
    bool nmi_masked_ = false;
    int64_t secs_ = 0;         // guest time shown by the time registers
    int64_t next_update_ = 0;  // virtual ns of the next update cycle
    int64_t div_ref_ = 0;      // virtual ns at which the divider chain (re)started
    int64_t pf_checked_ = 0;   // periodic ticks up to here are in flags_
    uint8_t flags_ = 0;        // reg C PF/AF/UF
    uint8_t dow_adjust_ = 0;
    bool irq_high_ = false;
};

// What PC firmware (SeaBIOS, older AT BIOSes) reads from CMOS.
struct PcCmos {
    uint64_t ram_bytes = 0;
    uint64_t below_4g_bytes = 0;  // RAM mapped below 4 GiB; 0 = min(ram_bytes, 4 GiB)
    uint8_t floppy_a = 0;         // CMOS 0x10 drive type: 4 = 1.44M, 3 = 720K, 0 = none
    uint8_t floppy_b = 0;
    bool hd_present[2] = {false, false};
    struct Geometry {
        uint16_t cylinders = 0;
        uint8_t heads = 0;
        uint8_t sectors = 0;
    };
    Geometry hd_geometry[2];  // optional; fills the AT type-47 tables when nonzero
    std::string boot_order = "c";  // up to 3 of 'a' (floppy), 'c' (hard disk), 'd' (CD-ROM)
    unsigned smp_cpus = 1;
};

// Fills 0x10, 0x12, 0x14-0x18, 0x19-0x2C (disks), 0x30/0x31, 0x34/0x35, 0x38, 0x3D, 0x5B-0x5D,
// 0x5F and the checksum at 0x2E/0x2F. The century byte (0x32) is kept by the Rtc itself.
void fill_pc_cmos(Rtc& rtc, const PcCmos& cfg);

}  // namespace vx86::devices
