// Machine: one emulated PC, built from a MachineConfig: RAM and ROM (mmu::PhysMemory), the port
// I/O bus, the devices, one CPU, and the optional tracers. core/ is the only place that knows
// how these parts are wired together; the frontend only fills in a config and calls run().
//
// Design decisions:
// - Everything a machine uses is owned by the Machine object (no globals, no singletons), so
//   several machines can live in one process, as the tests do. Machine is neither copyable nor
//   movable: devices and the CPU hold references to its members.
// - Host-side outputs (the serial console, the 0xE9 debug console) are ByteSinks in the config,
//   so the frontend can bind them to stdout or files and tests can capture them in strings.
//   The config may carry the BIOS bytes directly (`bios_image`) instead of a path.
// - The BIOS is mapped as QEMU's `pc` machine maps it: the whole image ends at 4 GiB (where the
//   CPU's reset vector, 0xFFFFFFF0, lands) and its last 128 KiB (all of it when smaller) also end
//   at 1 MiB, so a 64 KiB image covers 0xF0000-0xFFFFF and a 128 KiB one 0xE0000-0xFFFFF. A
//   256 KiB image (SeaBIOS' bios-256k.bin) is not mapped whole below 1 MiB because 0xC0000-
//   0xDFFFF belongs to option ROMs such as the VGA BIOS. Sizes must be a multiple of 64 KiB
//   from 64 KiB to 256 KiB (QEMU's rule); anything else is rejected with a message saying so.
// - Configuration errors (unreadable or badly sized BIOS, unopenable trace file, bad RAM size)
//   throw std::runtime_error with a one-line message the frontend prints as it is.
// - run() drives the CPU in chunks of instructions. There is no Scheduler or interrupt
//   controller yet, so HLT ends the run: with IF=0 nothing can ever wake the guest (a clean
//   exit, code 0); with IF=1 nothing can wake it *yet* (no device raises IRQs), which is
//   reported as an idle stop (code 1) instead of spinning forever. When the Scheduler lands,
//   HLT with IF=1 will advance virtual time to the next device event instead.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/trace.h"
#include "cpu/cpu.h"
#include "cpu/model.h"
#include "devices/byte_sink.h"
#include "devices/debug_port.h"
#include "devices/io_bus.h"
#include "devices/port_logger.h"
#include "devices/uart.h"
#include "mmu/memory.h"

namespace vx86::core {

inline constexpr uint64_t kMiB = uint64_t(1) << 20;
inline constexpr uint64_t kMinRam = 1 * kMiB;
inline constexpr uint64_t kMaxRam = 3584 * kMiB;  // below the PCI hole and the high BIOS

struct MachineConfig {
    cpu::CpuModel model = cpu::kDefaultModel;
    uint64_t ram_bytes = 32 * kMiB;
    std::string bios_path;              // read when bios_image is empty
    std::vector<uint8_t> bios_image;    // used as is when not empty
    std::string trace_path;             // --trace: empty = off
    std::vector<std::pair<uint16_t, uint16_t>> trace_io;  // --trace-io port ranges
    std::FILE* trace_io_out = stderr;   // where --trace-io lines go (not owned)
    uint64_t max_insns = 0;             // 0 = unlimited
    bool reboot_on_triple_fault = true; // a PC resets on shutdown; false: stop (-no-reboot)
    devices::ByteSink serial_out = [](uint8_t b) { std::fputc(b, stdout); };    // COM1 THR
    devices::ByteSink debugcon_out = [](uint8_t b) { std::fputc(b, stdout); };  // port 0xE9
};

enum class ExitReason : uint8_t {
    kHalted,     // HLT with IF=0: nothing can wake the guest
    kIdle,       // HLT with IF=1 but no device can raise an interrupt yet
    kShutdown,   // triple fault (or a shutdown cycle)
    kInsnLimit,  // max_insns reached
    kStopped,    // request_stop()
};

struct RunResult {
    ExitReason reason;
    int exit_code;        // for the process: 0 halted, 1 shutdown/idle, 3 instruction limit, 4 stopped
    std::string message;  // one line describing the stop (empty for a clean halt)
    uint64_t insns;       // instructions retired since reset
};

const char* exit_reason_name(ExitReason r);

class Machine {
public:
    explicit Machine(MachineConfig config);
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    void reset();
    RunResult run();
    // May be called from a device callback or signal-safe context on the same thread.
    void request_stop() { cpu_.request_stop(); }

    const MachineConfig& config() const { return config_; }
    cpu::Cpu& cpu() { return cpu_; }
    mmu::PhysMemory& memory() { return mem_; }
    devices::IoBus& io() { return io_; }
    devices::Uart& com1() { return uart_; }
    devices::DebugPort& debug_port() { return debug_port_; }
    Tracer* tracer() { return tracer_.get(); }

    // Reads a BIOS image and checks its size; throws std::runtime_error with the reason.
    static std::vector<uint8_t> load_bios(const std::string& path);
    // Throws if `size` is not a BIOS size this machine can map.
    static void check_bios_size(size_t size, const std::string& what);

private:
    void map_bios(const std::vector<uint8_t>& image);

    MachineConfig config_;
    mmu::PhysMemory mem_;
    devices::IoBus io_;
    devices::DebugPort debug_port_;
    devices::Uart uart_;
    cpu::Cpu cpu_;
    std::unique_ptr<Tracer> tracer_;
    std::unique_ptr<devices::PortLogger> port_logger_;
};

}  // namespace vx86::core
