#include "devices/io_bus.h"

namespace vx86::devices {

IoBus::IoBus() : slots_(65536) {}

void IoBus::attach(uint16_t base, uint32_t count, IoDevice* dev, uint8_t sizes) {
    for (uint32_t i = 0; i < count && base + i < 65536; ++i) slots_[base + i] = Slot{dev, sizes};
}

void IoBus::detach(uint16_t base, uint32_t count) {
    for (uint32_t i = 0; i < count && base + i < 65536; ++i) slots_[base + i] = Slot{};
}

uint32_t IoBus::read_split(uint16_t port, unsigned size) {
    const Slot& s = slots_[port];
    if (!s.dev) {
        // Unclaimed: each byte floats high, but a claimed neighbour may still answer its part.
        if (size == 1) return 0xFF;
    } else if (s.sizes & size) {
        return s.dev->io_read(port, size);
    } else if (size == 1) {
        return s.dev->io_read(port, 1) & 0xFF;  // device with only wide ports: take its low byte
    }
    unsigned half = size / 2;
    uint32_t lo = read_split(port, half);
    uint32_t hi = read_split(uint16_t(port + half), half);
    return lo | (hi << (8 * half));
}

void IoBus::write_split(uint16_t port, unsigned size, uint32_t value) {
    const Slot& s = slots_[port];
    if (s.dev && (s.sizes & size)) {
        s.dev->io_write(port, size, value);
        return;
    }
    if (size == 1) {
        if (s.dev) s.dev->io_write(port, 1, value & 0xFF);
        return;
    }
    unsigned half = size / 2;
    uint32_t mask = (1u << (8 * half)) - 1;
    write_split(port, half, value & mask);
    write_split(uint16_t(port + half), half, (value >> (8 * half)) & mask);
}

uint32_t IoBus::read(uint16_t port, unsigned size) {
    uint32_t v = read_split(port, size);
    if (size < 4) v &= (1u << (8 * size)) - 1;
    if (observer_) observer_(port, size, v, false);
    return v;
}

void IoBus::write(uint16_t port, unsigned size, uint32_t value) {
    if (size < 4) value &= (1u << (8 * size)) - 1;
    if (observer_) observer_(port, size, value, true);
    write_split(port, size, value);
}

}  // namespace vx86::devices
