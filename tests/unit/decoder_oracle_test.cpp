// Decoder vs Capstone: instruction lengths on random byte strings.
//
// Capstone is an independent decoder (not Zydis, which our decoder is built on), so agreeing
// with it on lengths catches prefix, ModRM/SIB, displacement and immediate size mistakes in
// our tables and in how we drive Zydis. Random bytes reach far more prefix/ModRM combinations
// than any hand-written table.
//
// What is compared: only instructions Capstone decodes whose mnemonic is an integer instruction
// of the 8086..P6 set that is valid in real mode (an allowlist; x87, MMX/SSE/AVX, 3DNow!,
// system and protected-mode-only instructions and undocumented opcodes are skipped, as are
// encodings the SDM makes #UD but Capstone 4 accepts: LOCK on anything, register forms of
// LEA/LDS/LES/..., MOV to CS, BSWAP r16, and the 0F 18-1F hint-NOP space). For those, our
// decoder (P6 model) must return kOk with Capstone's length. Each mode gets its own seeded
// mt19937 stream, so a failure reproduces exactly; the first mismatches are printed with
// their bytes.
#include <doctest/doctest.h>

#include <capstone/capstone.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "cpu/decoder.h"
#include "test_util.h"

using namespace vx86::cpu;
using vx86::test::hex_bytes;

namespace {

const std::set<std::string_view>& allowed_mnemonics() {
    static const std::set<std::string_view> k = {
        // 8086/8088
        "aaa", "aad", "aam", "aas", "adc", "add", "and", "call", "cbw", "clc", "cld", "cli", "cmc",
        "cmp", "cmpsb", "cmpsw", "cwd", "daa", "das", "dec", "div", "hlt", "idiv", "imul", "in",
        "inc", "int", "int3", "into", "iret", "ja", "jae", "jb", "jbe", "jcxz", "je", "jg", "jge",
        "jl", "jle", "jmp", "jne", "jno", "jnp", "jns", "jo", "jp", "js", "lahf", "lds", "lea",
        "les", "lodsb", "lodsw", "loop", "loope", "loopne", "mov", "movsb", "movsw", "mul", "neg",
        "nop", "not", "or", "out", "pop", "popf", "push", "pushf", "rcl", "rcr", "ret", "retf",
        "rol", "ror", "sahf", "sal", "sar", "sbb", "scasb", "scasw", "shl", "shr", "stc", "std",
        "sti", "stosb", "stosw", "sub", "test", "xchg", "xlatb", "xor", "lcall", "ljmp",
        // 186/286 (real-mode ISA)
        "bound", "enter", "leave", "insb", "insw", "outsb", "outsw", "popaw", "pushaw", "popa",
        "pusha",
        // 386
        "bsf", "bsr", "bt", "btc", "btr", "bts", "cdq", "cwde", "cmpsd", "insd", "iretd", "jecxz",
        "lfs", "lgs", "lss", "lodsd", "movsd", "movsx", "movzx", "outsd", "popal", "pushal",
        "popfd", "pushfd", "scasd", "seta", "setae", "setb", "setbe", "sete", "setg", "setge",
        "setl", "setle", "setne", "setno", "setnp", "setns", "seto", "setp", "sets", "shld",
        "shrd", "stosd", "popfw", "pushfw", "retfw", "iretw",
        // 486, Pentium, P6 (integer)
        "bswap", "cmpxchg", "xadd", "cmpxchg8b", "cpuid", "cmova", "cmovae", "cmovb", "cmovbe",
        "cmove", "cmovg", "cmovge", "cmovl", "cmovle", "cmovne", "cmovno", "cmovnp", "cmovns",
        "cmovo", "cmovp", "cmovs",
    };
    return k;
}

bool is_string_op(std::string_view m) {
    static const std::set<std::string_view> k = {
        "movsb", "movsw", "movsd", "cmpsb", "cmpsw", "cmpsd", "stosb", "stosw", "stosd",
        "lodsb", "lodsw", "lodsd", "scasb", "scasw", "scasd", "insb", "insw", "insd",
        "outsb", "outsw", "outsd"};
    return k.count(m) != 0;
}

bool has_group(const cs_insn& insn, uint8_t group) {
    for (uint8_t i = 0; i < insn.detail->groups_count; ++i)
        if (insn.detail->groups[i] == group) return true;
    return false;
}

bool has_reg_operand_only(const cs_insn& insn) {
    const cs_x86& x = insn.detail->x86;
    for (uint8_t i = 0; i < x.op_count; ++i)
        if (x.operands[i].type == X86_OP_MEM) return false;
    return true;
}

// Why Capstone's decode is not comparable, or nullptr if it is.
const char* skip_reason(const cs_insn& insn) {
    std::string_view m = insn.mnemonic;
    // Capstone 4 prints prefixes into the mnemonic ("rep movsb", "lock add").
    while (true) {
        size_t sp = m.find(' ');
        if (sp == std::string_view::npos) break;
        std::string_view p = m.substr(0, sp);
        if (p == "lock") return "lock";  // only some forms are legal; the table test covers LOCK
        if (p != "rep" && p != "repe" && p != "repne" && p != "repz" && p != "repnz")
            return "unknown prefix";
        m = m.substr(sp + 1);
    }
    if (!allowed_mnemonics().count(m)) return "mnemonic";
    static const uint8_t kDenied[] = {X86_GRP_FPU, X86_GRP_MMX, X86_GRP_SSE1, X86_GRP_SSE2,
                                      X86_GRP_SSE3, X86_GRP_SSSE3, X86_GRP_SSE41, X86_GRP_SSE42,
                                      X86_GRP_SSE4A, X86_GRP_AVX, X86_GRP_AVX2, X86_GRP_AVX512,
                                      X86_GRP_3DNOW, X86_GRP_VM, X86_GRP_PRIVILEGE, X86_GRP_MODE64};
    for (uint8_t g : kDenied)
        if (has_group(insn, g)) return "group";
    const cs_x86& x = insn.detail->x86;
    // Capstone's prefix[] keeps only the last of LOCK/REP/REPNE: scan the raw prefix bytes.
    bool rep_prefix = false;
    for (uint16_t k = 0; k < insn.size; ++k) {
        uint8_t b = insn.bytes[k];
        if (b == 0xF0) return "lock";
        if (b == 0xF2 || b == 0xF3) rep_prefix = true;
        else if (b != 0x26 && b != 0x2E && b != 0x36 && b != 0x3E && b != 0x64 && b != 0x65 &&
                 b != 0x66 && b != 0x67)
            break;
    }
    // Capstone 4 misreads 66 next to F2/F3 on non-string instructions as a mandatory SSE-style
    // prefix and ignores the operand-size change (66 67 F3 E8 rel16: length 6, Capstone says 8).
    if (rep_prefix && x.prefix[2] == X86_PREFIX_OPSIZE && !is_string_op(m)) return "66+F2/F3";
    // Forms the SDM makes #UD that Capstone 4 still prints.
    if ((m == "lea" || m == "lds" || m == "les" || m == "lfs" || m == "lgs" || m == "lss" ||
         m == "bound" || m == "cmpxchg8b" || m == "lcall" || m == "ljmp") &&
        x.opcode[0] != 0x9A && x.opcode[0] != 0xEA && has_reg_operand_only(insn))
        return "register form";
    if (m == "mov") {
        for (uint8_t i = 0; i < x.op_count; ++i)
            if (x.operands[i].type == X86_OP_REG && x.operands[i].reg == X86_REG_CS &&
                x.opcode[0] == 0x8E)
                return "mov cs";
    }
    if (m == "bswap" && x.prefix[2] == X86_PREFIX_OPSIZE) return "bswap r16";
    if (m == "nop" && x.opcode[0] == 0x0F) return "hint nop";
    if (m == "pop" && x.opcode[0] == 0x8F && ((x.modrm >> 3) & 7) != 0) return "8f /r";
    return nullptr;
}

struct OracleResult {
    unsigned tried = 0, compared = 0, mismatches = 0;
};

OracleResult run_oracle(bool code32, unsigned count, uint32_t seed) {
    OracleResult res;
    csh cs = 0;
    REQUIRE(cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &cs) == CS_ERR_OK);
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn* insn = cs_malloc(cs);
    Decoder dec(CpuModel::kP6);
    std::mt19937 rng(seed);

    uint8_t buf[16];
    for (unsigned n = 0; n < count; ++n) {
        for (uint8_t& b : buf) b = uint8_t(rng());
        // Bias the mix so that rare-by-chance forms get dense coverage: a quarter of the
        // samples go to the 0F map, a quarter get an operand- and/or address-size prefix
        // (otherwise 1 in 256 in 16-bit code), the rest are left as drawn.
        switch (rng() & 7) {
            case 0: case 1: buf[0] = 0x0F; break;
            case 2: buf[0] = 0x66; break;
            case 3: buf[0] = 0x67; break;
            case 4: buf[0] = 0x66; buf[1] = 0x67; break;
            default: break;
        }
        ++res.tried;
        const uint8_t* code = buf;
        size_t size = sizeof buf;
        uint64_t addr = 0x1000;
        if (!cs_disasm_iter(cs, &code, &size, &addr, insn)) continue;
        if (insn->size > 15 || skip_reason(*insn)) continue;
        ++res.compared;
        DecodedInsn d{};
        DecodeStatus st = dec.decode(buf, sizeof buf, code32, d);
        if (st != DecodeStatus::kOk || d.len != insn->size) {
            if (++res.mismatches <= 25) {
                const std::string ours = st == DecodeStatus::kOk        ? "kOk"
                                         : st == DecodeStatus::kInvalid ? "kInvalid"
                                                                        : "kTruncated";
                INFO("code", code32 ? 32 : 16, " [", hex_bytes(buf, insn->size), "] capstone: ",
                     std::string(insn->mnemonic), " ", std::string(insn->op_str), " len ", unsigned(insn->size),
                     "; ours: status ", ours, " len ", unsigned(d.len));
                CHECK(false);
            }
        }
    }
    cs_free(insn, 1);
    cs_close(&cs);
    return res;
}

}  // namespace

TEST_CASE("decoder oracle: lengths agree with Capstone on random bytes") {
    constexpr unsigned kSamples = 60000;
    for (bool code32 : {false, true}) {
        OracleResult r = run_oracle(code32, kSamples, code32 ? 0x32323232u : 0x16161616u);
        std::printf("decoder oracle (%d-bit code): %u random strings, %u compared with Capstone, "
                    "%u mismatches\n",
                    code32 ? 32 : 16, r.tried, r.compared, r.mismatches);
        // Guard against a filter that silently compares nothing.
        CHECK(r.compared > kSamples / 5);
        CHECK(r.mismatches == 0);
    }
}
