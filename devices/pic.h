// Pic: the PC's cascaded 8259A pair (master at 0x20/0x21, slave at 0xA0/0xA1 on the master's
// IR2) and the PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
//
// Design decisions:
// - One object models both chips: a PC never has one without the other, and the cascade (slave
//   INT into master IR2, the slave answering the INTA cycle for IR2) is then plain code instead
//   of a second IrqSink. Inputs are numbered 0..15 (IRQ 8..15 on the slave).
// - Inputs carry levels (devices/irq.h). Each chip remembers the last level of every input: in
//   edge mode a low-to-high transition latches the IRR bit, which stays set until the INTA cycle
//   (so IrqLine::pulse() works); in level mode the IRR bit follows the level. Edge or level is
//   chosen per IRQ by the ELCR, as on the PIIX/PIIX3; ICW1's LTIM bit is ignored there and here.
//   IRQ 0, 1, 2, 8 and 13 are always edge: their ELCR bits read as 0 and ignore writes.
// - The master's IR2 is not an external input: it follows the slave's INT output as a level. The
//   slave's INT is recomputed after every change, so a slave request that goes away before the
//   INTA cycle withdraws the master's request too. set_irq(2, ...) is ignored (on a real PC the
//   ISA IRQ2 pin is the slave's IR1, so devices use IRQ 9). In single mode (ICW1 SNGL) the slave
//   is disconnected from the master.
// - Priority: each chip keeps the number of its lowest-priority level (7 after ICW1); rotation
//   commands move it. A request is delivered when it is unmasked and of higher priority than the
//   highest in-service level. Special mask mode lets masked in-service levels stop blocking;
//   special fully nested mode (ICW4 SFNM, master only) lets the slave's IR2 in-service bit not
//   block further slave requests.
// - acknowledge() is the CPU's INTA cycle. When the master finds no request to serve (it went
//   away, or got masked, after INT was sampled) it answers with its IR7 vector without touching
//   ISR (spurious IRQ 7). Should it acknowledge IR2 while the slave has nothing (not reachable
//   through set_irq, since IR2 follows the slave's INT; kept as the real pair's behaviour), the
//   master's ISR2 is set and the slave answers with its IR7 vector (spurious IRQ 15).
// - The poll command (OCW3 P) turns the next read of the chip into an acknowledge of that chip
//   alone and returns 0x80 | level, or 0 when nothing is pending.
// - int_output() is a cached bool (the master's INT pin), updated after every state change, so
//   the CPU can test it at every instruction boundary. The optional output callback sees every
//   change of it (the scheduler uses it to end a run slice early).
// - Reset state (not defined by the datasheet; firmware always initialises the pair): IMR 0,
//   vector bases 0x08/0x70 as the PC BIOS programs them, cascade mode, ELCR all edge.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kPicMasterBase = 0x20, kPicSlaveBase = 0xA0, kElcrBase = 0x4D0;

class Pic final : public IoDevice, public IrqSink {
public:
    Pic() { reset(); }

    // Claims 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1.
    void attach(IoBus& bus);
    void reset();

    // IrqSink: input `irq` (0..15) changes level.
    void set_irq(unsigned irq, bool level) override;

    // The master's INT pin: true when the CPU should run an INTA cycle (if IF allows).
    bool int_output() const { return int_out_; }
    // Where int_output() lives, for readers that test it without a call (the JIT's block links).
    const bool* int_output_flag() const { return &int_out_; }
    // The INTA cycle: returns the vector and updates IRR/ISR across the cascade.
    uint8_t acknowledge();
    // Called with the new level whenever int_output() changes.
    void set_output_callback(std::function<void(bool)> cb) { output_cb_ = std::move(cb); }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    // Inspection (monitor, tests): 16-bit views, slave in the high byte.
    uint16_t irr() const { return uint16_t(chips_[0].irr | chips_[1].irr << 8); }
    uint16_t isr() const { return uint16_t(chips_[0].isr | chips_[1].isr << 8); }
    uint16_t imr() const { return uint16_t(chips_[0].imr | chips_[1].imr << 8); }
    uint16_t elcr() const { return uint16_t(chips_[0].elcr | chips_[1].elcr << 8); }

    // ELCR bits that can be set (IRQ 0, 1, 2, 8, 13 are always edge).
    static constexpr uint8_t kElcrMask[2] = {0xF8, 0xDE};

private:
    struct Chip {
        uint8_t irr = 0;
        uint8_t isr = 0;
        uint8_t imr = 0;
        uint8_t input = 0;   // last level seen on each input
        uint8_t elcr = 0;    // 1 = level triggered
        uint8_t lowest = 7;  // lowest-priority level
        uint8_t base = 0;    // ICW2 & 0xF8
        uint8_t icw3 = 0;
        uint8_t init_step = 0;  // 0 ready, 2..4 = next ICW expected
        bool icw4_needed = false;
        bool single = false;
        bool aeoi = false;
        bool sfnm = false;
        bool rotate_aeoi = false;
        bool special_mask = false;
        bool read_isr = false;
        bool poll = false;
    };

    // Highest-priority level that would be delivered (-1 when none). `is_master` enables the
    // special fully nested rule for IR2.
    int pending_level(const Chip& c, bool is_master) const;
    // Highest-priority in-service level (-1 when none).
    static int highest_isr(const Chip& c);
    // Acknowledges `level` on one chip (ISR/IRR/AEOI rotation).
    static void ack_level(Chip& c, unsigned level);
    bool cascaded() const { return !chips_[0].single; }
    void write_cmd(Chip& c, uint8_t v);
    void write_data(Chip& c, uint8_t v);
    uint8_t poll_read(Chip& c, bool is_master);
    void update();

    Chip chips_[2];
    bool int_out_ = false;
    std::function<void(bool)> output_cb_;
};

}  // namespace vx86::devices
