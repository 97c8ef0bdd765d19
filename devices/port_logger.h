// PortLogger: `--trace-io PORTS`, one line per guest access to the selected I/O ports:
//   io: write port 0x0080 size 1 value 0x12 at insn 12345
//
// Design decisions:
// - It is the IoBus observer, not a device: the devices it watches are unaware of it, and ports
//   nobody claims are logged too (useful to see what a guest probes).
// - devices/ does not see the CPU, so the instruction count comes from a clock callback the
//   machine supplies (it returns cpu.s.icount: the number of instructions retired before the
//   one doing the access).
// - The selection is a 65536-bit set: the check per access is one bit test. An access is logged
//   when any byte it covers is selected, so `--trace-io 0x81` sees a word write to 0x80.
// - Lines go to a FILE* the caller owns (stderr in the frontend), written with one fprintf
//   each; volume is bounded by the guest's port traffic, far below the instruction trace's.
#pragma once

#include <bitset>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/io_bus.h"

namespace vx86::devices {

class PortLogger {
public:
    using Clock = std::function<uint64_t()>;

    PortLogger(std::FILE* out, Clock clock) : out_(out), clock_(std::move(clock)) {}

    void select(uint16_t port) { ports_.set(port); }
    void select_range(uint16_t first, uint16_t last) {
        for (uint32_t p = first; p <= last; ++p) ports_.set(p);
    }
    void select_all() { ports_.set(); }
    bool selected(uint16_t port, unsigned size) const;

    // Installs this logger as `bus`'s observer (replacing any other).
    void attach(IoBus& bus);

    void log(uint16_t port, unsigned size, uint32_t value, bool is_write);

private:
    std::FILE* out_;
    Clock clock_;
    std::bitset<65536> ports_;
};

// Parses a port list: "0x190,0x80", "0x3f8-0x3ff", "233", "all". Numbers are hex with 0x,
// decimal otherwise. Returns the (first, last) ranges, or nothing with `error` set.
std::optional<std::vector<std::pair<uint16_t, uint16_t>>> parse_port_list(std::string_view text,
                                                                           std::string& error);

}  // namespace vx86::devices
