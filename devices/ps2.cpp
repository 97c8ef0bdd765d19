#include "devices/ps2.h"

#include <algorithm>

namespace vx86::devices {

namespace {

// Set 2 -> set 1 for 0x00-0x7F (the table the 8042 uses for translation); 0x83 (F7) -> 0x41 and
// everything else >= 0x80 maps to itself.
constexpr uint8_t kSet2ToSet1[128] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
};

}  // namespace

uint8_t ps2_set2_to_set1(uint8_t code) {
    if (code < 0x80) return kSet2ToSet1[code];
    if (code == 0x83) return 0x41;
    return code;
}

// ---------------------------------------------------------------------------------------------
// Keyboard

void Ps2Keyboard::reset() {
    out_.clear();
    pending_cmd_ = 0;
    last_sent_ = 0;
    scan_set_ = 2;
    leds_ = 0;
    set_defaults();
    scanning_ = true;
    overrun_ = false;
}

void Ps2Keyboard::set_defaults() {
    typematic_ = 0x2B;
}

void Ps2Keyboard::respond(uint8_t b) {
    out_.push(b);
    if (b != kPs2Resend) last_sent_ = b;
}

uint8_t Ps2Keyboard::read() {
    uint8_t b = out_.pop();
    if (out_.empty()) overrun_ = false;
    return b;
}

void Ps2Keyboard::write(uint8_t b) {
    if (pending_cmd_ != 0) {
        uint8_t cmd = pending_cmd_;
        pending_cmd_ = 0;
        switch (cmd) {
            case 0xED:  // Set LEDs
                leds_ = b & 0x07;
                respond(kPs2Ack);
                return;
            case 0xF3:  // Set typematic rate/delay
                typematic_ = b & 0x7F;
                respond(kPs2Ack);
                return;
            case 0xF0:  // Get/set scan code set
                if (b == 0) {
                    respond(kPs2Ack);
                    respond(scan_set_);
                } else if (b <= 3) {
                    scan_set_ = b;
                    respond(kPs2Ack);
                } else {
                    respond(kPs2Resend);
                }
                return;
            default: break;
        }
    }
    switch (b) {
        case 0xFF:  // Reset: ACK, then the result of the basic assurance test.
            reset();
            respond(kPs2Ack);
            respond(kPs2BatOk);
            break;
        case 0xFE: respond(last_sent_); break;  // Resend
        case 0xF6:  // Set defaults, keep scanning state
            set_defaults();
            respond(kPs2Ack);
            break;
        case 0xF5:  // Disable: defaults, stop scanning
            set_defaults();
            scanning_ = false;
            out_.clear();
            overrun_ = false;
            respond(kPs2Ack);
            break;
        case 0xF4:  // Enable: clear the buffer, start scanning
            out_.clear();
            overrun_ = false;
            scanning_ = true;
            respond(kPs2Ack);
            break;
        case 0xF2:  // Identify: MF2 keyboard
            respond(kPs2Ack);
            respond(0xAB);
            respond(0x83);
            break;
        case 0xEE: respond(kPs2Echo); break;
        case 0xED:
        case 0xF3:
        case 0xF0:
            pending_cmd_ = b;
            respond(kPs2Ack);
            break;
        case 0xF7: case 0xF8: case 0xF9: case 0xFA:  // set-3 key type commands: accepted, no effect
            respond(kPs2Ack);
            break;
        default: respond(kPs2Resend); break;
    }
}

void Ps2Keyboard::queue_scan(const uint8_t* bytes, unsigned n) {
    if (overrun_) return;
    if (out_.size() + n > kScanBufferBytes) {
        out_.push(scan_set_ == 1 ? 0xFF : 0x00);
        overrun_ = true;
        return;
    }
    for (unsigned i = 0; i < n; ++i) out_.push(bytes[i]);
}

void Ps2Keyboard::key(uint16_t code, bool pressed) {
    if (!scanning_) return;
    bool ext = (code & kExtended) == kExtended;
    uint8_t c = uint8_t(code);
    uint8_t seq[4];
    unsigned n = 0;
    if (ext) seq[n++] = 0xE0;
    if (scan_set_ == 1) {
        uint8_t c1 = ps2_set2_to_set1(c);
        seq[n++] = pressed ? c1 : uint8_t(c1 | 0x80);
    } else {
        if (!pressed) seq[n++] = 0xF0;
        seq[n++] = c;
    }
    queue_scan(seq, n);
}

// ---------------------------------------------------------------------------------------------
// Mouse

void Ps2Mouse::reset() {
    out_.clear();
    pending_cmd_ = 0;
    last_sent_ = 0;
    id_ = 0;
    set_defaults();
    rate_history_ = {};
    buttons_ = 0;
}

void Ps2Mouse::set_defaults() {
    rate_ = 100;
    resolution_ = 2;
    scaling21_ = false;
    reporting_ = false;
    remote_ = false;
    acc_dx_ = acc_dy_ = acc_dz_ = 0;
    buttons_dirty_ = false;
}

void Ps2Mouse::respond(uint8_t b) {
    out_.push(b);
    if (b != kPs2Resend) last_sent_ = b;
}

uint8_t Ps2Mouse::read() { return out_.pop(); }

void Ps2Mouse::write(uint8_t b) {
    if (pending_cmd_ != 0) {
        uint8_t cmd = pending_cmd_;
        pending_cmd_ = 0;
        switch (cmd) {
            case 0xF3:  // Set sample rate
                rate_ = b;
                rate_history_ = {rate_history_[1], rate_history_[2], b};
                respond(kPs2Ack);
                return;
            case 0xE8:  // Set resolution (0..3 = 1, 2, 4, 8 counts/mm)
                if (b > 3) {
                    respond(kPs2Resend);
                } else {
                    resolution_ = b;
                    respond(kPs2Ack);
                }
                return;
            default: break;
        }
    }
    switch (b) {
        case 0xFF:  // Reset: ACK, BAT passed, device ID 0
            reset();
            respond(kPs2Ack);
            respond(kPs2BatOk);
            respond(0x00);
            break;
        case 0xFE: respond(last_sent_); break;
        case 0xF6:  // Set defaults
            set_defaults();
            respond(kPs2Ack);
            break;
        case 0xF5:  // Disable data reporting
            reporting_ = false;
            acc_dx_ = acc_dy_ = acc_dz_ = 0;
            buttons_dirty_ = false;
            respond(kPs2Ack);
            break;
        case 0xF4:  // Enable data reporting
            reporting_ = true;
            acc_dx_ = acc_dy_ = acc_dz_ = 0;
            buttons_dirty_ = false;
            respond(kPs2Ack);
            break;
        case 0xF3:
        case 0xE8:
            pending_cmd_ = b;
            respond(kPs2Ack);
            break;
        case 0xF2: {  // Get device ID; check the IntelliMouse knock first
            if (rate_history_[0] == 200 && rate_history_[1] == 100 && rate_history_[2] == 80)
                id_ = 3;
            rate_history_ = {};
            respond(kPs2Ack);
            respond(id_);
            break;
        }
        case 0xF0:  // Remote mode
            remote_ = true;
            acc_dx_ = acc_dy_ = acc_dz_ = 0;
            respond(kPs2Ack);
            break;
        case 0xEA:  // Stream mode
            remote_ = false;
            acc_dx_ = acc_dy_ = acc_dz_ = 0;
            respond(kPs2Ack);
            break;
        case 0xEB:  // Read data: one packet, even with reporting disabled
            respond(kPs2Ack);
            queue_packet();
            break;
        case 0xE9: {  // Status request
            respond(kPs2Ack);
            uint8_t s = uint8_t((remote_ ? 0x40 : 0) | (reporting_ ? 0x20 : 0) |
                                (scaling21_ ? 0x10 : 0) | ((buttons_ & kMouseLeft) ? 0x04 : 0) |
                                ((buttons_ & kMouseMiddle) ? 0x02 : 0) |
                                ((buttons_ & kMouseRight) ? 0x01 : 0));
            respond(s);
            respond(resolution_);
            respond(rate_);
            break;
        }
        case 0xE7: scaling21_ = true; respond(kPs2Ack); break;
        case 0xE6: scaling21_ = false; respond(kPs2Ack); break;
        default: respond(kPs2Resend); break;
    }
}

int Ps2Mouse::scaled(int d) const {
    if (!scaling21_) return d;
    int m = d < 0 ? -d : d;
    static constexpr int kMap[6] = {0, 1, 1, 3, 6, 9};
    int r = m < 6 ? kMap[m] : 2 * m;
    return d < 0 ? -r : r;
}

void Ps2Mouse::queue_packet() {
    if (out_.space() < packet_size()) return;
    int dx = std::clamp(acc_dx_, -256, 255);
    int dy = std::clamp(acc_dy_, -256, 255);
    int dz = std::clamp(acc_dz_, -8, 7);
    acc_dx_ -= dx;
    acc_dy_ -= dy;
    acc_dz_ -= dz;
    buttons_dirty_ = false;
    if (!remote_) {
        dx = std::clamp(scaled(dx), -256, 255);
        dy = std::clamp(scaled(dy), -256, 255);
    }
    uint8_t b0 = uint8_t(0x08 | (buttons_ & 0x07) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
    out_.push(b0);
    out_.push(uint8_t(dx));
    out_.push(uint8_t(dy));
    if (packet_size() == 4) out_.push(uint8_t(dz));
    last_sent_ = uint8_t(packet_size() == 4 ? dz : dy);
}

void Ps2Mouse::pump() {
    if (remote_ || !reporting_) return;
    if (acc_dx_ == 0 && acc_dy_ == 0 && acc_dz_ == 0 && !buttons_dirty_) return;
    queue_packet();
}

void Ps2Mouse::move(int dx, int dy, int dz, uint8_t buttons) {
    buttons &= 0x07;
    if (buttons != buttons_) buttons_dirty_ = true;
    buttons_ = buttons;
    if (!reporting_ && !remote_) return;  // a disabled stream-mode mouse reports nothing
    // Keep the accumulators bounded so a frontend flood cannot overflow them.
    constexpr int kLimit = 1 << 20;
    acc_dx_ = std::clamp(acc_dx_ + dx, -kLimit, kLimit);
    acc_dy_ = std::clamp(acc_dy_ - dy, -kLimit, kLimit);
    if (id_ == 3) acc_dz_ = std::clamp(acc_dz_ + dz, -kLimit, kLimit);
    pump();
}

}  // namespace vx86::devices
