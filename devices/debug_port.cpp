#include "devices/debug_port.h"

namespace vx86::devices {

uint32_t DebugPort::io_read(uint16_t /*port*/, unsigned /*size*/) { return kDebugPort; }

void DebugPort::io_write(uint16_t /*port*/, unsigned /*size*/, uint32_t value) {
    ++bytes_written_;
    if (sink_) sink_(uint8_t(value));
}

}  // namespace vx86::devices
