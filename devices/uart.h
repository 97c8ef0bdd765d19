// Uart: a 16550A UART (COM1 at 0x3F8 on IRQ4, COM2 at 0x2F8 on IRQ3).
//
// Design decisions:
// - Transmission is immediate, as in QEMU: a byte written to THR (or the TX FIFO) goes to the
//   host sink at once, so LSR.THRE and LSR.TEMT stay set, the TX FIFO is always empty, and a
//   polling guest never waits. Each THR write re-arms the THRE interrupt (the byte "finished"
//   at once); enabling ETBEI in IER while THR is empty arms it too, as a 16550 does (Linux's
//   8250 driver tests for exactly this). The sink never sees loopback bytes.
// - Reception: the host calls receive(byte). With FIFOs enabled (FCR bit 0) bytes go into a
//   16-byte RX FIFO; RDA is pending while it holds at least the trigger level (1, 4, 8, 14).
//   With FIFOs off there is one holding register (RBR). A byte that finds no room is an overrun:
//   LSR.OE is set; in FIFO mode the new byte is lost, in 16450 mode it overwrites RBR (what the
//   chips do). receive() returns false on overrun; a frontend should ask can_receive() first.
// - Character timeout (FIFO mode): when the RX FIFO holds data and nothing was received or read
//   for 4 character times (from the divisor and LCR's word length, parity and stop bits, at the
//   1.8432 MHz PC clock), the timeout interrupt (IIR 0x0C) becomes pending. It is a Clock timer
//   re-armed on each received or read byte. Without a Clock (set_clock not called) the timeout
//   counts as already elapsed whenever the FIFO holds data, so input below the trigger level
//   still interrupts.
// - Interrupt identification follows the 16550 priorities: RLS (LSR.OE/PE/FE/BI, cleared by
//   reading LSR) > RDA (cleared when the FIFO drops below the trigger level) > character timeout
//   (cleared by reading RBR) > THRE (cleared by reading IIR when it is the reported source, or
//   by writing THR) > modem status (cleared by reading MSR).
// - The IRQ line is the chip's INTRPT output gated by MCR.OUT2, as on the PC where OUT2 enables
//   the IRQ buffer (Linux probes IRQs relying on that). In loopback mode the OUT2 pin is forced
//   inactive, so the line stays low. The line is driven as a level; the PIC sees an edge when
//   it rises.
// - MCR loopback (bit 4): THR bytes land in the receiver, and the modem inputs follow the MCR
//   outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2). Host bytes are refused in loopback (the
//   serial input is disconnected). Outside loopback the modem inputs are CTS, DSR and DCD
//   asserted: a terminal is attached and ready. Changes of the inputs set MSR's delta bits.
// - Parity, framing errors and breaks never occur (host bytes are always good), so LSR bits
//   2-4 and 7 stay 0. State is plain data; several UARTs are several objects.
#pragma once

#include <cstdint>

#include "devices/byte_sink.h"
#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kCom1Base = 0x3F8, kCom2Base = 0x2F8;
inline constexpr unsigned kCom1Irq = 4, kCom2Irq = 3;

class Uart final : public IoDevice {
public:
    explicit Uart(ByteSink sink, uint16_t base = kCom1Base) : sink_(std::move(sink)), base_(base) {
        reset();
    }

    void attach(IoBus& bus) { bus.attach(base_, 8, this, kIoSize8); }
    void set_irq(IrqLine irq);
    // Optional: needed only for the character timeout. Call once, before the guest runs.
    void set_clock(Clock* clock);
    // Master reset: registers to their datasheet reset values (the divisor latch is kept).
    void reset();

    // Host -> guest. False if the byte caused an overrun (see above) or loopback is on.
    bool receive(uint8_t byte);
    bool can_receive() const;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    uint64_t bytes_transmitted() const { return bytes_tx_; }
    uint16_t divisor() const { return uint16_t(dll_ | (dlm_ << 8)); }
    // Time of one character at the current divisor and line format, in ns.
    uint64_t char_time_ns() const;

    // Register offsets from the base port.
    enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
    static constexpr uint8_t kIerRda = 0x01, kIerThre = 0x02, kIerRls = 0x04, kIerMsr = 0x08;
    static constexpr uint8_t kIirNone = 0x01, kIirMsr = 0x00, kIirThre = 0x02, kIirRda = 0x04,
                             kIirRls = 0x06, kIirTimeout = 0x0C, kIirFifos = 0xC0;
    static constexpr uint8_t kFcrEnable = 0x01, kFcrRxReset = 0x02, kFcrTxReset = 0x04;
    static constexpr uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrParity = 0x04,
                             kLsrFraming = 0x08, kLsrBreak = 0x10, kLsrThrEmpty = 0x20,
                             kLsrTxEmpty = 0x40, kLsrFifoError = 0x80;
    static constexpr uint8_t kLcrDlab = 0x80;
    static constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08,
                             kMcrLoop = 0x10;
    static constexpr uint8_t kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08,
                             kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
    static constexpr unsigned kFifoSize = 16;
    static constexpr uint64_t kClockHz = 1'843'200;

private:
    bool dlab() const { return lcr_ & kLcrDlab; }
    bool fifo_on() const { return fcr_ & kFcrEnable; }
    unsigned trigger_level() const;
    uint8_t lsr() const;
    uint8_t iir() const;  // current identification (without side effects)
    uint8_t modem_inputs() const;
    void update_modem_inputs();
    void rx_push(uint8_t b, bool& overrun);
    uint8_t rx_pop();
    void rx_clear();
    void restart_timeout();
    bool timeout_pending() const;
    void update_irq();

    ByteSink sink_;
    uint16_t base_;
    IrqLine irq_{};
    Clock* clock_ = nullptr;
    TimerId timeout_timer_ = 0;
    bool irq_level_ = false;

    uint8_t rx_[kFifoSize]{};
    unsigned rx_head_ = 0;
    unsigned rx_count_ = 0;
    uint8_t rbr_ = 0;  // last byte read, returned again when the receiver is empty
    bool timeout_ = false;  // character timeout indication (with a Clock)

    uint8_t ier_ = 0;
    uint8_t fcr_ = 0;  // bits 0 and 3 and 6-7 as written
    uint8_t lcr_ = 0;
    uint8_t mcr_ = 0;
    uint8_t lsr_err_ = 0;  // LSR bits 1-4 latched until LSR is read
    uint8_t msr_ = 0;      // inputs in bits 4-7, deltas in bits 0-3
    uint8_t scr_ = 0;
    uint8_t dll_ = 0x0C;  // 9600 baud until the guest programs it
    uint8_t dlm_ = 0;
    bool thre_pending_ = false;
    uint64_t bytes_tx_ = 0;
};

}  // namespace vx86::devices
