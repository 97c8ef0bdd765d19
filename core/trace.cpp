#include "core/trace.h"

#include <capstone/capstone.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace vx86::core {

static_assert(std::is_same_v<csh, size_t>, "Capstone handle type changed: update trace.h");

namespace {

constexpr size_t kBufferSize = size_t(1) << 20;
constexpr const char* kGprNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
constexpr const char* kSegNames[6] = {"es", "cs", "ss", "ds", "fs", "gs"};

const char* vector_name(int v) {
    static constexpr const char* kNames[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MP", "#TS",
        "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE"};
    return (v >= 0 && v < 32 && kNames[v]) ? kNames[v] : "interrupt";
}

template <typename... Args>
void appendf(std::string& out, const char* fmt, Args... args) {
    char tmp[128];
    int n = std::snprintf(tmp, sizeof tmp, fmt, args...);
    if (n > 0) out.append(tmp, size_t(n) < sizeof tmp ? size_t(n) : sizeof tmp - 1);
}

void pad_to(std::string& out, size_t start, size_t width) {
    size_t used = out.size() - start;
    if (used < width) out.append(width - used, ' ');
}

}  // namespace

Tracer::Tracer(const std::string& path) {
    out_ = std::fopen(path.c_str(), "w");
    if (!out_)
        throw std::runtime_error("cannot open trace file '" + path + "': " + std::strerror(errno));
    owns_ = true;
    open_capstone();
}

Tracer::Tracer(std::FILE* out) : out_(out) { open_capstone(); }

void Tracer::open_capstone() {
    csh h16 = 0, h32 = 0;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &h16) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &h32) != CS_ERR_OK) {
        if (h16) cs_close(&h16);
        if (owns_) std::fclose(out_);
        throw std::runtime_error("cannot initialise Capstone for the instruction trace");
    }
    cs16_ = h16;
    cs32_ = h32;
    insn16_ = cs_malloc(h16);
    insn32_ = cs_malloc(h32);
    buf_.reserve(kBufferSize);
}

Tracer::~Tracer() {
    flush();
    if (insn16_) cs_free(static_cast<cs_insn*>(insn16_), 1);
    if (insn32_) cs_free(static_cast<cs_insn*>(insn32_), 1);
    csh h16 = cs16_, h32 = cs32_;
    if (h16) cs_close(&h16);
    if (h32) cs_close(&h32);
    if (owns_ && out_) std::fclose(out_);
}

void Tracer::flush() {
    if (!buf_.empty() && out_) std::fwrite(buf_.data(), 1, buf_.size(), out_);
    buf_.clear();
    if (out_) std::fflush(out_);
}

void Tracer::on_insn(const cpu::Cpu& cpu, const cpu::CpuState& before, const uint8_t* bytes,
                     unsigned len, int vector) {
    format(cpu, before, bytes, len, vector, line_);
    buf_ += line_;
    buf_ += '\n';
    ++lines_;
    if (buf_.size() >= kBufferSize - 512) {
        std::fwrite(buf_.data(), 1, buf_.size(), out_);
        buf_.clear();
    }
}

void Tracer::format(const cpu::Cpu& cpu, const cpu::CpuState& before, const uint8_t* bytes,
                    unsigned len, int vector, std::string& out) {
    using namespace cpu;
    out.clear();
    const bool code32 = before.seg[CS].attr & kAttrDB;
    const uint32_t eip = uint32_t(before.eip);

    // CS:EIP
    if (code32 || eip > 0xFFFF) appendf(out, "%04x:%08x  ", before.seg[CS].sel, eip);
    else appendf(out, "%04x:%04x  ", before.seg[CS].sel, eip);

    // Bytes
    size_t col = out.size();
    if (!bytes) len = 0;
    for (unsigned k = 0; k < len; ++k) appendf(out, k ? " %02x" : "%02x", bytes[k]);
    pad_to(out, col, 20);
    out += "  ";

    // Disassembly
    col = out.size();
    bool decoded = false;
    if (len) {
        csh h = code32 ? csh(cs32_) : csh(cs16_);
        auto* insn = static_cast<cs_insn*>(code32 ? insn32_ : insn16_);
        const uint8_t* code = bytes;
        size_t size = len;
        uint64_t address = eip;
        if (insn && cs_disasm_iter(h, &code, &size, &address, insn)) {
            out += insn->mnemonic;
            if (insn->op_str[0]) {
                out += ' ';
                out += insn->op_str;
            }
            decoded = true;
        }
    }
    if (!decoded) out += len ? "(bad)" : "(no bytes)";
    pad_to(out, col, 24);

    // Notes: exception, then changed registers.
    size_t notes = out.size();
    out += "; ";
    size_t notes_body = out.size();
    auto sep = [&] {
        if (out.size() > notes_body) out += ' ';
    };
    if (vector >= 0) {
        sep();
        appendf(out, "exception %d (%s)", vector, vector_name(vector));
    }
    const CpuState& after = cpu.s;
    for (unsigned r = 0; r < 8; ++r) {
        if (uint32_t(after.gpr[r]) != uint32_t(before.gpr[r])) {
            sep();
            appendf(out, "%s=%08x", kGprNames[r], uint32_t(after.gpr[r]));
        }
    }
    for (unsigned r = 0; r < 6; ++r) {
        if (after.seg[r].sel != before.seg[r].sel || after.seg[r].base != before.seg[r].base) {
            sep();
            appendf(out, "%s=%04x", kSegNames[r], after.seg[r].sel);
        }
    }
    const uint32_t fixed = cpu.traits().eflags_fixed1;
    const uint32_t fl_before = read_eflags(before) | fixed;
    const uint32_t fl_after = read_eflags(after) | fixed;
    if (fl_after != fl_before) {
        sep();
        appendf(out, "eflags=%08x", fl_after);
    }
    for (unsigned r = 0; r < 5; ++r) {
        if (after.cr[r] != before.cr[r]) {
            sep();
            appendf(out, "cr%u=%08x", r, after.cr[r]);
        }
    }
    const uint32_t mask = code32 ? 0xFFFFFFFFu : 0xFFFFu;
    const bool sequential = after.seg[CS].sel == before.seg[CS].sel &&
                            uint32_t(after.eip) == ((eip + len) & mask);
    if (!sequential) {
        sep();
        appendf(out, "eip=%08x", uint32_t(after.eip));
    }
    if (out.size() == notes_body) {
        out.resize(notes);  // nothing changed: drop the "; " and the padding
        while (!out.empty() && out.back() == ' ') out.pop_back();
    }
}

}  // namespace vx86::core
