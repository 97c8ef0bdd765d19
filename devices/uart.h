// Uart: the output path of a 16550A UART (COM1 at 0x3F8), enough for guests that print to a
// serial console by polling.
//
// Design decisions:
// - This is deliberately minimal. Transmission is instantaneous: a byte written to THR goes to
//   the host sink at once, so LSR always reports THR empty and transmitter empty (bits 5 and 6)
//   and a polling guest never waits. There is no receive path (LSR.DR stays 0 unless loopback
//   mode put a byte in RBR), no FIFOs, no baud-rate timing and no interrupts: IIR always reads
//   "no interrupt pending". A full UART (receive from the host, FIFOs, THRE/RDA interrupts
//   through the PIC, timing from the Scheduler) is a later issue; it replaces this file.
// - The other registers (IER, LCR, MCR, SCR, the divisor latch behind LCR.DLAB) keep what the
//   guest writes, so BIOS and kernel probes that write a value and read it back find a UART.
//   The FCR write is remembered only to report "FIFOs enabled" in IIR bits 6-7, as a 16550A.
// - MCR loopback (bit 4) is honoured the cheap way because Linux's 8250 probe relies on it:
//   MSR reflects the MCR outputs, and THR bytes land in RBR instead of the sink.
// - State is plain data in the object; several UARTs (COM2-4) are several objects.
#pragma once

#include <cstdint>

#include "devices/byte_sink.h"
#include "devices/io_bus.h"

namespace vx86::devices {

inline constexpr uint16_t kCom1Base = 0x3F8;

class Uart final : public IoDevice {
public:
    explicit Uart(ByteSink sink, uint16_t base = kCom1Base) : sink_(std::move(sink)), base_(base) {}

    void attach(IoBus& bus) { bus.attach(base_, 8, this, kIoSize8); }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    uint64_t bytes_transmitted() const { return bytes_tx_; }

    // Register offsets from the base port.
    enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
    static constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrTxEmpty = 0x40;
    static constexpr uint8_t kLcrDlab = 0x80, kMcrLoop = 0x10;

private:
    bool dlab() const { return lcr_ & kLcrDlab; }

    ByteSink sink_;
    uint16_t base_;
    uint8_t rbr_ = 0;
    uint8_t ier_ = 0;
    uint8_t fcr_ = 0;
    uint8_t lcr_ = 0x03;  // 8N1, as firmware usually leaves it
    uint8_t mcr_ = 0;
    uint8_t lsr_ = kLsrThrEmpty | kLsrTxEmpty;
    uint8_t scr_ = 0;
    uint8_t dll_ = 0x0C;  // 9600 baud
    uint8_t dlm_ = 0;
    uint64_t bytes_tx_ = 0;
};

}  // namespace vx86::devices
