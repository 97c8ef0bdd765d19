// SystemPorts: System Control Port A (0x92) and the POST code port (0x80).
//
// Design decisions:
// - Port 0x92 bit 1 is "fast A20": writing it calls set_a20 with the new state (only when it
//   changes). Bit 0 is the alternate (fast) reset: a 0 -> 1 transition calls request_reset, as
//   the PIIX datasheet describes; the bit reads back as written until reset(), so a guest doing
//   read-modify-write on the port does not reset the machine by accident. The machine must call
//   reset() on every machine reset (the PIIX clears the bit then). Other bits are kept and read
//   back (bit 3, the power-on password lock, has no effect here).
// - Reads of 0x92 report A20 as the machine sees it when a20_state is given (the 8042 output port
//   can change it too), else the last value written.
// - Port 0x80 keeps the last byte written (last_post()) and reads it back. Counting writes lets
//   tests and traces see progress. Note that the DMA page registers live at 0x81-0x8F: attach
//   this after the DMA controller if that claims 0x80 too (later registrations win).
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"

namespace vx86::devices {

inline constexpr uint16_t kPostPort = 0x80, kSysCtrlPortA = 0x92;

class SystemPorts final : public IoDevice {
public:
    SystemPorts() { reset(); }

    void attach(IoBus& bus) {
        bus.attach(kPostPort, 1, this, kIoSize8);
        bus.attach(kSysCtrlPortA, 1, this, kIoSize8);
    }
    // Port 0x92 to its reset value (A20 bit as last reported, reset bit 0); the POST code is kept.
    void reset();

    std::function<void(bool)> set_a20;
    std::function<void()> request_reset;
    std::function<bool()> a20_state;  // optional

    uint8_t last_post() const { return post_; }
    uint64_t post_writes() const { return post_writes_; }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    static constexpr uint8_t kFastReset = 0x01, kFastA20 = 0x02;

private:
    bool a20() const { return a20_state ? a20_state() : (port_a_ & kFastA20) != 0; }

    uint8_t port_a_ = 0;
    uint8_t post_ = 0;
    uint64_t post_writes_ = 0;
};

}  // namespace vx86::devices
