#include "devices/uart.h"

namespace vx86::devices {

uint32_t Uart::io_read(uint16_t port, unsigned /*size*/) {
    switch (uint16_t(port - base_)) {
        case kRbrThr:
            if (dlab()) return dll_;
            lsr_ &= uint8_t(~kLsrDataReady);
            return rbr_;
        case kIer: return dlab() ? dlm_ : ier_;
        case kIirFcr: return (fcr_ & 1) ? 0xC1 : 0x01;  // no interrupt pending
        case kLcr: return lcr_;
        case kMcr: return mcr_;
        case kLsr: return lsr_;
        case kMsr:
            if (mcr_ & kMcrLoop) {
                // Loopback: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2.
                return uint8_t(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) | ((mcr_ & 0x04) << 4) |
                               ((mcr_ & 0x08) << 4));
            }
            return 0xB0;  // DCD, DSR, CTS: a terminal is attached and ready
        case kScr: return scr_;
        default: return 0xFF;
    }
}

void Uart::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
    uint8_t v = uint8_t(value);
    switch (uint16_t(port - base_)) {
        case kRbrThr:
            if (dlab()) {
                dll_ = v;
            } else if (mcr_ & kMcrLoop) {
                rbr_ = v;
                lsr_ |= kLsrDataReady;
            } else {
                ++bytes_tx_;
                if (sink_) sink_(v);
            }
            break;
        case kIer:
            if (dlab()) dlm_ = v;
            else ier_ = v & 0x0F;
            break;
        case kIirFcr: fcr_ = v & 0xC9; break;  // FIFO enable, DMA mode, trigger level
        case kLcr: lcr_ = v; break;
        case kMcr: mcr_ = v & 0x1F; break;
        case kScr: scr_ = v; break;
        default: break;  // LSR and MSR are read-only
    }
}

}  // namespace vx86::devices
