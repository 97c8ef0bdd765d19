// System instructions: descriptor-table registers (LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR),
// descriptor probes (LAR/LSL/VERR/VERW, ARPL), the machine status word (LMSW/SMSW, CLTS),
// control and debug registers, MSRs, cache and TLB control (INVD/WBINVD/INVLPG), RDPMC, RDTSCP,
// SYSENTER/SYSEXIT and the hint NOPs.
//
// Privilege rules follow the SDM's "Protected Mode Exceptions" of each instruction: the
// privileged ones raise #GP(0) at CPL > 0 (virtual-8086 mode is CPL 3); the descriptor
// instructions that only exist in protected mode (LLDT, LTR, SLDT, STR, LAR, LSL, VERR, VERW,
// ARPL) raise #UD in real and virtual-8086 mode.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

void require_cpl0(Cpu& c) {
    if (c.protected_mode() && c.cpl() != 0) c.fault(kGP, 0);
}
void require_pm(Cpu& c) {
    if (!c.pm()) c.fault(kUD);
}
void require_mem(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
}
void set_zf(Cpu& c, bool z) {
    uint32_t f = c.eflags();
    c.set_eflags(z ? (f | kZF) : (f & ~kZF));
}
uint32_t next_addr(const DecodedInsn& i, uint32_t a, uint32_t by) {
    a += by;
    return (i.flags & kfAddr32) ? a : (a & 0xFFFF);
}

// SGDT/SIDT (0F 01 /0, /1): limit then base. The 286 stores 0xFF in the base's top byte.
template <int B, bool Idt>
void sgdt(Cpu& c, const DecodedInsn& i) {
    require_mem(c, i);
    const DescriptorTable& t = Idt ? c.s.idtr : c.s.gdtr;
    uint32_t a = c.ea(i);
    c.check_write(i.seg, a, 2);
    c.check_write(i.seg, next_addr(i, a, 2), 4);
    uint32_t base = c.traits().has_386 ? t.base : ((t.base & 0xFFFFFF) | 0xFF000000u);
    c.write<16>(i.seg, a, t.limit);
    c.write<32>(i.seg, next_addr(i, a, 2), base);
}
// LGDT/LIDT (0F 01 /2, /3): with a 16-bit operand only 24 bits of the base are loaded.
template <int B, bool Idt>
void lgdt(Cpu& c, const DecodedInsn& i) {
    require_mem(c, i);
    require_cpl0(c);
    uint32_t a = c.ea(i);
    uint16_t limit = uint16_t(c.read<16>(i.seg, a));
    uint32_t base = c.read<32>(i.seg, next_addr(i, a, 2));
    if (B == 16 || !c.traits().has_386) base &= 0xFFFFFF;
    DescriptorTable& t = Idt ? c.s.idtr : c.s.gdtr;
    t = DescriptorTable{base, limit};
}
// SMSW (0F 01 /4): a register destination gets all of CR0 with a 32-bit operand.
template <int B>
void smsw(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) c.write<16>(i.seg, c.ea(i), c.s.cr[0] & 0xFFFF);
    else c.set_reg<B>(i.rm, c.s.cr[0]);
}
// LMSW (0F 01 /6): PE, MP, EM, TS from the operand; PE can be set but not cleared.
void lmsw(Cpu& c, const DecodedInsn& i) {
    require_cpl0(c);
    uint32_t v = c.read_rm<16>(i);
    uint32_t cr0 = c.s.cr[0];
    c.write_cr(0, (cr0 & ~0xEu) | (v & 0xF) | (cr0 & kCr0PE));
    c.end_block();
}
// 0F 01 /7: INVLPG m, or RDTSCP (0F 01 F9).
void invlpg_rdtscp(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) {
        if (!c.traits().has_486) c.fault(kUD);
        require_cpl0(c);
        c.invlpg(c.s.seg[i.seg].base + c.ea(i));
        c.end_block();
        return;
    }
    if (i.rm != 1 || !c.traits().has_p6) c.fault(kUD);
    if ((c.s.cr[4] & kCr4TSD) && c.protected_mode() && c.cpl() != 0) c.fault(kGP, 0);
    uint64_t t = c.tsc();
    c.set_r32(EAX, uint32_t(t));
    c.set_r32(EDX, uint32_t(t >> 32));
    c.set_r32(ECX, uint32_t(c.s.msr.tsc_aux));
}
void grp7_ud(Cpu& c, const DecodedInsn&) { c.fault(kUD); }

// SLDT/STR (0F 00 /0, /1): a register destination is zero-extended with a 32-bit operand.
template <int B, bool Tr>
void sldt(Cpu& c, const DecodedInsn& i) {
    require_pm(c);
    uint16_t v = Tr ? c.s.tr.sel : c.s.ldtr.sel;
    if (i.flags & kfMem) c.write<16>(i.seg, c.ea(i), v);
    else c.set_reg<B>(i.rm, v);
}
// LLDT/LTR (0F 00 /2, /3)
void lldt(Cpu& c, const DecodedInsn& i) {
    require_pm(c);
    require_cpl0(c);
    c.lldt(uint16_t(c.read_rm<16>(i)));
}
void ltr(Cpu& c, const DecodedInsn& i) {
    require_pm(c);
    require_cpl0(c);
    c.ltr(uint16_t(c.read_rm<16>(i)));
}

// Visibility of a descriptor to LAR/LSL/VERR/VERW at the current CPL and the selector's RPL:
// conforming code is always visible, everything else needs DPL >= max(CPL, RPL).
bool visible(Cpu& c, uint16_t sel, uint32_t hi) {
    unsigned dpl = (hi >> 13) & 3;
    bool conforming_code = (hi & (1u << 12)) && (hi & (1u << 11)) && (hi & (1u << 10));
    return conforming_code || (dpl >= c.cpl() && dpl >= (sel & 3u));
}
// The descriptor LAR/LSL read for the selector in their r/m operand: false (ZF=0) when the
// selector is null or outside its table, names a system type not in `system_types` (a bit per
// type), or is not visible at this privilege.
bool probe_descriptor(Cpu& c, const DecodedInsn& i, uint32_t system_types, uint32_t& lo,
                      uint32_t& hi) {
    require_pm(c);
    uint16_t sel = uint16_t(c.read_rm<16>(i));
    if (!c.fetch_descriptor(sel, lo, hi)) return false;
    if (!(hi & (1u << 12)) && !((system_types >> ((hi >> 8) & 0xF)) & 1)) return false;
    return visible(c, sel, hi);
}
// LAR (0F 02): system types 1-5, 9, 11, 12 qualify (not interrupt/trap gates).
template <int B>
void lar(Cpu& c, const DecodedInsn& i) {
    uint32_t lo, hi;
    bool ok = probe_descriptor(c, i, 0x1A3E, lo, hi);
    if (ok) c.set_reg<B>(i.reg, hi & (B == 32 ? 0x00F0FF00u : 0xFF00u));
    set_zf(c, ok);
}
// LSL (0F 03): system types 1, 2, 3, 9, 11 (TSSs and LDTs) qualify.
template <int B>
void lsl(Cpu& c, const DecodedInsn& i) {
    uint32_t lo, hi;
    bool ok = probe_descriptor(c, i, 0x0A0E, lo, hi);
    if (ok) {
        uint32_t limit = (lo & 0xFFFF) | (hi & 0xF0000);
        if (hi & (1u << 23)) limit = (limit << 12) | 0xFFF;
        c.set_reg<B>(i.reg, limit);
    }
    set_zf(c, ok);
}
// VERR/VERW (0F 00 /4, /5)
template <bool Write>
void verr(Cpu& c, const DecodedInsn& i) {
    require_pm(c);
    uint16_t sel = uint16_t(c.read_rm<16>(i));
    uint32_t lo, hi;
    bool ok = c.fetch_descriptor(sel, lo, hi) && (hi & (1u << 12)) && visible(c, sel, hi);
    if (ok) {
        bool code = hi & (1u << 11), rw = hi & (1u << 9);
        ok = Write ? (!code && rw) : (!code || rw);
    }
    set_zf(c, ok);
}
// ARPL r/m16, r16 (63)
void arpl(Cpu& c, const DecodedInsn& i) {
    require_pm(c);
    uint32_t dst = c.read_rm<16>(i);
    uint32_t src = c.reg<16>(i.reg);
    if ((dst & 3) < (src & 3)) {
        c.write_rm<16>(i, (dst & ~3u) | (src & 3));
        set_zf(c, true);
    } else {
        set_zf(c, false);
    }
}

// CLTS (0F 06)
void clts(Cpu& c, const DecodedInsn&) {
    require_cpl0(c);
    c.s.cr[0] &= ~kCr0TS;
}

// MOV r32, CRn (0F 20) / MOV CRn, r32 (0F 22). The ModRM mod field is ignored: always a
// register operand.
bool cr_exists(Cpu& c, unsigned n) {
    return n == 0 || n == 2 || n == 3 || (n == 4 && c.traits().has_pentium);
}
void mov_r_cr(Cpu& c, const DecodedInsn& i) {
    if (!cr_exists(c, i.reg)) c.fault(kUD);
    require_cpl0(c);
    c.set_r32(i.rm, c.s.cr[i.reg]);
}
void mov_cr_r(Cpu& c, const DecodedInsn& i) {
    if (!cr_exists(c, i.reg)) c.fault(kUD);
    require_cpl0(c);
    c.write_cr(i.reg, c.r32(i.rm));
    c.end_block();
}
// MOV r32, DRn (0F 21) / MOV DRn, r32 (0F 23): DR4/DR5 alias DR6/DR7 unless CR4.DE.
unsigned dr_index(Cpu& c, unsigned n) {
    if (n == 4 || n == 5) {
        if (c.s.cr[4] & kCr4DE) c.fault(kUD);
        n += 2;
    }
    return n;
}
// DR7.GD: any debug-register access raises #DB (a fault) with DR6.BD, and clears GD so the
// handler itself can use them.
void general_detect(Cpu& c) {
    if (c.s.dr[7] & 0x2000) {
        c.s.dr[6] |= 0x2000;
        c.s.dr[7] &= ~0x2000u;
        c.fault(kDB);
    }
}
void mov_r_dr(Cpu& c, const DecodedInsn& i) {
    require_cpl0(c);
    unsigned n = dr_index(c, i.reg);
    general_detect(c);
    c.set_r32(i.rm, c.s.dr[n]);
}
void mov_dr_r(Cpu& c, const DecodedInsn& i) {
    require_cpl0(c);
    unsigned n = dr_index(c, i.reg);
    general_detect(c);
    c.write_dr(n, c.r32(i.rm));
}

// RDMSR (0F 32) / WRMSR (0F 30): unknown MSRs and reserved bits raise #GP(0).
void rdmsr(Cpu& c, const DecodedInsn&) {
    require_cpl0(c);
    uint64_t v;
    if (!c.read_msr(c.r32(ECX), v)) c.fault(kGP, 0);
    c.set_r32(EAX, uint32_t(v));
    c.set_r32(EDX, uint32_t(v >> 32));
}
void wrmsr(Cpu& c, const DecodedInsn&) {
    require_cpl0(c);
    uint64_t v = (uint64_t(c.r32(EDX)) << 32) | c.r32(EAX);
    if (!c.write_msr(c.r32(ECX), v)) c.fault(kGP, 0);
    c.end_block();
}
// RDPMC (0F 33): two counters on the P6; allowed at CPL > 0 only with CR4.PCE. The counters
// are not modelled and read as zero.
void rdpmc(Cpu& c, const DecodedInsn&) {
    if (c.protected_mode() && c.cpl() != 0 && !(c.s.cr[4] & kCr4PCE)) c.fault(kGP, 0);
    if (c.r32(ECX) > 1) c.fault(kGP, 0);
    c.set_r32(EAX, 0);
    c.set_r32(EDX, 0);
}
// INVD (0F 08), WBINVD (0F 09): no caches are modelled; privileged all the same.
void invd(Cpu& c, const DecodedInsn&) { require_cpl0(c); }
// SYSENTER (0F 34), SYSEXIT (0F 35)
void sysenter(Cpu& c, const DecodedInsn&) { c.sysenter(); }
template <int B>
void sysexit(Cpu& c, const DecodedInsn&) { c.sysexit(B == 32); }
// Hint NOPs (0F 18-1F /r): a ModRM operand that is never accessed.
void hint_nop(Cpu&, const DecodedInsn&) {}

}  // namespace

void register_privileged(OpTable& t, const ModelTraits& m) {
    constexpr bool E = true;
    if (!m.has_186 || m.is_8086) return;  // the 286 and later
    t.grp0f(0x00, 0, sldt<16, false>, sldt<32, false>);
    t.grp0f(0x00, 1, sldt<16, true>, sldt<32, true>);
    t.grp0f(0x00, 2, lldt);
    t.grp0f(0x00, 3, ltr);
    t.grp0f(0x00, 4, verr<false>);
    t.grp0f(0x00, 5, verr<true>);
    t.grp0f(0x01, 0, sgdt<16, false>, sgdt<32, false>);
    t.grp0f(0x01, 1, sgdt<16, true>, sgdt<32, true>);
    t.grp0f(0x01, 2, lgdt<16, false>, lgdt<32, false>);
    t.grp0f(0x01, 3, lgdt<16, true>, lgdt<32, true>);
    t.grp0f(0x01, 4, smsw<16>, smsw<32>);
    t.grp0f(0x01, 5, grp7_ud);
    t.grp0f(0x01, 6, lmsw, lmsw, E);
    t.grp0f(0x01, 7, invlpg_rdtscp, invlpg_rdtscp, E);
    t.op0f(0x02, lar<16>, lar<32>);
    t.op0f(0x03, lsl<16>, lsl<32>);
    t.op0f(0x06, clts);
    t.op(0x63, arpl);
    if (!m.has_386) return;
    t.op0f(0x20, mov_r_cr);
    t.op0f(0x22, mov_cr_r, mov_cr_r, E);
    t.op0f(0x21, mov_r_dr);
    t.op0f(0x23, mov_dr_r, mov_dr_r, E);
    if (m.has_486) {
        t.op0f(0x08, invd);
        t.op0f(0x09, invd);
    }
    if (m.has_pentium) {
        t.op0f(0x30, wrmsr, wrmsr, E);
        t.op0f(0x32, rdmsr);
    }
    if (m.has_p6) {
        t.op0f(0x33, rdpmc);
        t.op0f(0x34, sysenter, sysenter, E);
        t.op0f(0x35, sysexit<16>, sysexit<32>, E);
        for (unsigned o = 0x18; o <= 0x1F; ++o) t.op0f(o, hint_nop);
    }
}

}  // namespace vx86::cpu::ops
