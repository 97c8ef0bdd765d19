#include "devices/i8042.h"

namespace vx86::devices {

void I8042::attach(IoBus& bus) {
    bus.attach(kI8042Data, 1, this, kIoSize8);
    bus.attach(kI8042Command, 1, this, kIoSize8);
}

void I8042::reset() {
    kbd_.reset();
    mouse_.reset();
    for (auto& r : ram_) r = 0;
    // Keyboard IRQ and translation on, so a guest that never programs the controller still gets
    // set 1 codes on IRQ1; SYS clear (cold boot) until the self test.
    ram_[0] = kCbKbdIrq | kCbTranslate;
    out_buf_ = 0;
    obf_ = false;
    obf_aux_ = false;
    last_was_command_ = true;
    timeout_ = false;
    pending_ = 0;
    outport_ = kOutReset | kOutA20;
    xlat_break_ = false;
    replies_.clear();
    reply_aux_.clear();
    update_irqs();
}

uint8_t I8042::status() const {
    uint8_t s = kStKeyUnlocked;
    if (obf_) s |= kStOutputFull;
    if (obf_ && obf_aux_) s |= kStAuxData;
    if (ram_[0] & kCbSystem) s |= kStSystem;
    if (last_was_command_) s |= kStCommand;
    if (timeout_) s |= kStTimeout;
    return s;
}

void I8042::update_irqs() {
    bool k = obf_ && !obf_aux_ && (ram_[0] & kCbKbdIrq);
    bool a = obf_ && obf_aux_ && (ram_[0] & kCbAuxIrq);
    if (k != kbd_irq_level_) {
        kbd_irq_level_ = k;
        kbd_irq_.set_level(k);
    }
    if (a != aux_irq_level_) {
        aux_irq_level_ = a;
        aux_irq_.set_level(a);
    }
}

void I8042::fill() {
    if (!obf_) {
        if (!replies_.empty()) {
            out_buf_ = replies_.pop();
            obf_aux_ = reply_aux_.pop() != 0;
            obf_ = true;
        } else if (!(ram_[0] & kCbKbdDisable)) {
            while (kbd_.has_data()) {
                uint8_t b = kbd_.read();
                if (ram_[0] & kCbTranslate) {
                    if (b == 0xF0) {  // break prefix: folded into the next byte
                        xlat_break_ = true;
                        continue;
                    }
                    b = uint8_t(ps2_set2_to_set1(b) | (xlat_break_ ? 0x80 : 0));
                    xlat_break_ = false;
                }
                out_buf_ = b;
                obf_aux_ = false;
                obf_ = true;
                break;
            }
        }
        if (!obf_ && !(ram_[0] & kCbAuxDisable) && mouse_.has_data()) {
            out_buf_ = mouse_.read();
            obf_aux_ = true;
            obf_ = true;
            mouse_.pump();  // carried-over movement, now that there may be room
        }
    }
    update_irqs();
}

void I8042::reply(uint8_t b, bool aux) {
    if (replies_.full()) return;
    replies_.push(b);
    reply_aux_.push(aux ? 1 : 0);
}

uint8_t I8042::output_port() const {
    uint8_t v = outport_ & uint8_t(~(0x30 | kOutA20));
    bool a20 = a20_state ? a20_state() : (outport_ & kOutA20) != 0;
    if (a20) v |= kOutA20;
    if (obf_ && !obf_aux_) v |= 0x10;  // IRQ1 output (keyboard OBF)
    if (obf_ && obf_aux_) v |= 0x20;   // IRQ12 output (mouse OBF)
    return v;
}

void I8042::write_output_port(uint8_t v) {
    bool old_a20 = a20_state ? a20_state() : (outport_ & kOutA20) != 0;
    bool new_a20 = (v & kOutA20) != 0;
    outport_ = uint8_t(v | kOutReset);  // the reset line is released again by the reset itself
    if (new_a20 != old_a20 && set_a20) set_a20(new_a20);
    if (!(v & kOutReset) && request_reset) request_reset();
}

void I8042::pulse_output(uint8_t mask) {
    // Bits 0-3 that are 0 in the command are pulsed low for about 6 us; only bit 0 (reset) has a
    // consumer on a PC.
    if (!(mask & kOutReset) && request_reset) request_reset();
}

void I8042::command(uint8_t cmd) {
    pending_ = 0;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        reply(ram_[cmd & 0x1F]);
    } else if (cmd >= 0x60 && cmd <= 0x7F) {
        pending_ = cmd;
    } else if (cmd >= 0xF0) {
        pulse_output(cmd & 0x0F);
    } else {
        switch (cmd) {
            case 0xA4: reply(0xF1); break;  // password not installed
            case 0xA7: ram_[0] |= kCbAuxDisable; break;
            case 0xA8: ram_[0] &= uint8_t(~kCbAuxDisable); break;
            case 0xA9: reply(0x00); break;  // aux interface test: OK
            case 0xAA:                       // self test: passed, sets SYS
                ram_[0] |= kCbSystem;
                reply(0x55);
                break;
            case 0xAB: reply(0x00); break;  // keyboard interface test: OK
            case 0xAD: ram_[0] |= kCbKbdDisable; break;
            case 0xAE: ram_[0] &= uint8_t(~kCbKbdDisable); break;
            // Input port: bit 7 keyboard not inhibited, bit 5 no manufacturing jumper, bit 6 0
            // (colour display).
            case 0xC0: reply(0xA0); break;
            case 0xD0: reply(output_port()); break;
            case 0xD1:
            case 0xD2:
            case 0xD3:
            case 0xD4: pending_ = cmd; break;
            case 0xDD: write_output_port(uint8_t(outport_ & ~kOutA20)); break;
            case 0xDF: write_output_port(uint8_t(outport_ | kOutA20)); break;
            case 0xE0: reply(0x00); break;  // test inputs
            default: break;                 // unknown commands are ignored
        }
    }
    fill();
}

void I8042::data(uint8_t b) {
    uint8_t p = pending_;
    pending_ = 0;
    if (p >= 0x60 && p <= 0x7F) {
        ram_[p & 0x1F] = b;
    } else if (p == 0xD1) {
        write_output_port(b);
    } else if (p == 0xD2) {
        reply(b, false);
    } else if (p == 0xD3) {
        reply(b, true);
    } else if (p == 0xD4) {
        if (aux_present_) {
            timeout_ = false;
            mouse_.write(b);
        } else {
            timeout_ = true;
            reply(0xFE, true);
        }
    } else {
        // No command pending: the byte goes to the keyboard, enabling its interface.
        ram_[0] &= uint8_t(~kCbKbdDisable);
        timeout_ = false;
        kbd_.write(b);
    }
    fill();
}

uint32_t I8042::io_read(uint16_t port, unsigned /*size*/) {
    if (port == kI8042Command) return status();
    uint8_t b = out_buf_;
    if (obf_) {
        obf_ = false;
        update_irqs();  // drop the line first, so the next byte is a new edge
        obf_aux_ = false;
        fill();
    }
    return b;
}

void I8042::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
    uint8_t v = uint8_t(value);
    if (port == kI8042Command) {
        last_was_command_ = true;
        command(v);
    } else {
        last_was_command_ = false;
        data(v);
    }
}

void I8042::key(uint16_t code, bool pressed) {
    kbd_.key(code, pressed);
    fill();
}

void I8042::mouse_move(int dx, int dy, int dz, uint8_t buttons) {
    mouse_.move(dx, dy, dz, buttons);
    fill();
}

}  // namespace vx86::devices
