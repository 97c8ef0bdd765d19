#include "devices/port_logger.h"

#include <cinttypes>

namespace vx86::devices {

bool PortLogger::selected(uint16_t port, unsigned size) const {
    for (unsigned k = 0; k < size; ++k)
        if (ports_.test(uint16_t(port + k))) return true;
    return false;
}

void PortLogger::attach(IoBus& bus) {
    bus.set_observer([this](uint16_t port, unsigned size, uint32_t value, bool is_write) {
        if (selected(port, size)) log(port, size, value, is_write);
    });
}

void PortLogger::log(uint16_t port, unsigned size, uint32_t value, bool is_write) {
    if (!out_) return;
    std::fprintf(out_, "io: %s port 0x%04x size %u value 0x%0*x at insn %" PRIu64 "\n",
                 is_write ? "write" : "read", port, size, int(size * 2), value,
                 clock_ ? clock_() : uint64_t(0));
}

namespace {

std::optional<uint32_t> parse_port(std::string_view s) {
    if (s.empty()) return std::nullopt;
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    uint32_t v = 0;
    for (char c : s) {
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else return std::nullopt;
        v = v * base + d;
        if (v > 0xFFFF) return std::nullopt;
    }
    return v;
}

}  // namespace

std::optional<std::vector<std::pair<uint16_t, uint16_t>>> parse_port_list(std::string_view text,
                                                                           std::string& error) {
    std::vector<std::pair<uint16_t, uint16_t>> out;
    if (text == "all") {
        out.emplace_back(0, 0xFFFF);
        return out;
    }
    while (true) {
        size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        size_t dash = item.find('-');
        auto first = parse_port(item.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : parse_port(item.substr(dash + 1));
        if (!first || !last || *last < *first) {
            error = "bad I/O port '" + std::string(item) + "' (want 0..0xffff, e.g. 0x80,0x3f8-0x3ff)";
            return std::nullopt;
        }
        out.emplace_back(uint16_t(*first), uint16_t(*last));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace vx86::devices
