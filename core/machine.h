// Machine: one emulated PC, built from a MachineConfig: an i440FX/PIIX3 machine like QEMU's
// `pc`, so that Debian's unmodified SeaBIOS and its VGA BIOS configure themselves as on QEMU.
// core/ is the only place that knows how the parts are wired; the frontend fills in a config.
//
// Design decisions:
// - Everything a machine uses is owned by the Machine object (no globals, no singletons), so
//   several machines can live in one process, as the tests do. Machine is neither copyable nor
//   movable: devices and the CPU hold references to its members.
// - The wiring follows the PC: PIC pair (IRQ 0 PIT, 1 keyboard, 3/4 COM2/COM1, 6 floppy,
//   8 RTC, 12 mouse, 13 FPU, 14/15 IDE; PCI INTx through the PIIX3's PIRQ routing), the 8237
//   pair for the floppy, PCI 00.0 i440FX, 01.0 PIIX3 ISA, 01.1 PIIX3 IDE, 02.0 std VGA, fw_cfg
//   at 0x510, debug consoles at 0xE9 and 0x402. The keyboard controller's output port and port
//   0x92 drive one A20 line; the last write wins, as on QEMU.
// - Time: one Scheduler (virtual time, devices' timers). The run loop runs the CPU in slices up
//   to the next deadline (deterministic mode) or for a short slice (real-time mode), then
//   fires what is due. A halted CPU skips (deterministic) or sleeps (real-time) to the next
//   deadline. Resets requested by devices (keyboard controller pulse, port 0x92, triple fault)
//   happen between slices, never inside an instruction.
// - Host-side outputs (serial ports, debug consoles) are ByteSinks in the config, so the
//   frontend binds them to stdout, files or ptys and tests capture them in strings.
// - The BIOS is mapped as QEMU's `pc` machine maps it: the whole image ends at 4 GiB (where the
//   CPU's reset vector, 0xFFFFFFF0, lands) and its last 128 KiB (all of it when smaller) also end
//   at 1 MiB, under the PAM shadow-RAM control of the i440FX. Sizes must be a multiple of 64 KiB
//   from 64 KiB to 256 KiB (QEMU's rule); anything else is rejected with a message saying so.
// - Configuration errors (unreadable or badly sized BIOS or disk image, unopenable trace file,
//   bad RAM size) throw std::runtime_error with a one-line message the frontend prints as is.
// - Disks: guest writes go to the image file as they happen and are fsynced by flush(), which
//   run() calls on every way out (halt, stop, signal); -snapshot keeps them in memory instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/linux_boot.h"
#include "core/scheduler.h"
#include "core/trace.h"
#include "cpu/cpu.h"
#include "cpu/model.h"
#include "devices/acpi_tables.h"
#include "devices/block.h"
#include "devices/byte_sink.h"
#include "devices/debug_port.h"
#include "devices/dma.h"
#include "devices/fdc.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/io_bus.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/piix3.h"
#include "devices/piix4_pm.h"
#include "devices/piix_ide.h"
#include "devices/pit.h"
#include "devices/port_logger.h"
#include "devices/rtc.h"
#include "devices/system_ports.h"
#include "devices/uart.h"
#include "devices/vga.h"
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
    devices::ByteSink serial2_out;                                              // COM2 (none)
    // Host file descriptor whose bytes are COM1's input (stdin, a pty), or -1. It is read
    // without blocking between CPU slices; end of file stops the reading. Input arrives at host
    // times, so a run with input is not deterministic (record/replay will log it).
    int serial_in_fd = -1;
    // Applied to each chunk read from serial_in_fd before the guest sees it (the frontend's
    // console escape keys). May be empty.
    std::function<void(std::vector<uint8_t>&)> serial_input_filter;
    // Called between CPU slices: the frontend flushes its buffered outputs here, so a prompt
    // without a newline reaches a pipe or terminal at once. May be empty.
    std::function<void()> flush_outputs;
    devices::ByteSink debugcon_out = [](uint8_t b) { std::fputc(b, stdout); };  // port 0xE9
    devices::ByteSink bios_log_out;                                             // port 0x402
    std::string vga_bios_path;          // VGA option ROM (empty: none)
    std::vector<uint8_t> vga_bios_image;  // used as is when not empty
    // Drives: image paths (empty: none). The CD drive exists even without a disc.
    std::string fda, fdb, hda, hdb, cdrom;
    std::string boot_order;             // letters a/c/d; empty: c if hda, else d if cdrom, else a
    bool snapshot = false;              // disk writes go to a temporary overlay
    TimeMode time_mode = TimeMode::kRealTime;
    int64_t rtc_start = -1;             // Unix seconds; -1: host time (real-time mode) or
                                        // 2000-01-01 00:00:00 (deterministic mode)
    // Polled between slices: nonzero asks run() to stop (SIGINT/SIGTERM in the frontend), and
    // dump_request to write the screen (SIGUSR1). May be null.
    const std::atomic<int>* stop_request = nullptr;
    std::atomic<int>* dump_request = nullptr;
    std::string screen_dump_path;       // written at exit and on dump_request (empty: never)
    // Direct Linux boot (-kernel/-initrd/-append; core/linux_boot.h). Empty kernel_path: none.
    std::string kernel_path, initrd_path, kernel_cmdline;
    bool fast_boot = false;              // enter the kernel directly, without running the BIOS
    std::vector<uint8_t> linuxboot_rom;  // roms/linuxboot.bin: the firmware path's boot ROM
};

enum class ExitReason : uint8_t {
    kHalted,     // HLT with IF=0: nothing can wake the guest
    kIdle,       // HLT with IF=1 but no device can raise an interrupt yet
    kShutdown,   // triple fault (or a shutdown cycle)
    kInsnLimit,  // max_insns reached
    kStopped,    // request_stop() or the config's stop_request
    kReset,      // the guest reset the machine and reboot_on_triple_fault is off (-no-reboot)
    kPowerOff,   // the guest switched the machine off (ACPI S5)
};

struct RunResult {
    ExitReason reason;
    int exit_code;        // for the process: 0 halted, reset or powered off, 1 shutdown/idle, 3 instruction
                          // limit, 4 stopped
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
    // May be called from a device callback on the same thread.
    void request_stop() { cpu_.request_stop(); }
    // Makes every guest disk write durable (fsync); false if a host write failed.
    bool flush_disks();
    // Writes the screen (text or PNG) to `path`; false with `err` set on failure.
    bool dump_screen(const std::string& path, std::string* err);

    const MachineConfig& config() const { return config_; }
    cpu::Cpu& cpu() { return cpu_; }
    mmu::PhysMemory& memory() { return mem_; }
    devices::IoBus& io() { return io_; }
    Scheduler& scheduler() { return sched_; }
    devices::Uart& com1() { return com1_; }
    devices::Uart& com2() { return com2_; }
    devices::DebugPort& debug_port() { return debug_port_; }
    devices::Pic& pic() { return pic_; }
    devices::Pit& pit() { return pit_; }
    devices::Rtc& rtc() { return rtc_; }
    devices::I8042& keyboard() { return kbc_; }
    devices::Vga& vga() { return vga_; }
    devices::FwCfg& fw_cfg() { return fw_cfg_; }
    devices::PciBus& pci() { return pci_; }
    Tracer* tracer() { return tracer_.get(); }

    // Reads a BIOS image and checks its size; throws std::runtime_error with the reason.
    static std::vector<uint8_t> load_bios(const std::string& path);
    // Throws if `size` is not a BIOS size this machine can map.
    static void check_bios_size(size_t size, const std::string& what);

private:
    // The CPU's view of the PIC (cpu/ knows no devices).
    struct IrqAdapter final : cpu::InterruptSource {
        devices::Pic& pic;
        explicit IrqAdapter(devices::Pic& p) : pic(p) {}
        bool irq_pending() override { return pic.int_output(); }
        const bool* pending_flag() const override { return pic.int_output_flag(); }
        bool notifies_rise() const override { return true; }  // (the PIC's output callback)
        uint8_t irq_acknowledge() override { return pic.acknowledge(); }
    };
    // Port 0xF0: a write clears the FPU's busy latch and IRQ13 (the PC's FERR# wiring).
    struct FpuBusyPort final : devices::IoDevice {
        devices::IrqLine irq13;
        uint32_t io_read(uint16_t, unsigned) override { return 0xFF; }
        void io_write(uint16_t, unsigned, uint32_t) override { irq13.lower(); }
    };

    void map_bios(const std::vector<uint8_t>& image);
    void open_drives();
    void poll_serial_input();
    void fill_firmware_tables();
    void full_reset();
    void prepare_linux_boot();
    devices::AcpiConfig acpi_config() const;
    void enter_linux_directly();
    devices::IrqLine line(unsigned irq) { return devices::IrqLine{&pic_, irq}; }

    MachineConfig config_;
    mmu::PhysMemory mem_;
    devices::IoBus io_;
    cpu::Cpu cpu_;
    Scheduler sched_;
    devices::Pic pic_;
    IrqAdapter irq_adapter_{pic_};
    devices::Pit pit_;
    devices::Rtc rtc_;
    devices::I8042 kbc_;
    devices::SystemPorts sys_ports_;
    devices::Uart com1_, com2_;
    devices::DebugPort debug_port_;
    devices::DebugPort bios_log_;
    devices::Dma8237Pair dma_;
    devices::Fdc fdc_;
    devices::PciBus pci_;
    devices::I440fx i440fx_;
    devices::Piix3 piix3_;
    devices::PiixIde ide_;
    devices::Piix4Pm pm_;
    devices::Vga vga_;
    devices::FwCfg fw_cfg_;
    FpuBusyPort fpu_busy_;
    std::unique_ptr<devices::BlockDevice> fda_, fdb_, hda_, hdb_, cdrom_;
    // The fast path's pieces, copied into RAM again on every reset.
    LinuxLoad linux_load_;
    std::vector<uint8_t> linux_kernel_, linux_initrd_;
    bool reset_requested_ = false;
    bool power_off_requested_ = false;
    int serial_in_fd_ = -1;
    std::vector<uint8_t> serial_pending_;  // read from the host, not yet taken by the UART
    std::unique_ptr<Tracer> tracer_;
    std::unique_ptr<devices::PortLogger> port_logger_;
};

}  // namespace vx86::core
