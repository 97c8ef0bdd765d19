#include "frontend/cli.h"

#include <charconv>

#include <limits>

#include "core/machine.h"
#include "devices/port_logger.h"

namespace vx86::frontend {

namespace {

struct OptionSpec {
    std::string_view name;  // without dashes
    bool takes_arg;
};

constexpr OptionSpec kOptions[] = {
    {"m", true},        {"bios", true},      {"cpu", true},   {"serial", true},
    {"debugcon", true}, {"display", true},   {"trace", true}, {"trace-io", true},
    {"max-insns", true}, {"no-reboot", false}, {"help", false},    {"h", false},    {"version", false},
    {"fda", true},      {"fdb", true},       {"hda", true},   {"hdb", true},
    {"cdrom", true},    {"boot", true},      {"snapshot", false}, {"screen-dump", true},
    {"bios-log", true}, {"vga-bios", true},  {"deterministic", false}, {"rtc", true},
    {"kernel", true},   {"initrd", true},    {"append", true}, {"fast-boot", false},
    {"engine", true},   {"stats", false},    {"dump-block", true},  {"perf-map", false},
};

const OptionSpec* find_option(std::string_view name) {
    for (const auto& o : kOptions)
        if (o.name == name) return &o;
    return nullptr;
}

std::string model_list() {
    std::string s;
    for (auto m : {cpu::CpuModel::k8086, cpu::CpuModel::k286, cpu::CpuModel::k386,
                   cpu::CpuModel::k486, cpu::CpuModel::kPentium, cpu::CpuModel::kP6}) {
        if (!s.empty()) s += ", ";
        s += cpu::model_traits(m).name;
    }
    return s;
}

}  // namespace

std::optional<uint64_t> parse_count(std::string_view s) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        uint64_t d = uint64_t(c - '0');
        if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

std::optional<uint64_t> parse_mem_mib(std::string_view s) {
    uint64_t scale = 1;
    if (!s.empty()) {
        char c = s.back();
        if (c == 'M' || c == 'm') s.remove_suffix(1);
        else if (c == 'G' || c == 'g') { scale = 1024; s.remove_suffix(1); }
    }
    auto v = parse_count(s);
    if (!v || *v > (uint64_t(1) << 40) / scale) return std::nullopt;
    return *v * scale;
}

std::optional<CharBackend> parse_char_backend(std::string_view s) {
    if (s == "stdio") return CharBackend{CharBackend::Kind::kStdio, {}};
    if (s == "none" || s == "null") return CharBackend{CharBackend::Kind::kNone, {}};
    if (s == "pty") return CharBackend{CharBackend::Kind::kPty, {}};
    if (s.starts_with("file:") && s.size() > 5)
        return CharBackend{CharBackend::Kind::kFile, std::string(s.substr(5))};
    return std::nullopt;
}

std::optional<std::string> parse_boot_order(std::string_view s) {
    std::string order;
    bool keyed = s.find('=') != std::string_view::npos;
    while (!s.empty()) {
        size_t comma = s.find(',');
        std::string_view item = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
        std::string_view letters = item;
        if (keyed) {
            if (item.starts_with("order=")) letters = item.substr(6);
            else if (item.starts_with("once=")) letters = item.substr(5);
            else if (item.starts_with("menu=") || item.starts_with("strict=") ||
                     item.starts_with("splash-time=") || item.starts_with("reboot-timeout="))
                continue;
            else return std::nullopt;
        }
        for (char c : letters) {
            if (c != 'a' && c != 'b' && c != 'c' && c != 'd') return std::nullopt;
            if (order.find(c) == std::string::npos) order += c;
        }
    }
    if (order.empty()) return std::nullopt;
    return order;
}

std::optional<int64_t> parse_rtc_base(std::string_view s) {
    if (s.starts_with("base=")) s = s.substr(5);
    if (size_t comma = s.find(','); comma != std::string_view::npos) s = s.substr(0, comma);
    // YYYY-MM-DD[THH:MM:SS]
    auto num = [&](size_t pos, size_t len, int& out) {
        if (pos + len > s.size()) return false;
        out = 0;
        for (size_t i = pos; i < pos + len; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!num(0, 4, y) || s.size() < 10 || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' ||
        !num(8, 2, d))
        return std::nullopt;
    if (s.size() > 10) {
        if (s.size() != 19 || (s[10] != 'T' && s[10] != ' ') || !num(11, 2, h) || s[13] != ':' ||
            !num(14, 2, mi) || s[16] != ':' || !num(17, 2, sec))
            return std::nullopt;
    }
    if (y < 1970 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
        return std::nullopt;
    // Days from the civil date (proleptic Gregorian), counted from 1970-01-01.
    int yy = y - (mo <= 2);
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = int64_t(era) * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + sec;
}

std::optional<Options> parse_cli(std::span<const std::string_view> args, std::string& error) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            error = "unexpected argument '" + std::string(arg) + "' (try --help)";
            return std::nullopt;
        }
        std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
        std::optional<std::string_view> inline_value;
        if (size_t eq = name.find('='); eq != std::string_view::npos) {
            inline_value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const OptionSpec* spec = find_option(name);
        if (!spec) {
            error = "unknown option '" + std::string(arg) + "' (try --help)";
            return std::nullopt;
        }
        const std::string shown = std::string(arg.substr(0, arg.size() - (inline_value ? inline_value->size() + 1 : 0)));
        std::string_view value;
        if (spec->takes_arg) {
            if (inline_value) value = *inline_value;
            else if (i + 1 < args.size()) value = args[++i];
            else {
                error = "option '" + shown + "' needs an argument (try --help)";
                return std::nullopt;
            }
        } else if (inline_value) {
            error = "option '" + shown + "' takes no argument";
            return std::nullopt;
        }

        if (name == "help" || name == "h") {
            o.help = true;
        } else if (name == "version") {
            o.version = true;
        } else if (name == "m") {
            auto mib = parse_mem_mib(value);
            if (!mib) {
                error = "bad memory size '" + std::string(value) +
                        "' for -m (want MiB, or a number with an M or G suffix)";
                return std::nullopt;
            }
            if (*mib * core::kMiB < core::kMinRam || *mib * core::kMiB > core::kMaxRam) {
                error = "memory size " + std::to_string(*mib) + " MiB is out of range (" +
                        std::to_string(core::kMinRam / core::kMiB) + " to " +
                        std::to_string(core::kMaxRam / core::kMiB) + " MiB)";
                return std::nullopt;
            }
            o.ram_mib = *mib;
        } else if (name == "bios") {
            if (value.empty()) {
                error = "empty file name for -bios";
                return std::nullopt;
            }
            o.bios = std::string(value);
        } else if (name == "cpu") {
            auto m = cpu::parse_model(value);
            if (!m) {
                error = "unknown CPU model '" + std::string(value) + "' (models: " + model_list() + ")";
                return std::nullopt;
            }
            o.model = *m;
        } else if (name == "serial" || name == "debugcon" || name == "bios-log") {
            auto b = parse_char_backend(value);
            if (!b) {
                error = "bad -" + std::string(name) + " backend '" + std::string(value) +
                        "' (want stdio, none, pty or file:PATH)";
                return std::nullopt;
            }
            if (name == "serial") {
                if (o.serial_count == 2) {
                    error = "at most two -serial ports (COM1 and COM2)";
                    return std::nullopt;
                }
                (o.serial_count++ == 0 ? o.serial : o.serial2) = *b;
            } else {
                (name == "debugcon" ? o.debugcon : o.bios_log) = *b;
            }
        } else if (name == "fda" || name == "fdb" || name == "hda" || name == "hdb" ||
                   name == "cdrom" || name == "screen-dump" || name == "vga-bios" ||
                   name == "kernel" || name == "initrd") {
            if (value.empty()) {
                error = "empty file name for -" + std::string(name);
                return std::nullopt;
            }
            std::string v(value);
            if (name == "fda") o.fda = v;
            else if (name == "fdb") o.fdb = v;
            else if (name == "hda") o.hda = v;
            else if (name == "hdb") o.hdb = v;
            else if (name == "cdrom") o.cdrom = v;
            else if (name == "vga-bios") o.vga_bios = v;
            else if (name == "kernel") o.kernel = v;
            else if (name == "initrd") o.initrd = v;
            else o.screen_dump = v;
        } else if (name == "boot") {
            auto order = parse_boot_order(value);
            if (!order) {
                error = "bad boot order '" + std::string(value) +
                        "' for -boot (want drive letters a, c, d, e.g. -boot d or -boot order=cd)";
                return std::nullopt;
            }
            o.boot = *order;
        } else if (name == "snapshot") {
            o.snapshot = true;
        } else if (name == "deterministic") {
            o.deterministic = true;
        } else if (name == "rtc") {
            std::string_view v = value;
            if (v.starts_with("base=")) v = v.substr(5);
            if (size_t comma = v.find(','); comma != std::string_view::npos) v = v.substr(0, comma);
            if (v != "utc" && v != "localtime" && !parse_rtc_base(v)) {
                error = "bad -rtc value '" + std::string(value) +
                        "' (want base=utc or base=YYYY-MM-DDTHH:MM:SS)";
                return std::nullopt;
            }
            o.rtc_base = std::string(v);
        } else if (name == "display") {
            if (value != "none") {
                error = "display '" + std::string(value) +
                        "' is not available (only -display none for now)";
                return std::nullopt;
            }
        } else if (name == "trace") {
            if (value.empty()) {
                error = "empty file name for --trace";
                return std::nullopt;
            }
            o.trace = std::string(value);
        } else if (name == "trace-io") {
            std::string why;
            auto ports = devices::parse_port_list(value, why);
            if (!ports) {
                error = why + " for --trace-io";
                return std::nullopt;
            }
            o.trace_io.insert(o.trace_io.end(), ports->begin(), ports->end());
        } else if (name == "max-insns") {
            auto n = parse_count(value);
            if (!n) {
                error = "bad instruction count '" + std::string(value) +
                        "' for --max-insns (want a decimal number, 0 = unlimited)";
                return std::nullopt;
            }
            o.max_insns = *n;
        } else if (name == "no-reboot") {
            o.no_reboot = true;
        } else if (name == "append") {
            o.append = std::string(value);
        } else if (name == "fast-boot") {
            o.fast_boot = true;
        } else if (name == "engine") {
            if (value != "interp" && value != "jit" && value != "diff") {
                error = "unknown engine '" + std::string(value) +
                        "' for --engine (want interp, jit or diff)";
                return std::nullopt;
            }
            o.engine = std::string(value);
        } else if (name == "stats") {
            o.stats = true;
        } else if (name == "perf-map") {
            o.perf_map = true;
        } else if (name == "dump-block") {
            // Hexadecimal with 0x, else decimal.
            std::optional<uint64_t> n;
            if (value.starts_with("0x") || value.starts_with("0X")) {
                uint64_t v = 0;
                auto hex = value.substr(2);
                auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
                if (ec == std::errc() && end == hex.data() + hex.size() && !hex.empty()) n = v;
            } else {
                n = parse_count(value);
            }
            if (!n || *n > 0xFFFFFFFFull) {
                error = "bad physical address '" + std::string(value) + "' for --dump-block";
                return std::nullopt;
            }
            o.dump_blocks.push_back(uint32_t(*n));
        }
    }
    if (o.kernel.empty() && (!o.initrd.empty() || !o.append.empty() || o.fast_boot)) {
        error = "-initrd, -append and --fast-boot need -kernel";
        return std::nullopt;
    }
    return o;
}

std::string usage_text() {
    return "Usage: vx86 [options]\n"
           "vx86 is an x86 PC emulator: an i440FX/PIIX3 PC with Debian's SeaBIOS.\n"
           "\n"
           "Machine:\n"
           "  -m SIZE              guest RAM in MiB, or with an M or G suffix (default 32)\n"
           "  -bios FILE           BIOS image of 64, 128, 192 or 256 KiB; a bare name is also\n"
           "                       looked up in /usr/share/seabios (default: bios-256k.bin\n"
           "                       there); 'hello' is vx86's own tiny test ROM\n"
           "  --vga-bios FILE      VGA option ROM (default: /usr/share/seabios/vgabios-stdvga.bin;\n"
           "                       'none' for a VGA without one)\n"
           "  -cpu MODEL           " + model_list() + " (default " +
           cpu::model_traits(cpu::kDefaultModel).name + ")\n"
           "  -fda/-fdb FILE       floppy image (160K to 2.88M) in drive A:/B:\n"
           "  -hda/-hdb FILE       raw hard-disk image on the primary IDE master/slave\n"
           "  -cdrom FILE          ISO image in the CD-ROM (secondary IDE master)\n"
           "  -boot ORDER          boot devices in order: a floppy, c hard disk, d CD-ROM\n"
           "                       (e.g. -boot d, -boot order=dc; default: c if -hda, else d\n"
           "                       if -cdrom, else a)\n"
           "  -kernel FILE         boot this Linux bzImage directly (through the BIOS and\n"
           "                       vx86's linuxboot option ROM, as QEMU does)\n"
           "  -initrd FILE         initial ramdisk for -kernel\n"
           "  -append STRING       kernel command line for -kernel\n"
           "  --fast-boot          with -kernel: skip the BIOS and enter the kernel's 32-bit\n"
           "                       entry directly (faster; no VGA text console)\n"
           "  -snapshot            keep disk writes in a temporary overlay (images unchanged)\n"
           "  -rtc base=WHEN       RTC start: utc (host time, default) or YYYY-MM-DDTHH:MM:SS\n"
           "  --deterministic      virtual time from the instruction count alone (the RTC starts\n"
           "                       at 2000-01-01 unless -rtc base= says otherwise): the same\n"
           "                       inputs give the same run, byte for byte\n"
           "\n"
           "Host side:\n"
           "  -serial DEV          COM1 (a second -serial: COM2): stdio, none, pty or file:PATH\n"
           "                       (default stdio)\n"
           "  -debugcon DEV        port 0xE9 debug console: stdio, none, pty or file:PATH\n"
           "                       (default stdio)\n"
           "  --bios-log DEV       port 0x402 (SeaBIOS debug output): same choices (default none)\n"
           "  --screen-dump FILE   at exit (and on SIGUSR1) write the screen: UTF-8 text in a\n"
           "                       text mode, PNG in a graphics mode\n"
           "  -display none        no display window (the only display for now)\n"
           "\n"
           "Debugging:\n"
           "  --trace FILE         write one line per executed instruction to FILE\n"
           "  --trace-io PORTS     log guest accesses to I/O ports on stderr; PORTS is a list\n"
           "                       like 0x80,0x3f8-0x3ff,233 or 'all'\n"
           "  --engine ENGINE      jit (guest blocks translated to host code; the default on\n"
           "                       x86-64 hosts), interp (the interpreter, everywhere) or diff\n"
           "                       (each block in both, stopping at the first divergence with\n"
           "                       a report on stderr and exit status 5)\n"
           "  --stats              at exit, print the CPU's and the JIT's counters on stderr\n"
           "  --dump-block PHYS    at exit, print the block at this physical address: guest\n"
           "                       code and (with --engine=jit) its host code (repeatable)\n"
           "  --perf-map           write /tmp/perf-PID.map naming each translated block\n"
           "                       (vx86:PHYS.16|32@CS:EIP) for `perf report` (JIT only)\n"
           "  --max-insns N        stop after N instructions (0 = unlimited, the default)\n"
           "  -no-reboot           exit on a guest triple fault instead of resetting the machine\n"
           "\n"
           "  --help               show this text and exit\n"
           "  --version            show the version and exit\n"
           "\n"
           "Options may be written with one or two dashes, and as --opt=value.\n"
           "\n"
           "Exit status: 0 the guest halted with interrupts off; 1 the guest triple faulted\n"
           "(with -no-reboot) or waits in HLT for an interrupt no device can raise yet;\n"
           "2 bad command line or unreadable file; 3 the --max-insns limit was reached;\n"
           "4 stopped by a signal; 5 --engine=diff found the engines diverging.\n";
}

}  // namespace vx86::frontend
