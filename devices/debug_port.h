// DebugPort: the Bochs/QEMU "debug console" at I/O port 0xE9.
//
// Design decisions:
// - Every byte written to the port goes to the host sink unchanged (no line buffering here: the
//   sink decides). Wider writes only send their low byte, as QEMU's isa-debugcon does.
// - Reading the port returns 0xE9, the value Bochs and QEMU return, which guests use to detect
//   that the console exists.
// - The port number is a constructor argument only so that tests can place it elsewhere; the
//   machine always uses kDebugPort.
#pragma once

#include <cstdint>

#include "devices/byte_sink.h"
#include "devices/io_bus.h"

namespace vx86::devices {

inline constexpr uint16_t kDebugPort = 0xE9;

class DebugPort final : public IoDevice {
public:
    explicit DebugPort(ByteSink sink, uint16_t port = kDebugPort)
        : sink_(std::move(sink)), port_(port) {}

    void attach(IoBus& bus) { bus.attach(port_, 1, this, kIoSize8); }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    uint64_t bytes_written() const { return bytes_written_; }

private:
    ByteSink sink_;
    uint16_t port_;
    uint64_t bytes_written_ = 0;
};

}  // namespace vx86::devices
