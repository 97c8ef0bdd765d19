// I8042: the PC keyboard controller at ports 0x60 (data) and 0x64 (status / command), with a PS/2
// keyboard on its first port and a PS/2 mouse on its second (devices/ps2.h).
//
// Design decisions:
// - The controller is modelled at the level its programming interface shows: one input buffer,
//   one output buffer, a status register and the command byte. Commands and data are processed
//   the moment they are written, so IBF (status bit 1) always reads 0. Output is one byte at a
//   time: a byte moves from a queue into the output buffer only when the buffer is empty, i.e.
//   after the guest read port 0x60. Sources are served in a fixed order: the controller's own
//   replies (0x20, 0xAA, 0xD2/0xD3 echoes, ...), then the keyboard, then the mouse. A device's
//   bytes wait in its own queue while its interface is disabled (command byte bits 4/5, or
//   0xAD/0xA7); the controller's replies are always delivered.
// - IRQ1 and IRQ12 are levels: IRQ1 = OBF with keyboard (or controller) data and command byte
//   bit 0; IRQ12 = OBF with mouse data (status bit 5) and command byte bit 1. Reading 0x60 drops
//   the line and, if more data is queued, raises it again at once: a new edge for the 8259.
// - Translation (command byte bit 6): every keyboard byte passes the set 2 -> set 1 table; an F0
//   break prefix is swallowed and ORs 0x80 into the next byte. Replies to keyboard commands are
//   translated too (0xF2 answers FA AB 41 when translating), as on real controllers. 0xD2 bytes
//   are not translated.
// - Writing a byte to the keyboard (port 0x60 with no command pending) enables the keyboard
//   interface (clears command byte bit 4), as AT controllers do, so a guest talking to a disabled
//   keyboard still hears its answer. 0xD4 likewise enables the mouse interface.
// - The mouse can be declared absent (set_aux_present(false)); a byte sent to it then fails with
//   the timeout bit (status bit 6) and 0xFE as mouse data, which is how drivers detect no mouse.
// - A20 and reset leave the device through callbacks: output port bit 1 (0xD1, 0xDD, 0xDF) calls
//   set_a20; output port bit 0 written 0 and the 0xF0-0xFF pulse commands with bit 0 clear (0xFE)
//   call request_reset. The controller itself is not reset by that (the machine decides what a
//   reset covers; on a real PC the 8042 survives a CPU reset, which is how the SYS flag works).
//   0xD0 reports A20 from a20_state when given, so port 0x92 and the 8042 agree.
// - Host input: key(KeyCode, pressed) and mouse_move(dx, dy, dz, buttons) (devices/ps2.h for the
//   conventions). Both are immediate; nothing here needs a Clock.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"
#include "devices/irq.h"
#include "devices/ps2.h"

namespace vx86::devices {

inline constexpr uint16_t kI8042Data = 0x60, kI8042Command = 0x64;

class I8042 final : public IoDevice {
public:
    I8042() { reset(); }

    // Claims 0x60 and 0x64 (0x61 belongs to the PIT/speaker logic).
    void attach(IoBus& bus);
    // Power-on state of the controller and both devices. Callbacks and IRQ lines are kept.
    void reset();

    void set_irqs(IrqLine kbd_irq1, IrqLine aux_irq12) {
        kbd_irq_ = kbd_irq1;
        aux_irq_ = aux_irq12;
        update_irqs();
    }
    void set_aux_present(bool present) { aux_present_ = present; }

    // Callbacks into the machine.
    std::function<void(bool)> set_a20;     // output port bit 1 changed
    std::function<void()> request_reset;   // output port bit 0 pulsed low
    std::function<bool()> a20_state;       // optional: current A20 for 0xD0 reads

    // Host input.
    void key(uint16_t code, bool pressed);
    void mouse_move(int dx, int dy, int dz, uint8_t buttons);

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    uint8_t command_byte() const { return ram_[0]; }
    uint8_t status() const;
    Ps2Keyboard& keyboard() { return kbd_; }
    Ps2Mouse& mouse() { return mouse_; }

    // Status register bits.
    static constexpr uint8_t kStOutputFull = 0x01, kStInputFull = 0x02, kStSystem = 0x04,
                             kStCommand = 0x08, kStKeyUnlocked = 0x10, kStAuxData = 0x20,
                             kStTimeout = 0x40, kStParity = 0x80;
    // Command byte bits.
    static constexpr uint8_t kCbKbdIrq = 0x01, kCbAuxIrq = 0x02, kCbSystem = 0x04,
                             kCbKbdDisable = 0x10, kCbAuxDisable = 0x20, kCbTranslate = 0x40;
    // Output port bits.
    static constexpr uint8_t kOutReset = 0x01, kOutA20 = 0x02;

private:
    void command(uint8_t cmd);
    void data(uint8_t b);
    void reply(uint8_t b, bool aux = false);
    void write_output_port(uint8_t v);
    void pulse_output(uint8_t mask);
    uint8_t output_port() const;
    void fill();  // moves the next queued byte into an empty output buffer
    void update_irqs();

    Ps2Keyboard kbd_;
    Ps2Mouse mouse_;
    IrqLine kbd_irq_{};
    IrqLine aux_irq_{};
    bool kbd_irq_level_ = false;
    bool aux_irq_level_ = false;

    uint8_t ram_[32]{};  // ram_[0] is the command byte
    uint8_t out_buf_ = 0;
    bool obf_ = false;
    bool obf_aux_ = false;
    bool last_was_command_ = true;  // status bit 3
    bool timeout_ = false;
    uint8_t pending_ = 0;  // controller command waiting for a data byte (0 = none)
    uint8_t outport_ = kOutReset | kOutA20;
    bool xlat_break_ = false;  // an F0 was swallowed by translation
    bool aux_present_ = true;
    // Controller replies waiting for the output buffer; `aux` marks 0xD3 bytes.
    ByteQueue<8> replies_;
    ByteQueue<8> reply_aux_;  // parallel queue of 0/1 flags
};

}  // namespace vx86::devices
