#include "devices/system_ports.h"

namespace vx86::devices {

void SystemPorts::reset() {
    // A20 starts enabled (as PhysMemory does) unless the machine reports otherwise.
    bool on = a20_state ? a20_state() : true;
    port_a_ = on ? kFastA20 : 0;
}

uint32_t SystemPorts::io_read(uint16_t port, unsigned /*size*/) {
    if (port == kPostPort) return post_;
    uint8_t v = uint8_t(port_a_ & ~kFastA20);
    if (a20()) v |= kFastA20;
    return v;
}

void SystemPorts::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
    uint8_t v = uint8_t(value);
    if (port == kPostPort) {
        post_ = v;
        ++post_writes_;
        return;
    }
    bool old_a20 = a20();
    bool old_reset = port_a_ & kFastReset;
    port_a_ = v;
    bool new_a20 = v & kFastA20;
    if (new_a20 != old_a20 && set_a20) set_a20(new_a20);
    if ((v & kFastReset) && !old_reset && request_reset) request_reset();
}

}  // namespace vx86::devices
