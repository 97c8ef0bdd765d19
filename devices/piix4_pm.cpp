// Piix4Pm: PIIX4 function 3, the ACPI power-management registers (see piix4_pm.h).
#include "devices/piix4_pm.h"

namespace vx86::devices {

namespace {

constexpr uint16_t kStsW1c = kPmTmrSts | kPmBmSts | kPmGblSts | kPmPwrbtnSts | kPmRtcSts |
                             kPmPwrbtnOrSts | kPmWakSts;
constexpr uint16_t kEnMask = kPmTmrEn | kPmGblEn | kPmPwrbtnEn | kPmRtcEn;
constexpr uint16_t kCntStored = kPmSciEn | kPmBrldEnBm | kPmSlpTypMask;
constexpr unsigned kTmrToggleShift = 23;  // TMROF_STS: bit 23 of the count changed

bool overlaps(unsigned off, unsigned size, unsigned lo, unsigned hi) {  // [lo, hi)
    return off < hi && off + size > lo;
}

// Virtual nanoseconds at which the PM timer reaches tick `k` (the first ns with ticks >= k).
uint64_t ns_for_tick(uint64_t k) {
    uint64_t q = k / kPmTimerHz, r = k % kPmTimerHz;
    return q * kNsPerSec + (r * kNsPerSec + kPmTimerHz - 1) / kPmTimerHz;
}

}  // namespace

Piix4Pm::Piix4Pm(IoBus& io, Clock& clock, IrqLine sci)
    : PciDevice(0x8086, 0x7113, 0x03, 0x068000), io_(io), clock_(clock), sci_(sci) {
    set_cfg16(kPciStatus, 0x0280);  // fast back-to-back capable, DEVSEL# medium
    set_cfg16(kPciSubsysVendor, 0x1AF4);
    set_cfg16(kPciSubsysId, 0x1100);
    set_cfg8(kPciIntPin, 1);  // INTA#, as QEMU reports it (the SCI goes to IRQ 9 directly)
    for (unsigned o = 0x44; o < 0x100; ++o) set_wmask8(uint8_t(o), 0xFF);
    // PMBA: bits 15:6 are the base, bit 0 reads 1 (I/O space indicator).
    set_cfg32(kPiix4Pmba, 0x00000001);
    set_wmask8(kPiix4Pmba, 0xC0);
    set_wmask8(kPiix4Pmba + 1, 0xFF);
    // DEVACTB APMC_EN: "SMM already set up" for SeaBIOS (there is no SMM; see the essay).
    set_cfg32(kPiix4Devactb, 1u << 25);
    set_wmask8(kPiix4Pmregmisc, 0x01);
    for (unsigned o = kPiix4Pmregmisc + 1; o < kPiix4Pmregmisc + 4; ++o) set_wmask8(uint8_t(o), 0);
    // SMBBA: bits 15:4 are the base, bit 0 reads 1.
    set_cfg32(kPiix4Smbba, 0x00000001);
    set_wmask8(kPiix4Smbba, 0xF0);
    set_wmask8(kPiix4Smbba + 1, 0xFF);
    set_wmask8(kPiix4Smbba + 2, 0);
    set_wmask8(kPiix4Smbba + 3, 0);
    timer_ = clock_.add_timer("piix4-pm-timer", [this] { on_timer(); });
    reset_pm_registers();
}

void Piix4Pm::attach() {
    io_.attach(kApmCntPort, 2, this, kIoSize8);
    io_.attach(kPiix4Gpe0Base, kPiix4Gpe0Size, this, kIoSize8);
}

void Piix4Pm::reset_pm_registers() {
    pm1_sts_ = 0;
    pm1_en_ = 0;
    pm1_cnt_ = 0;
    gpe0_sts_ = 0;
    gpe0_en_ = 0;
    apmc_ = 0;
    apms_ = 0;
    tmr_period_seen_ = ticks() >> kTmrToggleShift;
    clock_.cancel(timer_);
}

void Piix4Pm::pci_reset() {
    PciDevice::pci_reset();
    reset_pm_registers();
    remap_pm();
    update_sci();
}

void Piix4Pm::config_write(uint8_t off, unsigned size, uint32_t value) {
    PciDevice::config_write(off, size, value);
    if (overlaps(off, size, kPiix4Pmba, kPiix4Pmba + 4) ||
        overlaps(off, size, kPiix4Pmregmisc, kPiix4Pmregmisc + 1))
        remap_pm();
}

void Piix4Pm::remap_pm() {
    uint16_t base = uint16_t(cfg32(kPiix4Pmba) & 0xFFC0u);
    uint16_t want = (cfg8(kPiix4Pmregmisc) & 1) ? base : 0;
    if (want == mapped_base_) return;
    if (mapped_base_) io_.detach(mapped_base_, kPiix4PmSize);
    mapped_base_ = want;
    if (mapped_base_) {
        io_.attach(mapped_base_, kPiix4PmSize, this, kIoSize8);
        // PMTMR takes word and dword reads whole: one sample of the timer, as on hardware.
        // (Split into bytes, each would read the clock: in real time a carry between two of
        // them tears the count, which then runs backwards, and a guest's timeout fires.)
        io_.attach(uint16_t(mapped_base_ + kPmTmr), 4, this, kIoSize8 | kIoSize16 | kIoSize32);
    }
}

// ---------------------------------------------------------------------------------------------
// PM timer

uint64_t Piix4Pm::ticks() const {
    uint64_t ns = clock_.now_ns();
    uint64_t q = ns / kNsPerSec, r = ns % kNsPerSec;
    return q * kPmTimerHz + r * kPmTimerHz / kNsPerSec;
}

uint32_t Piix4Pm::pm_timer() const { return uint32_t(ticks() & 0xFFFFFF); }

void Piix4Pm::sync_timer_status() {
    uint64_t period = ticks() >> kTmrToggleShift;
    if (period != tmr_period_seen_) {
        tmr_period_seen_ = period;
        pm1_sts_ |= kPmTmrSts;
    }
}

void Piix4Pm::arm_timer() {
    if (pm1_en_ & kPmTmrEn)
        clock_.arm(timer_, ns_for_tick((tmr_period_seen_ + 1) << kTmrToggleShift));
    else
        clock_.cancel(timer_);
}

void Piix4Pm::on_timer() {
    sync_timer_status();
    arm_timer();
    update_sci();
}

// ---------------------------------------------------------------------------------------------
// Events and the SCI

void Piix4Pm::update_sci() {
    bool level = (pm1_cnt_ & kPmSciEn) &&
                 ((pm1_sts_ & pm1_en_ & kEnMask) != 0 || (gpe0_sts_ & gpe0_en_) != 0);
    if (level == sci_level_) return;
    sci_level_ = level;
    sci_.set_level(level);
}

void Piix4Pm::press_power_button() {
    pm1_sts_ |= kPmPwrbtnSts;
    update_sci();
}

void Piix4Pm::sleep(unsigned slp_typ) {
    if (slp_typ == kPiix4SlpTypSoftOff) {
        if (power_off) power_off();
        return;
    }
    pm1_sts_ |= kPmWakSts;  // no sleep state is emulated: wake at once
    update_sci();
}

// ---------------------------------------------------------------------------------------------
// I/O

uint8_t Piix4Pm::pm_read8(unsigned off, std::optional<uint32_t>& tmr) {
    switch (off) {
        case kPmSts:
        case kPmSts + 1:
            sync_timer_status();
            return uint8_t(pm1_sts_ >> (8 * (off - kPmSts)));
        case kPmEn:
        case kPmEn + 1: return uint8_t(pm1_en_ >> (8 * (off - kPmEn)));
        case kPmCntrl:
        case kPmCntrl + 1: return uint8_t(pm1_cnt_ >> (8 * (off - kPmCntrl)));
        case kPmTmr:
        case kPmTmr + 1:
        case kPmTmr + 2:
            if (!tmr) tmr = pm_timer();
            return uint8_t(*tmr >> (8 * (off - kPmTmr)));
        default: return 0;  // PMTMR bits 31:24 and the unemulated 0x0C-0x3F
    }
}

void Piix4Pm::pm_write8(unsigned off, uint8_t v) {
    switch (off) {
        case kPmSts:
        case kPmSts + 1: {
            sync_timer_status();  // a toggle before this write is cleared by it, as on hardware
            unsigned shift = 8 * (off - kPmSts);
            pm1_sts_ = uint16_t(pm1_sts_ & ~((unsigned(v) << shift) & kStsW1c));
            update_sci();
            break;
        }
        case kPmEn:
        case kPmEn + 1: {
            sync_timer_status();
            unsigned shift = 8 * (off - kPmEn);
            uint16_t mask = uint16_t((0xFFu << shift) & kEnMask);
            pm1_en_ = uint16_t((pm1_en_ & ~mask) | ((unsigned(v) << shift) & mask));
            arm_timer();
            update_sci();
            break;
        }
        case kPmCntrl: {
            sync_timer_status();
            pm1_cnt_ = uint16_t((pm1_cnt_ & 0xFF00) | (v & kCntStored & 0xFF));
            // GBL_RLS (bit 2) would raise an SMI for the BIOS: there is no SMM.
            update_sci();
            break;
        }
        case kPmCntrl + 1: {
            pm1_cnt_ = uint16_t((pm1_cnt_ & 0x00FF) | ((unsigned(v) << 8) & kCntStored & 0xFF00));
            if ((unsigned(v) << 8) & kPmSlpEn)
                sleep((pm1_cnt_ & kPmSlpTypMask) >> kPmSlpTypShift);
            break;
        }
        default: break;  // PMTMR is read-only; 0x0C-0x3F are not emulated
    }
}

uint32_t Piix4Pm::io_read(uint16_t port, unsigned size) {
    uint32_t v = 0;
    std::optional<uint32_t> tmr;  // (see pm_read8)
    for (unsigned i = 0; i < size; ++i) {
        uint16_t p = uint16_t(port + i);
        uint8_t b = 0xFF;
        if (mapped_base_ && p >= mapped_base_ && p < mapped_base_ + kPiix4PmSize)
            b = pm_read8(p - mapped_base_, tmr);
        else if (p == kApmCntPort)
            b = apmc_;
        else if (p == kApmStsPort)
            b = apms_;
        else if (p >= kPiix4Gpe0Base && p < kPiix4Gpe0Base + kPiix4Gpe0Size) {
            unsigned o = p - kPiix4Gpe0Base;
            b = o < 2 ? uint8_t(gpe0_sts_ >> (8 * o)) : uint8_t(gpe0_en_ >> (8 * (o - 2)));
        }
        v |= uint32_t(b) << (8 * i);
    }
    return v;
}

void Piix4Pm::io_write(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        uint16_t p = uint16_t(port + i);
        uint8_t b = uint8_t(value >> (8 * i));
        if (mapped_base_ && p >= mapped_base_ && p < mapped_base_ + kPiix4PmSize) {
            pm_write8(p - mapped_base_, b);
        } else if (p == kApmCntPort) {
            apmc_ = b;
            if (b == kAcpiEnableCmd)
                pm1_cnt_ |= kPmSciEn;
            else if (b == kAcpiDisableCmd)
                pm1_cnt_ = uint16_t(pm1_cnt_ & ~kPmSciEn);
            update_sci();
        } else if (p == kApmStsPort) {
            apms_ = b;
        } else if (p >= kPiix4Gpe0Base && p < kPiix4Gpe0Base + kPiix4Gpe0Size) {
            unsigned o = p - kPiix4Gpe0Base;
            if (o < 2)
                gpe0_sts_ = uint16_t(gpe0_sts_ & ~(unsigned(b) << (8 * o)));
            else
                gpe0_en_ = uint16_t((gpe0_en_ & ~(0xFFu << (8 * (o - 2)))) |
                                    (unsigned(b) << (8 * (o - 2))));
            update_sci();
        }
    }
}

}  // namespace vx86::devices
