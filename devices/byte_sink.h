// ByteSink: where a character device's output goes on the host.
//
// Devices that produce a byte stream (the 0xE9 debug console, the UART's transmitter) do not
// know about files, terminals or test buffers: they hand each byte to a ByteSink the machine
// gives them. The frontend binds it to stdout or a file; tests bind it to a std::string. An empty
// sink discards the bytes (`-serial none`). A std::function costs one indirect call per byte,
// which is nothing next to the guest instructions that produced it.
#pragma once

#include <cstdint>
#include <functional>

namespace vx86::devices {

using ByteSink = std::function<void(uint8_t)>;

}  // namespace vx86::devices
