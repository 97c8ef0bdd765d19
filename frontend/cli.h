// Command line of the `vx86` executable: QEMU-like options parsed into an Options value.
//
// Design decisions:
// - Parsing is a pure function from the argument list to Options or one error line; it opens no
//   files and prints nothing, so it is easy to test and main() owns every side effect.
// - Options are spelled as in QEMU (`-m 64`, `-bios FILE`, `-serial stdio`), vx86's own ones
//   with two dashes (`--trace FILE`); either spelling is accepted for every option, and
//   `--opt=value` works too. A later option overrides an earlier one.
// - Every mistake produces exactly one line (the caller prefixes "vx86: " and exits with 2):
//   unknown options, missing arguments, numbers that do not parse or are out of range, and
//   backends that do not exist yet (any -display but none).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cpu/model.h"

namespace vx86::frontend {

// A host character backend for -serial and -debugcon.
struct CharBackend {
    enum class Kind : uint8_t { kNone, kStdio, kFile, kPty };
    Kind kind = Kind::kStdio;
    std::string path;  // kFile
};

struct Options {
    cpu::CpuModel model = cpu::kDefaultModel;
    uint64_t ram_mib = 32;
    std::string bios;  // empty: Debian's SeaBIOS
    std::string vga_bios;  // empty: Debian's vgabios-stdvga.bin; "none": no VGA BIOS
    CharBackend serial;                                  // COM1
    CharBackend serial2{CharBackend::Kind::kNone, {}};   // COM2 (a second -serial)
    int serial_count = 0;
    CharBackend debugcon;                                // port 0xE9
    CharBackend bios_log{CharBackend::Kind::kNone, {}};  // port 0x402 (SeaBIOS debug output)
    std::string fda, fdb, hda, hdb, cdrom;
    std::string boot;  // drive letters a, c, d in order; empty: the machine's default
    bool snapshot = false;
    std::string screen_dump;
    bool deterministic = false;
    std::string rtc_base;  // "utc" (default), or YYYY-MM-DD[THH:MM:SS]
    std::string trace;
    std::vector<std::pair<uint16_t, uint16_t>> trace_io;
    uint64_t max_insns = 0;
    bool no_reboot = false;
    std::string kernel, initrd, append;  // direct Linux boot
    bool fast_boot = false;
    std::string engine;  // interp | jit; empty: jit where available (x86-64), else interp
    bool stats = false;                // --stats
    bool perf_map = false;             // --perf-map
    std::vector<uint32_t> dump_blocks;  // --dump-block physical addresses
    bool help = false;
    bool version = false;
};

// Parses argv[1..]. Returns the options, or nothing with `error` set to one line (no prefix).
std::optional<Options> parse_cli(std::span<const std::string_view> args, std::string& error);

// The --help text.
std::string usage_text();

// Helpers exposed for tests.
std::optional<uint64_t> parse_mem_mib(std::string_view s);      // "64", "64M", "1G"
std::optional<uint64_t> parse_count(std::string_view s);        // decimal, no sign
std::optional<CharBackend> parse_char_backend(std::string_view s);
// "-boot" values: "c", "order=dc", "once=d", "menu=on,order=cd" -> the drive letters, or
// nothing when a letter is not a, b, c or d.
std::optional<std::string> parse_boot_order(std::string_view s);
// "-rtc base=..." / "2024-05-01T12:00:00" -> seconds since the Unix epoch (UTC).
std::optional<int64_t> parse_rtc_base(std::string_view s);

}  // namespace vx86::frontend
