// Decoder: guest bytes -> DecodedInsn, built on Zydis.
//
// Zydis does the byte-level work (prefixes, ModRM/SIB, displacement and immediate extraction,
// lengths, validity, the ISA set an instruction belongs to). We then pick the semantics from our
// own opcode tables (decode_table.cpp), indexed by opcode map, opcode byte, ModRM.reg and operand
// size, written in SDM notation, so the handler choice never depends on Zydis' mnemonic naming.
//
// Model differences live here too: the 8086 decodes 60-6F as Jcc, C0/C1/C8/C9 as RET forms, 0F
// as POP CS and has no #UD; the 286 rejects 386 prefixes and opcodes with #UD; each model only
// accepts the ISA sets it has.
#pragma once

#include <cstdint>
#include <memory>

#include "cpu/insn.h"
#include "cpu/model.h"

namespace vx86::cpu {

enum class DecodeStatus : uint8_t {
    kOk,
    kInvalid,    // #UD: `out` holds a one-byte-or-longer instruction whose handler raises #UD
    kTruncated,  // not enough bytes available (caller fetches more or faults on the fetch)
};

class Decoder {
public:
    explicit Decoder(CpuModel model);
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    // Decodes one instruction from `bytes` (at most `avail` valid). `code32` is the CS D bit.
    // On kInvalid, `out` is still executable: its handler raises #UD (or, on the 8086, does what
    // the silicon does), and out.len covers the bytes consumed.
    DecodeStatus decode(const uint8_t* bytes, unsigned avail, bool code32, DecodedInsn& out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vx86::cpu
