// Stack instructions: PUSH/POP in every form, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE.
//
// Multi-slot pushes (PUSHA, ENTER) check every slot before writing the first, so a stack fault
// leaves ESP and memory untouched. Segment-register pops live in system.cpp with the other
// segment loads.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

// PUSH r16/r32 (50+r). The 8086 pushes SP after the decrement.
template <int B>
void push_r(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.reg<B>(i.reg);
    if (i.reg == ESP && c.traits().push_sp_new) v = (v - B / 8) & kMaskB<B>;
    c.push<B>(v);
}

// POP r16/r32 (58+r): POP eSP loads the popped value.
template <int B>
void pop_r(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.pop<B>();
    c.set_reg<B>(i.reg, v);
}

// PUSH imm (68 iw/id, 6A ib sign-extended)
template <int B>
void push_imm(Cpu& c, const DecodedInsn& i) { c.push<B>(i.imm & kMaskB<B>); }

// PUSH r/m (FF /6)
template <int B>
void push_rm(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.read_rm<B>(i);
    // The 8086 computes PUSH [SP-relative] / PUSH SP from the decremented SP.
    if (!(i.flags & kfMem) && i.rm == ESP && c.traits().push_sp_new) v = (v - B / 8) & kMaskB<B>;
    c.push<B>(v);
}

// POP r/m (8F /0): an ESP-based address is computed after the increment.
template <int B>
void pop_rm(Cpu& c, const DecodedInsn& i) {
    uint32_t osp = c.sp();
    uint32_t v = c.peek<B>(0);
    uint32_t nsp = osp + B / 8;
    if (!c.stack32()) nsp &= 0xFFFF;
    if (i.flags & kfMem) {
        c.set_sp(nsp);
        uint32_t off = c.ea(i);
        c.set_sp(osp);
        c.write<B>(i.seg, off, v);
        c.set_sp(nsp);
    } else {
        c.set_sp(nsp);
        c.set_reg<B>(i.rm, v);
    }
}

// PUSHA/PUSHAD (60)
template <int B>
void pusha(Cpu& c, const DecodedInsn&) {
    uint32_t osp = c.sp();
    uint32_t vals[8];
    for (unsigned r = 0; r < 8; ++r) vals[r] = c.reg<B>(r);  // ESP slot holds the original
    uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
    c.check_pushes(8, B / 8);
    for (unsigned k = 1; k <= 8; ++k) c.write<B>(SS, (osp - k * (B / 8)) & smask, vals[k - 1]);
    c.set_sp((osp - 8 * (B / 8)) & smask);
}

// POPA/POPAD (61): the saved eSP slot is skipped.
template <int B>
void popa(Cpu& c, const DecodedInsn&) {
    uint32_t osp = c.sp();
    uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t vals[8];
    for (unsigned k = 0; k < 8; ++k) vals[7 - k] = c.read<B>(SS, (osp + k * (B / 8)) & smask);
    for (unsigned r = 0; r < 8; ++r)
        if (r != ESP) c.set_reg<B>(r, vals[r]);
    c.set_sp((osp + 8 * (B / 8)) & smask);
}

// PUSHF/PUSHFD (9C): VM and RF read as zero in the image. In virtual-8086 mode PUSHF is
// IOPL-sensitive; with CR4.VME the 16-bit form pushes VIF in place of IF and IOPL as 3.
template <int B>
void pushf(Cpu& c, const DecodedInsn&) {
    uint32_t f = c.eflags() & (B == 32 ? 0x00FCFFFFu : 0xFFFFu);
    if (c.v86() && c.iopl() < 3) {
        if (B == 32 || !(c.s.cr[4] & kCr4VME)) c.fault(kGP, 0);
        f = (f & ~kIF) | ((c.eflags() & kVIF) ? kIF : 0) | kIOPL;
    }
    c.push<B>(f);
}

// POPF/POPFD (9D): only the bits the mode and privilege let the program change are written
// (Cpu::popf_mask). Virtual-8086 mode at IOPL < 3: #GP, or with CR4.VME (16-bit form) the
// popped IF goes to VIF.
template <int B>
void popf(Cpu& c, const DecodedInsn&) {
    if (c.v86() && c.iopl() < 3) {
        if (B == 32 || !(c.s.cr[4] & kCr4VME)) c.fault(kGP, 0);
        uint32_t v = c.peek<16>(0);
        uint32_t cur = c.eflags();
        if ((v & kTF) || ((v & kIF) && (cur & kVIP))) c.fault(kGP, 0);
        c.pop<16>();
        uint32_t mask = c.traits().eflags_writable & 0xFFFF & ~(kIOPL | kIF);
        uint32_t nf = (cur & ~mask) | (v & mask);
        c.set_eflags((nf & ~kVIF) | ((v & kIF) ? kVIF : 0));
        c.end_block();
        return;
    }
    uint32_t v = c.pop<B>();
    uint32_t mask = c.popf_mask(B == 32);
    const uint32_t old = c.eflags(), now = (old & ~mask) | (v & mask);
    c.set_eflags(now);
    // The block ends when an interrupt may now be taken (IF set) or anything but the
    // arithmetic flags, DF and a cleared IF changed (TF, AC, IOPL, ...: what decoded and
    // translated blocks assume), not for the common restore of what PUSHF saved.
    constexpr uint32_t kKeeps = kCF | kPF | kAF | kZF | kSF | kOF | kDF | kIF;
    if (((old ^ now) & ~kKeeps) || (~old & now & kIF)) c.end_block();
}

// ENTER imm16, imm8 (C8 iw ib)
template <int B>
void enter(Cpu& c, const DecodedInsn& i) {
    unsigned level = i.imm2 & 31;
    uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t sp = c.sp();
    uint32_t bp = c.stack32() ? c.r32(EBP) : c.r16(EBP);
    c.check_pushes(level + 1, B / 8);  // the frame's slots first: a stack fault changes nothing
    // ...and a write at the final stack pointer, still before any change (SDM ENTER: #SS(0) if
    // the new eSP is outside the limit, #PF if a write using the final eSP would page-fault).
    if (uint32_t alloc = i.imm & 0xFFFF) {
        uint32_t fsp = (sp - (level + 1) * (B / 8) - alloc) & smask;
        c.check_write(SS, fsp, B / 8);
        if (c.paging()) c.probe_write_lin(c.s.seg[SS].base + fsp, B / 8);
    }
    sp = (sp - B / 8) & smask;
    c.write<B>(SS, sp, c.reg<B>(EBP));
    // FrameTemp <- ESP (32-bit operand) or SP (16-bit operand): with a 16-bit stack and a 32-bit
    // operand the untouched upper half of ESP is part of the frame pointer (SDM ENTER Operation).
    uint32_t frame = sp;
    if (B == 32 && !c.stack32()) frame |= c.r32(ESP) & 0xFFFF0000u;
    if (level > 0) {
        for (unsigned k = 1; k < level; ++k) {
            bp = (bp - B / 8) & smask;
            uint32_t v = c.read<B>(SS, bp);
            sp = (sp - B / 8) & smask;
            c.write<B>(SS, sp, v);
        }
        sp = (sp - B / 8) & smask;
        c.write<B>(SS, sp, frame);
    }
    c.set_reg<B>(EBP, frame);
    c.set_sp((sp - (i.imm & 0xFFFF)) & smask);
}

// LEAVE (C9)
template <int B>
void leave(Cpu& c, const DecodedInsn&) {
    uint32_t bp = c.stack32() ? c.r32(EBP) : c.r16(EBP);
    uint32_t v = c.read<B>(SS, bp);
    c.set_sp(bp + B / 8);
    c.set_reg<B>(EBP, v);
}

}  // namespace

void register_stack(OpTable& t, const ModelTraits& m) {
    for (unsigned r = 0; r < 8; ++r) {
        t.op(0x50 + r, push_r<16>, push_r<32>);
        t.op(0x58 + r, pop_r<16>, pop_r<32>);
    }
    t.grp(0xFF, 6, push_rm<16>, push_rm<32>);
    if (m.is_8086) t.grp(0xFF, 7, push_rm<16>);  // undocumented alias of /6
    t.grp(0x8F, 0, pop_rm<16>, pop_rm<32>);
    if (m.is_8086)
        for (unsigned r = 1; r < 8; ++r) t.grp(0x8F, r, pop_rm<16>);  // reg field ignored
    t.op(0x9C, pushf<16>, pushf<32>);
    t.op(0x9D, popf<16>, popf<32>, true);
    if (!m.has_186) return;
    t.op(0x60, pusha<16>, pusha<32>);
    t.op(0x61, popa<16>, popa<32>);
    t.op(0x68, push_imm<16>, push_imm<32>);
    t.op(0x6A, push_imm<16>, push_imm<32>);
    t.op(0xC8, enter<16>, enter<32>);
    t.op(0xC9, leave<16>, leave<32>);
}

}  // namespace vx86::cpu::ops
