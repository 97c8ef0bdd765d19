// IoBus: the x86 port I/O space (65536 byte ports).
//
// Devices register a port range and the access sizes they implement (a bit mask of 1, 2, 4).
// A wider access to a device that does not take it is split into narrower ones, low port first,
// as an ISA bus does; a port nobody claims reads as all ones and ignores writes. An optional
// observer sees every access (used by --trace-io and tests) without devices knowing about it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace vx86::devices {

class IoDevice {
public:
    virtual ~IoDevice() = default;
    virtual uint32_t io_read(uint16_t port, unsigned size) = 0;
    virtual void io_write(uint16_t port, unsigned size, uint32_t value) = 0;
};

inline constexpr uint8_t kIoSize8 = 1, kIoSize16 = 2, kIoSize32 = 4;

class IoBus {
public:
    IoBus();
    // Claims ports [base, base+count). Later registrations replace earlier ones.
    void attach(uint16_t base, uint32_t count, IoDevice* dev, uint8_t sizes = kIoSize8);
    void detach(uint16_t base, uint32_t count);

    uint32_t read(uint16_t port, unsigned size);
    void write(uint16_t port, unsigned size, uint32_t value);
    // Whether a device claims any of the `size` ports from `port` (else a write does nothing).
    bool claimed(uint16_t port, unsigned size) const {
        for (unsigned k = 0; k < size; ++k)
            if (slots_[uint16_t(port + k)].dev) return true;
        return false;
    }

    // Called after every access: (port, size, value, is_write).
    using Observer = std::function<void(uint16_t, unsigned, uint32_t, bool)>;
    void set_observer(Observer obs) { observer_ = std::move(obs); }

private:
    struct Slot {
        IoDevice* dev = nullptr;
        uint8_t sizes = 0;
    };
    uint32_t read_split(uint16_t port, unsigned size);
    void write_split(uint16_t port, unsigned size, uint32_t value);
    std::vector<Slot> slots_;
    Observer observer_;
};

}  // namespace vx86::devices
