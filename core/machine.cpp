#include "core/machine.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <stdexcept>

#include <poll.h>
#include <unistd.h>

#include <ctime>

#include "core/host_file.h"
#include "core/screen_dump.h"
#include "cpu/flags.h"

namespace vx86::core {

namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kLowBiosMax = 128 * kKiB;     // mapped below 1 MiB at most
constexpr uint64_t kOneMiB = 0x100000;
constexpr uint64_t kFourGiB = uint64_t(1) << 32;

uint32_t checked_ram(uint64_t bytes) {
    if (bytes < kMinRam || bytes > kMaxRam || bytes % kMiB != 0)
        throw std::runtime_error("RAM size must be a whole number of MiB from 1 MiB to " +
                                 std::to_string(kMaxRam / kMiB) + " MiB (got " +
                                 std::to_string(bytes) + " bytes)");
    return uint32_t(bytes);
}

}  // namespace

const char* exit_reason_name(ExitReason r) {
    switch (r) {
        case ExitReason::kHalted: return "halted";
        case ExitReason::kIdle: return "idle";
        case ExitReason::kShutdown: return "shutdown";
        case ExitReason::kInsnLimit: return "instruction limit";
        case ExitReason::kStopped: return "stopped";
        case ExitReason::kReset: return "reset";
        case ExitReason::kPowerOff: return "powered off";
    }
    return "?";
}

void Machine::check_bios_size(size_t size, const std::string& what) {
    if (size < 64 * kKiB || size > 256 * kKiB || size % (64 * kKiB) != 0)
        throw std::runtime_error(
            what + (size > 256 * kKiB ? std::string(" is larger than 256 KiB")
                                      : " is " + std::to_string(size) + " bytes") +
            "; a BIOS image must be 64, 128, 192 or 256 KiB");
}

std::vector<uint8_t> Machine::load_bios(const std::string& path) {
    std::vector<uint8_t> data = read_host_file(path, "BIOS image", 256 * kKiB);
    check_bios_size(data.size(), "BIOS image '" + path + "'");
    return data;
}

namespace {

constexpr uint64_t kSlice = 1u << 16;            // instructions per CPU slice at most
constexpr uint64_t kRealTimeSlice = 1u << 16;    // real-time mode: ~0.1 ms at 100+ MIPS
constexpr int64_t kDeterministicEpoch = 946684800;  // 2000-01-01 00:00:00 UTC
constexpr uint32_t kVgaLegacyBase = 0xA0000, kVgaLegacySize = 0x20000;

std::vector<uint8_t> read_option_rom(const std::string& path) {
    std::vector<uint8_t> data = read_host_file(path, "VGA BIOS", 256 * kKiB);
    if (data.size() < 512 || data.size() > 256 * kKiB || data[0] != 0x55 || data[1] != 0xAA)
        throw std::runtime_error("VGA BIOS '" + path + "' is not an option ROM (no 55 AA "
                                 "signature, or larger than 256 KiB)");
    return data;
}

std::vector<uint8_t> vga_rom(const MachineConfig& c) {
    if (!c.vga_bios_image.empty()) return c.vga_bios_image;
    if (c.vga_bios_path.empty()) return {};
    return read_option_rom(c.vga_bios_path);
}

int64_t rtc_start(const MachineConfig& c) {
    if (c.rtc_start >= 0) return c.rtc_start;
    if (c.time_mode == TimeMode::kDeterministic) return kDeterministicEpoch;
    return int64_t(std::time(nullptr));
}

}  // namespace

Machine::Machine(MachineConfig config)
    : config_(std::move(config)),
      mem_(checked_ram(config_.ram_bytes)),
      cpu_(config_.model, mem_, io_),
      sched_(config_.time_mode, &cpu_.s.icount),
      pit_(sched_, line(0)),
      rtc_(sched_, line(8), rtc_start(config_)),
      com1_(config_.serial_out, 0x3F8),
      com2_(config_.serial2_out, 0x2F8),
      debug_port_(config_.debugcon_out),
      bios_log_(config_.bios_log_out, 0x402),
      dma_(mem_),
      fdc_(line(6), dma_, sched_),
      pci_(io_, mem_),
      i440fx_([this](uint32_t base, uint32_t size, bool r, bool w) { mem_.set_shadow(base, size, r, w); }),
      piix3_(&pic_),
      ide_(line(14), line(15), mem_),
      pm_(io_, sched_, line(devices::kPiix4SciIrq)),
      vga_(sched_, vga_rom(config_)),
      fw_cfg_(mem_) {
    if (config_.bios_image.empty()) {
        if (config_.bios_path.empty()) throw std::runtime_error("no BIOS image given");
        config_.bios_image = load_bios(config_.bios_path);
    } else {
        check_bios_size(config_.bios_image.size(), "the BIOS image");
    }
    map_bios(config_.bios_image);
    open_drives();

    // Legacy ISA devices.
    pic_.attach(io_);
    pit_.attach(io_);
    rtc_.attach(io_);
    kbc_.set_irqs(line(1), line(12));
    // One A20 line driven by both the keyboard controller and port 0x92: the last write wins,
    // as QEMU wires it (SeaBIOS switches A20 through port 0x92 alone).
    kbc_.set_a20 = [this](bool on) { mem_.set_a20(on); };
    kbc_.a20_state = [this] { return mem_.a20(); };
    kbc_.request_reset = [this] { reset_requested_ = true; cpu_.end_slice(); };
    kbc_.attach(io_);
    sys_ports_.set_a20 = [this](bool on) { mem_.set_a20(on); };
    sys_ports_.request_reset = [this] { reset_requested_ = true; cpu_.end_slice(); };
    sys_ports_.a20_state = [this] { return mem_.a20(); };
    sys_ports_.attach(io_);
    com1_.set_irq(line(4));
    com1_.set_clock(&sched_);
    com1_.attach(io_);
    com2_.set_irq(line(3));
    com2_.set_clock(&sched_);
    com2_.attach(io_);
    debug_port_.attach(io_);
    bios_log_.attach(io_);
    dma_.attach(io_);
    fdc_.attach(io_);
    fpu_busy_.irq13 = line(13);
    io_.attach(0xF0, 1, &fpu_busy_, devices::kIoSize8);

    // PCI: 00.0 host bridge, 01.0 ISA bridge, 01.1 IDE, 01.3 power management (ACPI), 02.0 VGA.
    pci_.attach();
    pci_.set_intx_router(&piix3_);
    pci_.add(0x00, &i440fx_);
    pci_.add(0x08, &piix3_);
    pci_.add(0x09, &ide_);
    pci_.add(0x0B, &pm_);
    pci_.add(0x10, &vga_);
    ide_.attach(io_);
    pm_.attach();
    pm_.power_off = [this] { power_off_requested_ = true; cpu_.end_slice(); };
    vga_.attach(io_);
    mem_.map_mmio(kVgaLegacyBase, kVgaLegacySize, &vga_.legacy_memory());
    fw_cfg_.attach(io_);

    cpu_.set_interrupt_source(&irq_adapter_);
    pic_.set_output_callback([this](bool level) {
        if (level) cpu_.irq_rose();
    });
    // FERR# (x87 error with CR0.NE = 0) raises IRQ 13 until the handler writes port 0xF0.
    cpu_.set_ferr_callback([this](bool active) {
        if (active) fpu_busy_.irq13.raise();
        else fpu_busy_.irq13.lower();
    });
    cpu_.set_clock(&sched_);
    sched_.set_earlier_deadline_hook([this] { cpu_.end_slice(); });

    if (!config_.trace_io.empty()) {
        port_logger_ = std::make_unique<devices::PortLogger>(
            config_.trace_io_out, [this] { return cpu_.s.icount; });
        for (auto [first, last] : config_.trace_io) port_logger_->select_range(first, last);
        port_logger_->attach(io_);
    }
    if (!config_.trace_path.empty()) {
        tracer_ = std::make_unique<Tracer>(config_.trace_path);
        cpu_.set_observer(tracer_.get());
    }
    prepare_linux_boot();
    fill_firmware_tables();
    serial_in_fd_ = config_.serial_in_fd;
    full_reset();
}

// Moves host bytes into COM1 as far as its receive FIFO takes them; the rest waits here.
void Machine::poll_serial_input() {
    if (serial_pending_.empty() && serial_in_fd_ >= 0) {
        // poll() first rather than O_NONBLOCK: the descriptor may be the shell's terminal, whose
        // flags would outlive us.
        pollfd p{serial_in_fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
            uint8_t buf[64];
            ssize_t n = ::read(serial_in_fd_, buf, sizeof buf);
            if (n > 0) {
                serial_pending_.assign(buf, buf + n);
                if (config_.serial_input_filter) config_.serial_input_filter(serial_pending_);
            }
            // End of input stops the asking; EIO is a pty with nobody on the other side (yet).
            else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EIO))
                serial_in_fd_ = -1;
        }
    }
    size_t taken = 0;
    while (taken < serial_pending_.size() && com1_.can_receive() &&
           com1_.receive(serial_pending_[taken]))
        ++taken;
    serial_pending_.erase(serial_pending_.begin(), serial_pending_.begin() + long(taken));
}

Machine::~Machine() {
    flush_disks();
    cpu_.set_observer(nullptr);
    if (port_logger_) io_.set_observer(nullptr);
}

void Machine::open_drives() {
    using Mode = devices::BlockDevice::Mode;
    const Mode rw = config_.snapshot ? Mode::kSnapshot : Mode::kReadWrite;
    auto open = [&](const std::string& path, Mode mode, uint32_t sector) {
        return path.empty() ? nullptr : devices::BlockDevice::open(path, mode, sector);
    };
    fda_ = open(config_.fda, rw, 512);
    fdb_ = open(config_.fdb, rw, 512);
    hda_ = open(config_.hda, rw, 512);
    hdb_ = open(config_.hdb, rw, 512);
    cdrom_ = open(config_.cdrom, Mode::kReadOnly, 2048);
    // Drive A: is a 1.44 MB drive even when empty, as on QEMU's pc machine.
    fdc_.set_drive_type(0, 4);
    auto insert = [&](unsigned drive, devices::BlockDevice* d, const std::string& path) {
        try {
            fdc_.insert(drive, d);
        } catch (const std::exception& e) {
            throw std::runtime_error("floppy image '" + path + "': " + e.what());
        }
    };
    if (fda_) insert(0, fda_.get(), config_.fda);
    if (fdb_) insert(1, fdb_.get(), config_.fdb);
    if (hda_) ide_.channel(0).attach_disk(0, hda_.get());
    if (hdb_) ide_.channel(0).attach_disk(1, hdb_.get());
    ide_.channel(1).attach_cdrom(0, cdrom_.get());  // a CD drive is always there, maybe empty
}

void Machine::fill_firmware_tables() {
    const char* fallback = hda_ ? "c" : cdrom_ ? "d" : "a";
    const std::string order = config_.boot_order.empty() ? std::string(fallback) : config_.boot_order;
    devices::PcCmos cmos;
    cmos.ram_bytes = config_.ram_bytes;
    cmos.floppy_a = fdc_.drive_type(0);
    cmos.floppy_b = fdc_.drive_type(1);
    cmos.hd_present[0] = bool(hda_);
    cmos.hd_present[1] = bool(hdb_);
    cmos.boot_order = order;
    cmos.smp_cpus = 1;
    devices::fill_pc_cmos(rtc_, cmos);

    devices::PcFwCfg fw;
    fw.ram_bytes = config_.ram_bytes;
    fw.boot_order = order;
    fw.hd_channel = 0;
    fw.hd_unit = 0;
    fw.cd_channel = 1;
    fw.cd_unit = 0;
    if (!config_.kernel_path.empty() && !config_.fast_boot) fw.boot_rom = "genroms/linuxboot.bin";
    devices::fill_pc_fw_cfg(fw_cfg_, fw);
    // Our ACPI tables (devices/acpi_tables.h), installed by SeaBIOS's table loader.
    // The tables file is padded to kAcpiReserve (128 KiB), as QEMU pads its own: SeaBIOS reserves
    // what it allocates at the top of RAM, so RAM then ends on a 64 KiB boundary that INT 15h
    // E801 (64 KiB units) can report exactly, and both boot paths reserve the same top 128 KiB.
    devices::AcpiBlobs acpi = devices::build_acpi(acpi_config());
    if (acpi.tables.size() < kAcpiReserve) acpi.tables.resize(kAcpiReserve, 0);
    fw_cfg_.add_file(devices::kAcpiRsdpFile, std::move(acpi.rsdp));
    fw_cfg_.add_file(devices::kAcpiTablesFile, std::move(acpi.tables));
    fw_cfg_.add_file(devices::kAcpiLoaderFile, std::move(acpi.loader));
}

void Machine::map_bios(const std::vector<uint8_t>& image) {
    const uint64_t size = image.size();
    mem_.map_rom(uint32_t(kFourGiB - size), std::span<const uint8_t>(image));
    // The fast Linux path never runs the BIOS: a copy below 1 MiB would only show Linux the
    // BIOS's tables before the BIOS filled them in (PnP BIOS "corrupted"). RAM stays there.
    if (config_.fast_boot) return;
    const uint64_t low = size < kLowBiosMax ? size : kLowBiosMax;
    mem_.map_rom(uint32_t(kOneMiB - low),
                 std::span<const uint8_t>(image.data() + (size - low), size_t(low)));
}

void Machine::reset() { full_reset(); }

devices::AcpiConfig Machine::acpi_config() const {
    devices::AcpiConfig c;
    c.ram_bytes = uint32_t(config_.ram_bytes);
    return c;
}

// The whole PC resets: CPU, chipset (PAM back to ROM), devices. RAM, NVRAM, disks and virtual
// time are kept.
void Machine::full_reset() {
    reset_requested_ = false;
    power_off_requested_ = false;
    pci_.reset();
    pic_.reset();
    pit_.reset();
    rtc_.reset();
    kbc_.reset();
    sys_ports_.reset();
    com1_.reset();
    com2_.reset();
    dma_.reset();
    fdc_.reset();
    fw_cfg_.reset();
    fpu_busy_.irq13.lower();
    mem_.set_a20(true);  // the keyboard controller's output port powers up with A20 enabled
    uint64_t t = cpu_.s.icount;
    cpu_.reset();
    cpu_.s.icount = t;  // virtual time goes on
    if (!linux_kernel_.empty()) enter_linux_directly();
    cpu_.sync_state();
}

// Reads and checks -kernel/-initrd and lays them out. Through the firmware, the pieces go into
// fw_cfg for roms/linuxboot.bin; on the fast path they stay here for enter_linux_directly().
void Machine::prepare_linux_boot() {
    if (config_.kernel_path.empty()) {
        if (!config_.initrd_path.empty() || !config_.kernel_cmdline.empty())
            throw std::runtime_error("-initrd and -append need -kernel");
        return;
    }
    const uint32_t ram = uint32_t(config_.ram_bytes);
    auto read = [ram](const std::string& path, const char* what) {
        std::vector<uint8_t> data = read_host_file(path, what, ram);
        if (data.size() > ram)
            throw std::runtime_error(std::string("cannot read ") + what + " '" + path +
                                     "': larger than the guest's RAM");
        return data;
    };
    BzImage k = parse_bzimage(read(config_.kernel_path, "kernel"), config_.kernel_path);
    std::vector<uint8_t> initrd;
    if (!config_.initrd_path.empty()) initrd = read(config_.initrd_path, "initrd");
    LinuxLoad l = plan_linux_load(k, ram, config_.kernel_cmdline, uint32_t(initrd.size()));
    if (config_.fast_boot) {
        linux_load_ = std::move(l);
        linux_kernel_ = std::move(k.kernel);
        linux_initrd_ = std::move(initrd);
        return;
    }
    std::vector<uint8_t> rom = config_.linuxboot_rom;
    if (rom.size() < 512 || rom.size() % 512 != 0 || rom[0] != 0x55 || rom[1] != 0xAA)
        throw std::runtime_error("the linuxboot option ROM is missing or not an option ROM; "
                                 "build roms/linuxboot.bin, or use --fast-boot");
    rom.back() = 0;  // the option ROM checksum: all bytes add up to 0
    rom.back() = devices::checksum_fix(rom.data(), rom.size());
    fw_cfg_.add_file("genroms/linuxboot.bin", std::move(rom));
    using namespace devices;
    fw_cfg_.add_u32(kFwCfgSetupAddr, l.setup_addr);
    fw_cfg_.add_u32(kFwCfgSetupSize, uint32_t(l.setup.size()));
    fw_cfg_.add_bytes(kFwCfgSetupData, std::move(l.setup));
    fw_cfg_.add_u32(kFwCfgKernelAddr, l.kernel_addr);
    fw_cfg_.add_u32(kFwCfgKernelSize, uint32_t(k.kernel.size()));
    fw_cfg_.add_bytes(kFwCfgKernelData, std::move(k.kernel));
    fw_cfg_.add_u32(kFwCfgInitrdAddr, l.initrd_addr);
    fw_cfg_.add_u32(kFwCfgInitrdSize, l.initrd_size);
    fw_cfg_.add_bytes(kFwCfgInitrdData, std::move(initrd));
    fw_cfg_.add_u32(kFwCfgCmdlineAddr, l.cmdline_addr);
    fw_cfg_.add_u32(kFwCfgCmdlineSize, uint32_t(l.cmdline.size()));
    fw_cfg_.add_bytes(kFwCfgCmdlineData, l.cmdline);
}

// The fast path: what the BIOS and a boot loader would leave behind, then the 32-bit entry.
void Machine::enter_linux_directly() {
    constexpr uint32_t kZeroPage = 0x10000, kGdt = 0x11000, kEbda = 0x9FC00;
    const LinuxLoad& l = linux_load_;
    const uint32_t ram = uint32_t(config_.ram_bytes);

    // What SeaBIOS would program: shadow RAM, PIRQ routing (the DSDT's _PRT assumes it), the PM I/O block,
    // and ACPI tables in the reserved top of RAM with the RSDP in the EBDA (whose segment the
    // BDA gives), where every kernel looks for it; the zero page points at it too.
    const devices::AcpiConfig acpi = acpi_config();
    // PAM: 0xC0000-0xFFFFF is RAM for reads and writes, as a BIOS leaves it after shadowing.
    pci_.config_write(0x00, 0x59, 1, 0x30);
    for (uint8_t r = 0x5A; r <= 0x5F; ++r) pci_.config_write(0x00, r, 1, 0x33);
    for (unsigned i = 0; i < 4; ++i) pci_.config_write(0x08, uint8_t(0x60 + i), 1, acpi.pirq_irq[i]);
    pci_.config_write(0x0B, devices::kPiix4Pmba, 4, acpi.pm_base | 1u);
    pci_.config_write(0x0B, devices::kPiix4Pmregmisc, 1, 1);
    std::vector<uint8_t> tables, rsdp;
    devices::place_acpi(acpi, ram - kAcpiReserve, tables, rsdp);
    const uint16_t ebda_seg = kEbda >> 4;
    std::vector<uint8_t> zp = build_zero_page(l, ram, kEbda);
    // Null, null, then the protocol's __BOOT_CS (0x10) and __BOOT_DS (0x18): flat 4 GiB.
    const uint64_t gdt[4] = {0, 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    // SMBIOS (DMI): the fw_cfg tables SeaBIOS would install, in the F segment (RAM here).
    constexpr uint32_t kSmbiosAnchor = 0xF0000, kSmbiosTables = 0xF0100;
    const std::vector<uint8_t>* smt = fw_cfg_.file_data("etc/smbios/smbios-tables");
    const std::vector<uint8_t>* sma = fw_cfg_.file_data("etc/smbios/smbios-anchor");
    if (smt && sma && sma->size() == 0x1F && smt->size() <= 0xFF00) {
        std::vector<uint8_t> anchor = *sma;
        devices::set_smbios_table_address(anchor, kSmbiosTables);
        mem_.copy_to(kSmbiosTables, smt->data(), smt->size());
        mem_.copy_to(kSmbiosAnchor, anchor.data(), anchor.size());
    }
    bool ok = tables.size() <= kAcpiReserve &&
              mem_.copy_to(ram - kAcpiReserve, tables.data(), tables.size()) &&
              mem_.copy_to(kEbda, rsdp.data(), rsdp.size()) &&
              mem_.copy_to(0x40E, &ebda_seg, 2) &&
              mem_.copy_to(kZeroPage, zp.data(), zp.size()) &&
              mem_.copy_to(kGdt, gdt, sizeof gdt) &&
              mem_.copy_to(l.cmdline_addr, l.cmdline.data(), l.cmdline.size()) &&
              mem_.copy_to(l.kernel_addr, linux_kernel_.data(), linux_kernel_.size()) &&
              (linux_initrd_.empty() ||
               mem_.copy_to(l.initrd_addr, linux_initrd_.data(), linux_initrd_.size()));
    if (!ok) throw std::logic_error("direct Linux boot: layout outside RAM");

    cpu::CpuState& s = cpu_.s;
    s.cr[0] = 0x11;  // PE, ET
    s.gdtr = {kGdt, sizeof gdt - 1};
    const cpu::Segment code{0, 0xFFFFFFFF, 0x10, 0xC09B}, data{0, 0xFFFFFFFF, 0x18, 0xC093};
    for (unsigned i = 0; i < 6; ++i) s.seg[i] = i == cpu::CS ? code : data;
    s.cpl = 0;
    for (auto& r : s.gpr) r = 0;
    s.gpr[6] = kZeroPage;  // ESI
    s.eip = 0x100000;      // code32_start of a bzImage loaded high
}

bool Machine::flush_disks() {
    bool ok = true;
    for (auto* d : {fda_.get(), fdb_.get(), hda_.get(), hdb_.get()})
        if (d && !d->flush()) ok = false;
    return ok;
}

bool Machine::dump_screen(const std::string& path, std::string* err) {
    return core::dump_screen(vga_, path, err);
}

RunResult Machine::run() {
    auto finish = [&](ExitReason r, int code, std::string msg) {
        if (tracer_) tracer_->flush();
        if (!flush_disks()) {
            if (!msg.empty()) msg += "; ";
            msg += "writing a disk image failed (host I/O error)";
            if (code == 0) code = 1;
        }
        if (!config_.screen_dump_path.empty()) {
            std::string err;
            if (!dump_screen(config_.screen_dump_path, &err)) {
                if (!msg.empty()) msg += "; ";
                msg += "screen dump: " + err;
            }
        }
        return RunResult{r, code, std::move(msg), cpu_.s.icount};
    };
    auto where = [&] {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04x:%08x", cpu_.s.seg[cpu::CS].sel, uint32_t(cpu_.s.eip));
        return std::string(buf);
    };
    const uint64_t max = config_.max_insns;
    const bool deterministic = sched_.mode() == TimeMode::kDeterministic;
    cpu_.sync_state();
    for (;;) {
        if (config_.stop_request && config_.stop_request->load(std::memory_order_relaxed))
            return finish(ExitReason::kStopped, 4, "stopped by a signal at " + where());
        if (config_.dump_request && config_.dump_request->exchange(0) &&
            !config_.screen_dump_path.empty()) {
            std::string err;
            if (!dump_screen(config_.screen_dump_path, &err))
                std::fprintf(stderr, "vx86: screen dump: %s\n", err.c_str());
        }
        if (power_off_requested_) return finish(ExitReason::kPowerOff, 0, "");
        if (reset_requested_) {
            if (!config_.reboot_on_triple_fault)
                return finish(ExitReason::kReset, 0, "guest reset the machine (-no-reboot)");
            full_reset();
        }
        sched_.run_due();
        if (serial_in_fd_ >= 0 || !serial_pending_.empty()) poll_serial_input();

        uint64_t budget = deterministic ? sched_.insns_until_deadline(kSlice) : kRealTimeSlice;
        if (max) {
            uint64_t done = cpu_.s.icount;
            if (done >= max)
                return finish(ExitReason::kInsnLimit, 3,
                              "stopped at the instruction limit (" + std::to_string(max) +
                                  ") at " + where());
            budget = std::min(budget, max - done);
        }
        sched_.set_horizon(deterministic ? sched_.now_ns() + budget * Scheduler::kNsPerInsn
                                         : sched_.next_deadline());
        cpu::Exit e = cpu_.resume(budget);
        sched_.set_horizon(UINT64_MAX);
        if (config_.flush_outputs) config_.flush_outputs();
        switch (e) {
            case cpu::Exit::kBudget: break;
            case cpu::Exit::kHalted:
                if (reset_requested_ || power_off_requested_) break;
                if (!(cpu_.eflags() & cpu::kIF)) return finish(ExitReason::kHalted, 0, "");
                if (pic_.int_output()) break;  // the CPU takes it on the next slice
                if (!sched_.wait_for_deadline(10'000'000))
                    return finish(ExitReason::kIdle, 1,
                                  "guest waits in HLT with interrupts enabled at " + where() +
                                      ", but no device will ever interrupt it");
                break;
            case cpu::Exit::kShutdown: {
                std::string msg = "guest triple fault (shutdown) at " + where() + " after " +
                                  std::to_string(cpu_.s.icount) + " instructions";
                if (!config_.reboot_on_triple_fault) return finish(ExitReason::kShutdown, 1, msg);
                // A PC's chipset turns the shutdown cycle into a reset. Virtual time goes on.
                std::fprintf(stderr, "vx86: %s; resetting\n", msg.c_str());
                full_reset();
                break;
            }
            case cpu::Exit::kStop:
                return finish(ExitReason::kStopped, 4, "stopped at " + where());
        }
    }
}

}  // namespace vx86::core
