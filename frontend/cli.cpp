#include "frontend/cli.h"

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
    if (s.starts_with("file:") && s.size() > 5)
        return CharBackend{CharBackend::Kind::kFile, std::string(s.substr(5))};
    return std::nullopt;
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
        } else if (name == "serial" || name == "debugcon") {
            auto b = parse_char_backend(value);
            if (!b) {
                error = "bad -" + std::string(name) + " backend '" + std::string(value) +
                        "' (want stdio, none or file:PATH)";
                return std::nullopt;
            }
            (name == "serial" ? o.serial : o.debugcon) = *b;
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
        }
    }
    return o;
}

std::string usage_text() {
    return "Usage: vx86 [options]\n"
           "vx86 is an x86 PC emulator. With no options it boots the built-in hello ROM.\n"
           "\n"
           "Machine:\n"
           "  -m SIZE              guest RAM in MiB, or with an M or G suffix (default 32)\n"
           "  -bios FILE           BIOS image of 64, 128, 192 or 256 KiB; a bare name is also\n"
           "                       looked up in /usr/share/seabios (default: the hello ROM)\n"
           "  -cpu MODEL           " + model_list() + " (default " +
           cpu::model_traits(cpu::kDefaultModel).name + ")\n"
           "\n"
           "Host side:\n"
           "  -serial DEV          COM1 output: stdio, none or file:PATH (default stdio)\n"
           "  -debugcon DEV        port 0xE9 debug console: stdio, none or file:PATH (default stdio)\n"
           "  -display none        no display window (the only display for now)\n"
           "\n"
           "Debugging:\n"
           "  --trace FILE         write one line per executed instruction to FILE\n"
           "  --trace-io PORTS     log guest accesses to I/O ports on stderr; PORTS is a list\n"
           "                       like 0x80,0x3f8-0x3ff,233 or 'all'\n"
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
           "2 bad command line or unreadable file; 3 the --max-insns limit was reached.\n";
}

}  // namespace vx86::frontend
