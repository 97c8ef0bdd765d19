// CPU models: what differs between the 8086, 286, 386, 486, Pentium and P6 as software sees it.
// Each difference is a named trait rather than a model comparison scattered through handlers, so a
// handler reads `m.shift_count_masked` and never `model >= k286`.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vx86::cpu {

enum class CpuModel : uint8_t { k8086, k286, k386, k486, kPentium, kP6 };

struct ModelTraits {
    CpuModel model;
    const char* name;
    bool is_8086;             // 8086/8088: opcode aliases, no #UD, POP CS, no limit checks
    bool has_186;             // PUSHA/POPA, BOUND, ENTER/LEAVE, IMUL imm, shifts by imm, INS/OUTS, #UD
    bool has_386;             // 32-bit operand/address size, FS/GS, 0F xx 386 additions
    bool has_486;             // BSWAP, XADD, CMPXCHG, INVD/WBINVD, INVLPG, EFLAGS.AC
    bool has_pentium;         // CPUID, RDTSC, RDMSR/WRMSR, CMPXCHG8B, EFLAGS.ID
    bool has_p6;              // CMOVcc, FCMOVcc, FCOMI, RDPMC, UD2 defined, SYSENTER
    bool shift_count_masked;  // 186+: counts AND 31
    bool push_sp_new;         // 8086: PUSH SP stores the decremented SP
    bool div_fault_next_ip;   // 8086: #DE pushes the address of the next instruction
    uint32_t eflags_fixed1;   // bits that always read as 1 in real mode (bit 1; 8086: 12-15)
    uint32_t eflags_writable; // bits POPF/IRET may change in real mode
    uint8_t max_insn_len;     // longer instructions raise #GP (286: 10, 386+: 15; 8086: none)
    bool overrun_is_gp;       // 286: every real-mode segment overrun is #GP, even on SS
    bool string_fault_quirk;  // 286: a faulting string access first advances its index
                              // registers and CX (see overrun_quirk in ops/string.cpp)
    bool has_fpu;             // on-chip x87 (386: a 387 beside it); else ESC does nothing
    bool has_mmx;             // MMX (0F 60-7F, 0F D1-FE, EMMS)
    bool has_fxsr;            // FXSAVE/FXRSTOR
};

const ModelTraits& model_traits(CpuModel m);
std::optional<CpuModel> parse_model(std::string_view name);
// Newest model whose real-mode ISA this build implements: the -cpu default.
inline constexpr CpuModel kDefaultModel = CpuModel::kP6;

}  // namespace vx86::cpu
