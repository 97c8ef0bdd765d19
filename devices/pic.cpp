// Pic: see pic.h for the design. Register semantics follow the Intel 8259A datasheet (ICW1-4,
// OCW1-3) and the PIIX3 datasheet (ELCR).
#include "devices/pic.h"

namespace vx86::devices {

namespace {
constexpr uint8_t kIcw1 = 0x10, kIcw1Ic4 = 0x01, kIcw1Single = 0x02;
constexpr uint8_t kOcw3 = 0x08, kOcw3Poll = 0x04, kOcw3Rr = 0x02, kOcw3Ris = 0x01;
constexpr uint8_t kOcw3Esmm = 0x40, kOcw3Smm = 0x20;
constexpr uint8_t kIcw4Aeoi = 0x02, kIcw4Sfnm = 0x10;
constexpr uint8_t kCascadeBit = 1u << 2;
}  // namespace

void Pic::attach(IoBus& bus) {
    bus.attach(kPicMasterBase, 2, this, kIoSize8);
    bus.attach(kPicSlaveBase, 2, this, kIoSize8);
    bus.attach(kElcrBase, 2, this, kIoSize8);
}

void Pic::reset() {
    for (Chip& c : chips_) c = Chip{};
    chips_[0].base = 0x08;
    chips_[1].base = 0x70;
    chips_[0].icw3 = kCascadeBit;
    chips_[1].icw3 = 2;
    update();
}

int Pic::highest_isr(const Chip& c) {
    for (unsigned i = 0; i < 8; ++i) {
        unsigned l = (c.lowest + 1 + i) & 7;
        if (c.isr & (1u << l)) return int(l);
    }
    return -1;
}

int Pic::pending_level(const Chip& c, bool is_master) const {
    uint8_t req = c.irr & uint8_t(~c.imr);
    if (!req) return -1;
    uint8_t blocking = c.isr;
    if (c.special_mask) blocking &= uint8_t(~c.imr);
    const bool sfnm = is_master && c.sfnm && cascaded();
    for (unsigned i = 0; i < 8; ++i) {
        unsigned l = (c.lowest + 1 + i) & 7;
        uint8_t bit = uint8_t(1u << l);
        if (blocking & bit) {
            // In SFNM the slave's own in-service level does not lock out its higher requests.
            if (sfnm && l == 2 && (req & bit)) return 2;
            return -1;
        }
        if (req & bit) return int(l);
    }
    return -1;
}

void Pic::ack_level(Chip& c, unsigned level) {
    uint8_t bit = uint8_t(1u << level);
    if (!(c.elcr & bit)) c.irr &= uint8_t(~bit);  // edge latch consumed; level IRR follows input
    if (c.aeoi) {
        if (c.rotate_aeoi) c.lowest = uint8_t(level);
    } else {
        c.isr |= bit;
    }
}

void Pic::update() {
    Chip& m = chips_[0];
    if (cascaded()) {
        bool slave_int = pending_level(chips_[1], false) >= 0;
        m.irr = uint8_t((m.irr & ~kCascadeBit) | (slave_int ? kCascadeBit : 0));
        m.input = uint8_t((m.input & ~kCascadeBit) | (slave_int ? kCascadeBit : 0));
    }
    bool out = pending_level(m, true) >= 0;
    if (out != int_out_) {
        int_out_ = out;
        if (output_cb_) output_cb_(out);
    }
}

void Pic::set_irq(unsigned irq, bool level) {
    if (irq >= 16 || irq == 2) return;
    Chip& c = chips_[irq >> 3];
    uint8_t bit = uint8_t(1u << (irq & 7));
    bool was = c.input & bit;
    c.input = uint8_t(level ? (c.input | bit) : (c.input & ~bit));
    if (c.elcr & bit) {
        c.irr = uint8_t(level ? (c.irr | bit) : (c.irr & ~bit));
    } else if (level && !was) {
        c.irr |= bit;
    } else {
        return;  // nothing changed
    }
    update();
}

uint8_t Pic::acknowledge() {
    Chip& m = chips_[0];
    uint8_t vector;
    int l = pending_level(m, true);
    if (l < 0) {
        vector = uint8_t(m.base | 7);  // spurious IRQ 7: ISR untouched
    } else {
        ack_level(m, unsigned(l));
        if (l == 2 && cascaded()) {
            Chip& s = chips_[1];
            int sl = pending_level(s, false);
            if (sl < 0) {
                vector = uint8_t(s.base | 7);  // spurious IRQ 15: master ISR2 stays set
            } else {
                ack_level(s, unsigned(sl));
                vector = uint8_t(s.base | sl);
            }
        } else {
            vector = uint8_t(m.base | l);
        }
    }
    update();
    return vector;
}

uint8_t Pic::poll_read(Chip& c, bool is_master) {
    c.poll = false;
    int l = pending_level(c, is_master);
    if (l < 0) return 0;
    ack_level(c, unsigned(l));
    update();
    return uint8_t(0x80 | l);
}

void Pic::write_cmd(Chip& c, uint8_t v) {
    if (v & kIcw1) {
        c.init_step = 2;
        c.icw4_needed = v & kIcw1Ic4;
        c.single = v & kIcw1Single;
        // Edge sense latches reset: an edge input needs a new low-to-high transition.
        c.irr = c.elcr & c.input;
        c.isr = 0;
        c.imr = 0;
        c.lowest = 7;
        c.special_mask = false;
        c.read_isr = false;
        c.poll = false;
        c.rotate_aeoi = false;
        if (!c.icw4_needed) c.aeoi = c.sfnm = false;
    } else if (v & kOcw3) {
        if (v & kOcw3Poll) c.poll = true;
        if (v & kOcw3Rr) c.read_isr = v & kOcw3Ris;
        if (v & kOcw3Esmm) c.special_mask = v & kOcw3Smm;
    } else {
        unsigned level = v & 7;
        int top = highest_isr(c);
        switch (v >> 5) {
        case 0: c.rotate_aeoi = false; break;            // clear rotate in AEOI mode
        case 4: c.rotate_aeoi = true; break;             // set rotate in AEOI mode
        case 1:                                          // non-specific EOI
        case 5:                                          // rotate on non-specific EOI
            if (top >= 0) {
                c.isr &= uint8_t(~(1u << top));
                if (v >> 5 == 5) c.lowest = uint8_t(top);
            }
            break;
        case 3: c.isr &= uint8_t(~(1u << level)); break;  // specific EOI
        case 7:                                           // rotate on specific EOI
            c.isr &= uint8_t(~(1u << level));
            c.lowest = uint8_t(level);
            break;
        case 6: c.lowest = uint8_t(level); break;         // set priority
        default: break;                                   // 2: no operation
        }
    }
    update();
}

void Pic::write_data(Chip& c, uint8_t v) {
    switch (c.init_step) {
    case 2:
        c.base = v & 0xF8;
        c.init_step = c.single ? (c.icw4_needed ? 4 : 0) : 3;
        break;
    case 3:
        c.icw3 = v;
        c.init_step = c.icw4_needed ? 4 : 0;
        break;
    case 4:
        // uPM (bit 0) is assumed set: vectors are always 8086-style. Buffered mode is ignored.
        c.aeoi = v & kIcw4Aeoi;
        c.sfnm = v & kIcw4Sfnm;
        c.init_step = 0;
        break;
    default:
        c.imr = v;
        break;
    }
    update();
}

uint32_t Pic::io_read(uint16_t port, unsigned) {
    if (port == kElcrBase || port == kElcrBase + 1) return chips_[port - kElcrBase].elcr;
    bool slave = (port & 0xF0) == kPicSlaveBase;
    Chip& c = chips_[slave ? 1 : 0];
    if (c.poll) return poll_read(c, !slave);
    if (port & 1) return c.imr;
    return c.read_isr ? c.isr : c.irr;
}

void Pic::io_write(uint16_t port, unsigned, uint32_t value) {
    uint8_t v = uint8_t(value);
    if (port == kElcrBase || port == kElcrBase + 1) {
        Chip& c = chips_[port - kElcrBase];
        c.elcr = v & kElcrMask[port - kElcrBase];
        c.irr = uint8_t((c.irr & ~c.elcr) | (c.input & c.elcr));  // level inputs: IRR = level
        update();
        return;
    }
    bool slave = (port & 0xF0) == kPicSlaveBase;
    Chip& c = chips_[slave ? 1 : 0];
    if (port & 1) {
        write_data(c, v);
    } else {
        write_cmd(c, v);
    }
}

}  // namespace vx86::devices
