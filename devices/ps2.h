// Ps2Keyboard and Ps2Mouse: the devices at the far end of the i8042's two PS/2 ports.
//
// Design decisions:
// - Each device is a small state machine that takes one byte from the host (the controller) at a
//   time and answers by appending bytes to its own output queue. The controller (devices/i8042.h)
//   pulls from the queues one byte at a time, so nothing here knows about ports, status bits or
//   IRQs, and the devices are testable alone. Responses are immediate: no Clock is involved.
// - Queues are fixed rings (plain data, serializable). The keyboard accepts scan codes only while
//   its queue holds fewer than 16 bytes (the buffer of a real keyboard); when scan codes no longer
//   fit it queues one overrun code (0x00 in sets 2/3, 0xFF in set 1) and drops the rest. The ring
//   is larger than that, so command responses always fit even behind a full scan buffer.
// - Host input uses set 2 key codes: `KeyCode` is the set 2 make code in the low byte, with
//   kExtended (0xE000) marking keys that send an E0 prefix. A frontend maps SDL or terminal keys to
//   these once. The keyboard emits set 2 (make: [E0] code, break: [E0] F0 code) or, when the guest
//   selected set 1 with 0xF0, set 1 (break = make | 0x80). Set 3 is accepted and reported but
//   keys are sent with set 2 codes (no guest in scope uses set 3). Pause and Print Screen (multi-
//   byte special sequences) and typematic repeat are not modelled: a frontend repeats by calling
//   key(code, true) again.
// - The set 2 -> set 1 table is public (ps2_set2_to_set1) because the i8042 applies the same
//   translation when its XLAT bit is set.
// - The mouse keeps its movement in accumulators. In stream mode with reporting enabled a packet
//   is queued whenever there is movement or a button change and room for a whole packet; deltas
//   beyond the 9-bit range are carried into the next packet (pump() is called by the controller
//   when it drains the queue). Remote mode (0xF0) sends a packet only on 0xEB. The IntelliMouse
//   "knock" (sample rates 200, 100, 80 in a row) switches the device ID to 3, which adds a fourth
//   packet byte with the wheel delta. Wrap (echo) mode is not modelled.
#pragma once

#include <array>
#include <cstdint>

namespace vx86::devices {

// A fixed-capacity byte FIFO.
template <unsigned N>
struct ByteQueue {
    std::array<uint8_t, N> buf{};
    unsigned head = 0;
    unsigned count = 0;

    static constexpr unsigned capacity() { return N; }
    bool empty() const { return count == 0; }
    bool full() const { return count == N; }
    unsigned size() const { return count; }
    unsigned space() const { return N - count; }
    void clear() { head = count = 0; }
    bool push(uint8_t b) {
        if (count == N) return false;
        buf[(head + count) % N] = b;
        ++count;
        return true;
    }
    uint8_t pop() {
        if (count == 0) return 0;
        uint8_t b = buf[head];
        head = (head + 1) % N;
        --count;
        return b;
    }
};

// Maps one set 2 byte to its set 1 equivalent (bytes with no set 1 meaning map to themselves).
uint8_t ps2_set2_to_set1(uint8_t code);

// Host key codes: set 2 make code, with kExtended for E0-prefixed keys.
enum KeyCode : uint16_t {
    kExtended = 0xE000,
    kKeyA = 0x1C, kKeyB = 0x32, kKeyC = 0x21, kKeyD = 0x23, kKeyE = 0x24, kKeyF = 0x2B,
    kKeyG = 0x34, kKeyH = 0x33, kKeyI = 0x43, kKeyJ = 0x3B, kKeyK = 0x42, kKeyL = 0x4B,
    kKeyM = 0x3A, kKeyN = 0x31, kKeyO = 0x44, kKeyP = 0x4D, kKeyQ = 0x15, kKeyR = 0x2D,
    kKeyS = 0x1B, kKeyT = 0x2C, kKeyU = 0x3C, kKeyV = 0x2A, kKeyW = 0x1D, kKeyX = 0x22,
    kKeyY = 0x35, kKeyZ = 0x1A,
    kKey1 = 0x16, kKey2 = 0x1E, kKey3 = 0x26, kKey4 = 0x25, kKey5 = 0x2E, kKey6 = 0x36,
    kKey7 = 0x3D, kKey8 = 0x3E, kKey9 = 0x46, kKey0 = 0x45,
    kKeyMinus = 0x4E, kKeyEquals = 0x55, kKeyLeftBracket = 0x54, kKeyRightBracket = 0x5B,
    kKeyBackslash = 0x5D, kKeySemicolon = 0x4C, kKeyApostrophe = 0x52, kKeyGrave = 0x0E,
    kKeyComma = 0x41, kKeyPeriod = 0x49, kKeySlash = 0x4A,
    kKeyEnter = 0x5A, kKeyEscape = 0x76, kKeyBackspace = 0x66, kKeyTab = 0x0D, kKeySpace = 0x29,
    kKeyCapsLock = 0x58, kKeyNumLock = 0x77, kKeyScrollLock = 0x7E,
    kKeyLeftShift = 0x12, kKeyRightShift = 0x59, kKeyLeftCtrl = 0x14, kKeyLeftAlt = 0x11,
    kKeyRightCtrl = kExtended | 0x14, kKeyRightAlt = kExtended | 0x11,
    kKeyF1 = 0x05, kKeyF2 = 0x06, kKeyF3 = 0x04, kKeyF4 = 0x0C, kKeyF5 = 0x03, kKeyF6 = 0x0B,
    kKeyF7 = 0x83, kKeyF8 = 0x0A, kKeyF9 = 0x01, kKeyF10 = 0x09, kKeyF11 = 0x78, kKeyF12 = 0x07,
    kKeyUp = kExtended | 0x75, kKeyDown = kExtended | 0x72, kKeyLeft = kExtended | 0x6B,
    kKeyRight = kExtended | 0x74, kKeyInsert = kExtended | 0x70, kKeyDelete = kExtended | 0x71,
    kKeyHome = kExtended | 0x6C, kKeyEnd = kExtended | 0x69, kKeyPageUp = kExtended | 0x7D,
    kKeyPageDown = kExtended | 0x7A,
    kKeyKpEnter = kExtended | 0x5A, kKeyKpSlash = kExtended | 0x4A, kKeyKpStar = 0x7C,
    kKeyKpMinus = 0x7B, kKeyKpPlus = 0x79, kKeyKpPeriod = 0x71, kKeyKp0 = 0x70, kKeyKp1 = 0x69,
    kKeyKp2 = 0x72, kKeyKp3 = 0x7A, kKeyKp4 = 0x6B, kKeyKp5 = 0x73, kKeyKp6 = 0x74,
    kKeyKp7 = 0x6C, kKeyKp8 = 0x75, kKeyKp9 = 0x7D,
    kKeyLeftGui = kExtended | 0x1F, kKeyRightGui = kExtended | 0x27, kKeyMenu = kExtended | 0x2F,
};

inline constexpr uint8_t kPs2Ack = 0xFA, kPs2Resend = 0xFE, kPs2BatOk = 0xAA, kPs2Echo = 0xEE;

class Ps2Keyboard {
public:
    Ps2Keyboard() { reset(); }

    // Power-on state: set 2, scanning enabled, queue empty (no BAT code: the BIOS asks with 0xFF).
    void reset();
    // A byte from the controller (a command or a command's parameter).
    void write(uint8_t b);
    // A host key event. Ignored while scanning is disabled (0xF5).
    void key(uint16_t code, bool pressed);

    bool has_data() const { return !out_.empty(); }
    uint8_t read();

    unsigned scan_set() const { return scan_set_; }
    uint8_t leds() const { return leds_; }  // bit 0 Scroll, 1 Num, 2 Caps Lock
    uint8_t typematic() const { return typematic_; }
    bool scanning() const { return scanning_; }

    static constexpr unsigned kScanBufferBytes = 16;

private:
    void respond(uint8_t b);
    void set_defaults();
    void queue_scan(const uint8_t* bytes, unsigned n);

    ByteQueue<32> out_;
    uint8_t pending_cmd_ = 0;  // command waiting for its parameter (0 = none)
    uint8_t last_sent_ = 0;    // for 0xFE resend
    uint8_t scan_set_ = 2;
    uint8_t leds_ = 0;
    uint8_t typematic_ = 0x2B;  // 10.9 characters/s, 500 ms delay
    bool scanning_ = true;
    bool overrun_ = false;  // an overrun code is queued; no more scan codes until it drains
};

// Mouse buttons for Ps2Mouse::move (and I8042::mouse_move).
inline constexpr uint8_t kMouseLeft = 0x01, kMouseRight = 0x02, kMouseMiddle = 0x04;

class Ps2Mouse {
public:
    Ps2Mouse() { reset(); }

    void reset();
    void write(uint8_t b);
    // Host movement: dx right-positive, dy down-positive (screen convention; the device reports
    // PS/2's up-positive Y), dz wheel (positive = towards the user), buttons kMouse* bits.
    void move(int dx, int dy, int dz, uint8_t buttons);
    // Queues a stream packet if there is pending movement and room (called after draining).
    void pump();

    bool has_data() const { return !out_.empty(); }
    uint8_t read();

    uint8_t device_id() const { return id_; }
    uint8_t sample_rate() const { return rate_; }
    uint8_t resolution() const { return resolution_; }
    bool reporting() const { return reporting_; }
    bool remote_mode() const { return remote_; }
    bool scaling_2to1() const { return scaling21_; }

private:
    void respond(uint8_t b);
    void set_defaults();
    unsigned packet_size() const { return id_ == 3 ? 4u : 3u; }
    void queue_packet();
    int scaled(int d) const;

    ByteQueue<32> out_;
    uint8_t pending_cmd_ = 0;
    uint8_t last_sent_ = 0;
    uint8_t id_ = 0;
    uint8_t rate_ = 100;
    uint8_t resolution_ = 2;  // 4 counts/mm
    bool scaling21_ = false;
    bool reporting_ = false;
    bool remote_ = false;
    std::array<uint8_t, 3> rate_history_{};  // last three sample rates set, oldest first
    int acc_dx_ = 0, acc_dy_ = 0, acc_dz_ = 0;  // PS/2 sense (Y up)
    uint8_t buttons_ = 0;
    bool buttons_dirty_ = false;
};

}  // namespace vx86::devices
