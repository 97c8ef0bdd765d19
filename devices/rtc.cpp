// Rtc: see rtc.h for the design. Register semantics follow the Motorola MC146818A datasheet;
// the CMOS layout in fill_pc_cmos() follows the IBM AT BIOS and what SeaBIOS reads.
#include "devices/rtc.h"

#include <algorithm>

namespace vx86::devices {

namespace {
__extension__ typedef __int128 I128;

constexpr int64_t kNs = int64_t(kNsPerSec);
constexpr int64_t kHalfSecond = kNs / 2;
constexpr int64_t kSecsPerDay = 86400;
constexpr int64_t kDividerHz = 32768;

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
unsigned clamp(unsigned v, unsigned lo, unsigned hi) { return v < lo ? lo : v > hi ? hi : v; }
bool dont_care(uint8_t alarm) { return (alarm & 0xC0) == 0xC0; }
}  // namespace

// Days are counted in 400-year eras (146097 days each) of years that start on March 1st, so the
// leap day is the last day of its year and month lengths follow the 153-days-per-5-months
// pattern (31 30 31 30 31). 719468 is the number of days from 0000-03-01 to 1970-01-01.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
    int64_t y = year - (month <= 2 ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t year_of_era = y - era * 400;                       // 0..399
    int64_t month_from_march = (int64_t(month) + 9) % 12;      // March = 0
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + int64_t(day) - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

CivilDate civil_from_days(int64_t days) {
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t day_of_era = z - era * 146097;  // 0..146096
    // Undo the leap-day counting: one extra day every 4 years, less every 100, more every 400.
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;  // 0..11
    unsigned day = unsigned(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    unsigned month = unsigned(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    return CivilDate{year, month, day};
}

Rtc::Rtc(Clock& clock, IrqLine irq8, int64_t start_unix_seconds) : clock_(clock), irq_(irq8) {
    periodic_timer_ = clock_.add_timer("rtc-periodic", [this] { on_timer(); });
    update_timer_ = clock_.add_timer("rtc-update", [this] { on_timer(); });
    cmos_[kRegA] = 0x26;  // 32.768 kHz divider, 1024 Hz periodic rate
    cmos_[kRegB] = kB24h;
    cmos_[kRegD] = kDVrt;
    int64_t t = now();
    // Updates at every whole virtual second: the divider "started" half a second before 0.
    div_ref_ = -kHalfSecond;
    secs_ = start_unix_seconds + t / kNs;
    next_update_ = (t / kNs + 1) * kNs;
    pf_checked_ = t;
    encode_time();
}

void Rtc::attach(IoBus& bus) { bus.attach(kRtcBase, 2, this, kIoSize8); }

void Rtc::reset() {
    int64_t t = now();
    sync(t);
    cmos_[kRegB] &= uint8_t(~(kBPie | kBAie | kBUie | kBSqwe));
    flags_ = 0;
    index_ = 0;
    nmi_masked_ = false;
    update_irq();
    rearm(t);
}

uint8_t Rtc::enc(unsigned v) const {
    if (cmos_[kRegB] & kBBinary) return uint8_t(v);
    return uint8_t((v / 10 % 10) << 4 | v % 10);
}

unsigned Rtc::dec(uint8_t v) const {
    if (cmos_[kRegB] & kBBinary) return v;
    return unsigned(v >> 4) * 10 + (v & 15);
}

uint8_t Rtc::enc_hour(unsigned h) const {
    if (cmos_[kRegB] & kB24h) return enc(h);
    unsigned h12 = h % 12 == 0 ? 12 : h % 12;
    return uint8_t(enc(h12) | (h >= 12 ? 0x80 : 0));
}

Rtc::Fields Rtc::split(int64_t secs) const {
    int64_t days = floor_div(secs, kSecsPerDay);
    int64_t tod = secs - days * kSecsPerDay;
    CivilDate c = civil_from_days(days);
    Fields f;
    f.sec = unsigned(tod % 60);
    f.min = unsigned(tod / 60 % 60);
    f.hour = unsigned(tod / 3600);
    f.dow = unsigned(floor_mod(days + 4 + dow_adjust_, 7)) + 1;  // 1970-01-01 was a Thursday
    f.day = c.day;
    f.month = c.month;
    f.year = unsigned(floor_mod(c.year, 100));
    f.century = unsigned(floor_mod(floor_div(c.year, 100), 100));
    return f;
}

uint8_t Rtc::encode_field(uint8_t addr, int64_t secs) const {
    Fields f = split(secs);
    switch (addr) {
    case kSec: return enc(f.sec);
    case kMin: return enc(f.min);
    case kHour: return enc_hour(f.hour);
    case kDayOfWeek: return enc(f.dow);
    case kDay: return enc(f.day);
    case kMonth: return enc(f.month);
    case kYear: return enc(f.year);
    case kCentury: return enc(f.century);
    default: return cmos_[addr & 0x7F];
    }
}

void Rtc::encode_time() {
    for (uint8_t a : {kSec, kMin, kHour, kDayOfWeek, kDay, kMonth, kYear, kCentury})
        cmos_[a] = encode_field(a, secs_);
}

void Rtc::decode_time() {
    uint8_t hb = cmos_[kHour];
    unsigned hour;
    if (cmos_[kRegB] & kB24h) {
        hour = clamp(dec(hb), 0, 23);
    } else {
        hour = clamp(dec(hb & 0x7F), 1, 12) % 12 + ((hb & 0x80) ? 12 : 0);
    }
    unsigned sec = clamp(dec(cmos_[kSec]), 0, 59);
    unsigned min = clamp(dec(cmos_[kMin]), 0, 59);
    unsigned day = clamp(dec(cmos_[kDay]), 1, 31);
    unsigned month = clamp(dec(cmos_[kMonth]), 1, 12);
    int64_t year = int64_t(clamp(dec(cmos_[kCentury]), 0, 99)) * 100 + clamp(dec(cmos_[kYear]), 0, 99);
    int64_t days = days_from_civil(year, month, 1) + day - 1;  // day 31 of a short month rolls over
    secs_ = days * kSecsPerDay + hour * 3600 + min * 60 + sec;
    unsigned dow = clamp(dec(cmos_[kDayOfWeek]), 1, 7);
    dow_adjust_ = uint8_t(floor_mod(int64_t(dow) - 1 - floor_mod(days + 4, 7), 7));
}

int64_t Rtc::periodic_ticks() const {
    unsigned rs = cmos_[kRegA] & 15;
    if (rs == 0) return 0;
    if (rs < 3) rs += 7;  // RS 1 and 2 repeat rates 8 and 9 with a 32.768 kHz time base
    return int64_t(1) << (rs - 1);
}

int64_t Rtc::periodic_index(int64_t ns) const {
    I128 num = I128(ns - div_ref_) * kDividerHz;
    I128 den = I128(periodic_ticks()) * kNs;
    I128 q = num / den;
    if (num % den != 0 && num < 0) --q;
    return int64_t(q);
}

int64_t Rtc::next_alarm_after(int64_t secs) const {
    const uint8_t as = cmos_[kSecAlarm], am = cmos_[kMinAlarm], ah = cmos_[kHourAlarm];
    // An alarm byte that no time encodes to never matches.
    auto reachable = [&](uint8_t alarm, unsigned count, bool hour) {
        if (dont_care(alarm)) return true;
        for (unsigned v = 0; v < count; ++v)
            if ((hour ? enc_hour(v) : enc(v)) == alarm) return true;
        return false;
    };
    if (!reachable(as, 60, false) || !reachable(am, 60, false) || !reachable(ah, 24, true))
        return -1;
    int64_t s = secs + 1;
    const int64_t limit = s + kSecsPerDay;
    while (s < limit) {
        int64_t tod = floor_mod(s, kSecsPerDay);
        unsigned h = unsigned(tod / 3600), m = unsigned(tod / 60 % 60), sc = unsigned(tod % 60);
        if (!dont_care(ah) && enc_hour(h) != ah) {
            s += 3600 - tod % 3600;
        } else if (!dont_care(am) && enc(m) != am) {
            s += 60 - sc;
        } else if (!dont_care(as) && enc(sc) != as) {
            s += 1;
        } else {
            return s;
        }
    }
    return -1;
}

Rtc::Projection Rtc::project(int64_t now) const {
    Projection p{secs_, next_update_, flags_};
    if (!divider_running()) return p;
    if (periodic_ticks() && periodic_index(now) > periodic_index(pf_checked_)) p.flags |= kCPf;
    if (!(cmos_[kRegB] & kBSet) && now >= next_update_) {
        int64_t k = (now - next_update_) / kNs + 1;
        p.flags |= kCUf;
        int64_t a = next_alarm_after(secs_);
        if (a >= 0 && a <= secs_ + k) p.flags |= kCAf;
        p.secs += k;
        p.next_update += k * kNs;
    }
    return p;
}

bool Rtc::uip(int64_t now, int64_t next_update) const {
    return updating() && now >= next_update - kUipNs && now < next_update;
}

void Rtc::sync(int64_t now) {
    Projection p = project(now);
    bool new_time = p.secs != secs_;
    secs_ = p.secs;
    next_update_ = p.next_update;
    flags_ = p.flags;
    pf_checked_ = now;
    if (new_time) encode_time();
    update_irq();
}

void Rtc::update_irq() {
    bool want = flags_ & cmos_[kRegB] & (kCPf | kCAf | kCUf);
    if (want != irq_high_) {
        irq_high_ = want;
        irq_.set_level(want);
    }
}

void Rtc::rearm(int64_t now) {
    if (irq_high_) {  // nothing visible changes before reg C is read
        clock_.cancel(periodic_timer_);
        clock_.cancel(update_timer_);
        return;
    }
    const uint8_t b = cmos_[kRegB];
    const int64_t period = periodic_ticks();
    if (divider_running() && period && (b & kBPie)) {
        I128 j = periodic_index(now) + 1;
        I128 at = (j * period * kNs + kDividerHz - 1) / kDividerHz;
        clock_.arm(periodic_timer_, uint64_t(div_ref_ + int64_t(at)));
    } else {
        clock_.cancel(periodic_timer_);
    }
    int64_t when = -1;
    if (updating()) {
        if (b & kBUie) when = next_update_;
        if (b & kBAie) {
            int64_t a = next_alarm_after(secs_);
            if (a >= 0) {
                int64_t t = next_update_ + (a - secs_ - 1) * kNs;
                when = when < 0 ? t : std::min(when, t);
            }
        }
    }
    if (when >= 0) {
        clock_.arm(update_timer_, uint64_t(when));
    } else {
        clock_.cancel(update_timer_);
    }
}

void Rtc::on_timer() {
    int64_t t = now();
    sync(t);
    rearm(t);
}

uint8_t Rtc::read_reg(uint8_t a) {
    int64_t t = now();
    sync(t);
    switch (a) {
    case kRegA: return uint8_t(cmos_[kRegA] | (uip(t, next_update_) ? kAUip : 0));
    case kRegC: {
        uint8_t v = uint8_t(flags_ | (irq_high_ ? kCIrqf : 0));
        flags_ = 0;
        update_irq();
        rearm(t);
        return v;
    }
    case kRegD: return kDVrt;
    default: return cmos_[a];
    }
}

void Rtc::write_reg(uint8_t a, uint8_t v) {
    int64_t t = now();
    sync(t);
    switch (a) {
    case kRegA: {
        bool was_running = divider_running();
        cmos_[kRegA] = v & 0x7F;
        if (!was_running && divider_running()) {  // leaving divider reset: first update in 500 ms
            div_ref_ = t;
            next_update_ = t + kHalfSecond;
            pf_checked_ = t;
        }
        break;
    }
    case kRegB: {
        uint8_t old = cmos_[kRegB];
        if ((v & kBSet) && !(old & kBSet)) v &= uint8_t(~kBUie);  // SET going high clears UIE
        cmos_[kRegB] = v;
        if ((old & kBSet) && !(v & kBSet)) {
            decode_time();
            // The divider kept running: the next update is at its next second boundary.
            int64_t base = div_ref_ + kHalfSecond;
            next_update_ = base + (floor_div(t - base, kNs) + 1) * kNs;
        } else if (!(v & kBSet) && ((old ^ v) & (kBBinary | kB24h))) {
            encode_time();
        }
        break;
    }
    case kRegC:
    case kRegD:
        return;  // read-only
    case kSec:
    case kMin:
    case kHour:
    case kDayOfWeek:
    case kDay:
    case kMonth:
    case kYear:
    case kCentury:
        cmos_[a] = v;
        if (!(cmos_[kRegB] & kBSet)) decode_time();
        break;
    default:
        cmos_[a] = v;
        break;
    }
    update_irq();
    rearm(t);
}

uint32_t Rtc::io_read(uint16_t port, unsigned) {
    if (port == kRtcBase) return 0xFF;  // the index register is write-only
    return read_reg(index_);
}

void Rtc::io_write(uint16_t port, unsigned, uint32_t value) {
    if (port == kRtcBase) {
        index_ = value & 0x7F;
        nmi_masked_ = value & 0x80;
        return;
    }
    write_reg(index_, uint8_t(value));
}

uint8_t Rtc::cmos(uint8_t addr) const {
    addr &= 0x7F;
    int64_t t = now();
    Projection p = project(t);
    switch (addr) {
    case kSec:
    case kMin:
    case kHour:
    case kDayOfWeek:
    case kDay:
    case kMonth:
    case kYear:
    case kCentury:
        return p.secs != secs_ ? encode_field(addr, p.secs) : cmos_[addr];
    case kRegA: return uint8_t(cmos_[kRegA] | (uip(t, p.next_update) ? kAUip : 0));
    case kRegC: return uint8_t(p.flags | ((p.flags & cmos_[kRegB] & 0x70) ? kCIrqf : 0));
    case kRegD: return kDVrt;
    default: return cmos_[addr];
    }
}

void Rtc::set_cmos(uint8_t addr, uint8_t v) {
    addr &= 0x7F;
    if (addr <= kRegD || addr == kCentury) {
        write_reg(addr, v);
    } else {
        cmos_[addr] = v;
    }
}

int64_t Rtc::guest_time() const { return project(now()).secs; }

void fill_pc_cmos(Rtc& rtc, const PcCmos& cfg) {
    constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, k64KiB = 64 * kKiB, k4GiB = 4096 * kMiB;
    auto set16 = [&](uint8_t lo, uint64_t v) {
        v = std::min<uint64_t>(v, 0xFFFF);
        rtc.set_cmos(lo, uint8_t(v));
        rtc.set_cmos(uint8_t(lo + 1), uint8_t(v >> 8));
    };
    // Drives.
    rtc.set_cmos(0x10, uint8_t(cfg.floppy_a << 4 | (cfg.floppy_b & 15)));
    rtc.set_cmos(0x12, uint8_t((cfg.hd_present[0] ? 0xF0 : 0) | (cfg.hd_present[1] ? 0x0F : 0)));
    for (unsigned i = 0; i < 2; ++i) {
        rtc.set_cmos(uint8_t(0x19 + i), cfg.hd_present[i] ? 47 : 0);  // type 47: user defined
        const PcCmos::Geometry& g = cfg.hd_geometry[i];
        if (!cfg.hd_present[i] || g.cylinders == 0) continue;
        const uint8_t t = i == 0 ? 0x1B : 0x24;
        set16(t, g.cylinders);
        rtc.set_cmos(uint8_t(t + 2), g.heads);
        set16(uint8_t(t + 3), 0xFFFF);  // no write precompensation
        rtc.set_cmos(uint8_t(t + 5), g.heads > 8 ? 0x08 : 0);
        set16(uint8_t(t + 6), g.cylinders);  // landing zone
        rtc.set_cmos(uint8_t(t + 8), g.sectors);
    }
    // Equipment: bit 0 floppy present, bit 1 FPU, bits 5-4 display (00 = VGA with its own
    // BIOS), bits 7-6 floppy count - 1.
    unsigned floppies = (cfg.floppy_a ? 1 : 0) + (cfg.floppy_b ? 1 : 0);
    uint8_t equipment = 0x02;
    if (floppies) equipment |= uint8_t(0x01 | (floppies - 1) << 6);
    rtc.set_cmos(0x14, equipment);
    // Memory.
    set16(0x15, 640);
    uint64_t ext = cfg.ram_bytes > kMiB ? (std::min(cfg.ram_bytes, 64 * kMiB) - kMiB) / kKiB : 0;
    set16(0x17, ext);
    set16(0x30, ext);
    uint64_t below = cfg.below_4g_bytes ? std::min(cfg.below_4g_bytes, cfg.ram_bytes)
                                        : std::min(cfg.ram_bytes, k4GiB);
    set16(0x34, below > 16 * kMiB ? (below - 16 * kMiB) / k64KiB : 0);
    uint64_t above = cfg.ram_bytes > below ? (cfg.ram_bytes - below) / k64KiB : 0;
    rtc.set_cmos(0x5B, uint8_t(above));
    rtc.set_cmos(0x5C, uint8_t(above >> 8));
    rtc.set_cmos(0x5D, uint8_t(above >> 16));
    rtc.set_cmos(0x5F, uint8_t(cfg.smp_cpus ? cfg.smp_cpus - 1 : 0));
    // Boot order, as QEMU's pc machine sets it for SeaBIOS: 1 floppy, 2 hard disk, 3 CD-ROM.
    uint8_t dev[3] = {0, 0, 0};
    for (size_t i = 0; i < cfg.boot_order.size() && i < 3; ++i) {
        switch (cfg.boot_order[i]) {
        case 'a': dev[i] = 1; break;
        case 'c': dev[i] = 2; break;
        case 'd': dev[i] = 3; break;
        default: break;
        }
    }
    rtc.set_cmos(0x3D, uint8_t(dev[1] << 4 | dev[0]));
    rtc.set_cmos(0x38, uint8_t(dev[2] << 4));
    // Checksum over 0x10-0x2D, high byte first.
    unsigned sum = 0;
    for (uint8_t a = 0x10; a <= 0x2D; ++a) sum += rtc.cmos(a);
    rtc.set_cmos(0x2E, uint8_t(sum >> 8));
    rtc.set_cmos(0x2F, uint8_t(sum));
}

}  // namespace vx86::devices
