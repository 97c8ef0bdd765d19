// Decoding in three steps:
//  1. Our own legacy-prefix scan (segment override, LOCK, REP/REPNE, 66h, 67h), because the
//     model decides what is a prefix (the 8086 has no 64h-67h and treats F1 as LOCK; the 286
//     has no 64h-67h either) and because any number of redundant prefixes is legal on old CPUs.
//  2. Zydis decodes a canonical copy: at most one 66h, one 67h and the last REP byte in front
//     of the opcode bytes. LOCK and segment prefixes never reach it (we apply them ourselves),
//     so Zydis' own LOCK-legality and prefix-count rules, which are those of modern CPUs,
//     never reject what an 8086 or 286 executes. The 8086's opcode aliases are rewritten to the
//     opcodes they behave as before this step. ESC opcodes (D8-DF) reach Zydis as D8: their
//     length depends on the ModRM byte alone, and D8 accepts every ModRM, so Zydis never rejects
//     the x87 forms it does not list (FSTP1, FCOMP5, FXCH4, FFREEP and the other aliases real
//     CPUs execute). The handler is then picked by the original opcode, and the whole ModRM
//     byte travels in `imm` (x87 handlers dispatch register forms on it and record it in FOP).
//  3. Semantics come from our opcode table (ops/*.cpp), by opcode map, opcode, ModRM.reg and
//     operand size. A slot without a handler is #UD for that model.
#include "cpu/decoder.h"

#include <Zydis/Zydis.h>

#include <cstring>

#include "cpu/ops/ops.h"

namespace vx86::cpu {

struct Decoder::Impl {
    ZydisDecoder z16{}, z32{};
    const ModelTraits* m = nullptr;
    ops::OpTable table{};
};

Decoder::Decoder(CpuModel model) : impl_(std::make_unique<Impl>()) {
    ZydisDecoderInit(&impl_->z16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
    ZydisDecoderInit(&impl_->z32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    impl_->m = &model_traits(model);
    const ModelTraits& m = *impl_->m;
    ops::register_alu(impl_->table, m);
    ops::register_shift(impl_->table, m);
    ops::register_muldiv(impl_->table, m);
    ops::register_string(impl_->table, m);
    ops::register_stack(impl_->table, m);
    ops::register_control(impl_->table, m);
    ops::register_system(impl_->table, m);
    ops::register_privileged(impl_->table, m);
    ops::register_x87(impl_->table, m);
    ops::register_mmx(impl_->table, m);
}

Decoder::~Decoder() = default;

namespace {

uint8_t gpr_index(ZydisRegister r) {
    if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return uint8_t(r - ZYDIS_REGISTER_AX);
    if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return uint8_t(r - ZYDIS_REGISTER_EAX);
    return kRegNone;
}

uint8_t seg_index(ZydisRegister r) {
    if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS) return uint8_t(r - ZYDIS_REGISTER_ES);
    return DS;
}

void make_ud(DecodedInsn& out, unsigned len) {
    out = DecodedInsn{};
    out.fn = ops::op_ud;
    out.len = uint8_t(len ? len : 1);
    out.base = out.index = kRegNone;
    out.seg = DS;
    out.flags = kfEndsBlock;
}

}  // namespace

DecodeStatus Decoder::decode(const uint8_t* bytes, unsigned avail, bool code32,
                             DecodedInsn& out) const {
    const ModelTraits& m = *impl_->m;
    if (avail == 0) return DecodeStatus::kTruncated;

    // 1. Prefixes.
    unsigned p = 0;
    uint8_t seg_override = kSegNone;
    bool has66 = false, has67 = false, lock = false;
    uint8_t rep = 0;
    for (; p < avail && p < 14; ++p) {
        uint8_t b = bytes[p];
        if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E) seg_override = uint8_t((b >> 3) & 3);
        else if (b == 0xF0 || (b == 0xF1 && m.is_8086)) lock = true;
        else if (b == 0xF2 || b == 0xF3) rep = b;
        else if (m.has_386 && (b == 0x64 || b == 0x65)) seg_override = uint8_t(FS + (b - 0x64));
        else if (m.has_386 && b == 0x66) has66 = true;
        else if (m.has_386 && b == 0x67) has67 = true;
        else break;
    }
    if (p >= avail) return DecodeStatus::kTruncated;

    // 2. Canonical copy for Zydis.
    uint8_t buf[24];
    unsigned n = 0;
    if (has66) buf[n++] = 0x66;
    if (has67) buf[n++] = 0x67;
    if (rep) buf[n++] = rep;
    const unsigned canon = n;
    unsigned rest = avail - p;
    if (rest > 15) rest = 15;
    std::memcpy(buf + n, bytes + p, rest);
    uint8_t& opc = buf[n];
    const uint8_t orig_opc = opc;
    if (m.is_8086) {
        if (opc >= 0x60 && opc <= 0x6F) opc = uint8_t(opc + 0x10);  // Jcc aliases
        else if (opc == 0xC0 || opc == 0xC1) opc = uint8_t(opc + 2);  // RET imm16 / RET
        else if (opc == 0xC8 || opc == 0xC9) opc = uint8_t(opc + 2);  // RETF imm16 / RETF
        if (rest > 1) {
            uint8_t& modrm = buf[n + 1];
            if (opc == 0x8C || opc == 0x8E) modrm &= 0xDF;             // Sreg field is 2 bits
            if (opc == 0xC6 || opc == 0xC7 || opc == 0x8F) modrm &= 0xC7;  // reg field ignored
            if (opc == 0xFF && ((modrm >> 3) & 7) == 7) modrm = uint8_t((modrm & 0xC7) | 0x30);
            if ((opc == 0xF6 || opc == 0xF7) && ((modrm >> 3) & 7) == 1) modrm &= 0xC7;  // TEST
        }
    } else if (!m.has_386 && opc >= 0x64 && opc <= 0x67) {
        make_ud(out, p + 1);
        return DecodeStatus::kInvalid;
    }
    const bool esc = opc >= 0xD8 && opc <= 0xDF;
    if (esc) opc = 0xD8;  // ESC: length from ModRM only (see the top of this file)

    DecodedInsn di{};
    di.base = di.index = kRegNone;
    di.seg = seg_override != kSegNone ? seg_override : uint8_t(DS);
    uint16_t flags = 0;
    if (code32 != has66) flags |= kfOp32;
    if (code32 != has67) flags |= kfAddr32;
    if (rep == 0xF3) flags |= kfRep;
    if (rep == 0xF2) flags |= kfRepne;
    if (lock) flags |= kfLock;
    if (seg_override != kSegNone) flags |= kfSegOverride;
    const bool op32 = flags & kfOp32;

    // One-byte opcodes Zydis does not know in this form: POP CS (8086), SALC.
    if ((m.is_8086 && opc == 0x0F) || opc == 0xD6) {
        const auto& slot = impl_->table.slots[0][opc][0];
        di.fn = slot.h16 ? slot.h16 : ops::op_ud;
        di.len = uint8_t(p + 1);
        di.opcode = opc;
        di.flags = uint16_t(flags | (slot.ends_block || !slot.h16 ? kfEndsBlock : 0));
        out = di;
        return slot.h16 ? DecodeStatus::kOk : DecodeStatus::kInvalid;
    }

    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zops[ZYDIS_MAX_OPERAND_COUNT];
    ZyanStatus st = ZydisDecoderDecodeFull(code32 ? &impl_->z32 : &impl_->z16, buf, canon + rest,
                                           &zi, zops);
    if (!ZYAN_SUCCESS(st)) {
        if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) return DecodeStatus::kTruncated;
        make_ud(out, p + 1);
        return DecodeStatus::kInvalid;
    }
    unsigned len = p + (zi.length - canon);
    unsigned map;
    if (zi.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) map = 0;
    else if (zi.opcode_map == ZYDIS_OPCODE_MAP_0F) map = 1;
    else {
        make_ud(out, len);
        return DecodeStatus::kInvalid;
    }
    di.len = uint8_t(len);
    di.opcode = zi.opcode;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_MODRM) {
        di.reg = zi.raw.modrm.reg;
        di.rm = zi.raw.modrm.rm;
        if (zi.raw.modrm.mod != 3) flags |= kfMem;
    } else {
        di.reg = zi.opcode & 7;
    }
    // Memory operand: the ModRM/moffs one, or for string instructions the eSI-side one.
    const ZydisDecodedOperand* mem = nullptr;
    for (unsigned k = 0; k < zi.operand_count; ++k) {
        const ZydisDecodedOperand& o = zops[k];
        if (o.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
        if (o.mem.type != ZYDIS_MEMOP_TYPE_MEM && o.mem.type != ZYDIS_MEMOP_TYPE_AGEN) continue;
        if (!mem || o.mem.base == ZYDIS_REGISTER_SI || o.mem.base == ZYDIS_REGISTER_ESI) mem = &o;
    }
    if (mem) {
        if (flags & kfMem || !(zi.attributes & ZYDIS_ATTRIB_HAS_MODRM)) {
            di.base = gpr_index(mem->mem.base);
            di.index = gpr_index(mem->mem.index);
            di.scale = uint8_t(mem->mem.scale == 8 ? 3 : mem->mem.scale == 4 ? 2 : mem->mem.scale == 2 ? 1 : 0);
            di.disp = mem->mem.disp.has_displacement ? uint32_t(mem->mem.disp.value) : 0;
        }
        if (seg_override == kSegNone) di.seg = seg_index(mem->mem.segment);
    }
    if (zi.raw.imm[0].size) {
        const auto& im = zi.raw.imm[0];
        di.imm = uint32_t(im.is_signed ? uint64_t(im.value.s) : im.value.u);
    }
    if (zi.raw.imm[1].size) di.imm2 = uint16_t(zi.raw.imm[1].value.u);
    if (esc) {
        di.opcode = orig_opc;
        di.imm = uint32_t(zi.raw.modrm.mod << 6 | zi.raw.modrm.reg << 3 | zi.raw.modrm.rm);
    }
    if (map == 0 && (orig_opc == 0xEA || orig_opc == 0x9A)) {
        // Far pointer: offset then selector.
        di.imm = uint32_t(zi.raw.imm[0].value.u);
        di.imm2 = uint16_t(zi.raw.imm[1].value.u);
    }
    const auto& slot = impl_->table.slots[map][di.opcode][di.reg & 7];
    Handler h = op32 ? slot.h32 : slot.h16;
    if (!h) {
        make_ud(out, len);
        return DecodeStatus::kInvalid;
    }
    di.fn = h;
    // From the 386 on, LOCK is only legal on a read-modify-write instruction with a memory
    // destination; elsewhere it is #UD. Older CPUs assert LOCK# on anything.
    if (lock && m.has_386 && !((zi.attributes & ZYDIS_ATTRIB_ACCEPTS_LOCK) && (flags & kfMem))) {
        make_ud(out, len);
        return DecodeStatus::kInvalid;
    }
    if (m.max_insn_len && len > m.max_insn_len) di.fn = ops::op_gp0;  // too long: #GP(0)
    if (slot.ends_block) flags |= kfEndsBlock;
    di.flags = flags;
    out = di;
    return DecodeStatus::kOk;
}

}  // namespace vx86::cpu
