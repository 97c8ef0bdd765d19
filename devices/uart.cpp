#include "devices/uart.h"

#include <cstdio>

namespace vx86::devices {

void Uart::set_irq(IrqLine irq) {
    irq_ = irq;
    irq_level_ = false;
    irq_.lower();
    update_irq();
}

void Uart::set_clock(Clock* clock) {
    clock_ = clock;
    if (!clock_) return;
    char name[32];
    std::snprintf(name, sizeof name, "uart%03x-timeout", unsigned(base_));
    timeout_timer_ = clock_->add_timer(name, [this] {
        if (fifo_on() && rx_count_ > 0) timeout_ = true;
        update_irq();
    });
}

void Uart::reset() {
    ier_ = 0;
    fcr_ = 0;
    lcr_ = 0;
    mcr_ = 0;
    lsr_err_ = 0;
    scr_ = 0;
    rbr_ = 0;
    thre_pending_ = false;
    rx_clear();
    msr_ = modem_inputs();
    timeout_ = false;
    if (clock_) clock_->cancel(timeout_timer_);
    update_irq();
}

uint64_t Uart::char_time_ns() const {
    unsigned word = 5 + (lcr_ & 0x03);
    unsigned half_bits = 2 * (1 + word + ((lcr_ & 0x08) ? 1 : 0));  // start, data, parity
    if (!(lcr_ & 0x04)) half_bits += 2;       // 1 stop bit
    else half_bits += (word == 5) ? 3 : 4;    // 1.5 or 2 stop bits
    uint64_t div = divisor() ? divisor() : 65536;
    // One bit lasts 16 * divisor cycles of the 1.8432 MHz clock.
    return uint64_t(half_bits) * div * 16 * kNsPerSec / (2 * kClockHz);
}

unsigned Uart::trigger_level() const {
    static constexpr unsigned kLevels[4] = {1, 4, 8, 14};
    return kLevels[fcr_ >> 6];
}

uint8_t Uart::modem_inputs() const {
    if (!(mcr_ & kMcrLoop)) return kMsrCts | kMsrDsr | kMsrDcd;
    uint8_t v = 0;
    if (mcr_ & kMcrRts) v |= kMsrCts;
    if (mcr_ & kMcrDtr) v |= kMsrDsr;
    if (mcr_ & kMcrOut1) v |= kMsrRi;
    if (mcr_ & kMcrOut2) v |= kMsrDcd;
    return v;
}

void Uart::update_modem_inputs() {
    uint8_t old = msr_ & 0xF0;
    uint8_t now = modem_inputs();
    uint8_t changed = old ^ now;
    uint8_t delta = msr_ & 0x0F;
    if (changed & kMsrCts) delta |= kMsrDcts;
    if (changed & kMsrDsr) delta |= kMsrDdsr;
    if (changed & kMsrDcd) delta |= kMsrDdcd;
    if ((old & kMsrRi) && !(now & kMsrRi)) delta |= kMsrTeri;  // trailing edge only
    msr_ = uint8_t(now | delta);
}

uint8_t Uart::lsr() const {
    uint8_t v = kLsrThrEmpty | kLsrTxEmpty | lsr_err_;
    if (rx_count_ > 0) v |= kLsrDataReady;
    return v;
}

bool Uart::timeout_pending() const {
    if (!fifo_on() || rx_count_ == 0) return false;
    return clock_ ? timeout_ : true;
}

uint8_t Uart::iir() const {
    uint8_t fifo = fifo_on() ? kIirFifos : 0;
    if ((ier_ & kIerRls) && lsr_err_) return fifo | kIirRls;
    if (ier_ & kIerRda) {
        bool rda = fifo_on() ? rx_count_ >= trigger_level() : rx_count_ > 0;
        if (rda) return fifo | kIirRda;
        if (timeout_pending()) return fifo | kIirTimeout;
    }
    if ((ier_ & kIerThre) && thre_pending_) return fifo | kIirThre;
    if ((ier_ & kIerMsr) && (msr_ & 0x0F)) return fifo | kIirMsr;
    return fifo | kIirNone;
}

void Uart::update_irq() {
    bool level = !(iir() & kIirNone) && (mcr_ & kMcrOut2) && !(mcr_ & kMcrLoop);
    if (level != irq_level_) {
        irq_level_ = level;
        irq_.set_level(level);
    }
}

void Uart::rx_push(uint8_t b, bool& overrun) {
    unsigned cap = fifo_on() ? kFifoSize : 1;
    if (rx_count_ < cap) {
        rx_[(rx_head_ + rx_count_) % kFifoSize] = b;
        ++rx_count_;
        return;
    }
    overrun = true;
    lsr_err_ |= kLsrOverrun;
    if (!fifo_on()) rx_[rx_head_] = b;  // 16450 mode: the new character replaces RBR
}

uint8_t Uart::rx_pop() {
    uint8_t b = rx_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kFifoSize;
    --rx_count_;
    return b;
}

void Uart::rx_clear() {
    rx_head_ = 0;
    rx_count_ = 0;
}

void Uart::restart_timeout() {
    timeout_ = false;
    if (!clock_) return;
    if (fifo_on() && rx_count_ > 0) clock_->arm(timeout_timer_, clock_->now_ns() + 4 * char_time_ns());
    else clock_->cancel(timeout_timer_);
}

bool Uart::can_receive() const {
    if (mcr_ & kMcrLoop) return false;
    return rx_count_ < (fifo_on() ? kFifoSize : 1u);
}

bool Uart::receive(uint8_t byte) {
    if (mcr_ & kMcrLoop) return false;
    bool overrun = false;
    rx_push(byte, overrun);
    restart_timeout();
    update_irq();
    return !overrun;
}

uint32_t Uart::io_read(uint16_t port, unsigned /*size*/) {
    uint8_t v = 0xFF;
    switch (uint16_t(port - base_)) {
        case kRbrThr:
            if (dlab()) return dll_;
            if (rx_count_ > 0) {
                rbr_ = rx_pop();
                restart_timeout();
            }
            v = rbr_;
            break;
        case kIer: return dlab() ? dlm_ : ier_;
        case kIirFcr:
            v = iir();
            if ((v & 0x0F) == kIirThre) thre_pending_ = false;
            break;
        case kLcr: return lcr_;
        case kMcr: return mcr_;
        case kLsr:
            v = lsr();
            lsr_err_ = 0;
            break;
        case kMsr:
            v = msr_;
            msr_ &= 0xF0;
            break;
        case kScr: return scr_;
        default: return 0xFF;
    }
    update_irq();
    return v;
}

void Uart::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
    uint8_t v = uint8_t(value);
    switch (uint16_t(port - base_)) {
        case kRbrThr:
            if (dlab()) {
                dll_ = v;
                return;
            }
            if (mcr_ & kMcrLoop) {
                bool overrun = false;
                rx_push(v, overrun);
                restart_timeout();
            } else {
                ++bytes_tx_;
                if (sink_) sink_(v);
            }
            thre_pending_ = true;  // transmitted at once: THR is empty again
            break;
        case kIer:
            if (dlab()) {
                dlm_ = v;
                return;
            }
            if (!(ier_ & kIerThre) && (v & kIerThre)) thre_pending_ = true;  // THR is always empty
            ier_ = v & 0x0F;
            break;
        case kIirFcr: {
            bool enable = v & kFcrEnable;
            if (enable != fifo_on()) rx_clear();  // changing FIFO mode empties both FIFOs
            if (enable) {
                if (v & kFcrRxReset) rx_clear();
                // kFcrTxReset: the TX FIFO is always empty here.
                fcr_ = v & 0xC9;
            } else {
                fcr_ = 0;
            }
            restart_timeout();
            break;
        }
        case kLcr: lcr_ = v; return;
        case kMcr:
            mcr_ = v & 0x1F;
            update_modem_inputs();
            break;
        case kScr: scr_ = v; return;
        default: return;  // LSR and MSR are read-only
    }
    update_irq();
}

}  // namespace vx86::devices
