#include "core/machine.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <stdexcept>

#include "cpu/flags.h"

namespace vx86::core {

namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kRunChunk = 1u << 20;         // instructions per cpu.run() call
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
    auto fail = [&](int err) {
        return std::runtime_error("cannot read BIOS image '" + path + "': " + std::strerror(err));
    };
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw fail(errno);
    std::vector<uint8_t> data;
    uint8_t chunk[64 * 1024];
    size_t n;
    // Read at most one byte past the largest valid size: enough to reject a huge file quickly.
    while (data.size() <= 256 * kKiB && (n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
        data.insert(data.end(), chunk, chunk + n);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw fail(err);
    check_bios_size(data.size(), "BIOS image '" + path + "'");
    return data;
}

Machine::Machine(MachineConfig config)
    : config_(std::move(config)),
      mem_(checked_ram(config_.ram_bytes)),
      debug_port_(config_.debugcon_out),
      uart_(config_.serial_out),
      cpu_(config_.model, mem_, io_) {
    if (config_.bios_image.empty()) {
        if (config_.bios_path.empty()) throw std::runtime_error("no BIOS image given");
        config_.bios_image = load_bios(config_.bios_path);
    } else {
        check_bios_size(config_.bios_image.size(), "the BIOS image");
    }
    map_bios(config_.bios_image);

    debug_port_.attach(io_);
    uart_.attach(io_);

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
    reset();
}

Machine::~Machine() {
    cpu_.set_observer(nullptr);
    if (port_logger_) io_.set_observer(nullptr);
}

void Machine::map_bios(const std::vector<uint8_t>& image) {
    const uint64_t size = image.size();
    mem_.map_rom(uint32_t(kFourGiB - size), std::span<const uint8_t>(image));
    const uint64_t low = size < kLowBiosMax ? size : kLowBiosMax;
    mem_.map_rom(uint32_t(kOneMiB - low),
                 std::span<const uint8_t>(image.data() + (size - low), size_t(low)));
}

void Machine::reset() { cpu_.reset(); }

RunResult Machine::run() {
    auto result = [&](ExitReason r, int code, std::string msg) {
        if (tracer_) tracer_->flush();
        return RunResult{r, code, std::move(msg), cpu_.s.icount};
    };
    auto where = [&] {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04x:%08x", cpu_.s.seg[cpu::CS].sel, uint32_t(cpu_.s.eip));
        return std::string(buf);
    };
    const uint64_t max = config_.max_insns;
    for (;;) {
        uint64_t chunk = kRunChunk;
        if (max) {
            uint64_t done = cpu_.s.icount;
            if (done >= max)
                return result(ExitReason::kInsnLimit, 3,
                              "stopped at the instruction limit (" + std::to_string(max) +
                                  ") at " + where());
            chunk = std::min(chunk, max - done);
        }
        switch (cpu_.run(chunk)) {
            case cpu::Exit::kBudget: break;
            case cpu::Exit::kHalted:
                if (!(cpu_.eflags() & cpu::kIF)) return result(ExitReason::kHalted, 0, "");
                return result(ExitReason::kIdle, 1,
                              "guest waits in HLT with interrupts enabled at " + where() +
                                  ", but no device can interrupt it yet");
            case cpu::Exit::kShutdown: {
                std::string msg = "guest triple fault (shutdown) at " + where() + " after " +
                                  std::to_string(cpu_.s.icount) + " instructions";
                if (!config_.reboot_on_triple_fault) return result(ExitReason::kShutdown, 1, msg);
                // A PC's chipset turns the shutdown cycle into a reset. Virtual time goes on.
                std::fprintf(stderr, "vx86: %s; resetting\n", msg.c_str());
                uint64_t t = cpu_.s.icount;
                reset();
                cpu_.s.icount = t;
                break;
            }
            case cpu::Exit::kStop:
                return result(ExitReason::kStopped, 4, "stopped at " + where());
        }
    }
}

}  // namespace vx86::core
