// The x86-64 block engine: translates the interpreter's decoded blocks to host code with asmjit.
//
// Design decisions:
// - The unit of translation is the interpreter's own Block (same decoder, same boundaries, same
//   cache key, same invalidation): run_until() finds or builds the block exactly as for the
//   interpreter and hands it here instead of to execute_block(). Interrupt checks, the budget,
//   HLT, single-step, breakpoints and the observer therefore stay in the interpreter's code; a
//   block cut short by the budget, or the uncacheable scratch block, is simply interpreted.
// - Every instruction is either inline host code or a call of its interpreter handler
//   `fn(Cpu&, const DecodedInsn&)` wrapped exactly like execute_block() wraps it (next_eip set,
//   EIP updated after, icount incremented, stop_ tested). Handlers are recognised by pointer:
//   the engine decodes probe byte strings with the same Decoder and records which handler each
//   known form resolved to, so no handler symbol is needed and an unknown pointer is a helper.
// - All guest state lives in CpuState and Cpu memory; generated code keeps nothing in registers
//   across instructions except what it will write back. Within a run of inline instructions
//   the EIP/icount updates are deferred and written once ("sync") before anything that can
//   fault, call out or leave; inline memory accesses need none on their fast path, and their
//   slow paths sync before the call and undo it after a normal return. So a handler or slow
//   path that longjmps to the run loop finds the interpreter's state for the faulting
//   instruction (and a device behind MMIO reads the right icount); the generated frame is simply
//   abandoned (it has no unwind data and owns nothing; callee-saved registers are restored by
//   longjmp from setjmp's copy).
// - Memory operands use the soft TLB inline (one compare against Cpu::segspan_, which folds
//   the segment's limits, type and the alignment check, then the tag compare and the addend). Any miss goes to a slow path that calls Cpu::read/write
//   in full, which repeats the checks and raises the fault or does the MMIO/SMC work. Stores to
//   code pages never hit the fast path (their write tags are cleared), so self-modifying code
//   always reaches code_page_written, which sets stop_; stop_ is tested after every instruction
//   that called out (MOV, PUSH and POP test it in the slow path itself, which then finishes the
//   instruction and leaves: see emit_access).
// - Lazy flags are computed with the interpreter's formulas (flags.h) into CpuState::lf, except
//   that ADD, SUB, CMP, NEG, INC and DEC defer theirs (see lf_kind): generated code keeps a
//   kind and the operand beside s.lf, resolved before C++ code sees them. Within a block, a
//   per-flag liveness pass (flag_liveness()) finds register-only instructions none of whose
//   flags is read before later register-only instructions overwrite it, with nothing in
//   between that can fault or leave the block: they store no flags; and partial writers (INC,
//   DEC, rotates) whose kept flags are dead so need not merge with the old ones. A side join
//   over one register instruction whose flags are dead is done by CMOV (predicate_skip): a
//   data-dependent branch costs the host more than the instruction.
// - Chaining: a block's exits do not return to run_until() when it would just run the next
//   block. Static exits (taken branch/jump/call target, fall-through, and the side exit: a
//   forward Jcc inside the block, cpu::kfSideExit, taken from an arm, unless its target is in
//   the block: a join, cpu::kfSideJoin, see emit_side_join) go through a Link the
//   engine patches once the exit has been seen to lead to a translated block; the dynamic exit
//   (RET, indirect and helper-ended blocks) has a Link too, used when EIP is the one it was
//   made for (an inline cache of the first target), and a second one (the next target seen:
//   a return to two call sites), else the jump cache, else a lookup that links it. Both check,
//   before entering the next block,
//   everything run_until() would decide at that boundary (CpuAccess::next_block): stop_ (end
//   of slice, stop request, SMC in the current block), halt, interrupt shadow, TF and
//   breakpoints, the budget (the whole block must fit, else it is interpreted cut short), the
//   CS limit over the block's span, the code-size bit, CS:EIP -> physical through the TLB fast
//   path (a miss returns to the run loop, so TLB statistics match), and last a pending
//   external interrupt (IRQ latency identical in instructions). Invalidating a block unlinks
//   every link into it (NativeCode::invalidated), so a link never enters an invalidated block.
//   The chained blocks share the frame of the first one entered; any exit pops it.
// - Direct jumps: a static exit of a 32-bit block that called no helper (mode-keeping ones
//   aside, see keeps_mode) is a `jmp rel32` (to another page: while the link's epoch holds,
//   see exit_static) that link() patches to the target's checked entry (and unlinking patches
//   back to a trampoline into the guard above). Only what can change between two such blocks
//   is tested there: stop_, the budget, the CS limit (not for a block translated for a flat
//   CS, Cpu::kModeFlatCs) and the external interrupt (not when the interrupt source reports
//   each rise through Cpu::irq_rose(), which sets stop_; EFLAGS.IF cannot change in such a
//   chain). See Translator::exit_static for why the mode, the mapping, halt, the interrupt
//   shadow, TF and breakpoints need no test. Nothing is stored per transition but EIP and
//   icount (Cpu::current_block_ stays the chain's first block; the counters of chained runs
//   only with EngineOptions::count_chains).
// - Code cache: the engine flushes every block (Cpu::flush_code_cache) before running one when
//   the generated code held exceeds EngineOptions::cache_bytes; the blocks are rebuilt on use.
//   (The interpreter's blocks_built statistic then differs from a pure interpreter run.)
#include <asmjit/x86.h>
#include <capstone/capstone.h>

#include <cassert>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cpu/decoder.h"
#include "jit/jit.h"
#include "jit/x64/access.h"

namespace vx86::jit {

namespace {

using cpu::Cpu;
using cpu::CpuState;
using cpu::DecodedInsn;
namespace x86 = asmjit::x86;

using Fn = void (*)(Cpu*, CpuState*);

// What a handler pointer does, learnt by decoding probe instructions.
enum class Kind : uint8_t {
    kAluRmR, kAluRRm, kAluAccImm, kAluRmImm, kTestRmImm,
    kMovRmR, kMovRRm, kMovRmImm, kMovRImm, kMovAccMoffs, kMovMoffsAcc,
    kIncDecRm, kIncDecR, kLea, kJcc, kJmpRel, kCallRel, kRetNear, kPushR, kPopR,
    kShift1, kShiftImm, kShiftCl, kImulRRm, kImulRRmImm, kMovx, kSetcc, kCmov, kXchgRmR, kXchgAccR,
    kCbw, kCwd, kLoop, kJcxz, kNot, kNeg, kPushRm, kPushImm, kBtImm, kNop, kCallRm, kJmpRm,
};
// Shift/rotate group (the ModRM reg field).
enum ShiftOp : uint8_t { kRol = 0, kRor = 1, kShl = 4, kShr = 5, kSar = 7 };
enum AluOp : uint8_t { kAdd, kOr, kAdc, kSbb, kAnd, kSub, kXor, kCmp, kTest };

struct Desc {
    Kind kind;
    uint8_t op;    // AluOp; IncDec: 0 inc, 1 dec
    uint8_t bits;  // operand size
    bool operator==(const Desc&) const = default;
};

class HandlerMap {
public:
    explicit HandlerMap(cpu::CpuModel model) : dec_(model) {
        using K = Kind;
        for (uint8_t k = 0; k < 8; ++k) {
            uint8_t b = uint8_t(k * 8);
            probe8({b, 0xC0}, {K::kAluRmR, k, 8});
            probe({uint8_t(b + 1), 0xC0}, K::kAluRmR, k);
            probe8({uint8_t(b + 2), 0xC0}, {K::kAluRRm, k, 8});
            probe({uint8_t(b + 3), 0xC0}, K::kAluRRm, k);
            probe8({uint8_t(b + 4)}, {K::kAluAccImm, k, 8});
            probe({uint8_t(b + 5)}, K::kAluAccImm, k);
            probe8({0x80, uint8_t(0xC0 | k << 3)}, {K::kAluRmImm, k, 8});
            probe({0x81, uint8_t(0xC0 | k << 3)}, K::kAluRmImm, k);
            probe({0x83, uint8_t(0xC0 | k << 3)}, K::kAluRmImm, k);
        }
        probe8({0x84, 0xC0}, {K::kAluRmR, kTest, 8});
        probe({0x85, 0xC0}, K::kAluRmR, kTest);
        probe8({0xA8}, {K::kAluAccImm, kTest, 8});
        probe({0xA9}, K::kAluAccImm, kTest);
        probe8({0xF6, 0xC0}, {K::kTestRmImm, kTest, 8});
        probe({0xF7, 0xC0}, K::kTestRmImm, kTest);
        probe8({0x88, 0xC0}, {K::kMovRmR, 0, 8});
        probe({0x89, 0xC0}, K::kMovRmR, 0);
        probe8({0x8A, 0xC0}, {K::kMovRRm, 0, 8});
        probe({0x8B, 0xC0}, K::kMovRRm, 0);
        probe8({0xC6, 0xC0}, {K::kMovRmImm, 0, 8});
        probe({0xC7, 0xC0}, K::kMovRmImm, 0);
        probe8({0xB0}, {K::kMovRImm, 0, 8});
        probe({0xB8}, K::kMovRImm, 0);
        probe8({0xA0}, {K::kMovAccMoffs, 0, 8});
        probe({0xA1}, K::kMovAccMoffs, 0);
        probe8({0xA2}, {K::kMovMoffsAcc, 0, 8});
        probe({0xA3}, K::kMovMoffsAcc, 0);
        probe8({0xFE, 0xC0}, {K::kIncDecRm, 0, 8});
        probe8({0xFE, 0xC8}, {K::kIncDecRm, 1, 8});
        probe({0xFF, 0xC0}, K::kIncDecRm, 0);
        probe({0xFF, 0xC8}, K::kIncDecRm, 1);
        probe({0x40}, K::kIncDecR, 0);
        probe({0x48}, K::kIncDecR, 1);
        probe({0x8D, 0x00}, K::kLea, 0);
        probe({0x75}, K::kJcc, 0);
        if (cpu::model_traits(model).has_386) probe({0x0F, 0x85}, K::kJcc, 0);
        probe({0xEB}, K::kJmpRel, 0);
        probe({0xE9}, K::kJmpRel, 0);
        probe({0xE8}, K::kCallRel, 0);
        probe({0xC3}, K::kRetNear, 0);
        probe({0xC2}, K::kRetNear, 0);
        probe({0x50}, K::kPushR, 0);
        probe({0x58}, K::kPopR, 0);
        probe({0xFF, 0xF0}, K::kPushRm, 0);
        probe({0xFF, 0xD0}, K::kCallRm, 0);
        probe({0xFF, 0xE0}, K::kJmpRm, 0);
        const cpu::ModelTraits& m = cpu::model_traits(model);
        for (uint8_t k : {kRol, kRor, kShl, kShr, kSar}) {
            const uint8_t modrm = uint8_t(0xC0 | k << 3);
            probe8({0xD0, modrm}, {K::kShift1, k, 8});
            probe({0xD1, modrm}, K::kShift1, k);
            probe({0xD3, modrm}, K::kShiftCl, k);
            if (!m.has_186) continue;  // C0/C1 are RET aliases on the 8086
            probe8({0xC0, modrm, 1}, {K::kShiftImm, k, 8});
            probe({0xC1, modrm, 1}, K::kShiftImm, k);
        }
        probe8({0xF6, 0xD0}, {K::kNot, 0, 8});
        probe({0xF7, 0xD0}, K::kNot, 0);
        probe8({0xF6, 0xD8}, {K::kNeg, 0, 8});
        probe({0xF7, 0xD8}, K::kNeg, 0);
        probe8({0x86, 0xC0}, {K::kXchgRmR, 0, 8});
        probe({0x87, 0xC0}, K::kXchgRmR, 0);
        probe({0x91}, K::kXchgAccR, 0);
        probe8({0x90}, {K::kNop, 0, 0});  // (one handler for every size, and for 0F 1F)
        probe({0x98}, K::kCbw, 0);
        probe({0x99}, K::kCwd, 0);
        for (uint8_t k = 0; k < 3; ++k) probe({uint8_t(0xE0 + k)}, K::kLoop, k);
        probe({0xE3}, K::kJcxz, 0);
        if (m.has_186) {
            probe({0x69, 0xC0}, K::kImulRRmImm, 0);
            probe({0x6B, 0xC0}, K::kImulRRmImm, 0);
            probe({0x68}, K::kPushImm, 0);
            probe({0x6A}, K::kPushImm, 0);
        }
        // 0F xx: POP CS on the 8086, #UD on the 286.
        if (m.has_386) {
            probe({0x0F, 0xAF, 0xC0}, K::kImulRRm, 0);
            probe({0x0F, 0xB6, 0xC0}, K::kMovx, 8);
            probe({0x0F, 0xB7, 0xC0}, K::kMovx, 16);
            probe({0x0F, 0xBE, 0xC0}, K::kMovx, 8 | 0x80);
            probe({0x0F, 0xBF, 0xC0}, K::kMovx, 16 | 0x80);
            probe8({0x0F, 0x94, 0xC0}, {K::kSetcc, 0, 8});
            for (uint8_t k = 4; k < 8; ++k) probe({0x0F, 0xBA, uint8_t(0xC0 | k << 3), 1}, K::kBtImm, k);
        }
        if (m.has_p6) probe({0x0F, 0x44, 0xC0}, K::kCmov, 0);
        find_mode_keepers(m);
    }
    const Desc* find(cpu::Handler h) const {
        // (A translation asks for each instruction's many times: a direct-mapped memo first.)
        Memo& m = memo_[(reinterpret_cast<uintptr_t>(h) >> 4) & (kMemo - 1)];
        if (m.h == h && h) return m.d;
        auto it = map_.find(h);
        const Desc* d = it == map_.end() || !it->second.second ? nullptr : &it->second.first;
        m = {h, d};
        return d;
    }
    // A handler that only reads and writes general registers, the arithmetic flags, DF and
    // memory (see Translator::keeps_mode).
    bool keeps_mode(cpu::Handler h) const { return keepers_.count(h) != 0; }
    // A handler that neither reads nor writes the arithmetic flags: MOVS, STOS, LODS (with or
    // without REP, every size), which keeps_mode() also lists.
    bool flagless(cpu::Handler h) const { return flagless_.count(h) != 0; }

private:
    void add(cpu::Handler h, Desc d) {
        auto [it, fresh] = map_.try_emplace(h, d, true);
        if (!fresh && !(it->second.first == d)) it->second.second = false;  // ambiguous: helper
        memo_[(reinterpret_cast<uintptr_t>(h) >> 4) & (kMemo - 1)] = {};
    }
    template <class Bytes>
    bool decode(const Bytes& bytes, bool c32, cpu::DecodedInsn& di) const {
        uint8_t buf[15] = {};
        unsigned n = 0;
        for (uint8_t b : bytes) buf[n++] = b;
        return dec_.decode(buf, sizeof buf, c32, di) == cpu::DecodeStatus::kOk;
    }
    bool decode(std::initializer_list<uint8_t> bytes, bool c32, cpu::DecodedInsn& di) const {
        return decode<std::initializer_list<uint8_t>>(bytes, c32, di);
    }
    void probe8(std::initializer_list<uint8_t> bytes, Desc d) {
        cpu::DecodedInsn di{};
        if (decode(bytes, false, di)) add(di.fn, d);
    }
    // 16- and 32-bit operand-size instances of one form.
    void probe(std::initializer_list<uint8_t> bytes, Kind k, uint8_t op) {
        cpu::DecodedInsn di{};
        if (decode(bytes, false, di)) add(di.fn, Desc{k, op, 16});
        if (decode(bytes, true, di) && (di.flags & cpu::kfOp32)) add(di.fn, Desc{k, op, 32});
    }

    // The handlers of the forms listed here, minus any that also serves a form that can change
    // the mode, TF, the interrupt shadow, halt or the debug registers, do I/O or deliver an
    // interrupt (a handler shared across opcodes must not slip in through a safe one).
    void find_mode_keepers(const cpu::ModelTraits& m) {
        std::vector<std::vector<uint8_t>> keep = {
            {0x9E}, {0x9F}, {0xF5}, {0xF8}, {0xF9}, {0xFC}, {0xFD}, {0x9C},  // SAHF .. STD, PUSHF
            {0x27}, {0x2F}, {0x37}, {0x3F}, {0xD4, 0x0A}, {0xD5, 0x0A},     // BCD adjusts
            {0x86, 0x00}, {0x87, 0x00}, {0x8F, 0xC0}, {0xC9}, {0xD7},        // XCHG m, POP r/m, LEAVE, XLAT
        };
        for (uint8_t r = 0; r < 8; ++r) {
            const uint8_t modrm = uint8_t(0xC0 | r << 3);
            for (uint8_t op : {0xD0, 0xD1, 0xD2, 0xD3, 0xF6, 0xF7}) keep.push_back({op, modrm});
            if (m.has_186) keep.push_back({0xC1, modrm, 1}), keep.push_back({0xC0, modrm, 1});
        }
        for (uint8_t op : {0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF}) {
            keep.push_back({op});
            keep.push_back({0xF3, op});
            keep.push_back({0xF2, op});
        }
        if (m.has_186) keep.push_back({0xC8, 0x10, 0x00, 0x00});  // ENTER
        if (m.has_386) {
            for (uint8_t op : {0xA3, 0xAB, 0xB3, 0xBB, 0xBC, 0xBD, 0xA5, 0xAD, 0xB6, 0xB7, 0xBE, 0xBF})
                keep.push_back({0x0F, op, 0xC0});
            keep.push_back({0x0F, 0xA4, 0xC0, 1});
            keep.push_back({0x0F, 0xAC, 0xC0, 1});
            for (uint8_t cc = 0; cc < 16; ++cc) keep.push_back({0x0F, uint8_t(0x90 + cc), 0xC0});
        }
        if (m.has_486) {
            for (uint8_t op : {0xB0, 0xB1, 0xC0, 0xC1}) keep.push_back({0x0F, op, 0xC0});
            keep.push_back({0x0F, 0xC8});
        }
        if (m.has_p6) {
            keep.push_back({0x0F, 0xA2});  // CPUID
            keep.push_back({0x0F, 0x31});  // RDTSC
            for (uint8_t cc = 0; cc < 16; ++cc) keep.push_back({0x0F, uint8_t(0x40 + cc), 0xC0});
        }
        const std::vector<std::vector<uint8_t>> never = {
            {0x9D}, {0xCF}, {0xF4}, {0xFB}, {0xFA}, {0x8E, 0xD0}, {0x8E, 0xD8}, {0x17}, {0x1F},
            {0x07}, {0xEA, 0, 0, 0, 0, 0, 0}, {0x9A, 0, 0, 0, 0, 0, 0}, {0xCB}, {0xCA, 0, 0},
            {0xCD, 0x10}, {0xCC}, {0xCE}, {0x62, 0x00}, {0xC4, 0x00}, {0xC5, 0x00},
            {0xE4, 0}, {0xE5, 0}, {0xE6, 0}, {0xE7, 0}, {0xEC}, {0xED}, {0xEE}, {0xEF},
            {0x6C}, {0x6D}, {0x6E}, {0x6F}, {0xF3, 0x6C}, {0xF3, 0x6E},
            {0x0F, 0x00, 0xD0}, {0x0F, 0x00, 0xD8}, {0x0F, 0x01, 0x10}, {0x0F, 0x01, 0x18},
            {0x0F, 0x01, 0xF0}, {0x0F, 0x01, 0x38}, {0x0F, 0x06}, {0x0F, 0x08}, {0x0F, 0x09},
            {0x0F, 0x20, 0xC0}, {0x0F, 0x22, 0xC0}, {0x0F, 0x22, 0xD8}, {0x0F, 0x23, 0xF8},
            {0x0F, 0x21, 0xC0}, {0x0F, 0x30}, {0x0F, 0x32}, {0x0F, 0x34}, {0x0F, 0x35},
            {0x0F, 0xB2, 0x00}, {0x0F, 0xB4, 0x00}, {0x0F, 0xB5, 0x00}, {0x0F, 0xA1}, {0x0F, 0xA9},
            {0x0F, 0x0B}, {0x0F, 0xAA}, {0x0F, 0xFF},
        };
        std::unordered_set<cpu::Handler> bad;
        for (bool c32 : {false, true}) {
            for (const auto& bytes : keep) {
                cpu::DecodedInsn di{};
                if (decode(bytes, c32, di) && di.fn && !(di.flags & cpu::kfEndsBlock))
                    keepers_.insert(di.fn);
            }
            for (const auto& bytes : never) {
                cpu::DecodedInsn di{};
                if (decode(bytes, c32, di) && di.fn) bad.insert(di.fn);
            }
        }
        for (cpu::Handler h : bad) keepers_.erase(h);
        const std::vector<std::vector<uint8_t>> flagless = {
            {0xA4}, {0xA5}, {0x66, 0xA5}, {0xAA}, {0xAB}, {0x66, 0xAB}, {0xAC}, {0xAD}, {0x66, 0xAD},
        };
        for (bool c32 : {false, true})
            for (const auto& bytes : flagless) {
                cpu::DecodedInsn di{};
                if (decode(bytes, c32, di) && keepers_.count(di.fn)) flagless_.insert(di.fn);
            }
        for (cpu::Handler h : bad) flagless_.erase(h);
    }

    cpu::Decoder dec_;
    std::unordered_map<cpu::Handler, std::pair<Desc, bool>> map_;
    struct Memo {
        cpu::Handler h = nullptr;
        const Desc* d = nullptr;
    };
    static constexpr size_t kMemo = 512;
    mutable std::array<Memo, kMemo> memo_{};  // (one engine per Cpu: not shared across threads)
    std::unordered_set<cpu::Handler> keepers_, flagless_;
};

// ---- slow paths and helpers called from generated code ----
uint32_t slow_read(Cpu* c, uint32_t seg, uint32_t off, uint32_t bytes) {
    if (bytes == 1) return c->read<8>(seg, off);
    if (bytes == 2) return c->read<16>(seg, off);
    return c->read<32>(seg, off);
}
void slow_write(Cpu* c, uint32_t seg, uint32_t off, uint32_t v, uint32_t bytes) {
    if (bytes == 1) c->write<8>(seg, off, v);
    else if (bytes == 2) c->write<16>(seg, off, v);
    else c->write<32>(seg, off, v);
}
[[noreturn]] void fault_gp0(Cpu* c) { c->fault(cpu::kGP, 0); }

// Deferred flags. An ADD, SUB (CMP, NEG), INC or DEC whose flags are live stores its result in
// s.lf.res as always, but instead of computing the packed aux (a dozen host instructions) it
// stores a kind in Cpu::jit_lf_kind_ (0: s.lf.aux is valid) and, for ADD and SUB, its second
// operand in Cpu::jit_lf_src_. The first operand follows (a = r - b, or r + b; INC and DEC have
// b = 1), so the flags are exactly recoverable: a condition in the same block redoes the
// operation on the host and branches on the host's flags; anything else resolves them (inline,
// or through the resolve stub or resolve_lf()). INC and DEC keep CF: with their kinds, bit 31 of
// s.lf.aux (CF) stays valid and the rest is stale; with ADD and SUB kinds all of aux is stale.
// Kinds survive from block to block while generated code runs; C++ code never sees one (see
// Cpu::jit_lf_kind_: resolved before helpers that touch the flags, after the code returns, and
// after a fault by X64Engine::settle).
//
// A kind: bits 0-1 the operand size (1: 8, 2: 16, 3: 32 bits), bit 2 a subtraction (SUB, DEC),
// bit 3 set for ADD and SUB (CF stale too).
enum LfOp : uint8_t { kLfInc = 0, kLfDec = 4, kLfAdd = 8, kLfSub = 12 };
constexpr uint8_t kLfKindCfStale = 8;
constexpr uint8_t lf_kind(LfOp op, int bits) {
    return uint8_t(op | (bits == 8 ? 1 : bits == 16 ? 2 : 3));
}
constexpr int lf_kind_bits(uint8_t kind) { return 4 << (kind & 3); }
constexpr bool lf_kind_sub(uint8_t kind) { return kind & 4; }
constexpr bool lf_kind_incdec(uint8_t kind) { return !(kind & kLfKindCfStale); }
template <int Bits>
void resolve_sized(cpu::LazyFlags& lf, uint32_t b, uint8_t kind) {
    const uint32_t r = lf.res;  // sign-extended: its low Bits are the result
    const bool cf = cpu::lf_cf(lf);
    if (lf_kind_incdec(kind)) b = 1;
    if (lf_kind_sub(kind)) cpu::set_flags_sub<Bits>(lf, r + b, b, r);
    else cpu::set_flags_add<Bits>(lf, r - b, b, r);
    if (lf_kind_incdec(kind)) cpu::lf_set_cf(lf, cf);
}
void resolve_lf(Cpu* c) {
    uint8_t& kind = CpuAccess::lf_kind(*c);
    if (!kind) return;
    const uint32_t b = CpuAccess::lf_src(*c);
    switch (lf_kind_bits(kind)) {
        case 8: resolve_sized<8>(c->s.lf, b, kind); break;
        case 16: resolve_sized<16>(c->s.lf, b, kind); break;
        default: resolve_sized<32>(c->s.lf, b, kind); break;
    }
    kind = 0;
}

template <class F>
uint64_t addr(F* f) { return reinterpret_cast<uint64_t>(reinterpret_cast<void*>(f)); }

// The carry vector of a + b = r (cv = (a & b) | ((a | b) & ~r)), or the borrow vector of
// a - b = r (bv = (~a & b) | ((~a | b) & r)), into `cv`: a in eax, b in ecx, r in edx
// (clobbered). Uses `t`.
void emit_carry_vector(x86::Assembler& a, bool sub, const x86::Gp& cv = x86::esi, const x86::Gp& t = x86::edi) {
    a.mov(cv, x86::eax);
    if (sub) {
        a.not_(cv);
        a.mov(t, cv);
        a.and_(cv, x86::ecx);
        a.or_(t, x86::ecx);
        a.and_(t, x86::edx);
    } else {
        a.and_(cv, x86::ecx);
        a.mov(t, x86::eax);
        a.or_(t, x86::ecx);
        a.not_(x86::edx);
        a.and_(t, x86::edx);
    }
    a.or_(cv, t);
}
// pack_cv<bits>(cv) into `dst` (clobbers cv).
void emit_pack_aux(x86::Assembler& a, int bits, const x86::Gp& dst, const x86::Gp& cv = x86::esi) {
    a.mov(dst, cv);
    if (bits < 32) a.shl(dst, 32 - bits);
    a.and_(dst, 0xC0000000u);
    a.and_(cv, 8);
    a.or_(dst, cv);
}

// `aux` (a packed aux) with CF replaced by `cf` (0 or 1; clobbered) and the CF^OF bit redone
// for aux's OF: aux = (aux & ~(CF|PO)) | cf << 31 | (cf ^ OF) << 30. Uses edx and `t`.
void emit_replace_cf(x86::Assembler& a, const x86::Gp& aux, const x86::Gp& cf, const x86::Gp& t = x86::edi) {
    a.mov(t, aux);  // OF = bit 31 ^ bit 30
    a.shr(t, 1);
    a.xor_(t, aux);
    a.shr(t, 30);
    a.and_(t, 1);
    a.and_(aux, 0x3FFFFFFF);
    a.mov(x86::edx, cf);
    a.shl(x86::edx, 31);
    a.or_(aux, x86::edx);
    a.xor_(cf, t);
    a.shl(cf, 30);
    a.or_(aux, cf);
}

// ecx = 32 - the operand size of deferred-flag kind `kind` (24, 16 or 0: the shift that brings
// its top bit to bit 31). Clobbers eax.
void emit_kind_shift(x86::Assembler& a, const x86::Gp& kind) {
    a.mov(x86::ecx, kind);
    a.and_(x86::ecx, 3);
    a.mov(x86::eax, 4);
    a.shl(x86::eax, x86::cl);  // the size in bits
    a.mov(x86::ecx, 32);
    a.sub(x86::ecx, x86::eax);
}

class X64Engine;
class X64Code;

// One exit of a translated block: a taken branch, the fall-through, or the dynamic exit (RET,
// indirect and helper-ended), whose link is an inline cache of the last target. Generated code
// reads it through its fixed address: `entry` is the chained entry of the target's translation
// (nullptr while unlinked; invalidating the target unlinks it); the rest is what the shared
// guard needs to check at run time that run_until() would pick exactly that block (see
// X64Engine::emit_stubs).
constexpr uint64_t kNoEip = ~uint64_t(0);
struct alignas(64) Link {  // one cache line each
    void* entry = nullptr;
    CpuAccess::Block* target = nullptr;
    uint64_t ninsns = 0;
    uint64_t span_m1 = 0;  // eip_span - 1 (CS limit check)
    uint32_t phys = 0;     // the target's physical address
    uint32_t mode = 0;     // the target's code-size bit
    // The target's EIP when the checks of CS:EIP last passed, zero-extended, so the sentinel
    // of an unlinked Link (kNoEip) matches no EIP: an EIP match implies a non-null entry.
    uint64_t eip = kNoEip;
    uint64_t epoch = 0;    // Cpu::code_epoch_ then (0: never)
    X64Code* owner = nullptr;  // nullptr for the engine's jump cache
};

// Where the last unlinked exit went: execute() links it to the next block when that block
// starts at the exit's EIP.
struct Pending {
    Link* link = nullptr;  // +0
    uint32_t eip = 0;      // +8
};

class X64Code final : public cpu::NativeCode {
public:
    explicit X64Code(X64Engine& e) : engine_(e) {}
    ~X64Code() override;
    void invalidated() override;
    Fn fn() const { return fn_; }
    void* entry() const { return entry_; }
    size_t size() const { return size_; }
    void set_code(Fn fn, void* entry, size_t size) { fn_ = fn, entry_ = entry, size_ = size; }
    // [0] taken branch / jump target, [1] fall-through, [2] dynamic exit, [3] side exit (a
    // conditional branch taken inside the block: cpu::kfSideExit), [4] the dynamic exit's
    // second target (linked by the guard at [2]'s first miss: see X64Engine::emit_stubs)
    Link links[5];
    std::vector<Link*> incoming;  // links of other blocks (or this one) that jump here
    // A static exit that can jump straight to its target's checked entry (see
    // Translator::exit_static): a `jmp rel32` that goes to its trampoline (which takes the
    // shared guard through links[k]) until link() patches it, and back when unlinked.
    struct Direct {
        uint8_t* rel_rx = nullptr;  // the jmp's rel32 (nullptr: this exit has no such jmp)
        uint8_t* rel_rw = nullptr;  // the same bytes, writable
        uint8_t* tramp = nullptr;
        uint32_t phys = 0;  // the only target it may be patched to (same-page exits)
        bool cross = false;  // to another page: taken only while the link's epoch holds
        bool patched = false;
    };
    Direct direct[4];  // (by link: none for [2])
    uint32_t mode = 0;        // the block's mode (block_mode())
    void* checked = nullptr;  // the checked entry (32-bit blocks; see Translator::run)

private:
    X64Engine& engine_;
    Fn fn_ = nullptr;
    void* entry_ = nullptr;
    size_t size_ = 0;
};

// Stubs::slow_access's argument (ecx): bits 0-2 the segment, bits 4-5 log2 of the size, then
// these, bits 8-15 the pending instructions to retire around the call and bits 16-31 their
// bytes (see Translator::sync_with).
constexpr uint32_t kSlowWrite = 1u << 3, kSlowResolve = 1u << 6, kSlowIp16 = 1u << 7;

// Addresses the translator embeds: the engine's shared exit stubs and counters.
struct Stubs {
    uint64_t chain = 0;    // static exit: rcx = &Link, eax = target EIP (state retired)
    uint64_t dynamic = 0;  // dynamic exit: rcx = &Link (state retired); the link if EIP matches
    // (both called: they return the entry to jump to in rdx, or 0; see X64Engine::emit_stubs)
    uint64_t chain_lite = 0, dynamic_lite = 0;  // the same for blocks without helpers (see emit_stubs)
    uint64_t chain_lite_noirq = 0, dynamic_lite_noirq = 0;  // ... not testing the interrupt request
    uint64_t resolve = 0;   // resolve_lf() in host code, keeping every register but r11
    uint64_t slow_access = 0;  // a memory access's slow path (see X64Engine::emit_stubs)
    uint64_t jcache = 0;       // the shared jump cache's Links (X64Engine::jcache_)
    uint32_t jcache_size = 0;  // (a power of two)
    bool count_chains = true;  // EngineOptions::count_chains
    bool bmi2 = false;         // the host has BMI2 (and EngineOptions::host_bmi2)
};

// Register roles in generated code: rbx = &cpu.s (the Cpu's other fields are addressed from
// it too, and the TLBs, which a block addresses by its mode: see emit_fast_lookup), r13d = effective
// address, r14d = value to store / result, r15d = packed lazy-flag aux (all callee-saved, so
// they survive slow-path calls); r9, r10, r11, r12, rbp, rsi and rdi hold guest registers (the
// register cache: see Translator::fetch). eax/ecx/edx/r8 are scratch. (The stubs, entered at
// block exits with every copy stored, use rsi and rdi too.)
const x86::Gp kS = x86::rbx;
// Cpu's fields are addressed from kS (&Cpu::s): the displacement of Cpu's offset `off`.
int32_t cpu_disp(const Cpu& c) { return -CpuAccess::off_state(c); }

// The tests between two blocks that need no knowledge of the next one (the full guard stub's
// first ones): jumps to `fail` on HLT or an interrupt shadow, EFLAGS.TF or a debug-register
// breakpoint armed. Leaves EFLAGS in esi. (stop_ is tested with the budget: Cpu::chain_end_.)
void emit_boundary_checks(x86::Assembler& a, const Cpu& c, asmjit::Label fail) {
    static_assert(offsetof(CpuState, inhibit_irq) == offsetof(CpuState, halted) + 1);
    a.cmp(x86::word_ptr(kS, int32_t(offsetof(CpuState, halted))), 0);  // halted, inhibit_irq
    a.jne(fail);
    a.mov(x86::esi, x86::dword_ptr(kS, int32_t(offsetof(CpuState, eflags))));
    a.test(x86::esi, cpu::kTF);
    a.jnz(fail);
    if (CpuAccess::off_dbg_data(c) == CpuAccess::off_dbg_exec(c) + 1) {
        a.cmp(x86::word_ptr(kS, cpu_disp(c) + CpuAccess::off_dbg_exec(c)), 0);  // both flags at once
        a.jne(fail);
    } else {
        a.cmp(x86::byte_ptr(kS, cpu_disp(c) + CpuAccess::off_dbg_exec(c)), 0);
        a.jne(fail);
        a.cmp(x86::byte_ptr(kS, cpu_disp(c) + CpuAccess::off_dbg_data(c)), 0);
        a.jne(fail);
    }
}

// The current TLB's entry for linear address `lin` (32-bit) into `e` (64-bit), when it maps
// lin's page executable (not void), else a jump to `fail`. `t`: scratch (32-bit).
void emit_code_tlb(x86::Assembler& a, const Cpu& c, const x86::Gp& lin, const x86::Gp& e,
                   const x86::Gp& t, asmjit::Label fail) {
    a.mov(e.r32(), lin);
    a.shr(e.r32(), 12);
    a.and_(e.r32(), CpuAccess::kTlbSize - 1);
    a.shl(e.r32(), 5);
    a.add(e, x86::qword_ptr(kS, cpu_disp(c) + CpuAccess::off_tlb_cur(c)));
    a.mov(t, lin);
    a.and_(t, ~uint32_t(0xFFF));
    a.cmp(t, x86::dword_ptr(e, int32_t(offsetof(CpuAccess::TlbEntry, vpage))));
    a.jne(fail);
    a.movzx(t, x86::byte_ptr(e, int32_t(offsetof(CpuAccess::TlbEntry, perm))));
    a.and_(t, CpuAccess::kPermExec | CpuAccess::kPermVoid);
    a.cmp(t, CpuAccess::kPermExec);
    a.jne(fail);
}

// rcx = the jump cache's slot (`jcache`, `size` Links, a power of two) for EIP eax: a hash of
// the EIP's page and offset. Uses r8.
void emit_jcache_slot(x86::Assembler& a, uint64_t jcache, uint32_t size) {
    static_assert(sizeof(Link) == 64);
    a.mov(x86::r8d, x86::eax);
    a.shr(x86::r8d, 10);
    a.xor_(x86::r8d, x86::eax);
    a.and_(x86::r8d, size - 1);
    a.shl(x86::r8d, 6);
    a.mov(x86::rcx, jcache);
    a.add(x86::rcx, x86::r8);
}

// The external-interrupt test of a block boundary (esi = EFLAGS): on to `go` when IF is clear
// (the run loop's order of tests), to `fail` when the source's flag says an IRQ is pending, to
// `no_flag` when the source has no flag (the caller asks another way); else falls through.
void emit_irq_check(x86::Assembler& a, const Cpu& c, asmjit::Label go, asmjit::Label fail,
                    asmjit::Label no_flag) {
    a.test(x86::esi, cpu::kIF);
    a.jz(go);
    a.mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c) + CpuAccess::off_irq_flag(c)));
    a.test(x86::r8, x86::r8);
    a.jz(no_flag);
    a.cmp(x86::byte_ptr(x86::r8), 0);
    a.jne(fail);
}

class Translator {
public:
    Translator(Cpu& c, const HandlerMap& hm, cpu::EngineStats& st, const CpuAccess::Block& b,
               X64Code& code, const Stubs& stubs)
        : c_(c), hm_(hm), st_(st), c32_(b.mode & 1), flat_(b.mode & 2),
          flat_cs_(b.mode & Cpu::kModeFlatCs), irq_rise_notified_(CpuAccess::irq_rise_notified(c)),
          is8086_(c.traits().is_8086), push_sp_new_(c.traits().push_sp_new),
          shift_masked_(c.traits().shift_count_masked), code_(code), stubs_(stubs), block_(b) {}

    // A static exit that may be patched into a direct jump: the label just after its jmp
    // (whose last 4 bytes are the rel32), its trampoline, and the target's physical address.
    struct DirectSite {
        bool used = false;
        bool cross = false;  // the target is on another page (phys unknown)
        asmjit::Label after, tramp;
        uint32_t phys = 0;
    };
    DirectSite sites[4];  // (by link: see X64Code::links)
    static constexpr int kSideLink = 3;
    asmjit::Label checked;  // the checked entry (valid in 32-bit blocks)

    // Emits the block; `body` is bound where chained entries jump in (after the prologue, with
    // rbx/r12 already set up: every block shares the frame of the first one entered).
    bool run(asmjit::CodeHolder& code, const std::vector<DecodedInsn>& insns, asmjit::Label& body) {
        x86::Assembler a(&code);
        a_ = &a;
        exit_ = a.newLabel();
        body = a.newLabel();
        a.push(x86::rbx);
        a.push(x86::r12);
        a.push(x86::r13);
        a.push(x86::r14);
        a.push(x86::r15);
        a.push(x86::rbp);
        // 6 pushes, this and the return address: 16-byte aligned for calls. [rsp] holds a
        // read-modify-write's host address (see emit_rmw_load), [rsp + 8..] the page-reuse
        // slots (see emit_load).
        a.sub(x86::rsp, kFrame);
        a.mov(kS, x86::rsi);
        // The run loop's entry goes to `start`; chained entries to `body` (through the checked
        // entry for direct jumps), which for a block crossing into a second page first tests
        // that page (the run loop did).
        const bool page2 = block_.page2 != ~0u;
        asmjit::Label start = a.newLabel();
        if (c32_ || page2) a.jmp(start);
        if (c32_) {
            checked = a.newLabel();
            a.bind(checked);
            emit_checked_entry(insns.size());
        }
        a.bind(body);
        if (page2) emit_page2_check();
        a.bind(start);
        ended_ = false;
        live_ = flag_liveness(insns);
        next_use_.assign(insns.size() + 1, {});
        next_use_.back().fill(kNeverUsed);
        for (size_t k = insns.size(); k-- > 0;) {
            next_use_[k] = next_use_[k + 1];
            const uint8_t u = used_mask(insns[k]);
            for (unsigned r = 0; r < 8; ++r)
                if (u >> r & 1) next_use_[k][r] = uint16_t(k);
        }
        plan_loop(insns);
        insns_ = &insns;
        for (size_t k = 0; k < insns.size(); ++k) {
            last_ = k + 1 == insns.size();
            const DecodedInsn& i = insns[k];
            if (k == predicated_) {  // (emitted with the side join before it: predicate_skip)
                offset_ += i.len;
                continue;
            }
            if (join_.pending && k == join_.at) bind_join();
            if (!k || !plain_mov(i) || ptr_set_at_ != k - 1) ptr_slot_ = -1;
            cur_k_ = k;
            rmw_loaded_ = rmw_rdx_ = false;
            ++st_.insns_translated;
            // Flags this register-only inline instruction need not store: none it writes is live
            // after it (flags_dead_), or none it keeps (kept_dead_: it may store them as anything
            // consistent, e.g. from its own result, rather than merge). (Being register-only, the
            // block cannot be left nor a fault taken after it computes them.)
            const FlagFx fx = flag_fx(i);
            const bool writer = !fx.barrier && fx.writes;
            live_after_ = live_[k];
            flags_dead_ = writer && !(live_after_ & fx.writes);
            kept_dead_ = writer && !(live_after_ & ~fx.writes & kFlAll);
            host_only_prev_ = host_only_;
            host_only_ = writer && !flags_dead_ && flags_for_join_only(insns, k, fx.writes);
            if (host_only_) flags_dead_ = true;
            // Flags live only for a fault or exit in a slow path before the next instruction
            // that overwrites them all: not stored here, but in those slow paths (see Sunk).
            const bool sink = writer && !flags_dead_ && !sunk_.active && sink_flags(insns, k);
            if (sink) {
                flags_dead_ = kept_dead_ = true;
                fl_ = Flags::kUnknown;  // (the slow paths may leave a kind, or not)
                ++st_.flags_sunk;
            }
            cur_len_ = i.len;
            cur_ = &i;
            host_in_ = std::exchange(host_flags_, HostFlags::kNone);
            want_slot_ = populate_wanted(insns, k);
            if (emit_inline(i)) {
                forget_written(i);
                ++st_.insns_inline;
                if (flags_dead_ && !sink) ++st_.flags_skipped;
            }
            else {
                ++st_.insns_helper;
                for (PageSlot& p : slots_) p.valid = false;
                emit_helper(i);
            }
            if (sunk_.active && k == sunk_.killer) sunk_.active = false;
            offset_ += i.len;
        }
        if (!ended_) {
            // Fell off the end (size or page limit): on to the next block by the static link.
            write_back();
            sync();
            a.mov(x86::eax, st32(kEip));
            exit_static(1, offset_);
        }
        a.bind(exit_);
        a.add(x86::rsp, kFrame);
        a.pop(x86::rbp);
        a.pop(x86::r15);
        a.pop(x86::r14);
        a.pop(x86::r13);
        a.pop(x86::r12);
        a.pop(x86::rbx);
        a.ret();
        cache_on_ = false;  // (see fetch)
        for (auto& f : cold_) f();
        return true;
    }

private:
    // ---- CpuState / Cpu addressing ----
    static x86::Mem gpr32(unsigned r) { return x86::dword_ptr(kS, int32_t(8 * r)); }
    static x86::Mem gpr16(unsigned r) { return x86::word_ptr(kS, int32_t(8 * r)); }
    static x86::Mem gpr8(unsigned r) {
        return x86::byte_ptr(kS, int32_t(r < 4 ? 8 * r : 8 * (r - 4) + 1));
    }
    static x86::Mem st32(size_t off) { return x86::dword_ptr(kS, int32_t(off)); }
    static x86::Mem st64(size_t off) { return x86::qword_ptr(kS, int32_t(off)); }
    x86::Mem cpu8(int32_t off) const { return x86::byte_ptr(kS, cpu_disp(c_) + off); }
    x86::Mem cpu32(int32_t off) const { return x86::dword_ptr(kS, cpu_disp(c_) + off); }
    static constexpr size_t kEip = offsetof(CpuState, eip);
    static constexpr size_t kIcount = offsetof(CpuState, icount);
    static constexpr size_t kLfRes = offsetof(CpuState, lf) + offsetof(cpu::LazyFlags, res);
    static constexpr size_t kLfAux = offsetof(CpuState, lf) + offsetof(cpu::LazyFlags, aux);
    static size_t seg_base(unsigned seg) {
        return offsetof(CpuState, seg) + seg * sizeof(cpu::Segment) + offsetof(cpu::Segment, base);
    }
    static size_t seg_limit(unsigned seg) {
        return offsetof(CpuState, seg) + seg * sizeof(cpu::Segment) + offsetof(cpu::Segment, limit);
    }
    static size_t seg_attr(unsigned seg) {
        return offsetof(CpuState, seg) + seg * sizeof(cpu::Segment) + offsetof(cpu::Segment, attr);
    }

    // ---- guest registers cached in host registers ----
    // Within a block, up to kCacheRegs guest registers' 32-bit values live in host registers
    // (r9, r10, r11, r12, rbp, rsi, rdi). A cached register is clean (CpuState holds the same value) or
    // dirty (only the host register holds it: written since, and stored back later). The
    // mapping and the dirty bits are the translation's knowledge at the current point, so:
    // - a copy is made (fetch, set_reg) or stored back and marked clean (spill_all) only in
    //   code that runs whenever the code after it does (not inside a local branch's arm), and
    //   only in hot code: cold code runs with the cache off (cache_on_) and works on CpuState;
    // - inside an arm a write updates a cached copy in place and marks it dirty (store_reg):
    //   on the other path the copy is unchanged, and storing it back later is harmless;
    // - whatever leaves the block or hands CpuState to C++ first stores the dirty copies back
    //   (write_back), without marking them clean (the code may be one arm of a branch): every
    //   exit (finish_branch, the end of the block), a slow path before it calls the stub (a
    //   fault longjmps from there; MMIO may read the registers) and before cold code reads
    //   CpuState (At carries the dirty set at the access), the stop test's way out, a
    //   helper (spill_all, then forget_all after: a helper may change any register);
    // - the copies survive the slow-path stub (it saves r9-r11, rsi and rdi; r12 and rbp are
    //   callee-saved)
    //   and the resolve stub (which keeps every register).
    static constexpr int kCacheRegs = 7;
    static x86::Gp cache_reg(int k) {
        static constexpr uint32_t ids[kCacheRegs] = {x86::Gp::kIdR9, x86::Gp::kIdR10, x86::Gp::kIdR11,
                                                     x86::Gp::kIdR12, x86::Gp::kIdBp, x86::Gp::kIdSi,
                                                     x86::Gp::kIdDi};
        return x86::gpd(ids[k]);
    }
    int8_t host_of_[8] = {-1, -1, -1, -1, -1, -1, -1, -1};  // guest register -> cache slot
    int8_t guest_of_[kCacheRegs] = {-1, -1, -1, -1, -1, -1, -1};
    bool dirty_[kCacheRegs] = {};
    uint32_t used_[kCacheRegs] = {};
    uint32_t tick_ = 0;
    bool cache_on_ = true;
    // The dirty copies at some point: slot k's register guest[k] when bit k of mask is set.
    struct Dirty {
        uint8_t mask = 0;
        int8_t guest[kCacheRegs] = {};
    };
    Dirty dirty_now() const {
        Dirty d;
        for (int k = 0; k < kCacheRegs; ++k) {
            d.guest[k] = guest_of_[k];
            if (guest_of_[k] >= 0 && dirty_[k]) d.mask = uint8_t(d.mask | 1u << k);
        }
        return d;
    }
    // Stores the copies dirty at `d` back into CpuState (without marking them clean).
    void write_back(const Dirty& d) {
        for (int k = 0; k < kCacheRegs; ++k)
            if (d.mask >> k & 1) a_->mov(gpr32(unsigned(d.guest[k])), cache_reg(k));
    }
    void write_back() { write_back(dirty_now()); }
    // write_back() that marks them clean: not inside an arm.
    void spill_all() {
        write_back();
        for (bool& d : dirty_) d = false;
    }
    // Forgets every copy (after spill_all: none is dirty).
    void forget_all() {
        for (int k = 0; k < kCacheRegs; ++k) {
            assert(!dirty_[k] || guest_of_[k] < 0);
            if (guest_of_[k] >= 0) host_of_[guest_of_[k]] = -1;
            guest_of_[k] = -1;
            dirty_[k] = false;
        }
    }
    // Whether a later instruction of the block uses register r (else a copy would not pay).
    bool used_later(unsigned r) const {
        return cur_k_ + 1 < next_use_.size() && next_use_[cur_k_ + 1][r] != kNeverUsed;
    }
    // The cache slot holding register r (0-7), or -1.
    int cached(unsigned r) const { return cache_on_ && r < 8 ? host_of_[r] : -1; }
    // A slot for register r (not cached): a free one, else the one whose register the block
    // uses again last (or never; then a clean one; then the least recently used), stored back
    // first when dirty. Not inside an arm.
    int cache_alloc(unsigned r) {
        int k = -1;
        uint64_t best = 0;
        for (int j = 0; j < kCacheRegs; ++j) {
            if (guest_of_[j] < 0) {
                k = j;
                break;
            }
            const uint64_t next = cur_k_ < next_use_.size() ? next_use_[cur_k_][unsigned(guest_of_[j])] : 0;
            const uint64_t key = next << 40 | uint64_t(!dirty_[j]) << 32 | uint32_t(~used_[j]);
            if (k < 0 || key > best) k = j, best = key;
        }
        if (guest_of_[k] >= 0) {
            if (dirty_[k]) a_->mov(gpr32(unsigned(guest_of_[k])), cache_reg(k));
            host_of_[guest_of_[k]] = -1;
        }
        guest_of_[k] = int8_t(r);
        host_of_[r] = int8_t(k);
        dirty_[k] = false;
        used_[k] = ++tick_;
        return k;
    }
    // Register r's 32-bit value in a host register: its cached copy, made here if needed (not
    // inside an arm); or, with the cache off, an invalid Gp (the caller reads CpuState).
    x86::Gp fetch(unsigned r) {
        if (!cache_on_ || r >= 8) return x86::Gp();
        int k = host_of_[r];
        if (k < 0 && !used_later(r)) return x86::Gp();  // (read once: from CpuState)
        if (k < 0) {
            k = cache_alloc(r);
            a_->mov(cache_reg(k), gpr32(r));
        }
        used_[k] = ++tick_;
        return cache_reg(k);
    }
    // Register r's low `bits` as a source operand: its cached copy (a 32-bit one is made) or
    // its home in CpuState. AH..BH: from CpuState, after storing a dirty copy of the whole
    // register there (kept dirty: this may be an arm).
    asmjit::Operand rd(unsigned r, int bits) {
        if (bits == 32) {
            const x86::Gp h = fetch(r);
            return h.isValid() ? asmjit::Operand(h) : asmjit::Operand(gpr32(r));
        }
        if (bits == 8 && r >= 4) {
            const int k = cached(r - 4);
            if (k >= 0 && dirty_[k]) a_->mov(gpr32(r - 4), cache_reg(k));
            return gpr8(r);
        }
        const int k = cached(r);
        if (k < 0) return bits == 16 ? asmjit::Operand(gpr16(r)) : asmjit::Operand(gpr8(r));
        used_[k] = ++tick_;
        return bits == 16 ? asmjit::Operand(cache_reg(k).r16()) : asmjit::Operand(cache_reg(k).r8());
    }
    // Loads register `r` of `bits` zero-extended into `dst` (32-bit view).
    void load_reg(const x86::Gp& dst, unsigned r, int bits) {
        const asmjit::Operand src = rd(r, bits);
        if (bits == 32) {
            if (!(src.isReg() && src.as<x86::Gp>().id() == dst.id())) a_->emit(x86::Inst::kIdMov, dst, src);
        } else {
            a_->emit(x86::Inst::kIdMovzx, dst, src);
        }
    }
    // Writes `src` (32-bit view) to register r as set_reg<bits> does: into its cached copy
    // (then dirty), else into CpuState. Safe inside an arm. A 32-bit write clears the upper
    // half of the 64-bit register there; here it stores the low half only, as no code of a
    // 32-bit CPU ever sets an upper half (they stay zero). See set_reg.
    void store_reg(const x86::Gp& src32, unsigned r, int bits) {
        const int k = bits == 8 && r >= 4 ? cached(r - 4) : cached(r);
        if (k < 0) {
            if (bits == 32) a_->mov(gpr32(r), src32);
            else if (bits == 16) a_->mov(gpr16(r), src32.r16());
            else a_->mov(gpr8(r), src32.r8());
            return;
        }
        const x86::Gp h = cache_reg(k);
        if (bits == 32) {
            if (h.id() != src32.id()) a_->mov(h, src32);
        } else if (bits == 16) {
            a_->mov(h.r16(), src32.r16());
        } else if (r < 4) {
            a_->mov(h.r8(), src32.r8());
        } else {
            // Bits 8-15 of the copy (host registers r8+ have no high-byte form): rotated down
            // and back. (Changes the host's CF and OF, which nothing after a register write
            // of this instruction reads.)
            a_->ror(h, 8);
            a_->mov(h.r8(), src32.r8());
            a_->rol(h, 8);
        }
        dirty_[k] = true;
        used_[k] = ++tick_;
    }
    // A copy of register r, about to be written whole (not loaded), when the block uses it
    // again: not inside an arm.
    void alloc_for_write(unsigned r) {
        if (cache_on_ && r < 8 && host_of_[r] < 0 && used_later(r)) cache_alloc(r);
    }
    // store_reg() that also makes a cached copy of a 32-bit value: not inside an arm.
    void set_reg(const x86::Gp& src32, unsigned r, int bits) {
        if (bits == 32) alloc_for_write(r);
        store_reg(src32, r, bits);
    }
    // A register of `bits` (AH..BH: from its CpuState home, which rd() makes current) as the
    // destination of an in-place operation `op` (done by the caller on the operand returned),
    // after which rmw_done() records the write. Not inside an arm.
    asmjit::Operand rmw(unsigned r, int bits) {
        if (bits == 32) {
            const x86::Gp h = fetch(r);
            if (h.isValid()) return h;
            return gpr32(r);
        }
        if (bits == 8 && r >= 4) {
            // In CpuState: store a dirty copy, then forget it (the byte changes there).
            const int k = cached(r - 4);
            if (k >= 0) {
                if (dirty_[k]) a_->mov(gpr32(r - 4), cache_reg(k));
                dirty_[k] = false;
                host_of_[r - 4] = -1;
                guest_of_[k] = -1;
            }
            return gpr8(r);
        }
        const int k = cached(r);
        if (k < 0) return bits == 16 ? asmjit::Operand(gpr16(r)) : asmjit::Operand(gpr8(r));
        return bits == 16 ? asmjit::Operand(cache_reg(k).r16()) : asmjit::Operand(cache_reg(k).r8());
    }
    // Register r's 32-bit home as a destination: its cached copy, without loading one, or its
    // CpuState home. (Then rmw_done().)
    asmjit::Operand rd_home(unsigned r) {
        const int k = cached(r);
        return k >= 0 ? asmjit::Operand(cache_reg(k)) : asmjit::Operand(gpr32(r));
    }
    // `inst` (MOV, MOVZX/MOVSX, IMUL with `imm`) into register r's 32-bit home from `src`:
    // the copy, else CpuState through eax (`src` must then not be memory for MOV). Records the
    // write. (The caller made the copy, alloc_for_write, when it wanted one.)
    void write_home(unsigned r, x86::Inst::Id inst, const asmjit::Operand& src,
                    const asmjit::Operand& imm = asmjit::Operand()) {
        const asmjit::Operand h = rd_home(r);
        const x86::Gp t = h.isReg() ? h.as<x86::Gp>() : x86::Gp(x86::eax);
        if (imm.isNone()) a_->emit(inst, t, src);
        else a_->emit(inst, t, src, imm);
        if (!h.isReg()) a_->mov(h.as<x86::Mem>(), x86::eax);
        rmw_done(r, 32);
    }
    void rmw_done(unsigned r, int bits) {
        if (bits == 8 && r >= 4) return;
        const int k = cached(r);
        if (k < 0) return;
        dirty_[k] = true;
        used_[k] = ++tick_;
    }
    // Register r (32 bits) += delta, in place (the host's flags as an ADD's). Not inside an arm.
    void add_reg(unsigned r, int32_t delta) {
        const asmjit::Operand m = rmw(r, 32);
        a_->emit(x86::Inst::kIdAdd, m, asmjit::imm(delta));
        rmw_done(r, 32);
    }
    static uint32_t mask(int bits) { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }
    // Zero-extends the low `bits` of `r` in place.
    void zext(const x86::Gp& r, int bits) {
        if (bits == 16) a_->movzx(r, r.r16());
        else if (bits == 8) a_->movzx(r, r.r8());
    }

    // ---- EIP/icount bookkeeping ----
    // r = EIP + delta, wrapped as the code size wraps IP (the upper half of r64 is zero).
    // (In 32-bit code without touching the host's flags: see host_flags_.)
    void eip_plus(const x86::Gp& r, uint32_t delta) {
        a_->mov(r, st32(kEip));
        if (c32_) {
            a_->lea(r, x86::ptr(r.r64(), int32_t(delta)));
        } else {
            a_->add(r, delta);
            a_->and_(r, 0xFFFF);
        }
    }
    void sync() { sync_with(pend_n_, pend_len_), pend_n_ = 0, pend_len_ = 0; }
    void sync_with(unsigned n, uint32_t len) {
        if (!n) return;
        eip_plus(x86::eax, len);
        a_->mov(st64(kEip), x86::rax);
        a_->add(st64(kIcount), n);
    }
    // Undoes sync_with() after a slow path returned (keeps eax).
    void unsync_with(unsigned n, uint32_t len) {
        if (!n) return;
        eip_plus(x86::edx, 0u - len);
        a_->mov(st64(kEip), x86::rdx);
        a_->sub(st64(kIcount), n);
    }
    void retire(const DecodedInsn& i) {
        ++pend_n_;
        pend_len_ += i.len;
    }
    // After an instruction that called out: leave the block when the call asked to.
    // The test leaves the host's flags alone (host_flags_ stays: a condition after a
    // memory-operand CMP may still branch on them).
    // (`commit`: cold code that stores what the state lacks of this instruction's flags.)
    // (When the next instruction may branch on the host's flags (host_flags_), without
    // changing them.)
    void check_stop(std::function<void()> commit = {}) {
        if (last_) return;
        asmjit::Label out = a_->newLabel(), go = a_->newLabel();
        if (host_flags_ == HostFlags::kNone) {  // (nothing after reads the host's flags)
            a_->cmp(cpu8(CpuAccess::off_stop(c_)), 0);
            a_->jne(out);
        } else {
            a_->movzx(x86::ecx, cpu8(CpuAccess::off_stop(c_)));
            a_->jecxz(x86::ecx, go);
            a_->jmp(out);
            a_->bind(go);
        }
        unsigned n = pend_n_;
        uint32_t len = pend_len_;
        // (The killer has stored its own flags by now.)
        const Sunk sk = cur_k_ == sunk_.killer ? Sunk{} : sunk_;
        cold_.push_back([this, out, n, len, d = dirty_now(), sk, commit = std::move(commit)] {
            a_->bind(out);
            write_back(d);
            if (commit) commit();
            materialize_sunk(sk);
            sync_with(n, len);
            a_->jmp(exit_);
        });
    }
    void call(uint64_t fn) {
        a_->mov(x86::rax, fn);
        a_->call(x86::rax);
    }

    // ---- deferred flags (see lf_kind) ----
    // What the translation knows of the flags at the current point at run time. kPending: the
    // kind is either fl_kind_ or 0 (a slow path resolved it), with s.lf.res and the source
    // operand those of the deferred operation either way.
    enum class Flags : uint8_t { kUnknown, kResolved, kPending };
    void call_resolve() {
        a_->call(asmjit::imm(stubs_.resolve));
    }
    // Code after which the kind is 0 at run time, given `at`. `cold`: in a cold path, where no
    // more cold code can be queued: calls unconditionally (the stub tests the kind).
    void resolve_flags(Flags at, bool cold) {
        if (at == Flags::kResolved) return;
        if (at == Flags::kPending || cold) {
            call_resolve();
            return;
        }
        asmjit::Label go = a_->newLabel(), back = a_->newLabel();
        a_->cmp(cpu8(CpuAccess::off_lf_kind(c_)), 0);
        a_->jne(go);
        a_->bind(back);
        cold_.push_back([this, go, back] {
            a_->bind(go);
            call_resolve();
            a_->jmp(back);
        });
    }
    // Before code that reads s.lf.aux inline.
    void need_flags() {
        resolve_flags(fl_, false);
        fl_ = Flags::kResolved;
    }
    // The host's flags as the deferred operation set them (all six), by doing it again on its
    // operands (the first recovered from the result). Uses `t` and `u` (32-bit registers).
    // (For INC and DEC kinds the host's CF is not the guest's: see uses_cf.)
    void redo_flags(const x86::Gp& t = x86::edx, const x86::Gp& u = x86::ecx) {
        auto& a = *a_;
        const int bits = lf_kind_bits(fl_kind_);
        if (lf_kind_incdec(fl_kind_)) a.mov(u, 1);
        else a.mov(u, cpu32(CpuAccess::off_lf_src(c_)));
        a.mov(t, st32(kLfRes));
        const x86::Gp d = bits == 32 ? t : bits == 16 ? x86::Gp(t.r16()) : x86::Gp(t.r8());
        const x86::Gp b = bits == 32 ? u : bits == 16 ? x86::Gp(u.r16()) : x86::Gp(u.r8());
        if (lf_kind_sub(fl_kind_)) {
            a.add(t, u);
            a.cmp(d, b);
        } else {
            a.sub(t, u);
            a.add(d, b);
        }
    }
    // Condition `cc` reads CF (B, AE, BE, A).
    static bool uses_cf(unsigned cc) { return cc >> 1 == 1 || cc >> 1 == 3; }
    // The host's flags left by the previous instruction give condition `cc` (see host_flags_).
    bool host_has(unsigned cc) const {
        return host_in_ == HostFlags::kAll || (host_in_ == HostFlags::kNoCf && !uses_cf(cc));
    }
    // Deferred here with a kind whose aux bit 31 (CF) is valid, and the rest stale.
    bool cf_valid_pending() const { return fl_ == Flags::kPending && lf_kind_incdec(fl_kind_); }
    // CF (0/1) into r8d, for an instruction that reads it (ADC, SBB). Keeps fl_ when the
    // flags are deferred here (the instruction may still fault before it commits its own).
    // Uses edx.
    void cf_to_r8() {
        if (fl_ == Flags::kPending && !lf_kind_incdec(fl_kind_)) {
            redo_flags(x86::r8d, x86::edx);
            a_->setc(x86::r8b);
            a_->movzx(x86::r8d, x86::r8b);
        } else {
            if (!cf_valid_pending()) need_flags();
            a_->mov(x86::r8d, st32(kLfAux));
            a_->shr(x86::r8d, 31);
        }
    }
    // Makes s.lf.aux valid at run time, inline when the flags are deferred here (for an
    // instruction that changes some flags and keeps the rest). Uses eax, ecx, edx, r8, r15.
    void resolve_inline() {
        if (fl_ != Flags::kPending || lf_kind_incdec(fl_kind_)) return need_flags();
        auto& a = *a_;
        const bool sub = lf_kind_sub(fl_kind_);
        a.mov(x86::ecx, cpu32(CpuAccess::off_lf_src(c_)));
        a.mov(x86::edx, st32(kLfRes));
        a.mov(x86::eax, x86::edx);
        if (sub) a.add(x86::eax, x86::ecx);
        else a.sub(x86::eax, x86::ecx);
        carry_vector(sub);
        pack_aux(lf_kind_bits(fl_kind_));
        a.mov(st32(kLfAux), x86::r15d);
        a.mov(cpu8(CpuAccess::off_lf_kind(c_)), 0);
        fl_ = Flags::kResolved;
    }

    // The interpreter's step, around a call of the handler.
    void emit_helper(const DecodedInsn& i) {
        helper_called_ = true;
        ptr_slot_ = -1;
        ptr_set_at_ = SIZE_MAX;
        if (!keeps_mode(i)) {
            flat_ = false;
            flat_cs_ = false;
            helper_seen_ = true;
        }
        if (touches_flags(i)) {
            resolve_flags(fl_, false);
            fl_ = Flags::kResolved;  // (C++ leaves the kind 0)
        }
        spill_all();
        if (sunk_.active) {  // (not expected: the loose liveness counts helpers as barriers)
            const bool on = std::exchange(cache_on_, false);
            materialize_sunk(sunk_);
            cache_on_ = on;
            sunk_.active = false;
        }
        sync();
        const int32_t next = CpuAccess::off_next_eip(c_);
        eip_plus(x86::eax, i.len);
        a_->mov(cpu32(next), x86::eax);
        a_->lea(x86::rdi, x86::ptr(kS, -CpuAccess::off_state(c_)));
        a_->mov(x86::rsi, reinterpret_cast<uint64_t>(&i));
        call(addr(i.fn));
        forget_all();
        a_->mov(x86::eax, cpu32(next));
        a_->mov(st64(kEip), x86::rax);
        a_->add(st64(kIcount), 1);
        if (!last_) {
            a_->cmp(cpu8(CpuAccess::off_stop(c_)), 0);
            a_->jne(exit_);
        } else {
            exit_dynamic();  // the lookup also tests stop_
        }
    }
    // False for the helpers that neither read nor write the arithmetic flags: MOVS, STOS and
    // LODS (HandlerMap::flagless), and the x87 and MMX ones (all but FCMOVcc, FCOMI, FUCOMI
    // and their popping forms): deferred flags may stay deferred across them, since a fault in
    // one is settled by X64Engine::settle() before anything reads EFLAGS.
    bool touches_flags(const DecodedInsn& i) const {
        if (hm_.flagless(i.fn)) return false;
        if (i.opcode < 0xD8 || i.opcode > 0xDF) return true;
        if (i.flags & cpu::kfMem) return false;
        switch (i.opcode) {
            case 0xDA: return i.reg <= 3;                            // FCMOVcc
            case 0xDB: return i.reg <= 3 || i.reg == 5 || i.reg == 6;  // FCMOVNcc, FUCOMI, FCOMI
            case 0xDF: return i.reg == 5 || i.reg == 6;              // FUCOMIP, FCOMIP
            default: return false;
        }
    }
    // True for a helper that cannot change what the translation assumed at block entry (the
    // segments, CPL, EFLAGS.AC, CR0, paging) nor what a direct jump does not test (TF, the
    // interrupt shadow, halt, the debug registers): the x87 escapes D8-DF and the MMX forms
    // 0F D8-DF (the last opcode byte; none of them loads a segment or touches EFLAGS beyond the
    // arithmetic flags), and the handlers HandlerMap::keeps_mode() lists (string operations,
    // MUL/DIV, shifts by CL, BT/BSF/SHLD, CMPXCHG/XADD, SETcc/CMOVcc, CPUID/RDTSC, ...). They
    // may still fault or end the block (stop_ is tested after them).
    bool keeps_mode(const DecodedInsn& i) const {
        return (i.opcode >= 0xD8 && i.opcode <= 0xDF) || hm_.keeps_mode(i.fn);
    }

    // Block exits (state fully retired): through link `k` with eax = the target EIP, or through
    // the indirect lookup.
    // `off`: the target's byte offset from the block's start when known (kNoOffset: not).
    //
    // Direct jumps. A static exit of a 32-bit block in which no helper ran (but keeps_mode()
    // ones), to a target on the block's own page (by `off`), may later be patched to jump
    // straight to the target's checked entry: the target is then the block run_until() would
    // pick, because
    // - its physical address is this block's page plus `off` (the same linear page, whose
    //   mapping was valid when this block was entered; inline code cannot change paging);
    // - its mode is this block's (only helpers change CS, segments, CR0 or EFLAGS.AC), which
    //   link() checks against the target's;
    // - what can still change between such blocks (a stop request: the end of the slice, a
    //   store into translated code or an MMIO side effect in a slow path; an external
    //   interrupt; the budget; and the CS limit over the target's span, as the chain may have
    //   started under another CS than the link was made under) the checked entry tests at run
    //   time. Halt, the interrupt shadow, TF and the debug registers need no test: only
    //   helpers change them, and every way into a chain of direct jumps has tested them (the
    //   run loop before execute() hands it a block, the guard stub, lookup()'s next_block()).
    //
    // A static exit to another page may be a direct jump too, taken only while code_epoch_ is
    // the one at which the guard last checked the link (Link::epoch), and to the EIP it
    // checked (Link::eip: the block's page may also be mapped at another linear address,
    // whose next page is another frame): nothing that decides which block CS:EIP names (CS,
    // the mode, CPL, any TLB translation) has changed since, so the target is still the block
    // the guard found; else the guard runs.
    static constexpr int64_t kNoOffset = INT64_MIN;
    // Whether static exit k to `off` will be a direct jump within the block's page in flat
    // 32-bit code: one that needs no EIP in eax (no link EIP to compare; a flat target's checked
    // entry reads EIP itself where it needs it), so the exit may add to CpuState's EIP in place.
    bool direct_in_page(int k, int64_t off) const {
        if (!(c32_ && flat_cs_ && !helper_seen_ && off != kNoOffset && !sites[k].used)) return false;
        const int64_t in_page = int64_t(block_.phys & 0xFFF) + off;
        return in_page >= 0 && in_page < 4096;
    }
    // `in_eax`: eax holds the target EIP (else only CpuState does: direct_in_page exits).
    void exit_static(int k, int64_t off, bool in_eax = true) {
        const int64_t in_page = int64_t(block_.phys & 0xFFF) + off;
        if (c32_ && !helper_seen_ && off != kNoOffset && !sites[k].used) {
            DirectSite& d = sites[k];
            d.used = true;
            d.cross = in_page < 0 || in_page >= 4096;
            d.after = a_->newLabel();
            d.tramp = a_->newLabel();
            d.phys = d.cross ? 0 : uint32_t(block_.phys + off);
            if (d.cross) {
                // (The EIP too: this page may be mapped at another linear address as well,
                // whose next page is another frame.)
                a_->mov(x86::rcx, reinterpret_cast<uint64_t>(&code_.links[k]));
                a_->mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_code_epoch(c_)));
                a_->cmp(x86::r8, x86::qword_ptr(x86::rcx, int32_t(offsetof(Link, epoch))));
                a_->jne(d.tramp);
                a_->cmp(x86::rax, x86::qword_ptr(x86::rcx, int32_t(offsetof(Link, eip))));
                a_->jne(d.tramp);
            }
            a_->long_().jmp(d.tramp);
            a_->bind(d.after);
            cold_.push_back([this, k, in_eax] {
                a_->bind(sites[k].tramp);
                if (!in_eax) a_->mov(x86::eax, st32(kEip));  // (the guard's argument)
                exit_static_guarded(k);
            });
            ended_ = true;
            return;
        }
        assert(in_eax);
        exit_static_guarded(k);
    }
    void exit_static_guarded(int k) {
        a_->mov(x86::rcx, reinterpret_cast<uint64_t>(&code_.links[k]));
        call_guard(helper_seen_              ? stubs_.chain
                   : irq_rise_notified_ ? stubs_.chain_lite_noirq
                                        : stubs_.chain_lite);
    }
    // Calls a guard stub and goes where it says: the next block's entry, or out (rdx = 0).
    // The jump is the exit's own, so the host predicts each exit's targets apart.
    void call_guard(uint64_t stub) {
        a_->mov(x86::rdx, stub);
        a_->call(x86::rdx);
        a_->test(x86::rdx, x86::rdx);
        a_->jz(exit_);
        a_->jmp(x86::rdx);
        ended_ = true;
    }
    // The entry a direct jump takes (eax = EIP, retired): the shared guard's tests that a direct
    // jump still needs (see exit_static), then the block.
    void emit_checked_entry(size_t ninsns) {
        auto& a = *a_;
        const auto& c = c_;
        const size_t seg_cs = offsetof(CpuState, seg) + cpu::CS * sizeof(cpu::Segment);
        // stop_ and the budget (see exit_static for what is not tested): chain_end_ is 0 while
        // stop_ is set.
        a.mov(x86::r8, st64(kIcount));
        a.add(x86::r8, int32_t(ninsns));
        a.cmp(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_chain_end(c)));
        a.ja(exit_);
        // The CS limit over the block's span: EIP + span - 1 <= limit, in 64 bits as the run
        // loop tests it (a span that wraps EIP past 4 GiB fails, and the run loop rebuilds the
        // block). With a 4 GiB limit (the common case), EIP <= 2^32 - span says so. A flat-CS
        // block (its mode, which link() matched, is the chain's) within one page needs neither:
        // EIP and the linear address share their page offset, so the span cannot wrap.
        if (block_.mode & Cpu::kModeFlatCs && block_.page2 == ~0u) {
            emit_irq_and_enter();
            return;
        }
        asmjit::Label other_limit = a.newLabel(), limit_ok = a.newLabel();
        // (A flat-CS source's direct jump may leave EIP in CpuState only: see direct_in_page.)
        if (block_.mode & Cpu::kModeFlatCs) a.mov(x86::eax, st32(kEip));
        a.cmp(st32(seg_cs + offsetof(cpu::Segment, limit)), -1);
        a.jne(other_limit);
        a.cmp(x86::eax, int32_t(uint32_t(0xFFFFFFFFu - (block_.eip_span - 1))));
        a.ja(exit_);
        a.bind(limit_ok);
        cold_.push_back([this, other_limit, limit_ok, seg_cs] {
            auto& a = *a_;
            a.bind(other_limit);
            a.mov(x86::r8d, x86::eax);
            a.add(x86::r8, int32_t(block_.eip_span - 1));
            a.mov(x86::r9d, st32(seg_cs + offsetof(cpu::Segment, limit)));
            a.cmp(x86::r8, x86::r9);
            a.ja(exit_);
            a.jmp(limit_ok);
        });
        emit_irq_and_enter();
    }
    // A block whose instruction crosses into a second page is entered by links too: a chained
    // entry (a guard's, a direct jump's; not the run loop's, which checked) tests that the second page
    // still maps to the frame it was decoded from, executable, through the TLB (else leaves:
    // the run loop, which fills the TLB, rebuilds the block when it changed). EIP is retired.
    void emit_page2_check() {
        auto& a = *a_;
        a.mov(x86::r8d, st32(kEip));
        a.add(x86::r8d, st32(seg_base(cpu::CS)));
        a.or_(x86::r8d, 0xFFF);
        a.add(x86::r8d, 1);  // the second page's linear address
        emit_code_tlb(a, c_, x86::r8d, x86::rcx, x86::edx, exit_);
        a.cmp(x86::dword_ptr(x86::rcx, int32_t(offsetof(CpuAccess::TlbEntry, ppage))),
              int32_t(block_.page2 << 12));
        a.jne(exit_);
    }
    // The checked entry's last tests: the external interrupt (a source without a flag points at
    // a set byte, so the run loop asks it); then the block is entered. Not when the source
    // reports each rise (irq_rose() sets stop_, tested above): EFLAGS.IF cannot have changed
    // since the chain's start, where the run loop or a guard stub tested the request.
    void emit_irq_and_enter() { emit_irq_and_enter(exit_); }
    void emit_irq_and_enter(asmjit::Label out) {
        auto& a = *a_;
        const auto& c = c_;
        if (!irq_rise_notified_) {
            asmjit::Label go = a.newLabel();
            a.test(st32(offsetof(CpuState, eflags)), cpu::kIF);
            a.jz(go);
            a.mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_irq_flag_or_ask(c)));
            a.cmp(x86::byte_ptr(x86::r8), 0);
            a.jne(out);
            a.bind(go);
        }
        if (stubs_.count_chains) {
            a.mov(x86::r8, reinterpret_cast<uint64_t>(&st_.blocks_direct));
            a.inc(x86::qword_ptr(x86::r8));
        }
    }
    // (eax = EIP, retired.)
    void exit_dynamic() {
        a_->mov(x86::rcx, reinterpret_cast<uint64_t>(&code_.links[2]));
        if (!helper_seen_ && irq_rise_notified_) {
            // The lite guard's tests without the interrupt request's (the stub's dynamic_lite_noirq
            // when EIP is the link's own target, or the jump cache's link for EIP), inline: no
            // call for the common cases, and the host predicts each exit's targets apart.
            auto& a = *a_;
            asmjit::Label miss = a.newLabel(), probe = a.newLabel(), other = a.newLabel();
            const auto link = [](size_t off) { return x86::ptr(x86::rcx, int32_t(off)); };
            // Enters the link at rcx (its EIP matched, so it is linked: see Link::eip) when its
            // tests pass, else to `fail`.
            const auto enter = [&](asmjit::Label fail) {
                a.mov(x86::r8, st64(kIcount));
                a.add(x86::r8, link(offsetof(Link, ninsns)));
                a.cmp(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_chain_end(c_)));
                a.ja(fail);
                a.mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_code_epoch(c_)));
                a.cmp(x86::r8, link(offsetof(Link, epoch)));
                a.jne(fail);
                if (stubs_.count_chains) {
                    a.mov(x86::r8, reinterpret_cast<uint64_t>(&st_.blocks_chained));
                    a.inc(x86::qword_ptr(x86::r8));
                }
                a.jmp(link(offsetof(Link, entry)));
            };
            asmjit::Label second = a.newLabel();
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.jne(second);
            enter(miss);
            // The second link (a return to either of two call sites, say: see lookup()).
            a.bind(second);
            a.mov(x86::rcx, reinterpret_cast<uint64_t>(&code_.links[4]));
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.jne(probe);
            enter(miss);
            // The jump cache's slot for EIP (the stub's hash); the stub again when it misses.
            a.bind(probe);
            emit_jcache_slot(a, stubs_.jcache, stubs_.jcache_size);
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.jne(other);
            enter(other);
            a.bind(other);
            a.mov(x86::rcx, reinterpret_cast<uint64_t>(&code_.links[2]));
            a.bind(miss);
        }
        call_guard(helper_seen_              ? stubs_.dynamic
                   : irq_rise_notified_ ? stubs_.dynamic_lite_noirq
                                        : stubs_.dynamic_lite);
    }

    // ---- effective address and memory ----
    // ea(i) into r13d.
    // (`into`, when given: a LEA's destination register, whose copy, when it has one after the
    // operands' are fetched, receives the address instead: returns true then.)
    bool emit_ea(const DecodedInsn& i, int into = -1) {
        auto& a = *a_;
        const bool base = i.base != cpu::kRegNone, index = i.index != cpu::kRegNone;
        const int32_t disp = int32_t(i.disp);
        // The registers' cached copies, else loaded (index into eax, base into r13d).
        x86::Gp ix, bx;
        if (index) {
            ix = fetch(i.index);
            if (!ix.isValid()) a.mov(ix = x86::eax, gpr32(i.index));
        }
        if (base) {
            bx = fetch(i.base);
            if (!bx.isValid() && index && i.base == i.index) bx = ix;  // ([r + r*s]: loaded once)
            if (!bx.isValid()) a.mov(bx = x86::r13d, gpr32(i.base));
        }
        const int k = into >= 0 ? cached(unsigned(into)) : -1;
        const x86::Gp out = k >= 0 ? cache_reg(k) : x86::Gp(x86::r13d);
        // A 32-bit LEA wraps modulo 2^32 like the address computation.
        if (index && base) a.lea(out, x86::ptr(bx.r64(), ix.r64(), i.scale, disp));
        else if (index && !i.scale) a.lea(out, x86::ptr(ix.r64(), disp));
        else if (index) a.lea(out, x86::ptr(uint64_t(int64_t(disp)), ix.r64(), i.scale));  // ([index*s + disp32])
        else if (base && disp) a.lea(out, x86::ptr(bx.r64(), disp));
        else if (base) { if (bx.id() != out.id()) a.mov(out, bx); }
        else a.mov(out, disp);
        if (!(i.flags & cpu::kfAddr32)) a.and_(out, 0xFFFF);
        return k >= 0;
    }
    // Inline segment check + TLB lookup for an access of `bits` at seg:r13d. Returns the host
    // location (through rax) on the fast path, jumps to `slow` otherwise. `write` picks the tag.
    x86::Mem emit_fast_lookup(unsigned seg, int bits, bool write, asmjit::Label slow) {
        auto& a = *a_;
        const bool flat = flat_ && (seg == cpu::DS || seg == cpu::ES || seg == cpu::SS);
        // Flat: base 0, 4 GiB, writable, no AC: the linear address is the offset (r13, which a
        // 32-bit write zero-extends), and an access that wraps past 4 GiB (the only one the
        // limit refuses) fails the tag compare below.
        const x86::Gp lin = flat ? x86::r13 : x86::rax;
        if (!flat) {
            // Segment limit, type and alignment check in one compare (Cpu::segspan_).
            const int32_t sp = CpuAccess::off_segspan(c_, seg, write);
            const int z = bits == 8 ? 0 : bits == 16 ? 1 : 2;
            a.mov(x86::ecx, x86::r13d);
            a.sub(x86::ecx, cpu32(sp + int32_t(offsetof(CpuAccess::SegSpan, lo))));
            a.cmp(x86::rcx, x86::qword_ptr(kS, cpu_disp(c_) + sp + int32_t(offsetof(CpuAccess::SegSpan, span) + 8 * z)));
            a.jae(slow);
            a.mov(x86::eax, x86::r13d);
            a.add(x86::eax, st32(seg_base(seg)));  // linear address (wraps at 4 GiB)
        }
        // The block's TLB (its mode's: the current one while it runs, see Cpu::kModeUser),
        // entry (lin >> 12) & (kTlbSize - 1), at rbx + rcx + tlb: entries are 32 bytes. After
        // a helper that may have changed the mode, the current one (Cpu::tlb_cur_), at rcx.
        static_assert(sizeof(CpuAccess::TlbEntry) == 32);
        x86::Mem entry = x86::ptr(kS, x86::rcx, 0, cpu_disp(c_) + CpuAccess::off_tlb(c_, block_.mode));
        if (stubs_.bmi2) {
            a.rorx(x86::ecx, lin.r32(), 12 - 5);  // (the bits rotated to the top are masked off)
        } else {
            a.mov(x86::ecx, lin.r32());
            a.shr(x86::ecx, 12 - 5);
        }
        a.and_(x86::ecx, (CpuAccess::kTlbSize - 1) << 5);
        if (helper_seen_) {
            a.add(x86::rcx, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_tlb_cur(c_)));
            entry = x86::ptr(x86::rcx);
        }
        // The tag is compared with the page of the access's last byte: an access that crosses
        // into the next page never matches (the slow path splits it).
        if (bits == 8) a.mov(x86::edx, lin.r32());
        else a.lea(x86::edx, x86::ptr(lin, bits / 8 - 1));
        a.and_(x86::edx, ~uint32_t(0xFFF));
        x86::Mem tag = entry.cloneAdjusted(write ? offsetof(CpuAccess::TlbEntry, write_tag) : offsetof(CpuAccess::TlbEntry, read_tag));
        tag.setSize(4);
        a.cmp(x86::edx, tag);
        a.jne(slow);
        x86::Mem addend = entry.cloneAdjusted(offsetof(CpuAccess::TlbEntry, addend));
        addend.setSize(8);
        if (flat) {
            a.mov(x86::rax, addend);
            return x86::ptr(x86::rax, x86::r13);
        }
        a.add(x86::rax, addend);
        return x86::ptr(x86::rax);
    }
    // read<bits>(seg, r13d) into eax (zero-extended), or write<bits>(seg, r13d, r14d).
    // The fast path needs no EIP/icount in the state; the slow path does (it may fault, and
    // devices behind MMIO may read icount), so it syncs the pending run, which is undone after.
    //
    // `tail`, when given, emits what remains of the instruction after this access (register
    // writes only: it cannot fault or call). The slow path, the only one that can set stop_
    // (MMIO side effects, a store into translated code), then tests stop_ itself and, when
    // set, finishes the instruction with `tail` and leaves the block: returns true, and the
    // caller needs no check_stop(). Without a tail, or on the 8086 (no fast path), the caller
    // tests.
    using Tail = std::function<void()>;
    bool emit_read(unsigned seg, int bits, Tail tail = {}) {
        return emit_access(seg, bits, false, std::move(tail));
    }
    bool emit_write(unsigned seg, int bits, Tail tail = {}) {
        return emit_access(seg, bits, true, std::move(tail));
    }
    bool emit_access(unsigned seg, int bits, bool write, Tail tail) {
        auto& a = *a_;
        const At at = here();
        if (last_) tail = {};  // the block's exit tests stop_ anyway
        if (is8086_) {  // (no 32-bit operands: no direct_reg_)
            slow_access_call(seg, bits, write, at);
            fl_ = Flags::kResolved;
            return false;
        }
        const x86::Gp dr = direct_for(write);
        asmjit::Label slow = a.newLabel(), done = a.newLabel();
        access_sized(emit_fast_lookup(seg, bits, write, slow), bits, write, dr);
        a.bind(done);
        const bool tested = bool(tail);
        cold_.push_back([this, seg, bits, write, slow, done, tail = std::move(tail), at, dr] {
            a_->bind(slow);
            if (write && dr.isValid()) a_->mov(x86::r14d, dr);
            slow_access_call(seg, bits, write, at);
            slow_access_done(tail, at, done, write ? x86::Gp() : dr);
        });
        return tested;
    }

    // ---- read-modify-write ----
    // A memory destination read, changed and written back (ALU, INC/DEC, NOT/NEG, shifts and
    // rotates, BTS/BTR/BTC: through load_rm/store_rm): the read looks its
    // page up through the TLB's write tag, and when that hits the store goes to the same host
    // address (kept at [rsp], the frame's pad) without a second lookup: only inline code runs
    // in between, which cannot change the translation. When it misses, the read takes the slow
    // path and [rsp] is 0: the store then makes the whole access, with the write's own checks
    // (a read-only page's #PF, decoded code, MMIO, bytes across two pages). r13d keeps the
    // offset for it.
    // (With rmw_rdx_, set by a caller whose code in between keeps rdx, the address stays in
    // rdx instead.)
    static x86::Mem rmw_ptr() { return x86::qword_ptr(x86::rsp, 0); }
    void emit_rmw_load(int bits) {
        auto& a = *a_;
        const DecodedInsn& i = *cur_;
        int32_t delta = 0;
        const int k = reusable(i) ? find_slot(i.base, int32_t(i.disp), unsigned(bits / 8), true, delta) : -1;
        if (k >= 0) return emit_rmw_load_slot(bits, k, delta);
        emit_ea(i);
        const At at = here();
        const bool in_rdx = rmw_rdx_;
        asmjit::Label slow = a.newLabel(), done = a.newLabel();
        a.lea(x86::rdx, emit_fast_lookup(i.seg, bits, true, slow));
        if (!in_rdx) a.mov(rmw_ptr(), x86::rdx);
        access_sized(x86::ptr(x86::rdx), bits, false);
        a.bind(done);
        cold_.push_back([this, seg = i.seg, bits, slow, done, at, in_rdx] {
            a_->bind(slow);
            slow_access_call(seg, bits, false, at);
            if (in_rdx) a_->xor_(x86::edx, x86::edx);
            else a_->mov(rmw_ptr(), 0);
            a_->jmp(done);
        });
    }
    // emit_rmw_load() through page slot k (filled by a store), `delta` from its displacement:
    // the address from the slot when the bytes are on its page, else (cold) the whole lookup,
    // which refills a carried slot (see plan_carried). (r13d, the offset, is computed only
    // there: the store needs it only when the read took the slow path.)
    void emit_rmw_load_slot(int bits, int k, int32_t delta) {
        auto& a = *a_;
        const DecodedInsn& i = *cur_;
        const At at = here();
        const bool in_rdx = rmw_rdx_;
        asmjit::Label other = a.newLabel(), done = a.newLabel();
        slot_check(k, delta, bits, other);
        a.mov(x86::rdx, slot_addr(k));
        if (delta) a.lea(x86::rdx, x86::ptr(x86::rdx, delta));
        if (!in_rdx) a.mov(rmw_ptr(), x86::rdx);
        access_sized(x86::ptr(x86::rdx), bits, false);
        a.bind(done);
        ++st_.page_reuses;
        const bool refill = carried(k);
        cold_.push_back([this, ip = &i, bits, k, delta, other, done, at, in_rdx, refill] {
            auto& a = *a_;
            asmjit::Label slow = a.newLabel();
            a.bind(other);
            write_back(at.dirty);  // (emit_ea() reads CpuState)
            emit_ea(*ip);
            const x86::Mem host = emit_fast_lookup(ip->seg, bits, true, slow);
            if (refill) refill_slot(k, host, delta);
            else a.lea(x86::rdx, host);
            if (!in_rdx) a.mov(rmw_ptr(), x86::rdx);
            access_sized(x86::ptr(x86::rdx), bits, false);
            a.jmp(done);
            a.bind(slow);
            At stored = at;  // (the registers are stored already)
            stored.dirty = {};
            slow_access_call(ip->seg, bits, false, stored);
            if (in_rdx) a.xor_(x86::edx, x86::edx);
            else a.mov(rmw_ptr(), 0);
            a.jmp(done);
        });
    }
    // The store of r14d after emit_rmw_load().
    void emit_rmw_store(int bits) {
        auto& a = *a_;
        const At at = here();
        const unsigned seg = cur_->seg;
        asmjit::Label full = a.newLabel(), done = a.newLabel();
        const x86::Gp p = std::exchange(rmw_rdx_, false) ? x86::rdx : x86::rax;
        if (p.id() == x86::Gp::kIdAx) a.mov(x86::rax, rmw_ptr());
        a.test(p, p);
        a.jz(full);
        access_sized(x86::ptr(p), bits, true);
        a.bind(done);
        cold_.push_back([this, seg, bits, full, done, at] {
            asmjit::Label slow = a_->newLabel();
            a_->bind(full);
            access_sized(emit_fast_lookup(seg, bits, true, slow), bits, true);
            a_->jmp(done);
            a_->bind(slow);
            slow_access_call(seg, bits, true, at);
            a_->jmp(done);
        });
    }

    // ---- page reuse ----
    // Accesses at [R + disp] (R a base register, no index, 32-bit addressing, a flat DS/ES/SS)
    // in a block that does not change R in between land on one guest page more often than not
    // (stack frames, structures). The first such access ("fills") keeps the host address of
    // its bytes and their page offset in a frame slot; a later access at [R + disp'] is then
    // that address plus delta = disp' - disp, after one check that offset + delta puts the
    // bytes in the same page: a host page is a guest page (RAM and ROM are page-aligned on the
    // host, mmu::PhysMemory). So it needs neither the address nor the TLB lookup; when the
    // check fails it does both (cold). A slot filled by a read serves reads; one filled by a
    // store (through the TLB's write tag: RAM, writable, dirty, no decoded code) serves both.
    //
    // The address stays valid for the rest of the block: the TLB entry the fill hit may be
    // evicted by another access's slow path, but the page's translation cannot change without
    // a helper (INVLPG, a CR3 or CR0 load, a segment load: all forget every slot), a change of
    // the physical memory map ends the block (Cpu::memory_map_changed), and a page only gets
    // decoded code (which takes its write tag away) when a block is built, between blocks. A
    // fill that misses the TLB takes the slow path and then looks the page up again; when that
    // misses too (MMIO, no memory, a data breakpoint, bytes across two pages, the lockstep
    // checker's journal) the slot's offset is set to one no check accepts.
    static constexpr uint32_t kSlotNone = 0x40000000;  // (offset + delta never lands in a page)
    bool reusable(const DecodedInsn& i) const {
        return !is8086_ && flat_ && (i.flags & cpu::kfMem) && (i.flags & cpu::kfAddr32) &&
               i.base != cpu::kRegNone && i.index == cpu::kRegNone &&
               (i.seg == cpu::DS || i.seg == cpu::ES || i.seg == cpu::SS);
    }
    // How instruction `i` accesses its memory operand through a page slot: 1 a read that keeps
    // no offset (it writes no memory: emit_load()), 2 a store (MOV m, r/imm: emit_store()) or
    // a read-modify-write (emit_rmw_load(), which a slot filled by a store serves), else 0.
    int slot_use(const DecodedInsn& i) const {
        const Desc* d = hm_.find(i.fn);
        if (!d || !(i.flags & cpu::kfMem)) return 0;
        switch (d->kind) {
            case Kind::kMovRRm: case Kind::kAluRRm: case Kind::kMovx: case Kind::kImulRRm:
            case Kind::kImulRRmImm: case Kind::kCmov: case Kind::kPushRm:
                return 1;
            case Kind::kAluRmR: case Kind::kAluRmImm: case Kind::kTestRmImm:
                return d->op == kCmp || d->op == kTest ? 1 : 2;
            case Kind::kMovRmR: case Kind::kMovRmImm:
            case Kind::kIncDecRm: case Kind::kNot: case Kind::kNeg: case Kind::kShift1: case Kind::kShiftImm:
                return 2;
            default:
                return 0;
        }
    }
    // The registers `i` may read or write (0-7; AH..BH count as their 32-bit register): an
    // over-approximation, for the register cache's choice of a copy to evict.
    uint8_t used_mask(const DecodedInsn& i) const {
        uint8_t m = written_mask(i);
        const Desc* d = hm_.find(i.fn);
        // (A byte operand's 4-7 are AH..BH: registers 0-3. Addresses are never bytes.)
        const bool bytes = !d || d->bits == 8 || d->kind == Kind::kMovx || d->kind == Kind::kSetcc;
        const auto add = [&m, bytes](unsigned r) {
            if (r < 8) m = uint8_t(m | 1u << r | (bytes ? 1u << (r & 3) : 0u));
        };
        const auto add32 = [&m](unsigned r) {
            if (r < 8) m = uint8_t(m | 1u << r);
        };
        // (No operand register: the ModRM fields are not the instruction's.)
        if (d) switch (d->kind) {
            case Kind::kJcc: case Kind::kJmpRel: case Kind::kCallRel: case Kind::kRetNear: case Kind::kNop:
                return m;
            case Kind::kLoop: case Kind::kJcxz:
                return uint8_t(m | 1u << cpu::ECX);
            default: break;
        }
        if (i.flags & cpu::kfMem) {
            add32(i.base);
            add32(i.index);
        } else {
            add(i.rm);
        }
        // (The ModRM reg field of a group opcode selects the operation: no register.)
        bool ext = false;
        if (d) switch (d->kind) {
            case Kind::kAluRmImm: case Kind::kTestRmImm: case Kind::kIncDecRm: case Kind::kShift1:
            case Kind::kShiftImm: case Kind::kShiftCl: case Kind::kNot: case Kind::kNeg: case Kind::kBtImm:
            case Kind::kPushRm: case Kind::kCallRm: case Kind::kJmpRm: case Kind::kSetcc: case Kind::kMovRmImm:
                ext = true;
                break;
            default: break;
        }
        if (!ext) add(i.reg);
        if (d && (d->kind == Kind::kCwd || d->kind == Kind::kMovMoffsAcc)) add32(cpu::EAX);
        if (d && (d->kind == Kind::kShiftCl || d->kind == Kind::kLoop || d->kind == Kind::kJcxz)) add32(cpu::ECX);
        return m;
    }
    // General registers instruction `i` may write (bit r: register r), all when unknown.
    uint8_t written_mask(const DecodedInsn& i) const {
        const Desc* d = hm_.find(i.fn);
        if (!d) return 0xFF;
        const bool mem = i.flags & cpu::kfMem;
        const auto reg = [&](unsigned r, int bits) { return uint8_t(1u << (bits == 8 ? r & 3 : r)); };
        const uint8_t sp = 1u << cpu::ESP;
        switch (d->kind) {
            case Kind::kAluRmR: case Kind::kAluRmImm: case Kind::kTestRmImm: case Kind::kIncDecRm:
            case Kind::kShift1: case Kind::kShiftImm: case Kind::kShiftCl: case Kind::kNot: case Kind::kNeg:
            case Kind::kBtImm: case Kind::kSetcc: case Kind::kMovRmR: case Kind::kMovRmImm:
                return mem ? 0 : reg(i.rm, d->kind == Kind::kSetcc ? 8 : d->bits);
            case Kind::kAluRRm: case Kind::kMovRRm: case Kind::kImulRRm: case Kind::kImulRRmImm:
            case Kind::kCmov: case Kind::kLea: case Kind::kMovRImm: case Kind::kIncDecR:
                return reg(i.reg, d->bits);
            case Kind::kMovx:
                return reg(i.reg, 32);
            case Kind::kXchgRmR:
                return uint8_t(reg(i.reg, d->bits) | (mem ? 0 : reg(i.rm, d->bits)));
            case Kind::kXchgAccR:
                return uint8_t(1u << cpu::EAX | reg(i.reg, 32));
            case Kind::kAluAccImm: case Kind::kMovAccMoffs: case Kind::kCbw:
                return 1u << cpu::EAX;
            case Kind::kCwd:
                return 1u << cpu::EDX;
            case Kind::kPushR: case Kind::kPushRm: case Kind::kPushImm:
                return sp;
            case Kind::kPopR:
                return uint8_t(sp | reg(i.reg, 32));
            case Kind::kNop: case Kind::kMovMoffsAcc: case Kind::kJcc: case Kind::kJmpRel: case Kind::kJcxz:
            case Kind::kJmpRm:
                return 0;
            case Kind::kLoop:
                return 1u << cpu::ECX;
            case Kind::kCallRel: case Kind::kCallRm: case Kind::kRetNear:
                return sp;
            default:
                return 0xFF;
        }
    }
    // How `i` accesses memory through a page slot: the base register, the displacement from
    // its value before `i`, and 1 (a read) or 2 (a store). The stack operations count: PUSH
    // stores at [ESP - size], POP reads at [ESP] (SS is flat and 32-bit with the data segments).
    bool slot_access(const DecodedInsn& i, unsigned& reg, int64_t& disp, int& use) const {
        const Desc* d = hm_.find(i.fn);
        if (!d || is8086_ || !flat_) return false;
        const bool mem = i.flags & cpu::kfMem;
        if (d->kind == Kind::kPushR || d->kind == Kind::kPushImm || (d->kind == Kind::kPushRm && !mem)) {
            reg = cpu::ESP, disp = -(d->bits / 8), use = 2;
            return true;
        }
        if (d->kind == Kind::kPopR) {
            reg = cpu::ESP, disp = 0, use = 1;
            return i.reg != cpu::ESP;
        }
        if (d->kind == Kind::kRetNear) {  // (its read of the return address: see emit_inline)
            reg = cpu::ESP, disp = 0, use = 1;
            return true;
        }
        use = slot_use(i);
        if (!use || !reusable(i)) return false;
        reg = i.base, disp = int32_t(i.disp);
        return true;
    }
    // `i` changes register `reg` by the constant `change` (its other writes aside: POP's
    // destination): PUSH, POP (but into ESP); INC, DEC, ADD and SUB of an immediate, of a
    // 32-bit register.
    bool reg_adjust(const DecodedInsn& i, unsigned& reg, int64_t& change) const {
        const Desc* d = hm_.find(i.fn);
        if (!d) return false;
        reg = cpu::ESP;
        const bool mem = i.flags & cpu::kfMem;
        switch (d->kind) {
            case Kind::kPushR: case Kind::kPushImm: case Kind::kPushRm:
                change = -(d->bits / 8);
                return true;
            case Kind::kPopR:
                change = d->bits / 8;
                return i.reg != cpu::ESP;
            case Kind::kIncDecR: case Kind::kIncDecRm:
                if (mem || d->bits != 32) return false;
                reg = d->kind == Kind::kIncDecR ? i.reg : i.rm;
                change = d->op ? -1 : 1;
                return true;
            case Kind::kAluRmImm: case Kind::kAluAccImm:
                if (mem || d->bits != 32 || (d->op != kAdd && d->op != kSub)) return false;
                reg = d->kind == Kind::kAluAccImm ? unsigned(cpu::EAX) : i.rm;
                change = d->op == kAdd ? int64_t(int32_t(i.imm)) : -int64_t(int32_t(i.imm));
                return true;
            default:
                return false;
        }
    }
    // After instruction `i`: slots on a register it changed by a constant follow the change;
    // those on a register it wrote otherwise are forgotten.
    void forget_written(const DecodedInsn& i) {
        uint8_t w = written_mask(i);
        unsigned r = 0;
        int64_t change = 0;
        if (reg_adjust(i, r, change)) {
            w = uint8_t(w & ~(1u << r));
            for (PageSlot& p : slots_) {
                if (p.reg != r) continue;
                p.disp -= change;
                if (p.disp < -(1 << 20) || p.disp > (1 << 20)) p.valid = false;
            }
        }
        for (PageSlot& p : slots_)
            if (w >> p.reg & 1) p.valid = false;
    }
    // Instruction k, an access at [R + disp], should fill a slot: a later access of the block
    // may reuse it (R unchanged up to there but by known constants, no helper in between; a
    // store only a store's). Returns bit 0 for a later read, bit 1 for a later store.
    uint8_t populate_wanted(const std::vector<DecodedInsn>& insns, size_t k) const {
        unsigned reg = 0, r = 0, ar = 0;
        int64_t d0 = 0, d = 0, change = 0, shift = 0;  // shift: R now - R before instruction k
        int use = 0, v = 0;
        uint8_t users = 0;
        if (!slot_access(insns[k], reg, d0, use)) return 0;
        for (size_t j = k; j < insns.size() && users != 3; ++j) {
            const DecodedInsn& u = insns[j];
            if (j > k && slot_access(u, r, d, v) && r == reg && (v == 1 || use == 2)) {
                const int64_t delta = d + shift - d0;
                if (delta > -4096 && delta < 4096) users |= uint8_t(v);
            }
            uint8_t w = written_mask(u);
            if (reg_adjust(u, ar, change)) {
                if (ar == reg) shift += change;
                w = uint8_t(w & ~(1u << ar));
            }
            if (w >> reg & 1) break;
        }
        return users;
    }
    // A store at [reg + ...] fills a slot for later stores, or for later reads when no slot on
    // `reg` (which a read may use) is held already.
    bool store_fills(unsigned reg) const {
        if (want_slot_ & 2) return true;
        if (!(want_slot_ & 1)) return false;
        for (const PageSlot& p : slots_)
            if (p.valid && p.reg == reg) return false;
        return true;
    }
    // A slot for an access of `n` bytes at [reg + disp] (a store: filled by a store), or -1.
    int find_slot(unsigned reg, int64_t disp, unsigned n, bool write, int32_t& delta) const {
        for (int k = 0; k < kSlots; ++k) {
            const PageSlot& p = slots_[k];
            if (!p.valid || p.reg != reg || (write && !p.write)) continue;
            const int64_t d = disp - p.disp;
            if (d <= -4096 || d > 4096 - int64_t(n)) continue;
            delta = int32_t(d);
            return k;
        }
        return -1;
    }
    using Emit = std::function<void()>;
    Emit ea_of(const DecodedInsn& i) {
        return [this, ip = &i] { emit_ea(*ip); };
    }
    // A read of `bits` at the current instruction's memory operand into eax (zero-extended):
    // emit_ea() and emit_read() (`tail` and the return value as there), through a page slot
    // when one holds the page (see above). `ea`: r13d must hold the offset afterwards (for a
    // store back), so no slot is used.
    bool emit_load(int bits, Tail tail = {}, bool ea = false) {
        const DecodedInsn& i = *cur_;
        if (!ea && reusable(i)) {
            int32_t delta = 0;
            const int k = find_slot(i.base, int32_t(i.disp), unsigned(bits / 8), false, delta);
            if (k >= 0) return emit_reuse(k, delta, bits, false, std::move(tail), ea_of(i), i.seg);
            if (want_slot_) return emit_fill(bits, false, std::move(tail), ea_of(i), i.seg, i.base, int32_t(i.disp));
        }
        emit_ea(i);
        return emit_read(i.seg, bits, std::move(tail));
    }
    // A store of r14d (`bits`) at the current instruction's memory operand, as emit_ea() and
    // emit_write(), through a page slot when one holds the page.
    bool emit_store(int bits, Tail tail = {}) {
        const DecodedInsn& i = *cur_;
        if (reusable(i)) {
            int32_t delta = 0;
            const int k = find_slot(i.base, int32_t(i.disp), unsigned(bits / 8), true, delta);
            if (k >= 0) return emit_reuse(k, delta, bits, true, std::move(tail), ea_of(i), i.seg);
            if (store_fills(i.base)) return emit_fill(bits, true, std::move(tail), ea_of(i), i.seg, i.base, int32_t(i.disp));
        }
        emit_ea(i);
        return emit_write(i.seg, bits, std::move(tail));
    }
    x86::Mem slot_addr(int k) const { return x86::qword_ptr(x86::rsp, 8 + 16 * k); }
    x86::Mem slot_off(int k) const { return x86::dword_ptr(x86::rsp, 16 + 16 * k); }
    // rdx = `host`, an access at `delta` from slot k's displacement, which slot k then holds
    // (its offset may lie outside the page: the checks then fail). Uses ecx.
    void refill_slot(int k, const x86::Mem& host, int32_t delta) {
        auto& a = *a_;
        a.lea(x86::rdx, host);
        a.lea(x86::rcx, x86::ptr(x86::rdx, -delta));
        a.mov(slot_addr(k), x86::rcx);
        a.mov(x86::ecx, x86::edx);
        a.and_(x86::ecx, 0xFFF);
        if (delta) a.sub(x86::ecx, delta);
        a.mov(slot_off(k), x86::ecx);
    }
    // The access itself at `at`: a load into eax (zero-extended) or a store of r14.
    // A MOV between a 32-bit register and memory (direct_reg_: the register) loads into, or
    // stores from, the register's copy on the fast paths, without staging through eax or
    // r14d: the register's copy, when it has one at the access (after the address's registers
    // are fetched), else none (a store then loads r14d, before the lookup). The slow paths
    // stage as usual and move the value to or from the copy.
    int direct_reg_ = -1;
    bool direct_used_ = false;  // direct_for() found a copy
    x86::Gp direct_for(bool write) {
        direct_used_ = false;
        if (direct_reg_ < 0) return x86::Gp();
        const int k = cached(unsigned(direct_reg_));
        direct_used_ = k >= 0;
        if (k >= 0) return cache_reg(k);
        if (write) a_->mov(x86::r14d, gpr32(unsigned(direct_reg_)));
        return x86::Gp();
    }
    // (`dr`, for 32 bits: the register to load into or store from instead: see direct_for.)
    void access_sized(const x86::Mem& at, int bits, bool write, const x86::Gp& dr = {}) {
        x86::Mem m = at;
        m.setSize(uint32_t(bits / 8));
        if (dr.isValid()) {
            assert(bits == 32);
            if (write) a_->mov(m, dr);
            else a_->mov(dr, m);
            return;
        }
        if (write) {
            if (bits == 32) a_->mov(m, x86::r14d);
            else if (bits == 16) a_->mov(m, x86::r14w);
            else a_->mov(m, x86::r14b);
        } else {
            if (bits == 32) a_->mov(x86::eax, m);
            else a_->movzx(x86::eax, m);
        }
    }
    // ---- sunk flags ----
    // A register-only ALU instruction (the producer) whose flags the strict liveness keeps live
    // only because an inline memory access or a PUSH/POP follows, which may fault or stop in
    // its slow path, before the next flag writer, which overwrites all six (the killer), with
    // no reader in between: its flags are stored only where they could be seen, the cold paths
    // of the accesses from the producer up to the killer's own (see materialize_sunk), from
    // its operands, which nothing between writes. The hot path stores nothing; the state's
    // flags there stay the older ones, and fl_ is unknown (the killer stores its kind).
    struct Sunk {
        bool active = false;
        uint8_t op = 0;  // AluOp
        uint8_t incdec = 0;  // 1: INC, 2: DEC (op unused)
        uint8_t bits = 32;
        uint8_t dst = 0;   // register (0-7; AH..BH as 4-7 for 8 bits)
        int8_t src = -1;   // register, or -1: the immediate
        uint32_t imm = 0;
        size_t killer = 0;
    };
    Sunk sunk_;
    // The pending EIP/icount run, the flags' state and the length, for a cold path.
    struct At {
        unsigned n;
        uint32_t len, ilen;
        Flags fl;
        Dirty dirty;  // the cached registers to store back before CpuState is used
        Sunk sunk;    // flags to store before the call (see Sunk)
    };
    At here() const { return {pend_n_, pend_len_, cur_len_, fl_, dirty_now(), sunk_}; }
    // Cpu::read (into eax) or Cpu::write (of r14d) at seg:r13d, with the state synced for it:
    // the shared stub (Stubs::slow_access), told what to do in ecx.
    void slow_access_call(unsigned seg, int bits, bool write, const At& at) {
        assert(at.n < 256 && at.len < 65536);
        write_back(at.dirty);
        if (at.sunk.active) {
            const bool on = std::exchange(cache_on_, false);
            materialize_sunk(at.sunk);
            cache_on_ = on;
        }
        const uint32_t packed = seg | (write ? kSlowWrite : 0) | uint32_t(bits == 8 ? 0 : bits == 16 ? 1 : 2) << 4 |
                                (at.fl != Flags::kResolved ? kSlowResolve : 0) | (c32_ ? 0 : kSlowIp16) |
                                at.n << 8 | at.len << 16;
        a_->mov(x86::ecx, packed);
        a_->call(asmjit::imm(stubs_.slow_access));
    }
    // After slow_access_call() in cold code: with a tail, when stop_ is set, finish the
    // instruction and leave the block (as emit_access); else back to `done`. Keeps eax.
    // (`dr`: the register a direct load puts the value in on the fast path; see direct_for.)
    void slow_access_done(const Tail& tail, const At& at, asmjit::Label done, const x86::Gp& dr = {}) {
        if (!tail) {
            if (dr.isValid()) a_->mov(dr, x86::eax);
            a_->jmp(done);
            return;
        }
        asmjit::Label stop = a_->newLabel();
        a_->cmp(cpu8(CpuAccess::off_stop(c_)), 0);
        if (dr.isValid()) {
            a_->jne(stop);
            a_->mov(dr, x86::eax);
            a_->jmp(done);
        } else {
            a_->je(done);
        }
        a_->bind(stop);
        tail();
        sync_with(at.n + 1, at.len + at.ilen);
        a_->jmp(exit_);
    }
    // Between plain MOVs to or from a register's copy through page slots, rdx keeps the host
    // address of the slot the last one used (ptr_slot_, else -1), on every path to the next
    // instruction: the next access through that slot needs no reload. (Any other instruction,
    // or a MOV that went another way, may use rdx: reset unless this is a plain MOV and the
    // previous instruction's access set it, ptr_set_at_, only a plain MOV's setting it
    // valid; see run().)
    int ptr_slot_ = -1;
    size_t ptr_set_at_ = SIZE_MAX;
    bool plain_mov(const DecodedInsn& i) const {
        const Desc* d = hm_.find(i.fn);
        return d && (i.flags & cpu::kfMem) && d->bits == 32 && (d->kind == Kind::kMovRRm || d->kind == Kind::kMovRmR);
    }
    // To `other` unless the `bits` at `delta` from slot k's bytes are on its page (as an
    // unsigned compare: an offset outside the page, kSlotNone or a refill's, fails). Uses ecx.
    void slot_check(int k, int32_t delta, int bits, asmjit::Label other) {
        auto& a = *a_;
        if (delta >= 0) {
            // offset + delta <= 4096 - n as offset <= 4096 - n - delta (>= 0: find_slot)
            a.cmp(slot_off(k), 4096 - bits / 8 - delta);
        } else {
            a.mov(x86::ecx, slot_off(k));
            a.add(x86::ecx, delta);
            a.cmp(x86::ecx, 4096 - bits / 8);
        }
        a.ja(other);
    }
    // The access through slot k (`ea` emits r13d = its offset for the cold path, in `seg`).
    bool emit_reuse(int k, int32_t delta, int bits, bool write, Tail tail, Emit ea, unsigned seg) {
        auto& a = *a_;
        const x86::Gp dr = direct_for(write);
        asmjit::Label other = a.newLabel(), done = a.newLabel();
        slot_check(k, delta, bits, other);
        if (ptr_slot_ != k) a.mov(x86::rdx, slot_addr(k));
        access_sized(x86::ptr(x86::rdx, delta), bits, write, dr);
        a.bind(done);
        ptr_slot_ = dr.isValid() && plain_mov(*cur_) ? k : -1;
        ptr_set_at_ = cur_k_;
        ++st_.page_reuses;
        // Another page (or no address kept): the whole access, in cold code.
        const At at = here();
        if (last_) tail = {};
        const bool tested = bool(tail);
        // (A carried slot is refilled there by an access of its kind: see plan_carried.)
        const bool refill = carried(k) && write == slots_[k].write;
        cold_.push_back([this, seg, ea = std::move(ea), bits, write, other, done, tail = std::move(tail), at, dr, k,
                         refill, delta] {
            auto& a = *a_;
            asmjit::Label slow = a.newLabel(), back = a.newLabel();
            a.bind(other);
            if (write && dr.isValid()) a.mov(x86::r14d, dr);
            write_back(at.dirty);  // (ea() reads CpuState)
            ea();
            const x86::Mem host = emit_fast_lookup(seg, bits, write, slow);
            if (refill) {
                refill_slot(k, host, delta);
                access_sized(x86::ptr(x86::rdx), bits, write);
            } else {
                access_sized(host, bits, write);
            }
            if (!write && dr.isValid()) a.mov(dr, x86::eax);
            a.jmp(back);
            a.bind(slow);
            At stored = at;  // (the registers are stored already)
            stored.dirty = {};
            slow_access_call(seg, bits, write, stored);
            slow_access_done(tail, at, back, write ? x86::Gp() : dr);
            a.bind(back);  // (rdx: the slot's address, as on the hot path: see ptr_slot_)
            a.mov(x86::rdx, slot_addr(k));
            a.jmp(done);
        });
        return tested;
    }
    // The access at r13d = `ea`'s offset in `seg`, keeping its page in a slot for [reg + disp].
    bool emit_fill(int bits, bool write, Tail tail, const Emit& ea, unsigned seg, unsigned reg, int64_t disp) {
        auto& a = *a_;
        int k = int(next_slot_++ % kSlots);
        for (int tries = 1; carried_[k].on && tries < kSlots; ++tries) k = int(next_slot_++ % kSlots);
        ea();
        const x86::Gp dr = direct_for(write);
        asmjit::Label slow = a.newLabel(), done = a.newLabel();
        const auto keep = [this, k](const x86::Mem& host) {
            a_->lea(x86::rdx, host);
            a_->mov(slot_addr(k), x86::rdx);
            a_->mov(x86::ecx, x86::edx);
            a_->and_(x86::ecx, 0xFFF);
            a_->mov(slot_off(k), x86::ecx);
        };
        keep(emit_fast_lookup(seg, bits, write, slow));
        access_sized(x86::ptr(x86::rdx), bits, write, dr);
        a.bind(done);
        ptr_slot_ = dr.isValid() && plain_mov(*cur_) ? k : -1;
        ptr_set_at_ = cur_k_;
        slots_[k] = {.valid = true, .write = write, .reg = reg, .disp = disp, .fill = ++fills_};
        const At at = here();
        if (last_) tail = {};
        const bool tested = bool(tail);
        cold_.push_back([this, seg, bits, write, k, slow, done, keep, tail = std::move(tail), at, dr] {
            auto& a = *a_;
            asmjit::Label none = a.newLabel(), back = a.newLabel();
            a.bind(slow);
            if (write && dr.isValid()) a.mov(x86::r14d, dr);
            slow_access_call(seg, bits, write, at);
            // The slow path filled the TLB when the page is memory (for a store: writable RAM
            // without code): keep its address.
            a.mov(x86::r8d, x86::eax);
            keep(emit_fast_lookup(seg, bits, write, none));
            a.jmp(back);
            a.bind(none);
            a.mov(slot_off(k), kSlotNone);
            a.bind(back);
            a.mov(x86::eax, x86::r8d);
            asmjit::Label reload = a.newLabel();
            slow_access_done(tail, at, reload, write ? x86::Gp() : dr);
            a.bind(reload);  // (rdx: the slot's address, as on the hot path: see ptr_slot_)
            a.mov(x86::rdx, slot_addr(k));
            a.jmp(done);
        });
        return tested;
    }

    // ---- ALU ----
    // a in eax, b in ecx (both zero-extended to `bits`): result to r14d, packed aux to r15d;
    // or, for an ADD, SUB or CMP (and INC or DEC: `incdec`, b = 1) whose flags are live, b to
    // r15d and the kind for commit_flags() to defer.
    void emit_alu(AluOp op, int bits, bool incdec = false) {
        auto& a = *a_;
        if (op == kAdc || op == kSbb) cf_to_r8();  // CF in
        const bool defer = !flags_dead_ && op != kAdc && op != kSbb;
        switch (op) {
            case kAdd: case kAdc: case kSub: case kSbb: case kCmp: {
                const bool sub = op != kAdd && op != kAdc;
                // The result: straight to r14d when only it is needed, else via edx (r).
                const bool result_only = flags_dead_ || defer;
                const x86::Gp r = result_only ? x86::r14d : x86::edx;
                a.mov(r, x86::eax);
                if (op != kAdc && op != kSbb) {
                    // At the operand size (the upper bits stay 0): the host's flags are the
                    // guest's (see alu_host_flags).
                    if (sub) a.sub(sized(r, bits), sized(x86::ecx, bits));
                    else a.add(sized(r, bits), sized(x86::ecx, bits));
                } else {
                    if (sub) a.sub(r, x86::ecx);
                    else a.add(r, x86::ecx);
                    if (op == kAdc) a.add(r, x86::r8d);
                    if (op == kSbb) a.sub(r, x86::r8d);
                    zext(r, bits);
                }
                if (result_only) {
                    if (defer) defer_flags(incdec ? (sub ? kLfDec : kLfInc) : (sub ? kLfSub : kLfAdd), bits);
                    return;
                }
                a.mov(x86::r14d, x86::edx);
                carry_vector(sub);
                pack_aux(bits);
                return;
            }
            case kAnd: case kTest: case kOr: case kXor:
                a.mov(x86::r14d, x86::eax);
                a.xor_(x86::r15d, x86::r15d);
                a.emit(alu_inst(op), sized(x86::r14d, bits), sized(x86::ecx, bits));
                return;
        }
    }
    // The host instruction of ALU operation `op` (not ADC/SBB): CMP as SUB, TEST as AND.
    static x86::Inst::Id alu_inst(AluOp op) {
        switch (op) {
            case kAdd: return x86::Inst::kIdAdd;
            case kSub: case kCmp: return x86::Inst::kIdSub;
            case kOr: return x86::Inst::kIdOr;
            case kXor: return x86::Inst::kIdXor;
            default: return x86::Inst::kIdAnd;  // AND, TEST
        }
    }
    static x86::Gp sized(const x86::Gp& r, int bits) {
        return bits == 32 ? x86::Gp(r.r32()) : bits == 16 ? x86::Gp(r.r16()) : x86::Gp(r.r8());
    }
    // After emit_alu() of `op` and what followed it (a register write, commit_flags(), whose
    // commit_clobbers_ says whether it changed the host's flags): the host's flags are the
    // guest's, but for an INC's or DEC's CF, unless the write was to AH..BH (rotated through
    // CF) or the op is ADC or SBB (computed apart).
    void alu_host_flags(AluOp op, bool incdec, bool byte_hi_write) {
        if (op == kAdc || op == kSbb || commit_clobbers_ || byte_hi_write) return;
        host_flags_ = incdec ? HostFlags::kNoCf : HostFlags::kAll;
    }
    // An ALU operation (not ADC/SBB) on register `dst` with register `src`, the value in eax
    // (src == kSrcEax: a memory operand, 32-bit, just read), or (src == kSrcImm) the immediate
    // `imm` (INC/DEC: `incdec`, b = 1), without emit_alu()'s staging through eax and ecx: with
    // its flags dead, one instruction on the register's home in CpuState (none for CMP/TEST);
    // with them live, 32-bit, the result in r14d (and b in r15d) for commit_flags(). Returns
    // false (nothing emitted) for the forms it leaves to the general path.
    static constexpr int kSrcImm = -1, kSrcEax = -2;
    bool emit_alu_reg(AluOp op, int bits, unsigned dst, int src, uint32_t imm, bool incdec) {
        auto& a = *a_;
        const bool writes = op != kCmp && op != kTest;
        if (op == kAdc || op == kSbb) return false;
        if (src == kSrcEax && bits != 32) return false;
        if (flags_dead_ && !host_only_ && bits == 8 && dst >= 4 && src == kSrcImm &&
            (op == kAnd || op == kOr || op == kXor) && cached(dst - 4) >= 0) {
            // AND/OR/XOR AH..BH, imm8 whose flags nobody reads: on bits 8-15 of the 32-bit
            // register's copy (the other bits kept), rather than through CpuState.
            const x86::Gp h = cache_reg(cached(dst - 4));
            const uint32_t v = (imm & 0xFF) << 8;
            if (op == kAnd) a.and_(h, int32_t(v | 0xFFFF00FFu));
            else a.emit(alu_inst(op), h, asmjit::imm(int32_t(v)));
            rmw_done(dst - 4, 32);
            return true;
        }
        if (bits == 32 && src == int(dst) && (op == kXor || op == kSub) && !flags_dead_) {
            // XOR r, r and SUB r, r: 0, with the flags of a zero logic result (res 0, aux 0:
            // for SUB too, no borrow anywhere).
            alloc_for_write(dst);
            const asmjit::Operand h = rd_home(dst);
            if (h.isReg()) a.xor_(h.as<x86::Gp>(), h.as<x86::Gp>());
            else a.mov(h.as<x86::Mem>(), 0);
            rmw_done(dst, 32);
            commit_kind_ = 0;
            commit_clobbers_ = false;
            commit_flags(32, asmjit::imm(0), asmjit::imm(0));
            if (h.isReg()) alu_host_flags(kXor, false, false);
            return true;
        }
        if (flags_dead_) {
            if (!writes && !host_only_) return true;
            // In place: on the cached copy, or on the home in CpuState.
            asmjit::Operand r = x86::eax;
            if (src >= 0) r = rd(unsigned(src), bits);
            if (src >= 0 && !r.isReg()) {  // (memory to memory: through ecx)
                a.emit(bits == 32 ? x86::Inst::kIdMov : x86::Inst::kIdMovzx, x86::ecx, r);
                r = bits == 32 ? x86::Gp(x86::ecx) : bits == 16 ? x86::Gp(x86::cx) : x86::Gp(x86::cl);
            }
            const asmjit::Operand m = rmw(dst, bits);
            const int64_t v = incdec ? 1 : int64_t(int32_t(imm & mask(bits)));
            const auto inst = op == kCmp ? x86::Inst::kIdCmp : op == kTest ? x86::Inst::kIdTest : alu_inst(op);
            if (src != kSrcImm) a.emit(inst, m, r);
            else a.emit(inst, m, asmjit::imm(v));
            if (writes) rmw_done(dst, bits);
            // (For the side join after it: see host_only_.)
            if (host_only_) host_flags_ = incdec ? HostFlags::kNoCf : HostFlags::kAll;
            return true;
        }
        if (bits != 32) return false;
        const bool arith = op == kAdd || op == kSub || op == kCmp;
        const bool sub = op != kAdd;
        const auto inst = alu_inst(op);
        // The source: a cached copy, eax, or the immediate; from CpuState through r15d.
        const auto source = [&]() -> asmjit::Operand {
            if (src == kSrcEax) return x86::eax;
            if (src == kSrcImm) return asmjit::imm(int32_t(imm));
            const asmjit::Operand s = rd(unsigned(src), 32);
            if (s.isReg()) return s;
            a.mov(x86::r15d, s.as<x86::Mem>());
            return x86::r15d;
        };
        // res: the result's register; b: the source operand (ADD, SUB, CMP) or 0 (aux).
        asmjit::Operand res = x86::r14d, b = asmjit::imm(0);
        const bool in_place = writes && src != int(dst);
        if (in_place) {
            // On the destination's home (its copy: the common case), which then holds res.
            const asmjit::Operand s = incdec ? asmjit::Operand(asmjit::imm(1)) : source();
            const asmjit::Operand m = rmw(dst, 32);
            if (incdec) a.emit(sub ? x86::Inst::kIdDec : x86::Inst::kIdInc, m);
            else a.emit(inst, m, s);
            rmw_done(dst, 32);
            if (m.isReg()) res = m;
            else a.mov(x86::r14d, m.as<x86::Mem>());  // (keeps the host's flags)
            if (arith && !incdec) b = s;
        } else {
            load_reg(x86::r14d, dst, 32);
            if (incdec) a.emit(sub ? x86::Inst::kIdDec : x86::Inst::kIdInc, x86::r14d);
            else {
                asmjit::Operand s = source();
                if (writes && arith && s.isReg() && s.as<x86::Gp>().id() != x86::Gp::kIdR15) {
                    // (ADD r, r: the copy then holds the result, not the source.)
                    a.mov(x86::r15d, s.as<x86::Gp>());
                    s = x86::r15d;
                }
                a.emit(inst, x86::r14d, s);
                if (arith) b = s;
            }
        }
        if (arith) {
            commit_kind_ = lf_kind(incdec ? (sub ? kLfDec : kLfInc) : (sub ? kLfSub : kLfAdd), 32);
            ++st_.flags_deferred;
        }
        if (!incdec && arith && !(live_after_ & kFlAll & ~kFlCF)) {
            // Only CF is live after it (an INC or DEC overwrites the rest, as in ADD; DEC;
            // JNZ): aux bit 31 = CF, from the host's; the rest of the state stays as it was
            // (stale: nothing reads it before that writer), and the kind is one of INC's
            // (CF valid in aux) for what follows (see keep_cf_only).
            a.sbb(x86::eax, x86::eax);
            a.and_(x86::eax, int32_t(0x80000000u));
            keep_cf_only(x86::eax);
            commit_kind_ = 0;
            --st_.flags_deferred;  // (counted above)
            if (writes && !in_place) set_reg(x86::r14d, dst, 32);
            return true;
        }
        if (writes && !in_place) set_reg(x86::r14d, dst, 32);
        commit_clobbers_ = false;
        commit_flags(32, res, b);  // (stores only but for INC/DEC keeping CF: see commit_clobbers_)
        alu_host_flags(op, incdec, false);
        return true;
    }
    // CF (bit 31 of `cf`, the rest 0) into aux, the other flags left stale: the state an INC's
    // kind describes (CF in aux), as the translation knows it from here, up to the next flag
    // writer (the INC or DEC that overwrites the rest, which stores its kind). The state's
    // kind may still be an older one then, with other operands: harmless unless a join's
    // merge forgets what the translation knows before that writer (a later test of CF would
    // read the state's kind), so then the kind is stored (unless resolved here: 0 is right).
    void keep_cf_only(const x86::Gp& cf) {
        a_->mov(st32(kLfAux), cf);
        if (fl_ != Flags::kResolved && !(fl_ == Flags::kPending && fl_kind_ == lf_kind(kLfInc, 32)) &&
            join_before_writer())
            a_->mov(cpu8(CpuAccess::off_lf_kind(c_)), lf_kind(kLfInc, 32));
        fl_ = Flags::kPending;
        fl_kind_ = lf_kind(kLfInc, 32);
    }
    // A join's target may come before the next instruction that writes flags.
    bool join_before_writer() const {
        if (join_.pending) return true;
        for (size_t j = cur_k_ + 1; j < insns_->size(); ++j) {
            const DecodedInsn& u = (*insns_)[j];
            if (u.flags & cpu::kfSideJoin) return true;
            const FlagFx fx = flag_fx(u);
            if (fx.barrier) return true;  // (every flag is live before one: not met with CF alone)
            if (fx.writes) return false;
        }
        return true;
    }
    void defer_flags(LfOp op, int bits) {
        if (!cf_only_) a_->mov(x86::r15d, x86::ecx);  // (else sbb makes r15d)
        commit_kind_ = lf_kind(op, bits);
        ++st_.flags_deferred;
    }
    // (Generated code keeps guest registers in rsi and rdi: see cache_reg. These use r8 and r15.)
    // The carry vector into r8d (r15d clobbered).
    void carry_vector(bool sub) { emit_carry_vector(*a_, sub, x86::r8d, x86::r15d); }
    // pack_cv<bits>(r8d) into r15d.
    void pack_aux(int bits) { emit_pack_aux(*a_, bits, x86::r15d, x86::r8d); }
    void replace_cf(const x86::Gp& cf) { emit_replace_cf(*a_, x86::r15d, cf, x86::r8d); }
    // s.lf = {sext(r14d), r15d}, or with emit_alu()'s deferred kind {sext(r14d), stale} and
    // the source operand r15d; nothing when a later instruction of the block overwrites them.
    void commit_flags(int bits, const asmjit::Operand& res32 = x86::r14d,
                      const asmjit::Operand& b = x86::r15d) {
        auto& a = *a_;
        const uint8_t kind = std::exchange(commit_kind_, 0);
        if (flags_dead_) return;
        if (kind && lf_kind_incdec(kind) && !kept_dead_) {
            // INC/DEC keep CF in aux bit 31, which must hold it from here on.
            if (fl_ == Flags::kUnknown) {
                commit_clobbers_ = true;
                // A deferred ADD/SUB from an earlier block: only its CF is needed (the rest of
                // aux is stale with it and stays stale). In r << s, b << s (s: emit_kind_shift)
                // the operands' top bits are bit 31: an ADD's CF is then r' < b', a SUB's the
                // carry out of r' + b' (that is a' < b', with a' = r' + b').
                asmjit::Label go = a.newLabel(), back = a.newLabel();
                a.test(cpu8(CpuAccess::off_lf_kind(c_)), kLfKindCfStale);
                a.jnz(go);
                a.bind(back);
                cold_.push_back([this, go, back] {
                    auto& a = *a_;
                    asmjit::Label sub = a.newLabel(), cf = a.newLabel();
                    a.bind(go);
                    a.movzx(x86::r8d, cpu8(CpuAccess::off_lf_kind(c_)));
                    emit_kind_shift(a, x86::r8d);
                    a.mov(x86::eax, st32(kLfRes));
                    a.shl(x86::eax, x86::cl);
                    a.mov(x86::edx, cpu32(CpuAccess::off_lf_src(c_)));
                    a.shl(x86::edx, x86::cl);
                    a.test(x86::r8d, 4);
                    a.jnz(sub);
                    a.cmp(x86::eax, x86::edx);
                    a.jmp(cf);
                    a.bind(sub);
                    a.add(x86::eax, x86::edx);
                    a.bind(cf);
                    a.setc(x86::al);
                    a.movzx(x86::eax, x86::al);
                    a.shl(x86::eax, 31);
                    a.mov(st32(kLfAux), x86::eax);
                    a.jmp(back);
                });
            } else if (fl_ == Flags::kPending && !lf_kind_incdec(fl_kind_)) {
                // CF from redoing the deferred ADD/SUB into bit 31 (the rest stays as it is:
                // stale, or valid when a slow path resolved it, in which case bit 31 is CF).
                commit_clobbers_ = true;
                a.mov(x86::r8d, st32(kLfAux));
                a.shl(x86::r8d, 1);
                redo_flags();
                a.rcr(x86::r8d, 1);
                a.mov(st32(kLfAux), x86::r8d);
            }
        }
        if (bits == 32) {
            a.emit(x86::Inst::kIdMov, st32(kLfRes), res32);
        } else {
            if (bits == 16) a.movsx(x86::eax, x86::r14w);
            else a.movsx(x86::eax, x86::r14b);
            a.mov(st32(kLfRes), x86::eax);
        }
        if (kind) {
            if (!lf_kind_incdec(kind)) a.emit(x86::Inst::kIdMov, cpu32(CpuAccess::off_lf_src(c_)), b);
            a.mov(cpu8(CpuAccess::off_lf_kind(c_)), kind);
            fl_ = Flags::kPending;
            fl_kind_ = kind;
        } else {
            a.emit(x86::Inst::kIdMov, st32(kLfAux), b);
            if (fl_ != Flags::kResolved) a.mov(cpu8(CpuAccess::off_lf_kind(c_)), 0);
            fl_ = Flags::kResolved;
        }
    }

    // The lazy flags (flags.h) give ZF as res == 0, CF as aux bit 31, OF as aux bit 31 ^ bit 30
    // and SF as res bit 31 ^ aux bit 2. These bring OF, or SF ^ OF, to bit 31 of edx (ecx:
    // scratch); the last instruction sets the host's SF from it.
    void of_to_edx() {
        a_->mov(x86::ecx, st32(kLfAux));
        a_->lea(x86::edx, x86::ptr(x86::rcx, x86::rcx));
        a_->xor_(x86::edx, x86::ecx);
    }
    void sf_xor_of_to_edx() {
        of_to_edx();
        a_->shl(x86::ecx, 29);  // aux bit 2 (SF adjust) to bit 31
        a_->xor_(x86::edx, x86::ecx);
        a_->xor_(x86::edx, st32(kLfRes));
    }
    void sf_to_edx() {
        a_->mov(x86::edx, st32(kLfAux));
        a_->shl(x86::edx, 29);
        a_->xor_(x86::edx, st32(kLfRes));
    }

    // eval_cond(s.lf, cc) into eax (0/1). Uses ecx, edx.
    void emit_cond(unsigned cc, bool host = false) {
        auto& a = *a_;
        if (host && host_has(cc)) {
            a.set(x86::CondCode(cc), x86::al);
            a.movzx(x86::eax, x86::al);
            return;
        }
        if (cc >> 1 != 2 && !(uses_cf(cc) && cf_valid_pending())) {  // (ZF: res == 0 always)
            if (fl_ == Flags::kPending) {
                redo_flags();
                a.set(x86::CondCode(cc), x86::al);
                a.movzx(x86::eax, x86::al);
                return;
            }
            need_flags();
        }
        switch (cc >> 1) {
            case 0: of_to_edx(); a.mov(x86::eax, x86::edx); a.shr(x86::eax, 31); break;
            case 1: a.mov(x86::eax, st32(kLfAux)); a.shr(x86::eax, 31); break;
            case 2: a.xor_(x86::eax, x86::eax); a.cmp(st32(kLfRes), 0); a.sete(x86::al); break;
            case 3:  // CF | ZF
                a.xor_(x86::ecx, x86::ecx);
                a.cmp(st32(kLfRes), 0);
                a.sete(x86::cl);
                a.mov(x86::eax, st32(kLfAux));
                a.shr(x86::eax, 31);
                a.or_(x86::eax, x86::ecx);
                break;
            case 4: sf_to_edx(); a.mov(x86::eax, x86::edx); a.shr(x86::eax, 31); break;
            case 5:  // PF: even parity of the low byte of res ^ (aux >> 8)
                a.mov(x86::ecx, st32(kLfAux));
                a.shr(x86::ecx, 8);
                a.xor_(x86::ecx, st32(kLfRes));
                a.xor_(x86::eax, x86::eax);
                a.test(x86::cl, x86::cl);
                a.setp(x86::al);
                break;
            case 6: sf_xor_of_to_edx(); a.mov(x86::eax, x86::edx); a.shr(x86::eax, 31); break;
            default:  // (SF ^ OF) | ZF
                sf_xor_of_to_edx();
                a.shr(x86::edx, 31);
                a.xor_(x86::eax, x86::eax);
                a.cmp(st32(kLfRes), 0);
                a.sete(x86::al);
                a.or_(x86::eax, x86::edx);
                break;
        }
        if (cc & 1) a.xor_(x86::eax, 1);
    }

    // Jumps to `not_taken` unless condition `cc` holds (keeps eax and r14d), testing the lazy
    // words directly (see of_to_edx()), or the host's flags when they are deferred here;
    // parity goes through emit_cond(). Uses ecx, edx, r8.
    void emit_jcc_not_taken(unsigned cc, asmjit::Label not_taken, bool host = false) {
        auto& a = *a_;
        if (host && host_has(cc)) {
            a.j(x86::CondCode(cc ^ 1), not_taken);
            return;
        }
        const bool neg = cc & 1;
        if (cc >> 1 != 2 && !(uses_cf(cc) && cf_valid_pending())) {
            if (fl_ == Flags::kPending) {
                redo_flags();
                a.j(x86::CondCode(cc ^ 1), not_taken);
                return;
            }
            need_flags();
        }
        switch (cc >> 1) {
            case 0:  // O / NO
                of_to_edx();
                a.test(x86::edx, x86::edx);
                neg ? a.js(not_taken) : a.jns(not_taken);
                return;
            case 1:  // B / AE
                a.test(st32(kLfAux), 0x80000000u);
                neg ? a.jnz(not_taken) : a.jz(not_taken);
                return;
            case 2:  // Z / NZ
                a.cmp(st32(kLfRes), 0);
                neg ? a.je(not_taken) : a.jne(not_taken);
                return;
            case 3: {  // BE / A: CF | ZF
                asmjit::Label taken = a.newLabel();
                a.cmp(st32(kLfRes), 0);
                a.je(neg ? not_taken : taken);
                a.test(st32(kLfAux), 0x80000000u);
                neg ? a.jnz(not_taken) : a.jz(not_taken);
                a.bind(taken);
                return;
            }
            case 4:  // S / NS
                sf_to_edx();
                neg ? a.js(not_taken) : a.jns(not_taken);
                return;
            case 6:  // L / GE: SF ^ OF
                sf_xor_of_to_edx();
                neg ? a.js(not_taken) : a.jns(not_taken);
                return;
            case 7: {  // LE / G: (SF ^ OF) | ZF
                asmjit::Label taken = a.newLabel();
                a.cmp(st32(kLfRes), 0);
                a.je(neg ? not_taken : taken);
                sf_xor_of_to_edx();
                neg ? a.js(not_taken) : a.jns(not_taken);
                a.bind(taken);
                return;
            }
            default:
                a.mov(x86::r8d, x86::eax);
                emit_cond(cc);
                a.test(x86::eax, x86::eax);
                a.mov(x86::eax, x86::r8d);
                a.jz(not_taken);
                return;
        }
    }

    // eax = target & mask(bits); #GP(0) unless 8086 or within the CS limit. Faults with the
    // state of the instruction (pending retirements synced in the cold path).
    void near_jump_check(int bits) {
        auto& a = *a_;
        if (bits == 16) a.movzx(x86::eax, x86::ax);
        if (is8086_ || flat_cs_) return;  // (flat CS: every 32-bit target is within the limit)
        asmjit::Label bad = a.newLabel();
        a.cmp(x86::eax, st32(seg_limit(cpu::CS)));
        a.ja(bad);
        unsigned n = pend_n_;
        uint32_t len = pend_len_;
        cold_.push_back([this, bad, n, len, at = fl_, d = dirty_now(), sk = sunk_] {
            a_->bind(bad);
            write_back(d);
            materialize_sunk(sk);
            resolve_flags(at, true);
            sync_with(n, len);
            a_->lea(x86::rdi, x86::ptr(kS, -CpuAccess::off_state(c_)));
            call(addr(fault_gp0));
        });
    }
    // eax = next_eip of this instruction (the pending run plus its own length).
    void next_eip_to_eax(const DecodedInsn& i) { eip_plus(x86::eax, pend_len_ + i.len); }
    // Ends the block at EIP = eip32, retiring the pending run and this instruction, and leaves
    // through link `link` (-1: the indirect lookup). Keeps the pending run (both arms of a Jcc
    // finish); the caller clears it.
    // `off`: the target's offset from the block's start (kNoOffset: unknown).
    // A relative branch (the block's last instruction) taken to the block's own start, which
    // loop_back() makes: the target is the start's EIP, in flat CS (no limit to test).
    bool to_head(const DecodedInsn& i, int bits) const {
        return loop_ && !helper_called_ && target_off(i, bits) == 0;
    }
    void finish_branch(const x86::Gp& eip32, int link, int64_t off = kNoOffset) {
        if (link >= 0 && off == 0 && loop_ && !helper_called_) return loop_back();
        write_back();
        a_->mov(st64(kEip), eip32.r64());
        a_->add(st64(kIcount), pend_n_ + 1);
        if (eip32.id() != x86::Gp::kIdAx) a_->mov(x86::eax, eip32);
        if (link < 0) exit_dynamic();
        else exit_static(link, off);
    }
    // finish_branch() for static exit `link` to `off`, a direct_in_page() one, at EIP =
    // CpuState's EIP + `delta` (the pending run, this instruction and any displacement): EIP
    // is added to in place (changes the host's flags). Keeps the pending run.
    void finish_branch_in_page(int link, uint32_t delta, int64_t off) {
        write_back();
        a_->add(st32(kEip), int32_t(delta));
        a_->add(st64(kIcount), pend_n_ + 1);
        exit_static(link, off, false);
    }
    // A conditional branch inside the block (cpu::kfSideExit): taken, it leaves through the
    // side-exit link as a block's last branch would (the registers' dirty copies stored, the
    // pending run and the branch retired); not taken, the block goes on (the exit is an arm:
    // the translation's knowledge after it is as before it). Every flag is live at it (a
    // barrier to flag_liveness).
    void emit_side_exit(const DecodedInsn& i, int B) {
        auto& a = *a_;
        asmjit::Label not_taken = a.newLabel();
        const int64_t off = target_off(i, B);
        emit_jcc_not_taken(i.opcode & 15, not_taken, c32_);
        if (direct_in_page(kSideLink, off)) {
            finish_branch_in_page(kSideLink, pend_len_ + i.len + i.imm, off);
        } else {
            next_eip_to_eax(i);
            a.add(x86::eax, i.imm);
            near_jump_check(B);
            write_back();
            a.mov(st64(kEip), x86::rax);
            a.add(st64(kIcount), pend_n_ + 1);
            exit_static(kSideLink, off);
        }
        ended_ = false;  // (the exit ended only the taken path)
        a.bind(not_taken);
        retire(i);
    }
    // ---- side joins ----
    // A side exit whose target is a later instruction of the block (cpu::kfSideJoin; imm2
    // instructions are skipped): taken, it jumps to cold code that brings the translation's
    // state at the branch to the one at the target (bind_join), then on to the target's code.
    // The skipped instructions are translated as usual, in the not-taken path; at the target
    // the knowledge of both paths merges: the register copies are the not-taken path's (the
    // taken path stores its dirty copies that moved and loads the rest), dirty when dirty on
    // either; the pending EIP/icount run is the not-taken path's (the taken path corrects
    // CpuState's by the difference); page slots survive when both paths hold the same fill;
    // deferred flags are kept when both agree, else unknown; the host's flags are unknown.
    // Flag liveness follows both successors (flag_liveness), and no flags sink across the
    // target (sink_flags), so the flags the target's code expects are the state's on both.
    void emit_side_join(const DecodedInsn& i) {
        if (predicate_skip(i)) return;
        Join& j = join_;
        j.pending = true;
        j.at = cur_k_ + 1 + i.imm2;
        j.taken = a_->newLabel();
        // (cc ^ 1: jumps when the branch is taken. After host_only_, the host's flags are
        // the condition's.)
        assert(!host_only_prev_ || host_has(i.opcode & 15));
        emit_jcc_not_taken((i.opcode & 15) ^ 1u, j.taken, c32_);
        for (int k = 0; k < kCacheRegs; ++k) j.guest[k] = guest_of_[k], j.dirty[k] = dirty_[k];
        j.n = pend_n_ + 1;
        j.len = pend_len_ + i.len;
        for (size_t k = cur_k_ + 1; k < j.at; ++k) j.len += (*insns_)[k].len;
        j.fl = fl_;
        j.fl_kind = fl_kind_;
        std::copy(std::begin(slots_), std::end(slots_), std::begin(j.slots));
        ++st_.side_joins;
        retire(i);
    }
    // A side join that skips one instruction which can be done without a branch (a register
    // INC, DEC, ADD or SUB of an immediate, ADD of a register, MOV or LEA, 32-bit, whose flags
    // nobody reads): its value computed by LEA or MOV, which keep the host's flags, written by
    // a CMOV on the branch's condition when the condition is in the host's flags (a TEST or
    // CMP just before: host_only_), and the skip's one instruction fewer taken from icount by
    // SETcc. A branch the host cannot predict (on data) costs more than all of it.
    size_t predicated_ = SIZE_MAX;  // the instruction done so (not emitted again)
    bool predicate_skip(const DecodedInsn& j) {
        const unsigned cc = j.opcode & 15;
        const size_t k = cur_k_ + 1;
        if (!c32_ || j.imm2 != 1 || !host_has(cc) || k + 1 >= insns_->size()) return false;
        const DecodedInsn& i = (*insns_)[k];
        const Desc* d = hm_.find(i.fn);
        if (!d || d->bits != 32) return false;
        const FlagFx fx = flag_fx(i);
        if (fx.barrier || fx.reads || (live_[k] & fx.writes)) return false;
        const bool mem = i.flags & cpu::kfMem;
        const AluOp op = AluOp(d->op);
        // The destination, and the new value's sources: register a (+ register b) + disp.
        int dst = -1, ra = -1, rb = -1;
        int32_t disp = 0;
        switch (d->kind) {
            case Kind::kIncDecR: case Kind::kIncDecRm:
                if (d->kind == Kind::kIncDecRm && mem) return false;
                dst = ra = int(d->kind == Kind::kIncDecR ? i.reg : i.rm);
                disp = d->op ? -1 : 1;
                break;
            case Kind::kAluRmImm: case Kind::kAluAccImm:
                if (mem || (op != kAdd && op != kSub)) return false;
                dst = ra = d->kind == Kind::kAluAccImm ? int(cpu::EAX) : int(i.rm);
                disp = op == kAdd ? int32_t(i.imm) : -int32_t(i.imm);
                break;
            case Kind::kAluRmR: case Kind::kAluRRm:
                if (mem || op != kAdd) return false;
                dst = ra = int(d->kind == Kind::kAluRmR ? i.rm : i.reg);
                rb = int(d->kind == Kind::kAluRmR ? i.reg : i.rm);
                break;
            case Kind::kMovRmR: case Kind::kMovRRm:
                if (mem) return false;
                dst = int(d->kind == Kind::kMovRmR ? i.rm : i.reg);
                ra = int(d->kind == Kind::kMovRmR ? i.reg : i.rm);
                break;
            case Kind::kMovRImm:
                dst = int(i.reg);
                disp = int32_t(i.imm);
                break;
            case Kind::kLea:
                if (!mem || !(i.flags & cpu::kfAddr32)) return false;
                dst = int(i.reg);
                break;
            default:
                return false;
        }
        auto& a = *a_;
        const auto value = [&](int r, const x86::Gp& scratch) {
            const x86::Gp h = fetch(unsigned(r));
            if (h.isValid()) return h;
            a.mov(scratch, gpr32(unsigned(r)));
            return scratch;
        };
        if (d->kind == Kind::kLea) {
            emit_ea(i);  // (LEA and MOV only, in 32-bit addressing)
            a.mov(x86::eax, x86::r13d);
        } else if (ra < 0) {
            a.mov(x86::eax, disp);
        } else {
            const x86::Gp va = value(ra, x86::eax);
            if (rb >= 0) a.lea(x86::eax, x86::ptr(va.r64(), value(rb, x86::ecx).r64()));
            else if (disp) a.lea(x86::eax, x86::ptr(va.r64(), disp));
            else if (va.id() != x86::Gp::kIdAx) a.mov(x86::eax, va);
        }
        // Written when the branch is not taken.
        const x86::Gp h = fetch(unsigned(dst));
        const x86::CondCode write = x86::CondCode(cc ^ 1);
        if (h.isValid()) {
            a.cmov(write, h, x86::eax);
            rmw_done(unsigned(dst), 32);
        } else {
            a.mov(x86::ecx, gpr32(unsigned(dst)));
            a.cmov(write, x86::ecx, x86::eax);
            a.mov(gpr32(unsigned(dst)), x86::ecx);
        }
        a.set(x86::CondCode(cc), x86::r8b);
        a.movzx(x86::r8d, x86::r8b);
        a.sub(st64(kIcount), x86::r8);
        retire(j);
        retire(i);
        // (Not forget_written(): a page slot on the register moved on one path only.)
        for (PageSlot& p : slots_)
            if (p.reg == unsigned(dst)) p.valid = false;
        predicated_ = k;
        ++st_.side_joins;
        ++st_.joins_predicated;
        ++st_.insns_translated;
        ++st_.insns_inline;
        return true;
    }
    // At the join's target, before its code: see emit_side_join.
    void bind_join() {
        Join j = join_;
        join_.pending = false;
        assert(!sunk_.active && !ended_);
        struct Fix {
            uint8_t store = 0, load = 0;  // by cache slot: the taken path's copy stored, M's loaded
            int8_t from[kCacheRegs] = {}, to[kCacheRegs] = {};
            int64_t dn = 0, dlen = 0;
        } f;
        for (int k = 0; k < kCacheRegs; ++k) {
            f.from[k] = j.guest[k];
            f.to[k] = guest_of_[k];
            const bool same = j.guest[k] >= 0 && j.guest[k] == guest_of_[k];
            if (same) dirty_[k] = dirty_[k] || j.dirty[k];
            if (!same && j.guest[k] >= 0 && j.dirty[k]) f.store = uint8_t(f.store | 1u << k);
            if (!same && guest_of_[k] >= 0) f.load = uint8_t(f.load | 1u << k);
        }
        // CpuState's EIP + pend_len_ is the target on both paths, its icount + pend_n_ the
        // instructions each retired.
        f.dn = int64_t(j.n) - int64_t(pend_n_);
        f.dlen = int64_t(j.len) - int64_t(pend_len_);
        if (fl_ != j.fl || (fl_ == Flags::kPending && fl_kind_ != j.fl_kind)) fl_ = Flags::kUnknown;
        for (int k = 0; k < kSlots; ++k)
            if (!(slots_[k] == j.slots[k])) slots_[k].valid = false;
        host_flags_ = HostFlags::kNone;
        ptr_slot_ = -1;
        asmjit::Label join = a_->newLabel();
        a_->bind(join);
        cold_.push_back([this, f, taken = j.taken, join] {
            auto& a = *a_;
            a.bind(taken);
            for (int k = 0; k < kCacheRegs; ++k)
                if (f.store >> k & 1) a.mov(gpr32(unsigned(f.from[k])), cache_reg(k));
            for (int k = 0; k < kCacheRegs; ++k)
                if (f.load >> k & 1) a.mov(cache_reg(k), gpr32(unsigned(f.to[k])));
            if (f.dn) a.add(st64(kIcount), int32_t(f.dn));
            if (f.dlen) a.add(st64(kEip), int32_t(f.dlen));
            a.jmp(join);
        });
    }
    // ---- a block that branches back to its own start ----
    // (A Jcc, JMP or LOOP whose target is the block's first byte, in flat 32-bit code within
    // one page.) The registers it uses first are loaded into the cache at its start, and the
    // branch back keeps them there. Those the block writes are dirty from the start (the head
    // has no clean state to return to), so the branch back stores nothing of them: it stores
    // only other dirty copies, reloads any head register that moved, retires the pass, and
    // makes the checked entry's tests (the budget with stop_, the interrupt request), leaving
    // through cold code that stores the head's copies, before it jumps back past the loads.
    // (Its EIP is the block's start throughout: no helper ran (they retire what precedes
    // them), slow paths restore it.)
    bool loop_ = false;
    asmjit::Label loop_head_;
    int8_t loop_guest_[kCacheRegs] = {-1, -1, -1, -1, -1, -1, -1};  // the head's cache slots
    bool loop_dirty_[kCacheRegs] = {};                      // ... and which are dirty there
    void plan_loop(const std::vector<DecodedInsn>& insns) {
        loop_ = false;
        if (!c32_ || !(block_.mode & Cpu::kModeFlatCs) || block_.page2 != ~0u || insns.empty()) return;
        const DecodedInsn& b = insns.back();
        const Desc* d = hm_.find(b.fn);
        if (!d || (d->kind != Kind::kJcc && d->kind != Kind::kJmpRel && d->kind != Kind::kLoop) || d->bits != 32)
            return;
        int64_t end = 0;
        for (const DecodedInsn& i : insns) end += i.len;
        if (end + int32_t(b.imm) != 0) return;
        loop_ = true;
        int n = 0;
        uint8_t written = 0;
        for (size_t k = 0; k < insns.size(); ++k) {
            const uint8_t used = used_mask(insns[k]);
            written = uint8_t(written | written_mask(insns[k]));
            cur_k_ = k;
            // (Each, even one used once a pass: the next pass uses it again.)
            for (unsigned r = 0; r < 8 && n < kCacheRegs; ++r)
                if ((used >> r & 1) && host_of_[r] < 0) {
                    a_->mov(cache_reg(cache_alloc(r)), gpr32(r));
                    ++n;
                }
        }
        if (d->kind == Kind::kLoop) written = uint8_t(written | 1u << cpu::ECX);
        for (int k = 0; k < kCacheRegs; ++k) {
            loop_guest_[k] = guest_of_[k];
            loop_dirty_[k] = guest_of_[k] >= 0 && (written >> guest_of_[k] & 1);
            dirty_[k] = loop_dirty_[k];
        }
        plan_carried(insns);
        loop_head_ = a_->newLabel();
        a_->bind(loop_head_);
    }
    // ---- page slots carried around a loop ----
    // A loop that walks memory by a register changed by constants (INC ESI, ADD ESI, 16 ...)
    // would look its pages up on every pass; instead the slots for [reg + d] that each pass
    // uses are carried from one pass to the next (carried_): at the block's start their
    // offsets are set to kSlotNone, the translation takes them as held from the head on, and
    // an access through one that finds its page elsewhere (or none yet) refills it in its
    // cold path (emit_reuse, emit_rmw_load); the branch back moves each by the register's
    // change over the pass, so that it holds [reg + d] again for the head (an offset that
    // leaves the page then fails the next check and refills), or forgets it when the pass
    // replaced or dropped it. What keeps a slot's address valid for the rest of the block
    // (see emit_fill) keeps it valid across passes: a loop block calls no helper.
    void plan_carried(const std::vector<DecodedInsn>& insns) {
        if (is8086_ || !flat_) return;
        // Registers written other than by constant adjustments.
        uint8_t unstable = 0;
        for (const DecodedInsn& i : insns) {
            uint8_t w = written_mask(i);
            unsigned r = 0;
            int64_t change = 0;
            if (reg_adjust(i, r, change)) w = uint8_t(w & ~(1u << r));
            unstable = uint8_t(unstable | w);
        }
        struct Group {
            unsigned reg;
            int64_t d0;
            bool write;
            unsigned uses;
        };
        std::vector<Group> groups;
        int64_t shift[8] = {};  // each register's change since the head
        for (const DecodedInsn& i : insns) {
            unsigned r = 0;
            int64_t d = 0;
            int use = 0;
            if (slot_access(i, r, d, use) && !(unstable >> r & 1)) {
                const int64_t h = d + shift[r];
                auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) {
                    return x.reg == r && h - x.d0 > -4096 + 8 && h - x.d0 < 4096 - 8;
                });
                if (g == groups.end()) g = groups.insert(groups.end(), Group{r, h, false, 0});
                g->write = g->write || use == 2;
                ++g->uses;
            }
            unsigned ar = 0;
            int64_t change = 0;
            if (reg_adjust(i, ar, change)) shift[ar] += change;
        }
        std::stable_sort(groups.begin(), groups.end(), [](const Group& x, const Group& y) { return x.uses > y.uses; });
        for (size_t k = 0; k < groups.size() && k < size_t(kSlots); ++k) {
            const Group& g = groups[k];
            a_->mov(slot_off(int(k)), kSlotNone);
            slots_[k] = {.valid = true, .write = g.write, .reg = g.reg, .disp = g.d0, .fill = ++fills_};
            carried_[k] = {.on = true, .fill = fills_, .d0 = g.d0};
            ++st_.slots_carried;
        }
        next_slot_ = unsigned(std::min(groups.size(), size_t(kSlots)));
    }
    // Slot k is carried and still holds what the head expects of it (its fill, on its register).
    bool carried(int k) const { return carried_[k].on && slots_[k].valid && slots_[k].fill == carried_[k].fill; }
    // At the branch back: each carried slot moved by its register's change over the pass
    // (see plan_carried), or forgotten.
    void carry_slots() {
        for (int k = 0; k < kSlots; ++k) {
            if (!carried_[k].on) continue;
            if (!carried(k)) {
                a_->mov(slot_off(k), kSlotNone);
                continue;
            }
            const int64_t change = carried_[k].d0 - slots_[k].disp;
            if (!change) continue;
            a_->add(slot_addr(k), int32_t(change));
            a_->add(slot_off(k), int32_t(change));
        }
    }
    void loop_back() {
        auto& a = *a_;
        carry_slots();
        Dirty head;
        for (int k = 0; k < kCacheRegs; ++k) {
            const int g = guest_of_[k];
            head.guest[k] = loop_guest_[k];
            if (loop_dirty_[k]) head.mask = uint8_t(head.mask | 1u << k);
            // A copy the head does not have in this slot: stored when dirty (a head register
            // not written by the block is clean in both places).
            if (g >= 0 && g != loop_guest_[k] && dirty_[k]) a.mov(gpr32(unsigned(g)), cache_reg(k));
        }
        for (int k = 0; k < kCacheRegs; ++k)
            if (loop_guest_[k] >= 0 && host_of_[loop_guest_[k]] != k)
                a.mov(cache_reg(k), gpr32(unsigned(loop_guest_[k])));
        asmjit::Label out = a.newLabel();
        a.add(st64(kIcount), pend_n_ + 1);
        a.mov(x86::r8, st64(kIcount));
        a.add(x86::r8, int32_t(cur_k_ + 1));
        a.cmp(x86::r8, x86::qword_ptr(kS, cpu_disp(c_) + CpuAccess::off_chain_end(c_)));
        a.ja(out);  // (EIP: the block's start, as the branch's target)
        emit_irq_and_enter(out);
        a.jmp(loop_head_);
        cold_.push_back([this, out, head] {
            a_->bind(out);
            write_back(head);
            a_->jmp(exit_);
        });
        ended_ = true;
    }

    // Offsets from the block's start of the instruction after `i` and of its relative target
    // (kNoOffset when an operand size of 16 truncates it).
    int64_t next_off(const DecodedInsn& i) const { return offset_ + i.len; }
    int64_t target_off(const DecodedInsn& i, int bits) const {
        return bits == 32 ? next_off(i) + int32_t(i.imm) : kNoOffset;
    }
    void clear_pending() { pend_n_ = 0, pend_len_ = 0; }

    // ---- stack ----
    // sp() into eax.
    void load_sp() {
        auto& a = *a_;
        asmjit::Label big = a.newLabel();
        load_reg(x86::eax, cpu::ESP, 32);
        if (flat_) return;  // SS is 32-bit
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        a.movzx(x86::eax, x86::ax);
        a.bind(big);
    }
    // eax = eax masked like a stack offset (stack32 ? 32 : 16 bits).
    void mask_sp() {
        auto& a = *a_;
        if (flat_) return;
        asmjit::Label big = a.newLabel();
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        a.movzx(x86::eax, x86::ax);
        a.bind(big);
    }
    // set_sp(eax).
    void store_sp() {
        auto& a = *a_;
        if (flat_) {
            store_reg(x86::eax, cpu::ESP, 32);
            return;
        }
        asmjit::Label big = a.newLabel(), done = a.newLabel();
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        store_reg(x86::eax, cpu::ESP, 16);  // (in place: see store_reg)
        a.jmp(done);
        a.bind(big);
        store_reg(x86::eax, cpu::ESP, 32);
        a.bind(done);
    }
    // push<bits>(r14d): writes first, then ESP (a faulting write leaves ESP). Returns
    // emit_write()'s "stop_ tested" (the ESP update is its tail).
    bool emit_push(int bits, bool slots = false, bool fill = true) {
        if (slots && flat_ && !is8086_) {
            // Through a page slot on ESP (see emit_load): the store at [ESP - n], then ESP -= n
            // (also on the cold path's way back; its tail, when stop_ is set, from r13d).
            const int n = bits / 8;
            int32_t delta = 0;
            const int k = find_slot(cpu::ESP, -n, unsigned(n), true, delta);
            if (k >= 0 || (fill && store_fills(cpu::ESP))) {
                Emit ea = [this, n] {
                    load_reg(x86::r13d, cpu::ESP, 32);
                    a_->sub(x86::r13d, n);
                };
                Tail set_sp = [this] { store_reg(x86::r13d, cpu::ESP, 32); };
                const bool tested = k >= 0 ? emit_reuse(k, delta, bits, true, set_sp, ea, cpu::SS)
                                           : emit_fill(bits, true, set_sp, ea, cpu::SS, cpu::ESP, -n);
                add_reg(cpu::ESP, -n);
                return tested;
            }
        }
        if (flat_) {  // (SS is 32-bit: no masks)
            load_reg(x86::r13d, cpu::ESP, 32);
            a_->sub(x86::r13d, bits / 8);
        } else {
            load_sp();
            a_->sub(x86::eax, bits / 8);
            mask_sp();
            a_->mov(x86::r13d, x86::eax);
        }
        auto set_sp = [this] {
            if (flat_) return store_reg(x86::r13d, cpu::ESP, 32);
            a_->mov(x86::eax, x86::r13d);
            store_sp();
        };
        const bool tested = emit_write(cpu::SS, bits, set_sp);
        set_sp();
        return tested;
    }

    bool emit_inline(const DecodedInsn& i) {
        const Desc* d = hm_.find(i.fn);
        if (!d) return false;
        auto& a = *a_;
        const int B = d->bits;
        const bool mem = i.flags & cpu::kfMem;
        const AluOp op = AluOp(d->op);
        switch (d->kind) {
            case Kind::kAluRmR: case Kind::kAluRmImm: case Kind::kAluAccImm:
            case Kind::kTestRmImm: case Kind::kIncDecRm: case Kind::kIncDecR: {
                const bool incdec = d->kind == Kind::kIncDecRm || d->kind == Kind::kIncDecR;
                const bool writes = incdec || (op != kCmp && op != kTest);
                const bool dst_mem = mem && d->kind != Kind::kAluAccImm && d->kind != Kind::kIncDecR;
                const unsigned dst_reg = d->kind == Kind::kAluAccImm ? unsigned(cpu::EAX)
                                         : d->kind == Kind::kIncDecR ? i.reg : i.rm;
                const AluOp o = incdec ? (d->op ? kSub : kAdd) : op;
                const int src = d->kind == Kind::kAluRmR ? int(i.reg) : kSrcImm;
                if (!dst_mem && emit_alu_reg(o, B, dst_reg, src, i.imm, incdec)) {
                    retire(i);
                    return true;
                }
                bool tested = false;
                if (dst_mem) {
                    // (Up to the store, only emit_alu() and the operand's load run, which keep
                    // rdx but for ADC and SBB.)
                    rmw_rdx_ = writes && o != kAdc && o != kSbb;
                    // (Read only: CMP and TEST; a slow path that stops finishes them.)
                    Tail t;
                    if (!writes) t = alu_tail(o, B, true, d->kind == Kind::kAluRmR ? int(i.reg) : -1, i.imm, -1);
                    tested = load_rm(i, B, !writes, std::move(t));
                }
                else load_reg(x86::eax, dst_reg, B);
                if (incdec) a.mov(x86::ecx, 1);
                else if (d->kind == Kind::kAluRmR) load_reg(x86::ecx, i.reg, B);
                else a.mov(x86::ecx, i.imm & mask(B));
                // Only CF live after a memory destination's ADD or SUB (as in ADD [m], r;
                // INC; DEC; JNZ): taken from the host's before the store's test, and kept in
                // aux bit 31 with an INC's kind, as emit_alu_reg() does for registers.
                const bool cf_only = dst_mem && writes && !incdec && (o == kAdd || o == kSub) &&
                                     !flags_dead_ && !(live_after_ & kFlAll & ~kFlCF);
                cf_only_ = cf_only;
                emit_alu(o, B, incdec);
                cf_only_ = false;
                if (cf_only) {
                    a.sbb(x86::r15d, x86::r15d);
                    commit_kind_ = 0;
                    --st_.flags_deferred;  // (counted by emit_alu)
                }
                if (writes) {
                    if (dst_mem) store_rm(i, B, true);
                    else set_reg(x86::r14d, dst_reg, B);
                }
                commit_clobbers_ = false;
                if (cf_only) {
                    a.and_(x86::r15d, int32_t(0x80000000u));
                    keep_cf_only(x86::r15d);
                } else {
                    commit_flags(B);
                }
                if (!(writes && dst_mem)) alu_host_flags(o, incdec, writes && B == 8 && dst_reg >= 4);
                retire(i);
                if (cf_only) {
                    // Stopping here (a store into decoded code) ends the block: the state then
                    // gets the whole of the deferred ADD or SUB, from the result in r14d.
                    check_stop([this, o, B, src, imm = i.imm] {
                        auto& a = *a_;
                        if (B == 32) a.mov(x86::eax, x86::r14d);
                        else if (B == 16) a.movsx(x86::eax, x86::r14w);
                        else a.movsx(x86::eax, x86::r14b);
                        a.mov(st32(kLfRes), x86::eax);
                        if (src >= 0) load_reg(x86::ecx, unsigned(src), B);
                        else a.mov(x86::ecx, imm & mask(B));
                        a.mov(cpu32(CpuAccess::off_lf_src(c_)), x86::ecx);
                        a.mov(cpu8(CpuAccess::off_lf_kind(c_)), lf_kind(o == kAdd ? kLfAdd : kLfSub, B));
                    });
                } else if (dst_mem && !tested) {
                    check_stop();
                }
                return true;
            }
            case Kind::kAluRRm: {
                if (!mem && emit_alu_reg(op, B, i.reg, i.rm, 0, false)) {
                    retire(i);
                    return true;
                }
                // (A slow path that stops finishes the instruction: alu_tail.)
                const bool writes = op != kCmp && op != kTest;
                Tail t;
                if (mem && op != kAdc && op != kSbb) t = alu_tail(op, B, false, int(i.reg), 0, writes ? int(i.reg) : -1);
                if (mem && B == 32 && op != kAdc && op != kSbb) {
                    const bool tested = emit_load(B, std::move(t));
                    emit_alu_reg(op, B, i.reg, kSrcEax, 0, false);
                    retire(i);
                    if (!tested) check_stop();
                    return true;
                }
                bool tested = false;
                if (mem) {
                    tested = emit_load(B, std::move(t));
                    a.mov(x86::ecx, x86::eax);
                } else {
                    load_reg(x86::ecx, i.rm, B);
                }
                load_reg(x86::eax, i.reg, B);
                emit_alu(op, B);
                if (writes) set_reg(x86::r14d, i.reg, B);
                commit_clobbers_ = false;
                commit_flags(B);
                alu_host_flags(op, false, writes && B == 8 && i.reg >= 4);
                retire(i);
                if (mem && !tested) check_stop();
                return true;
            }
            case Kind::kMovRmR: case Kind::kMovRmImm: case Kind::kMovMoffsAcc: {
                const unsigned src = d->kind == Kind::kMovMoffsAcc ? unsigned(cpu::EAX) : i.reg;
                const bool to_mem = mem || d->kind == Kind::kMovMoffsAcc;
                if (!to_mem && d->kind == Kind::kMovRmR && B == 32) {
                    // Register to register: one move between the homes (a copy of the
                    // destination is made without loading it).
                    if (src != i.rm) {
                        alloc_for_write(i.rm);
                        const asmjit::Operand s = rd(src, 32);
                        if (s.isReg()) {
                            a.emit(x86::Inst::kIdMov, rd_home(i.rm), s);
                            rmw_done(i.rm, 32);
                        } else {
                            write_home(i.rm, x86::Inst::kIdMov, s);
                        }
                    }
                    retire(i);
                    return true;
                }
                if (d->kind == Kind::kMovRmImm) a.mov(x86::r14d, i.imm & mask(B));
                else if (to_mem && B == 32 && cached(src) >= 0) direct_reg_ = int(src);  // (see direct_for)
                else load_reg(x86::r14d, src, B);
                bool tested = false;
                if (to_mem) tested = emit_store(B, [] {});
                else set_reg(x86::r14d, i.rm, B);
                direct_reg_ = -1;
                retire(i);
                if (to_mem && !tested) check_stop();
                return true;
            }
            case Kind::kMovRRm: case Kind::kMovAccMoffs: {
                const unsigned dst = d->kind == Kind::kMovAccMoffs ? unsigned(cpu::EAX) : i.reg;
                const bool from_mem = mem || d->kind == Kind::kMovAccMoffs;
                auto set_dst = [this, dst, B] { set_reg(x86::eax, dst, B); };
                bool tested = false;
                if (from_mem && B == 32) {
                    // Into the destination's copy (see direct_for), made here when the address
                    // does not read the register (it would then be loaded, not made).
                    if (dst != i.base && dst != i.index) alloc_for_write(dst);
                    direct_reg_ = int(dst);
                    tested = emit_load(B, set_dst);
                    direct_reg_ = -1;
                    if (direct_used_) rmw_done(dst, 32);
                    else set_dst();
                    retire(i);
                    if (!tested) check_stop();
                    return true;
                }
                if (from_mem) {
                    tested = emit_load(B, set_dst);
                } else {
                    load_reg(x86::eax, i.rm, B);
                }
                set_dst();
                retire(i);
                if (from_mem && !tested) check_stop();
                return true;
            }
            case Kind::kMovRImm: {
                if (B == 32) {
                    // Into a copy (made when a later instruction uses it), else CpuState; the
                    // old value is not loaded.
                    alloc_for_write(i.reg);
                    a.emit(x86::Inst::kIdMov, rd_home(i.reg), asmjit::imm(int32_t(i.imm)));
                } else {
                    a.emit(x86::Inst::kIdMov, rmw(i.reg, B), asmjit::imm(int32_t(i.imm & mask(B))));
                }
                rmw_done(i.reg, B);
                retire(i);
                return true;
            }
            case Kind::kLea:
                if (!mem) return false;  // #UD: the handler raises it
                if (B == 32) {
                    // (A copy made for the write is not loaded: not when the address reads it.)
                    if (i.reg != i.base && i.reg != i.index) alloc_for_write(i.reg);
                    if (emit_ea(i, int(i.reg))) rmw_done(i.reg, 32);
                    else set_reg(x86::r13d, i.reg, B);
                    retire(i);
                    return true;
                }
                emit_ea(i);
                set_reg(x86::r13d, i.reg, B);
                retire(i);
                return true;
            case Kind::kJcc: case Kind::kJmpRel: {
                if (!last_) {
                    if (d->kind != Kind::kJcc || !(i.flags & cpu::kfSideExit)) return false;
                    if (i.flags & cpu::kfSideJoin) emit_side_join(i);
                    else emit_side_exit(i, B);
                    return true;
                }
                asmjit::Label not_taken = a.newLabel();
                if (to_head(i, B)) {
                    // Back to the block's start: no EIP to compute (see loop_back).
                    if (d->kind == Kind::kJcc) emit_jcc_not_taken(i.opcode & 15, not_taken, c32_);
                    loop_back();
                    a.bind(not_taken);
                    if (d->kind == Kind::kJcc) {
                        next_eip_to_eax(i);
                        finish_branch(x86::eax, 1, next_off(i));
                    }
                    clear_pending();
                    return true;
                }
                const int64_t taken_off = target_off(i, B);
                if (direct_in_page(0, taken_off) &&
                    (d->kind != Kind::kJcc || direct_in_page(1, next_off(i)))) {
                    // No EIP in eax: each arm adds its own to CpuState's.
                    if (d->kind == Kind::kJcc) emit_jcc_not_taken(i.opcode & 15, not_taken, c32_);
                    finish_branch_in_page(0, pend_len_ + i.len + uint32_t(i.imm), taken_off);
                    a.bind(not_taken);
                    if (d->kind == Kind::kJcc) finish_branch_in_page(1, pend_len_ + i.len, next_off(i));
                    clear_pending();
                    return true;
                }
                next_eip_to_eax(i);  // (keeps the host's flags in 32-bit code)
                if (d->kind == Kind::kJcc) emit_jcc_not_taken(i.opcode & 15, not_taken, c32_);
                a.add(x86::eax, i.imm);
                near_jump_check(B);
                finish_branch(x86::eax, 0, target_off(i, B));
                a.bind(not_taken);
                if (d->kind == Kind::kJcc) finish_branch(x86::eax, 1, next_off(i));
                clear_pending();
                return true;
            }
            case Kind::kCallRel: {
                if (!last_) return false;
                if (B == 32 && flat_cs_ && !is8086_) {  // (no limit to check, no mask)
                    eip_plus(x86::r14d, pend_len_ + i.len);  // return address
                    a.lea(x86::r15d, x86::ptr(x86::r14, int32_t(i.imm)));  // target (callee-saved: kept by the push's slow path)
                } else {
                    next_eip_to_eax(i);
                    a.mov(x86::r14d, x86::eax);  // return address
                    a.add(x86::eax, i.imm);
                    near_jump_check(B);
                    a.mov(x86::r15d, x86::eax);  // target (callee-saved: kept by the push's slow path)
                }
                emit_push(B);
                finish_branch(x86::r15d, 0, target_off(i, B));
                clear_pending();
                return true;
            }
            case Kind::kCallRm: case Kind::kJmpRm: {
                // CALL/JMP r/m: the target is read (and may fault), checked against the CS
                // limit, then (CALL) the return address pushed; out by the indirect lookup.
                if (!last_) return false;
                load_rm(i, B, true);
                near_jump_check(B);
                if (d->kind == Kind::kCallRm) {
                    a.mov(x86::r15d, x86::eax);  // target (as for CALL rel)
                    eip_plus(x86::r14d, pend_len_ + i.len);  // return address
                    emit_push(B);
                    a.mov(x86::eax, x86::r15d);
                }
                finish_branch(x86::eax, -1);
                clear_pending();
                return true;
            }
            case Kind::kRetNear: {
                if (!last_) return false;
                if (flat_) {
                    load_reg(x86::r13d, cpu::ESP, 32);
                    // (Through a page slot a POP or a read at [ESP] before it filled.)
                    int32_t delta = 0;
                    const int k = is8086_ ? -1 : find_slot(cpu::ESP, 0, unsigned(B / 8), false, delta);
                    if (k >= 0) emit_reuse(k, delta, B, false, Tail{}, [this] { load_reg(x86::r13d, cpu::ESP, 32); }, cpu::SS);
                    else emit_read(cpu::SS, B);
                } else {
                    load_sp();
                    mask_sp();
                    a.mov(x86::r13d, x86::eax);
                    emit_read(cpu::SS, B);
                }
                near_jump_check(B);
                a.mov(x86::r14d, x86::eax);
                const int32_t pop = B / 8 + ((i.opcode & 1) ? 0 : (i.imm & 0xFFFF));
                if (flat_) {
                    a.lea(x86::eax, x86::ptr(x86::r13, pop));  // (r13d: ESP, kept by the read)
                } else {
                    load_sp();
                    a.add(x86::eax, pop);
                }
                store_sp();
                finish_branch(x86::r14d, -1);
                clear_pending();
                return true;
            }
            case Kind::kPushR:
                load_reg(x86::r14d, i.reg, B);
                if (i.reg == cpu::ESP && push_sp_new_) {
                    a.sub(x86::r14d, B / 8);
                    zext(x86::r14d, B);
                }
                if (!emit_push(B, true)) check_stop();
                retire(i);
                return true;
            case Kind::kPushRm:
                // The 8086 pushes SP as decremented: left to the handler.
                if (!mem && i.rm == cpu::ESP && push_sp_new_) return false;
                load_rm(i, B, true);  // (an ESP-based address uses ESP before the push)
                a.mov(x86::r14d, x86::eax);
                // (A memory source's read may set stop_ too: then the test stays.)
                if (!emit_push(B, true, !mem) || mem) check_stop();
                retire(i);
                return true;
            case Kind::kPushImm:
                a.mov(x86::r14d, i.imm & mask(B));
                if (!emit_push(B, true)) check_stop();
                retire(i);
                return true;
            case Kind::kBtImm: {
                // BT/BTS/BTR/BTC r/m, imm8: CF = the bit (before BTS/BTR/BTC change it); the
                // other flags stay as they were, OF included (lf_set_cf).
                resolve_inline();
                load_rm(i, B, d->op == 4);  // (BT only reads)
                const unsigned bit = i.imm & unsigned(B - 1);
                a.mov(x86::r14d, x86::eax);
                switch (d->op) {
                    case 4: a.bt(x86::r14d, bit); break;
                    case 5: a.bts(x86::r14d, bit); break;
                    case 6: a.btr(x86::r14d, bit); break;
                    default: a.btc(x86::r14d, bit); break;
                }
                a.setc(x86::cl);
                a.movzx(x86::ecx, x86::cl);
                // The new aux in r15d (callee-saved: it survives the store's slow path), stored
                // after the store so that a faulting store leaves the flags alone.
                a.mov(x86::r15d, st32(kLfAux));
                replace_cf(x86::ecx);
                if (d->op != 4) store_rm(i, B, mem);
                a.mov(st32(kLfAux), x86::r15d);
                retire(i);
                if (mem) check_stop();
                return true;
            }
            case Kind::kPopR: {
                int32_t delta = 0;
                const bool slots = flat_ && !is8086_ && i.reg != cpu::ESP;  // (as slot_access)
                const int k = slots ? find_slot(cpu::ESP, 0, unsigned(B / 8), false, delta) : -1;
                if (slots && (k >= 0 || want_slot_)) {
                    // Through a page slot on ESP (see emit_load): the read at [ESP], then
                    // ESP += n and the register (the cold path's tail, when stop_ is set, from
                    // r13d).
                    Emit ea = [this] { load_reg(x86::r13d, cpu::ESP, 32); };
                    Tail finish = [this, reg = unsigned(i.reg), B] {
                        a_->mov(x86::r14d, x86::eax);
                        a_->lea(x86::eax, x86::ptr(x86::r13, B / 8));
                        store_reg(x86::eax, cpu::ESP, 32);
                        set_reg(x86::r14d, reg, B);
                    };
                    // (32 bits: into the destination's copy, as MOV r32, [m] does.)
                    if (B == 32) {
                        alloc_for_write(i.reg);
                        direct_reg_ = int(i.reg);
                    }
                    const bool tested = k >= 0 ? emit_reuse(k, delta, B, false, finish, ea, cpu::SS)
                                               : emit_fill(B, false, finish, ea, cpu::SS, cpu::ESP, 0);
                    direct_reg_ = -1;
                    if (B == 32 && direct_used_) {
                        rmw_done(i.reg, 32);
                    } else {
                        a.mov(x86::r14d, x86::eax);
                        set_reg(x86::r14d, i.reg, B);
                    }
                    add_reg(cpu::ESP, B / 8);
                    retire(i);
                    if (!tested) check_stop();
                    return true;
                }
                load_sp();
                a.mov(x86::r13d, x86::eax);
                auto finish = [this, reg = unsigned(i.reg), B] {
                    a_->mov(x86::r14d, x86::eax);
                    a_->mov(x86::eax, x86::r13d);
                    a_->add(x86::eax, B / 8);
                    store_sp();
                    set_reg(x86::r14d, reg, B);
                };
                const bool tested = emit_read(cpu::SS, B, finish);
                finish();
                retire(i);
                if (!tested) check_stop();
                return true;
            }
            case Kind::kShift1: case Kind::kShiftImm: {
                unsigned count = d->kind == Kind::kShift1 ? 1 : (i.imm & 0xFF);
                if (shift_masked_) count &= 31;
                const bool rot = d->op == kRol || d->op == kRor;
                // Count 0 changes nothing (after reading the operand); big counts: the handler.
                if (count == 0 || (!rot && count >= unsigned(B))) return false;
                if (flags_dead_) {
                    // (Register-only.) The host's own shift or rotate on the register's home:
                    // the same operation, count and size.
                    const asmjit::Operand m = rmw(i.rm, B);
                    const auto inst = ShiftOp(d->op) == kRol ? x86::Inst::kIdRol
                                      : ShiftOp(d->op) == kRor ? x86::Inst::kIdRor
                                      : ShiftOp(d->op) == kShl ? x86::Inst::kIdShl
                                      : ShiftOp(d->op) == kShr ? x86::Inst::kIdShr : x86::Inst::kIdSar;
                    a.emit(inst, m, asmjit::imm(count));
                    rmw_done(i.rm, B);
                    retire(i);
                    return true;
                }
                // Rotates keep SF, ZF, AF, PF: unless those are dead here, they merge CF and OF
                // into the resolved flags.
                const bool merge = rot && !kept_dead_;
                if (!mem && B == 32 && !merge) {
                    // In place on the register's copy (when it has one).
                    const x86::Gp h = fetch(i.rm);
                    if (h.isValid()) {
                        emit_shift(ShiftOp(d->op), B, count, h, h);
                        rmw_done(i.rm, B);
                        commit_flags(B, h);
                        retire(i);
                        return true;
                    }
                }
                if (merge) resolve_inline();
                load_rm(i, B);
                emit_shift(ShiftOp(d->op), B, count);
                store_rm(i, B, mem);
                if (merge) {
                    // Rotates replace CF and OF only: lf = {res, aux & ~(CF|PO) | r15d}.
                    a.mov(x86::eax, st32(kLfAux));
                    a.and_(x86::eax, 0x3FFFFFFF);
                    a.or_(x86::eax, x86::r15d);
                    a.mov(st32(kLfAux), x86::eax);
                } else {
                    commit_flags(B);
                }
                retire(i);
                if (mem) check_stop();
                return true;
            }
            case Kind::kShiftCl: {
                // SHL/SHR/SAR r32, CL (counts masked to 5 bits): nothing at all for a count of
                // 0, else the host's shift, CF from it and OF as shift_op() (SHL: msb(r) ^ CF;
                // SHR: msb(a) for a count of 1, else 0; SAR: 0), AF 0.
                if (mem || B != 32 || !shift_masked_ || (d->op != kShl && d->op != kShr && d->op != kSar))
                    return false;
                load_reg(x86::eax, i.rm, 32);
                load_reg(x86::ecx, cpu::ECX, 8);
                const Flags before = fl_;
                asmjit::Label skip = a.newLabel();
                a.and_(x86::ecx, 31);
                a.jz(skip);
                a.mov(x86::r14d, x86::eax);
                if (d->op == kShl) a.shl(x86::r14d, x86::cl);
                else if (d->op == kShr) a.shr(x86::r14d, x86::cl);
                else a.sar(x86::r14d, x86::cl);
                if (!flags_dead_) {
                    a.setc(x86::dl);
                    a.movzx(x86::edx, x86::dl);  // CF
                    if (d->op == kShl) {         // bit 30 = OF ^ CF = msb(r)
                        a.mov(x86::r15d, x86::r14d);
                        a.shr(x86::r15d, 1);
                        a.and_(x86::r15d, 0x40000000);
                    } else if (d->op == kShr) {  // bit 30 = OF ^ CF
                        a.mov(x86::r8d, x86::eax);
                        a.shr(x86::r8d, 31);
                        a.xor_(x86::r13d, x86::r13d);  // (register-only: no address)
                        a.cmp(x86::ecx, 1);
                        a.cmovne(x86::r8d, x86::r13d);
                        a.xor_(x86::r8d, x86::edx);
                        a.shl(x86::r8d, 30);
                        a.mov(x86::r15d, x86::r8d);
                    } else {                     // bit 30 = CF
                        a.mov(x86::r15d, x86::edx);
                        a.shl(x86::r15d, 30);
                    }
                    a.shl(x86::edx, 31);
                    a.or_(x86::r15d, x86::edx);
                }
                store_reg(x86::r14d, i.rm, 32);  // (in this arm: in place)
                if (!flags_dead_) {
                    a.mov(st32(kLfRes), x86::r14d);
                    a.mov(st32(kLfAux), x86::r15d);
                    a.mov(cpu8(CpuAccess::off_lf_kind(c_)), 0);
                }
                a.bind(skip);
                // (A count of 0 kept whatever was deferred; else the flags are resolved.)
                fl_ = before == Flags::kResolved || flags_dead_ ? before : Flags::kUnknown;
                retire(i);
                return true;
            }
            case Kind::kNot: case Kind::kNeg:
                load_rm(i, B);
                if (d->kind == Kind::kNot) {
                    a.mov(x86::r14d, x86::eax);
                    a.not_(x86::r14d);
                    zext(x86::r14d, B);
                } else {
                    a.mov(x86::ecx, x86::eax);  // set_flags_sub(0, a, r)
                    a.xor_(x86::eax, x86::eax);
                    emit_alu(kSub, B);
                }
                store_rm(i, B, mem);
                if (d->kind == Kind::kNeg) commit_flags(B);
                retire(i);
                if (mem) check_stop();
                return true;
            case Kind::kImulRRm: case Kind::kImulRRmImm: {
                if (flags_dead_ && B == 32) {  // (register-only)
                    // Into the destination's copy when it has one, else through eax.
                    if (d->kind == Kind::kImulRRm) {
                        const asmjit::Operand s = rd(i.rm, 32);
                        const asmjit::Operand m = rmw(i.reg, 32);
                        if (m.isReg()) {
                            a.emit(x86::Inst::kIdImul, m, s);
                        } else {
                            a.mov(x86::eax, m.as<x86::Mem>());
                            a.emit(x86::Inst::kIdImul, x86::eax, s);
                            a.mov(m.as<x86::Mem>(), x86::eax);
                        }
                        rmw_done(i.reg, 32);
                    } else {
                        if (i.reg != i.rm) alloc_for_write(i.reg);  // (not loaded)
                        write_home(i.reg, x86::Inst::kIdImul, rd(i.rm, 32), asmjit::imm(int32_t(i.imm)));
                    }
                    retire(i);
                    return true;
                }
                load_rm(i, B, true);  // a (read first: only callee-saved registers survive a read)
                if (d->kind == Kind::kImulRRm) load_reg(x86::ecx, i.reg, B);
                else a.mov(x86::ecx, i.imm & mask(B));
                if (!flags_dead_) a.xor_(x86::edx, x86::edx);
                if (B == 32) {
                    a.imul(x86::eax, x86::ecx);
                } else {
                    a.imul(x86::ax, x86::cx);  // OF=CF: the signed product does not fit
                    a.movzx(x86::eax, x86::ax);
                }
                a.mov(x86::r14d, x86::eax);
                if (!flags_dead_) {
                    a.seto(x86::dl);
                    a.mov(x86::r15d, x86::edx);
                    a.shl(x86::r15d, 31);  // CF = OF = overflow: CF at 31, CF^OF = 0
                }
                set_reg(x86::r14d, i.reg, B);
                commit_flags(B);
                retire(i);
                if (mem) check_stop();
                return true;
            }
            case Kind::kMovx: {
                const int S = d->op & 0x7F;
                if (!mem && B == 32) {
                    // Register to register: into the destination's copy when it has one.
                    if (i.reg != i.rm && !(S == 8 && i.rm >= 4 && i.rm - 4 == i.reg)) alloc_for_write(i.reg);
                    write_home(i.reg, d->op & 0x80 ? x86::Inst::kIdMovsx : x86::Inst::kIdMovzx, rd(i.rm, S));
                    retire(i);
                    return true;
                }
                const auto finish = [this, sx = bool(d->op & 0x80), S, B, reg = i.reg] {
                    if (sx) {
                        if (S == 8) a_->movsx(x86::eax, x86::al);
                        else a_->movsx(x86::eax, x86::ax);
                    }
                    zext(x86::eax, B);
                    set_reg(x86::eax, reg, B);
                };
                const bool tested = load_rm(i, S, true, finish);
                finish();
                retire(i);
                if (mem && !tested) check_stop();
                return true;
            }
            case Kind::kSetcc:
                if (mem) {
                    emit_ea(i);
                }
                emit_cond(i.opcode & 15, !mem);
                a.mov(x86::r14d, x86::eax);
                store_rm(i, 8, mem);
                retire(i);
                if (mem) check_stop();
                return true;
            case Kind::kCmov: {
                load_rm(i, B, true);  // the source is read (and may fault) either way
                a.mov(x86::r14d, x86::eax);
                asmjit::Label skip = a.newLabel();
                emit_jcc_not_taken(i.opcode & 15, skip, !mem);  // (a register source: movs only)
                store_reg(x86::r14d, i.reg, B);
                a.bind(skip);
                retire(i);
                if (mem) check_stop();
                return true;
            }
            case Kind::kXchgRmR: case Kind::kXchgAccR: {
                if (mem) return false;
                const unsigned x = d->kind == Kind::kXchgAccR ? unsigned(cpu::EAX) : i.rm;
                load_reg(x86::eax, x, B);
                load_reg(x86::ecx, i.reg, B);
                set_reg(x86::ecx, x, B);
                set_reg(x86::eax, i.reg, B);
                retire(i);
                return true;
            }
            case Kind::kNop:  // (0F 1F's memory operand is not accessed)
                retire(i);
                return true;
            case Kind::kCbw:
                a.emit(x86::Inst::kIdMovsx, x86::eax, rd(cpu::EAX, B / 2));
                set_reg(x86::eax, cpu::EAX, B);
                retire(i);
                return true;
            case Kind::kCwd:
                load_reg(x86::eax, cpu::EAX, B);
                if (B == 16) a.shl(x86::eax, 16);
                a.sar(x86::eax, 31);
                zext(x86::eax, B);
                set_reg(x86::eax, cpu::EDX, B);
                retire(i);
                return true;
            case Kind::kLoop: case Kind::kJcxz: {
                if (!last_) return false;
                const bool a32 = i.flags & cpu::kfAddr32;
                load_reg(x86::r15d, cpu::ECX, a32 ? 32 : 16);
                asmjit::Label not_taken = a.newLabel();
                if (d->kind == Kind::kLoop) {
                    a.sub(x86::r15d, 1);
                    zext(x86::r15d, a32 ? 32 : 16);
                    a.jz(not_taken);  // (zext keeps ZF of the value)
                    if (d->op < 2) {
                        emit_cond(4);  // ZF
                        a.test(x86::eax, x86::eax);
                        if (d->op == 0) a.jnz(not_taken);  // LOOPNE: stop on ZF
                        else a.jz(not_taken);              // LOOPE: stop on !ZF
                    }
                } else {
                    a.test(x86::r15d, x86::r15d);
                    a.jnz(not_taken);
                }
                if (to_head(i, B)) {  // (see loop_back: no EIP to compute)
                    if (d->kind == Kind::kLoop) store_reg(x86::r15d, cpu::ECX, a32 ? 32 : 16);
                    loop_back();
                } else {
                    next_eip_to_eax(i);
                    a.add(x86::eax, i.imm);
                    near_jump_check(B);  // faults before the count is written
                    a.mov(x86::r14d, x86::eax);
                    if (d->kind == Kind::kLoop) store_reg(x86::r15d, cpu::ECX, a32 ? 32 : 16);
                    finish_branch(x86::r14d, 0, target_off(i, B));
                }
                a.bind(not_taken);
                if (d->kind == Kind::kLoop) store_reg(x86::r15d, cpu::ECX, a32 ? 32 : 16);
                next_eip_to_eax(i);
                finish_branch(x86::eax, 1, next_off(i));
                clear_pending();
                return true;
            }
        }
        return false;
    }

    // ---- flag liveness ----
    // Which of the six arithmetic flags each instruction reads and overwrites, for a backward
    // pass over the block (flag_liveness): a flag is live after an instruction when a later one
    // may read it before overwriting it. Anything that may fault, call out, leave the block or
    // is not known is a barrier: every flag is live before it (the state must hold them there).
    static constexpr uint8_t kFlCF = 1, kFlPF = 2, kFlAF = 4, kFlZF = 8, kFlSF = 0x10, kFlOF = 0x20,
                             kFlAll = 0x3F;  // (one bit per flag)
    struct FlagFx {
        bool barrier;
        uint8_t reads, writes;
    };
    static constexpr FlagFx kBarrier{true, kFlAll, 0}, kNone{false, 0, 0};
    FlagFx flag_fx(const DecodedInsn& i) const {
        const Desc* d = hm_.find(i.fn);
        if (!d) return kBarrier;
        const bool mem = i.flags & cpu::kfMem;
        switch (d->kind) {
            case Kind::kMovRmR: case Kind::kMovRRm: case Kind::kMovRmImm: case Kind::kMovx:
            case Kind::kXchgRmR:
                return mem ? kBarrier : kNone;
            case Kind::kMovRImm: case Kind::kXchgAccR: case Kind::kCbw: case Kind::kCwd:
            case Kind::kNop:
                return kNone;
            case Kind::kLea:  // computes an address, accesses nothing (#UD without one)
                return mem ? kNone : kBarrier;
            case Kind::kAluRmR: case Kind::kAluRRm: case Kind::kAluRmImm: case Kind::kTestRmImm:
            case Kind::kAluAccImm:
                if (mem && d->kind != Kind::kAluAccImm) return kBarrier;
                return {false, uint8_t(d->op == kAdc || d->op == kSbb ? kFlCF : 0), kFlAll};
            case Kind::kIncDecRm: case Kind::kIncDecR:
                return mem ? kBarrier : FlagFx{false, 0, uint8_t(kFlAll & ~kFlCF)};
            case Kind::kNeg: case Kind::kImulRRm: case Kind::kImulRRmImm:
                return mem ? kBarrier : FlagFx{false, 0, kFlAll};
            case Kind::kShift1: case Kind::kShiftImm: {
                if (mem) return kBarrier;
                unsigned count = d->kind == Kind::kShift1 ? 1 : (i.imm & 0xFF);
                if (shift_masked_) count &= 31;
                if (d->op == kRol || d->op == kRor)  // CF and OF (emit_inline: count 0 is a helper)
                    return count ? FlagFx{false, 0, uint8_t(kFlCF | kFlOF)} : kBarrier;
                return (count >= 1 && count < d->bits) ? FlagFx{false, 0, kFlAll} : kBarrier;
            }
            case Kind::kSetcc: case Kind::kCmov:
                return mem ? kBarrier : FlagFx{false, kFlAll, 0};
            case Kind::kShiftCl:  // (a count of 0 keeps them all: a reader too)
                return mem || d->bits != 32 || !shift_masked_ ? kBarrier : FlagFx{false, kFlAll, kFlAll};
            default:
                return kBarrier;
        }
    }
    // For each instruction k of the block, the flags live after it (the block's exit: all).
    // A side join (see emit_side_join) has two successors: live before it are the flags its
    // condition reads and those live at either (join_live_).
    std::vector<uint8_t> flag_liveness(const std::vector<DecodedInsn>& insns) {
        std::vector<uint8_t> live(insns.size()), before(insns.size());
        join_live_ = kFlAll;
        uint8_t after = kFlAll;
        for (size_t k = insns.size(); k-- > 0;) {
            live[k] = after;
            const DecodedInsn& i = insns[k];
            if (i.flags & cpu::kfSideJoin) {
                join_live_ = uint8_t(after | before[k + 1 + i.imm2]);
                after = uint8_t(join_live_ | cond_reads(i.opcode & 15));
            } else {
                const FlagFx fx = flag_fx(i);
                after = fx.barrier ? kFlAll : uint8_t((after & ~fx.writes) | fx.reads);
            }
            before[k] = after;
        }
        return live;
    }
    uint8_t join_live_ = kFlAll;
    // Whether instruction k, before a side join in 32-bit code, may leave the flags the join's
    // condition reads in the host's flags alone (host_only_): a register-only ALU operation
    // (not ADC/SBB; INC/DEC when the condition does not read CF) in emit_alu_reg(), whose
    // flags neither successor reads.
    bool flags_for_join_only(const std::vector<DecodedInsn>& insns, size_t k, uint8_t writes) const {
        if (!c32_ || k + 1 >= insns.size() || !(insns[k + 1].flags & cpu::kfSideJoin)) return false;
        const DecodedInsn& i = insns[k];
        const Desc* d = hm_.find(i.fn);
        if (!d || (i.flags & cpu::kfMem) || (join_live_ & writes)) return false;
        const unsigned cc = insns[k + 1].opcode & 15;
        switch (d->kind) {
            case Kind::kAluRmR: case Kind::kAluRRm: case Kind::kAluRmImm: case Kind::kAluAccImm:
            case Kind::kTestRmImm:
                return d->op != kAdc && d->op != kSbb;
            case Kind::kIncDecR: case Kind::kIncDecRm:
                return !uses_cf(cc);
            default:
                return false;
        }
    }
    // The flags condition `cc` reads.
    static uint8_t cond_reads(unsigned cc) {
        static constexpr uint8_t kReads[8] = {
            kFlOF, kFlCF, kFlZF, kFlCF | kFlZF, kFlSF, kFlPF, kFlSF | kFlOF, kFlZF | kFlSF | kFlOF};
        return kReads[cc >> 1];
    }
    // Sunk flags (see Sunk):
    // The loose liveness's view of `i`: an inline instruction that may fault only in a memory
    // access's slow path is no barrier (its register form's effects; PUSH and POP: none).
    FlagFx flag_fx_loose(const DecodedInsn& i) const {
        const Desc* d = hm_.find(i.fn);
        if (!d) return kBarrier;
        const bool mem = i.flags & cpu::kfMem;
        switch (d->kind) {
            case Kind::kPushR: case Kind::kPopR: case Kind::kPushImm:
            case Kind::kMovAccMoffs: case Kind::kMovMoffsAcc:
                return kNone;
            case Kind::kPushRm:
                return mem ? kNone : kBarrier;
            case Kind::kXchgRmR: case Kind::kLea:
                return flag_fx(i);
            default:
                break;
        }
        if (!mem) return flag_fx(i);
        DecodedInsn r = i;
        r.flags &= ~cpu::kfMem;
        return flag_fx(r);
    }
    // Whether instruction k's flags can sink (and sunk_ set up for it): see Sunk.
    bool sink_flags(const std::vector<DecodedInsn>& insns, size_t k) {
        if (is8086_) return false;
        const DecodedInsn& i = insns[k];
        const Desc* d = hm_.find(i.fn);
        if (!d || (i.flags & cpu::kfMem)) return false;
        const bool incdec = d->kind == Kind::kIncDecR || d->kind == Kind::kIncDecRm;
        const AluOp op = incdec ? kAdd : AluOp(d->op);
        if (op == kAdc || op == kSbb) return false;
        Sunk sk;
        sk.op = uint8_t(op);
        sk.incdec = incdec ? uint8_t(1 + d->op) : 0;
        sk.bits = uint8_t(d->bits);
        switch (d->kind) {
            case Kind::kIncDecR: sk.dst = uint8_t(i.reg); break;
            case Kind::kIncDecRm: sk.dst = uint8_t(i.rm); break;
            case Kind::kAluRmR: sk.dst = uint8_t(i.rm), sk.src = int8_t(i.reg); break;
            case Kind::kAluRRm: sk.dst = uint8_t(i.reg), sk.src = int8_t(i.rm); break;
            case Kind::kAluRmImm: case Kind::kTestRmImm: sk.dst = uint8_t(i.rm), sk.imm = i.imm; break;
            case Kind::kAluAccImm: sk.dst = uint8_t(cpu::EAX), sk.imm = i.imm; break;
            default: return false;
        }
        // (ADD and SUB store the source operand: not when the result overwrote it.)
        if ((op == kAdd || op == kSub) && sk.src == int8_t(sk.dst)) return false;
        const auto as32 = [&](unsigned r) { return uint8_t(1u << (sk.bits == 8 ? r & 3 : r)); };
        const uint8_t involved = uint8_t(as32(sk.dst) | (sk.src >= 0 ? as32(unsigned(sk.src)) : 0));
        for (size_t j = k + 1; j < insns.size(); ++j) {
            if (join_.pending && j == join_.at) return false;  // (the taken path joins here)
            const FlagFx fx = flag_fx_loose(insns[j]);
            if (fx.barrier || fx.reads) return false;
            if (fx.writes) {
                if (fx.writes != kFlAll) return false;
                sk.active = true;
                sk.killer = j;
                sunk_ = sk;
                return true;
            }
            if (written_mask(insns[j]) & involved) return false;
        }
        return false;
    }
    // Stores the sunk flags into the state (cold code: CpuState holds the registers; uses
    // eax, ecx and edx only, as it runs before a slow path's call).
    void materialize_sunk(const Sunk& sk) {
        if (!sk.active) return;
        auto& a = *a_;
        const int bits = sk.bits;
        const AluOp op = AluOp(sk.op);
        assert(!cache_on_);
        if (sk.incdec) {
            // INC and DEC keep CF: the flags before (still the state's) resolved first, so
            // that aux bit 31 holds it for the INC or DEC kind.
            call_resolve();  // (keeps every register)
            load_reg(x86::eax, sk.dst, bits);
            if (bits == 16) a.movsx(x86::eax, x86::ax);
            else if (bits == 8) a.movsx(x86::eax, x86::al);
            a.mov(st32(kLfRes), x86::eax);
            a.mov(cpu8(CpuAccess::off_lf_kind(c_)), lf_kind(sk.incdec == 1 ? kLfInc : kLfDec, bits));
            return;
        }
        load_reg(x86::eax, sk.dst, bits);
        if (sk.src >= 0) load_reg(x86::ecx, unsigned(sk.src), bits);
        else a.mov(x86::ecx, sk.imm & mask(bits));
        // res: the destination's value, or for CMP and TEST the result again.
        if (op == kCmp) a.sub(x86::eax, x86::ecx);
        if (op == kTest) a.and_(x86::eax, x86::ecx);
        store_alu_flags(op, bits);
    }
    // The state's flags of ALU operation `op` (not ADC/SBB) of `bits` whose result is in eax
    // and second operand in ecx (zero-extended): a deferred kind for ADD, SUB and CMP, else
    // resolved. (Cold code; clobbers eax.)
    void store_alu_flags(AluOp op, int bits) {
        auto& a = *a_;
        if (bits == 16) a.movsx(x86::eax, x86::ax);
        else if (bits == 8) a.movsx(x86::eax, x86::al);
        a.mov(st32(kLfRes), x86::eax);
        if (op == kAdd || op == kSub || op == kCmp) {
            a.mov(cpu32(CpuAccess::off_lf_src(c_)), x86::ecx);
            a.mov(cpu8(CpuAccess::off_lf_kind(c_)), lf_kind(op == kAdd ? kLfAdd : kLfSub, bits));
        } else {
            a.mov(st32(kLfAux), 0);
            a.mov(cpu8(CpuAccess::off_lf_kind(c_)), 0);
        }
    }

    // r/m of `bits` into eax (zero-extended); a memory operand leaves its offset in r13d for
    // store_rm (unless `read_only`: then the read may reuse a page slot).
    // (A memory operand read to be written back is looked up for the store: emit_rmw_load.)
    // Returns emit_load()'s answer: true when a `tail` given for a read-only load made the
    // stop test (see emit_access).
    bool load_rm(const DecodedInsn& i, int bits, bool read_only = false, Tail tail = {}) {
        rmw_loaded_ = false;
        if ((i.flags & cpu::kfMem) && !read_only && !is8086_) {
            emit_rmw_load(bits);
            rmw_loaded_ = true;
        } else if (i.flags & cpu::kfMem) {
            return emit_load(bits, read_only ? std::move(tail) : Tail{}, !read_only);
        } else {
            load_reg(x86::eax, i.rm, bits);
        }
        return false;
    }
    // A tail (see emit_access) finishing an ALU instruction that read its memory operand into
    // eax, in cold code on CpuState: the result into register `dst` (-1: none, as for CMP and
    // TEST) and the flags, for the operation `op` (not ADC/SBB) of the memory operand and
    // register `reg` or (reg < 0) `imm`, the memory operand first when `mem_first`.
    Tail alu_tail(AluOp op, int bits, bool mem_first, int reg, uint32_t imm, int dst) {
        return [this, op, bits, mem_first, reg, imm, dst] {
            auto& a = *a_;
            // a in eax, b in ecx (zero-extended).
            if (mem_first) {
                if (reg >= 0) load_reg(x86::ecx, unsigned(reg), bits);
                else a.mov(x86::ecx, imm & mask(bits));
            } else {
                a.mov(x86::ecx, x86::eax);
                load_reg(x86::eax, unsigned(reg), bits);
            }
            a.emit(alu_inst(op), x86::eax, x86::ecx);
            if (dst >= 0) store_reg(x86::eax, unsigned(dst), bits);
            store_alu_flags(op, bits);
        };
    }
    // r14d to the r/m operand (after load_rm, or after emit_ea for a memory operand).
    void store_rm(const DecodedInsn& i, int bits, bool mem) {
        if (mem && std::exchange(rmw_loaded_, false)) emit_rmw_store(bits);
        else if (mem) emit_write(i.seg, bits);
        else set_reg(x86::r14d, i.rm, bits);
    }
    bool rmw_loaded_ = false;  // load_rm() looked this instruction's operand up for its store
    bool rmw_rdx_ = false;     // ... and keeps its host address in rdx (see emit_rmw_load)
    bool cf_only_ = false;     // emit_alu() for a memory destination whose CF alone is live
    // Shift/rotate of `src` (zero-extended `bits`) by a constant 1 <= count (< bits for
    // shifts): result to `dst` (which may be `src` for 32 bits: in place), and the CF/PO bits of
    // lazy aux to r15d (shift_op's flags). (With the flags dead, the caller shifts the register
    // in place instead.) Uses ecx and edx.
    void emit_shift(ShiftOp op, int bits, unsigned count, const x86::Gp& src = x86::eax,
                    const x86::Gp& dst = x86::r14d) {
        auto& a = *a_;
        const x86::Gp r = bits == 32 ? dst : bits == 16 ? x86::Gp(dst.r16()) : x86::Gp(dst.r8());
        const auto copy = [&] { if (src.id() != dst.id()) a.mov(dst, src); };
        switch (op) {
            case kShl:  // CF = last bit out; OF = msb(r) ^ CF, so CF^OF = msb(r)
                a.mov(x86::edx, src);
                a.shr(x86::edx, bits - count);
                a.shl(x86::edx, 31);
                copy();
                a.shl(dst, count);
                zext(dst, bits);
                a.mov(x86::r15d, dst);
                a.shl(x86::r15d, 32 - bits);
                a.shr(x86::r15d, 1);
                a.and_(x86::r15d, 0x40000000);
                a.or_(x86::r15d, x86::edx);
                return;
            case kShr:  // CF = last bit out; OF = msb(a) for a count of 1, else 0
                a.mov(x86::edx, src);
                if (count > 1) a.shr(x86::edx, count - 1);
                a.and_(x86::edx, 1);
                if (count == 1) {
                    a.mov(x86::ecx, src);
                    a.shr(x86::ecx, bits - 1);
                }
                copy();
                a.shr(dst, count);
                a.mov(x86::r15d, x86::edx);
                if (count == 1) a.xor_(x86::r15d, x86::ecx);
                a.shl(x86::r15d, 30);
                a.shl(x86::edx, 31);
                a.or_(x86::r15d, x86::edx);
                return;
            case kSar:  // CF = last bit out; OF = 0
                if (bits == 8) a.movsx(src, src.r8());
                else if (bits == 16) a.movsx(src, src.r16());
                a.mov(x86::edx, src);
                if (count > 1) a.sar(x86::edx, count - 1);
                a.and_(x86::edx, 1);
                copy();
                a.sar(dst, count);
                zext(dst, bits);
                a.mov(x86::r15d, x86::edx);
                a.shl(x86::r15d, 30);
                a.shl(x86::edx, 31);
                a.or_(x86::r15d, x86::edx);
                return;
            case kRol: {  // CF = lsb(r); OF = msb(r) ^ CF, so CF^OF = msb(r)
                copy();
                if (unsigned n = count % bits) a.rol(r, n);
                if (!(live_after_ & kFlOF)) {  // CF alone (bit 30, CF^OF, left 0)
                    a.mov(x86::r15d, dst);
                    a.shl(x86::r15d, 31);
                    return;
                }
                a.mov(x86::edx, dst);
                a.shl(x86::edx, 31);
                a.mov(x86::r15d, dst);
                if (bits != 32) a.shl(x86::r15d, 32 - bits);
                a.shr(x86::r15d, 1);
                a.and_(x86::r15d, 0x40000000);
                a.or_(x86::r15d, x86::edx);
                return;
            }
            case kRor: {  // CF = msb(r); OF = msb(r) ^ bit B-2, so CF^OF = bit B-2
                copy();
                if (unsigned n = count % bits) a.ror(r, n);
                a.mov(x86::r15d, dst);
                if (bits != 32) a.shl(x86::r15d, 32 - bits);
                a.and_(x86::r15d, 0xC0000000u);
                return;
            }
        }
    }

    Cpu& c_;
    const HandlerMap& hm_;
    cpu::EngineStats& st_;
    const bool c32_;
    // DS, ES and SS are flat and SS is 32-bit (block_mode() bit 1) until the first helper call
    // (other than keeps_mode() ones), which might load one of them or change EFLAGS.AC or CPL.
    bool flat_;
    // CS is 32-bit with a 4 GiB limit and a page-aligned base (block_mode() bit 2) until the
    // first such helper call (the ones that could load CS end the block; this is the margin):
    // no near jump target is past the limit, and a block within one page needs no limit check.
    bool flat_cs_;
    const bool irq_rise_notified_;  // CpuAccess::irq_rise_notified (Cpu::set_interrupt_source flushes)
    const bool is8086_, push_sp_new_, shift_masked_;
    X64Code& code_;
    const Stubs& stubs_;
    x86::Assembler* a_ = nullptr;
    asmjit::Label exit_;
    bool last_ = false;
    bool ended_ = false;  // the last instruction emitted the block's exit
    bool flags_dead_ = false;  // the current instruction's flags are overwritten before use
    // ... but for the side join after it, which reads them from the host's flags
    // (flags_for_join_only)
    bool host_only_ = false, host_only_prev_ = false;
    bool kept_dead_ = false;   // the flags it does not write are (see run())
    std::vector<uint8_t> live_;  // flag_liveness() of the block
    // For each instruction k of the block, the first instruction at or after k that uses each
    // register (kNeverUsed: none): the register cache evicts the copy needed last.
    static constexpr uint16_t kNeverUsed = 0xFFFF;
    std::vector<std::array<uint16_t, 8>> next_use_;
    size_t cur_k_ = 0;
    uint8_t live_after_ = 0;     // ... after the current instruction
    Flags fl_ = Flags::kUnknown;  // the deferred-flag state here (unknown at every entry)
    uint8_t fl_kind_ = 0;         // its kind when kPending
    uint8_t commit_kind_ = 0;     // emit_alu() deferred the flags: commit_flags() stores this
    unsigned pend_n_ = 0;
    uint32_t pend_len_ = 0;
    int64_t offset_ = 0;        // bytes of guest code before the current instruction
    uint32_t cur_len_ = 0;      // the current instruction's length
    bool helper_seen_ = false;  // a handler other than keeps_mode() ones was called (exit_static)
    bool helper_called_ = false;  // any handler was (loop_back)
    // The host's flags after the last instruction: kNone, or those of the guest's (kAll, from
    // a 32-bit ADD, SUB, CMP, AND, OR, XOR or TEST in emit_alu_reg(), which stores them too;
    // kNoCf, from INC or DEC there, all but CF).
    // host_in_: that of the instruction before the current one, which may branch on them when
    // it emits nothing that changes them first (emit_jcc_not_taken / emit_cond with `host`).
    enum class HostFlags : uint8_t { kNone, kAll, kNoCf };  // kNoCf: INC/DEC (the host's CF is not CF)
    HostFlags host_flags_ = HostFlags::kNone, host_in_ = HostFlags::kNone;
    bool commit_clobbers_ = false;  // commit_flags() emitted code that changes the host's flags
    std::vector<std::function<void()>> cold_;
    // Page reuse (see emit_load): what each frame slot holds, here.
    struct PageSlot {
        bool valid = false;
        bool write = false;   // filled by a store
        unsigned reg = 0;     // the base register, unchanged since
        int64_t disp = 0;     // the filling access's displacement from the register's value now
        uint32_t fill = 0;    // which fill (a join keeps a slot both paths hold from the same one)
        bool operator==(const PageSlot&) const = default;
    };
    uint32_t fills_ = 0;
    // Each slot: the host address of the filling access's bytes at [rsp + 8 + 16k], their page
    // offset (or kSlotNone) at [rsp + 16 + 16k].
    static constexpr int kSlots = 4;
    static constexpr int32_t kFrame = 8 + 16 * kSlots;  // (keeps rsp 16-byte aligned)
    static_assert(kFrame % 16 == 8);
    PageSlot slots_[kSlots];
    // (A loop's slots carried from pass to pass: see plan_carried.)
    struct CarriedSlot {
        bool on = false;
        uint32_t fill = 0;  // slots_[k].fill at the head
        int64_t d0 = 0;     // the displacement from the register's value at the head
    };
    CarriedSlot carried_[kSlots];
    unsigned next_slot_ = 0;
    // The pending side join (see emit_side_join).
    struct Join {
        bool pending = false;
        size_t at = 0;  // the target's index
        asmjit::Label taken;
        int8_t guest[kCacheRegs] = {};
        bool dirty[kCacheRegs] = {};
        unsigned n = 0;    // the taken path's pending run: instructions ...
        uint32_t len = 0;  // ... and bytes up to the target
        Flags fl = Flags::kUnknown;
        uint8_t fl_kind = 0;
        PageSlot slots[kSlots];
    };
    Join join_;
    const std::vector<DecodedInsn>* insns_ = nullptr;
    const DecodedInsn* cur_ = nullptr;  // the instruction being translated
    uint8_t want_slot_ = 0;             // populate_wanted() for it
    const CpuAccess::Block& block_;
};

class X64Engine final : public Cpu::BlockEngine {
public:
    X64Engine(Cpu& c, const EngineOptions& opt) : hm_(c.traits().model), opt_(opt) {
        emit_stubs(c);
        if (!opt.perf_map.empty()) {
            perf_map_ = std::fopen(opt.perf_map.c_str(), "a");
            if (perf_map_ && stub_fn_) {
                // One symbol per stub entry, up to the next entry (the shared code of a guard
                // variant counts to its chain entry).
                std::pair<uint64_t, const char*> entries[] = {
                    {stubs_.dynamic, "dynamic"}, {stubs_.chain, "chain"},
                    {stubs_.dynamic_lite, "dynamic_lite"}, {stubs_.chain_lite, "chain_lite"},
                    {stubs_.dynamic_lite_noirq, "dynamic_lite_noirq"},
                    {stubs_.chain_lite_noirq, "chain_lite_noirq"}, {stubs_.resolve, "resolve"},
                    {stubs_.slow_access, "slow_access"}};
                std::sort(std::begin(entries), std::end(entries));
                const uint64_t end = reinterpret_cast<uint64_t>(stub_fn_) + stub_size_;
                for (size_t k = 0; k < std::size(entries); ++k) {
                    const uint64_t to = k + 1 < std::size(entries) ? entries[k + 1].first : end;
                    std::fprintf(perf_map_, "%" PRIx64 " %" PRIx64 " vx86:stub.%s\n", entries[k].first,
                                 to - entries[k].first, entries[k].second);
                }
            }
        }
    }
    ~X64Engine() override {
        if (stub_fn_) rt_.release(stub_fn_);
        if (perf_map_) std::fclose(perf_map_);
    }

    void execute(Cpu& c, CpuAccess::Block& b, uint64_t limit) override {
        if (stats_.code_bytes_live > opt_.cache_bytes) {
            // Full flush: every block goes to the graveyard (freed, with its code, before the
            // next block); run_until() then rebuilds this one. Nothing ran: no state changed.
            ++stats_.flushes;
            pending_ = {};
            CpuAccess::flush(c);
            return;
        }
        const bool scratch = CpuAccess::is_scratch(c, b);
        if (!b.native && !scratch && limit >= b.insns.size()) b.native = translate(c, b);
        if (pending_.link) {
            if (b.native && !scratch && uint32_t(c.s.eip) == pending_.eip)
                link(*pending_.link, b, pending_.eip);
            pending_ = {};
        }
        // Just after an interrupt was delivered (stop_ already set) the interpreter retires one
        // instruction and returns to the run loop's interrupt check: do the same.
        if (limit < b.insns.size() || !b.native || CpuAccess::stop_pending(c)) {
            ++stats_.blocks_run_interp;
            CpuAccess::execute_block(c, b, limit);
            return;
        }
        ++stats_.blocks_run_native;
        assert(CpuAccess::chain_end_ok(c));
        CpuAccess::set_current_block(c, &b);
        static_cast<X64Code&>(*b.native).fn()(&c, &c.s);
        resolve_lf(&c);  // C++ sees s.lf complete (see Cpu::jit_lf_kind_)
        CpuAccess::set_current_block(c, nullptr);
    }
    cpu::Engine kind() const override { return cpu::Engine::kJit; }
    const cpu::EngineStats& stats() const override { return stats_; }
    void settle(Cpu& c) override { resolve_lf(&c); }

    // A translation's block was invalidated: nothing may jump to it any more.
    void unlink_incoming(X64Code& code) {
        for (Link* l : code.incoming) {
            unpatch(*l);
            *l = Link{.owner = l->owner};
        }
        code.incoming.clear();
    }
    // A translation is going away (its block was invalidated, replaced or flushed): nothing may
    // jump to it any more, and its own links leave their targets' lists.
    void dropped(X64Code& code) {
        ++stats_.blocks_dropped;
        stats_.code_bytes_live -= code.size();
        unlink_incoming(code);
        for (Link& l : code.links) {
            if (pending_.link == &l) pending_ = {};
            unlink(l);
        }
        if (code.fn()) rt_.release(code.fn());
    }
    const X64Code* code_of(const CpuAccess::Block& b) const {
        return static_cast<const X64Code*>(b.native.get());
    }

private:
    void unlink(Link& l) {
        if (!l.target) return;
        unpatch(l);
        std::erase(static_cast<X64Code&>(*l.target->native).incoming, &l);
        l = Link{.owner = l.owner};
    }
    // The direct jump of a static link (nullptr for the dynamic exit and the jump cache).
    static X64Code::Direct* direct_of(Link& l) {
        if (!l.owner) return nullptr;
        const ptrdiff_t k = &l - l.owner->links;
        return k == 0 || k == 1 || k == 3 ? &l.owner->direct[k] : nullptr;
    }
    static void set_rel(X64Code::Direct& d, const uint8_t* to) {
        const int32_t rel = int32_t(to - (d.rel_rx + 4));
        std::memcpy(d.rel_rw, &rel, 4);
    }
    // Static link `l` to `target` (block `b`): its exit jumps straight to the checked entry when
    // the translator allowed it (see Translator::exit_static) and the target is the one it
    // allowed, of the same mode and on one page.
    void patch(Link& l, const CpuAccess::Block& b, X64Code& target) {
        X64Code::Direct* d = direct_of(l);
        if (!d || !d->rel_rx || !target.checked || (!d->cross && b.phys != d->phys) ||
            b.mode != l.owner->mode)
            return;
        const int64_t dist = static_cast<uint8_t*>(target.checked) - (d->rel_rx + 4);
        if (dist != int32_t(dist)) return;
        set_rel(*d, static_cast<uint8_t*>(target.checked));
        d->patched = true;
        ++stats_.links_direct;
    }
    static void unpatch(Link& l) {
        X64Code::Direct* d = direct_of(l);
        if (!d || !d->patched) return;
        set_rel(*d, d->tramp);
        d->patched = false;
    }
    // Points `l` at block `b`, which starts at `eip`.
    void link(Link& l, CpuAccess::Block& b, uint32_t eip) {
        unlink(l);
        auto& target = static_cast<X64Code&>(*b.native);
        l.entry = target.entry();
        l.target = &b;
        l.eip = eip;
        l.ninsns = b.insns.size();
        l.span_m1 = b.eip_span - 1;
        l.phys = b.phys;
        l.mode = b.mode;
        target.incoming.push_back(&l);
        ++stats_.links_made;
        patch(l, b, target);
    }

    // The dynamic exit when its link missed: the next block's chained entry (and the link now
    // caches it), or nullptr for the run loop.
    static void* lookup(Cpu* c, X64Engine* e, Link* l) {
        CpuAccess::Block* b = CpuAccess::next_block(*c);
        if (!b) return nullptr;
        ++e->stats_.blocks_looked_up;
        e->link(*l, *b, uint32_t(c->s.eip));
        return static_cast<X64Code&>(*b->native).entry();
    }
    static bool irq_wanted(Cpu* c) { return CpuAccess::irq_wanted(*c); }

    // Two shared guards, called from a block's exit (in the frame every block sets up) and
    // returning in rdx the entry the exit jumps to, or 0 for leaving to execute():
    //   chain:   rcx = &Link, eax = target EIP; EIP/icount retired. The linked block when
    //            run_until() would run exactly it next (the checks of CpuAccess::next_block, in
    //            host code); records an unlinked exit for execute() to link, else 0.
    //   dynamic: rcx = &Link (the block's dynamic exit); EIP/icount retired. Goes on as chain
    //            when EIP is the one the link was made for, else what lookup() returns.
    void emit_stubs(Cpu& c) {
        asmjit::CodeHolder code;
        if (code.init(rt_.environment()) != asmjit::kErrorOk) return;
        x86::Assembler a(&code);
        const auto st = [](size_t off) { return int32_t(off); };
        const size_t seg_cs = offsetof(CpuState, seg) + cpu::CS * sizeof(cpu::Segment);
        const auto link = [](size_t off) { return x86::ptr(x86::rcx, int32_t(off)); };
        // Three variants: the full one, and a "lite" one for exits of blocks that called no
        // helper but Translator::keeps_mode() ones, which skips the tests of halt, the
        // interrupt shadow, TF and the debug registers (the reasoning of the checked entry's:
        // see Translator::exit_static); and the lite one without the interrupt request's test,
        // for when the source reports each rise (see Translator::emit_irq_and_enter).
        const auto variant = [&](bool lite, bool irq, asmjit::Label& dynamic, asmjit::Label& chain) {
            asmjit::Label lookup_l = a.newLabel(), out = a.newLabel(), unlinked = a.newLabel(),
                          go = a.newLabel(), ask = a.newLabel(), checked = a.newLabel();
            dynamic = a.newLabel();
            chain = a.newLabel();
            a.bind(dynamic);
            a.mov(x86::eax, x86::dword_ptr(kS, st(offsetof(CpuState, eip))));
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.je(chain);
            // Not the site's target: an unlinked site gets linked to this one by lookup(), and
            // so does its second link (X64Code::links[4], 2 links on), which generated code
            // tests too (a return to either of two call sites, say); else the shared jump
            // cache, indexed by a hash of EIP, may hold a link for it.
            a.cmp(x86::qword_ptr(x86::rcx, int32_t(offsetof(Link, target))), 0);
            a.je(lookup_l);
            asmjit::Label no_second = a.newLabel();
            a.cmp(x86::qword_ptr(x86::rcx, int32_t(2 * sizeof(Link) + offsetof(Link, target))), 0);
            a.jne(no_second);
            a.add(x86::rcx, int32_t(2 * sizeof(Link)));
            a.jmp(lookup_l);
            a.bind(no_second);
            emit_jcache_slot(a, reinterpret_cast<uint64_t>(jcache_.get()), kJcacheSize);
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.jne(lookup_l);  // lookup() relinks the slot
            a.bind(chain);
            a.mov(x86::rdx, link(offsetof(Link, entry)));
            a.test(x86::rdx, x86::rdx);
            a.jz(unlinked);
            if (!lite) emit_boundary_checks(a, c, out);  // (esi = EFLAGS, for IF below)
            else if (irq) a.mov(x86::esi, x86::dword_ptr(kS, st(offsetof(CpuState, eflags))));
            // Budget: the whole target block must fit (else execute() interprets it cut short);
            // and stop_, as chain_end_ is 0 while it is set.
            a.mov(x86::r8, x86::qword_ptr(kS, st(offsetof(CpuState, icount))));
            a.add(x86::r8, link(offsetof(Link, ninsns)));
            a.cmp(x86::r8, x86::qword_ptr(kS, cpu_disp(c) + CpuAccess::off_chain_end(c)));
            a.ja(out);
            // CS:EIP names the target block: known when nothing it depends on changed since the
            // checks below last passed for this link (the epoch) at this EIP (a static link's
            // block may run at another linear alias of its page), else checked again.
            asmjit::Label full = a.newLabel();
            a.cmp(x86::rax, link(offsetof(Link, eip)));
            a.jne(full);
            a.mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c) + CpuAccess::off_code_epoch(c)));
            a.cmp(x86::r8, link(offsetof(Link, epoch)));
            a.je(checked);
            a.bind(full);
            // CS limit over the target's span.
            a.mov(x86::r8d, x86::eax);
            a.add(x86::r8, link(offsetof(Link, span_m1)));
            a.mov(x86::r9d, x86::dword_ptr(kS, st(seg_cs + offsetof(cpu::Segment, limit))));
            a.cmp(x86::r8, x86::r9);
            a.ja(out);
            // Cpu::block_mode(): the code-size bit, the flat-CS bit and the kept bits (flat data, user).
            static_assert(cpu::kAttrDB == 1u << 14);
            asmjit::Label mode_done = a.newLabel();
            a.movzx(x86::r8d, x86::word_ptr(kS, st(seg_cs + offsetof(cpu::Segment, attr))));
            a.shr(x86::r8d, 14);
            a.and_(x86::r8d, 1);
            a.jz(mode_done);
            a.cmp(x86::dword_ptr(kS, st(seg_cs + offsetof(cpu::Segment, limit))), -1);
            a.jne(mode_done);
            a.test(x86::dword_ptr(kS, st(seg_cs + offsetof(cpu::Segment, base))), 0xFFF);
            a.jnz(mode_done);
            a.or_(x86::r8d, Cpu::kModeFlatCs);
            a.bind(mode_done);
            a.or_(x86::r8d, x86::dword_ptr(kS, cpu_disp(c) + CpuAccess::off_mode_bits(c)));
            a.cmp(x86::r8d, link(offsetof(Link, mode)));
            a.jne(out);
            // code_phys(CS.base + EIP) through the TLB fast path must be the target's address.
            a.mov(x86::r9d, x86::eax);
            a.add(x86::r9d, x86::dword_ptr(kS, st(seg_cs + offsetof(cpu::Segment, base))));
            emit_code_tlb(a, c, x86::r9d, x86::r10, x86::r11d, out);
            a.and_(x86::r9d, 0xFFF);
            a.or_(x86::r9d, x86::dword_ptr(x86::r10, st(offsetof(CpuAccess::TlbEntry, ppage))));
            a.cmp(x86::r9d, link(offsetof(Link, phys)));
            a.jne(out);
            a.mov(x86::r8, x86::qword_ptr(kS, cpu_disp(c) + CpuAccess::off_code_epoch(c)));
            a.mov(link(offsetof(Link, epoch)), x86::r8);
            a.mov(link(offsetof(Link, eip)), x86::rax);
            a.bind(checked);
            if (irq) emit_irq_check(a, c, go, out, ask);  // (without a flag, by a call)
            a.jmp(go);
            a.bind(ask);
            a.push(x86::rcx);
            a.push(x86::rdx);
            a.sub(x86::rsp, 8);  // (entered by a call: 16-byte alignment for the next one)
            a.lea(x86::rdi, x86::ptr(kS, -CpuAccess::off_state(c)));
            a.mov(x86::rax, addr(irq_wanted));
            a.call(x86::rax);
            a.add(x86::rsp, 8);
            a.pop(x86::rdx);
            a.pop(x86::rcx);
            a.test(x86::al, x86::al);
            a.jnz(out);
            a.bind(go);
            if (opt_.count_chains) {
                a.mov(x86::r8, reinterpret_cast<uint64_t>(&stats_.blocks_chained));
                a.inc(x86::qword_ptr(x86::r8));
            }
            a.ret();  // rdx = the entry
            a.bind(unlinked);
            a.mov(x86::r8, reinterpret_cast<uint64_t>(&pending_));
            a.mov(x86::qword_ptr(x86::r8, 0), x86::rcx);
            a.mov(x86::dword_ptr(x86::r8, 8), x86::eax);
            a.bind(out);
            a.xor_(x86::edx, x86::edx);
            a.ret();

            a.bind(lookup_l);
            a.sub(x86::rsp, 8);
            a.lea(x86::rdi, x86::ptr(kS, -CpuAccess::off_state(c)));
            a.mov(x86::rsi, reinterpret_cast<uint64_t>(this));
            a.mov(x86::rdx, x86::rcx);
            a.mov(x86::rax, addr(lookup));
            a.call(x86::rax);
            a.add(x86::rsp, 8);
            a.mov(x86::rdx, x86::rax);
            a.ret();
        };
        asmjit::Label dynamic, chain, dynamic_lite, chain_lite, dynamic_lite_noirq, chain_lite_noirq;
        variant(false, true, dynamic, chain);
        variant(true, true, dynamic_lite, chain_lite);
        variant(true, false, dynamic_lite_noirq, chain_lite_noirq);

        // resolve_lf() as host code, called from anywhere in generated code: keeps every
        // register; not the host flags.
        asmjit::Label resolve = a.newLabel(), resolved = a.newLabel();
        a.bind(resolve);
        a.cmp(x86::byte_ptr(kS, cpu_disp(c) + CpuAccess::off_lf_kind(c)), 0);
        a.je(resolved);
        const x86::Gp saved[] = {x86::rax, x86::rcx, x86::rdx, x86::rsi, x86::rdi, x86::r11};
        for (const x86::Gp& r : saved) a.push(r);
        a.mov(x86::r11, reinterpret_cast<uint64_t>(&stats_.flags_resolved));
        a.inc(x86::qword_ptr(x86::r11));
        const auto lf_res = x86::dword_ptr(kS, st(offsetof(CpuState, lf) + offsetof(cpu::LazyFlags, res)));
        const auto lf_aux = x86::dword_ptr(kS, st(offsetof(CpuState, lf) + offsetof(cpu::LazyFlags, aux)));
        a.movzx(x86::r11d, x86::byte_ptr(kS, cpu_disp(c) + CpuAccess::off_lf_kind(c)));
        asmjit::Label b_one = a.newLabel(), sub = a.newLabel(), pack = a.newLabel(),
                      store = a.newLabel();
        a.mov(x86::ecx, 1);  // b: 1 for INC and DEC, else the source
        a.test(x86::r11d, kLfKindCfStale);
        a.jz(b_one);
        a.mov(x86::ecx, x86::dword_ptr(kS, cpu_disp(c) + CpuAccess::off_lf_src(c)));
        a.bind(b_one);
        a.mov(x86::edx, lf_res);  // r
        a.mov(x86::eax, x86::edx);
        a.test(x86::r11d, 4);
        a.jnz(sub);
        a.sub(x86::eax, x86::ecx);  // a = r - b
        emit_carry_vector(a, false);
        a.jmp(pack);
        a.bind(sub);
        a.add(x86::eax, x86::ecx);  // a = r + b
        emit_carry_vector(a, true);
        a.bind(pack);
        emit_kind_shift(a, x86::r11d);  // pack_cv: the top two carries to bits 31-30, AF
        a.mov(x86::eax, x86::esi);
        a.shl(x86::eax, x86::cl);
        a.and_(x86::eax, 0xC0000000u);
        a.and_(x86::esi, cpu::kLfAF);
        a.or_(x86::eax, x86::esi);
        a.test(x86::r11d, kLfKindCfStale);
        a.jnz(store);
        // INC/DEC keep the CF of the old aux.
        a.mov(x86::esi, lf_aux);
        a.shr(x86::esi, 31);
        emit_replace_cf(a, x86::eax, x86::esi);
        a.bind(store);
        a.mov(lf_aux, x86::eax);
        a.mov(x86::byte_ptr(kS, cpu_disp(c) + CpuAccess::off_lf_kind(c)), 0);
        for (size_t k = std::size(saved); k-- > 0;) a.pop(saved[k]);
        a.bind(resolved);
        a.ret();

        // A memory access's slow path, called from generated code's cold paths: ecx as
        // kSlowWrite and company say, r13d = the offset, r14d = the value to store; returns the
        // value read in eax. Resolves the deferred flags when asked, retires the pending run
        // (EIP and icount, as Translator::sync_with) for the call, which may fault (longjmp:
        // this frame is abandoned like the block's) or reach MMIO, and takes it back after.
        // Keeps every callee-saved register (r13, r14, ...), like a C++ function.
        asmjit::Label slow_access = a.newLabel(), read = a.newLabel(), called = a.newLabel();
        a.bind(slow_access);
        a.push(x86::r9);  // (Translator's register cache: r9-r11, rsi, rdi)
        a.push(x86::r10);
        a.push(x86::r11);
        a.push(x86::rsi);
        a.push(x86::rdi);
        a.push(x86::rcx);  // ([rsp + 8]; and the stack is 16-byte aligned for the calls below)
        a.sub(x86::rsp, 8);
        a.mov(x86::r11, reinterpret_cast<uint64_t>(&stats_.mem_slow));
        a.inc(x86::qword_ptr(x86::r11));
        {
            asmjit::Label resolved = a.newLabel();
            a.test(x86::ecx, kSlowResolve);
            a.jz(resolved);
            a.call(resolve);  // (keeps every register)
            a.bind(resolved);
        }
        const auto eip_add = [&](bool back) {  // EIP +/- len (16-bit code: wrapped), icount +/- n
            asmjit::Label wide = a.newLabel();
            a.mov(x86::edx, x86::ecx);
            a.shr(x86::edx, 16);
            a.mov(x86::r8d, x86::dword_ptr(kS, st(offsetof(CpuState, eip))));
            if (back) a.sub(x86::r8d, x86::edx);
            else a.add(x86::r8d, x86::edx);
            a.test(x86::ecx, kSlowIp16);
            a.jz(wide);
            a.and_(x86::r8d, 0xFFFF);
            a.bind(wide);
            a.mov(x86::qword_ptr(kS, st(offsetof(CpuState, eip))), x86::r8);
            a.movzx(x86::edx, x86::ch);
            if (back) a.sub(x86::qword_ptr(kS, st(offsetof(CpuState, icount))), x86::rdx);
            else a.add(x86::qword_ptr(kS, st(offsetof(CpuState, icount))), x86::rdx);
        };
        eip_add(false);
        a.lea(x86::rdi, x86::ptr(kS, -CpuAccess::off_state(c)));
        a.mov(x86::esi, x86::ecx);
        a.and_(x86::esi, 7);
        a.mov(x86::edx, x86::r13d);
        a.shr(x86::ecx, 4);
        a.and_(x86::ecx, 3);
        a.mov(x86::r8d, 1);
        a.shl(x86::r8d, x86::cl);  // the size in bytes
        a.test(x86::dword_ptr(x86::rsp, 8), kSlowWrite);
        a.jz(read);
        a.mov(x86::ecx, x86::r14d);
        a.mov(x86::rax, addr(slow_write));
        a.call(x86::rax);
        a.jmp(called);
        a.bind(read);
        a.mov(x86::ecx, x86::r8d);
        a.mov(x86::rax, addr(slow_read));
        a.call(x86::rax);
        a.bind(called);
        a.add(x86::rsp, 8);
        a.pop(x86::rcx);
        eip_add(true);  // (keeps eax)
        a.pop(x86::rdi);
        a.pop(x86::rsi);
        a.pop(x86::r11);
        a.pop(x86::r10);
        a.pop(x86::r9);
        a.ret();

        void* fn = nullptr;
        if (rt_.add(&fn, &code) != asmjit::kErrorOk) return;
        stub_fn_ = fn;
        stub_size_ = code.codeSize();
        const uint64_t base = reinterpret_cast<uint64_t>(fn);
        stubs_.chain = base + code.labelOffsetFromBase(chain);
        stubs_.dynamic = base + code.labelOffsetFromBase(dynamic);
        stubs_.chain_lite = base + code.labelOffsetFromBase(chain_lite);
        stubs_.dynamic_lite = base + code.labelOffsetFromBase(dynamic_lite);
        stubs_.chain_lite_noirq = base + code.labelOffsetFromBase(chain_lite_noirq);
        stubs_.dynamic_lite_noirq = base + code.labelOffsetFromBase(dynamic_lite_noirq);
        stubs_.count_chains = opt_.count_chains;
        stubs_.bmi2 = opt_.host_bmi2 && asmjit::CpuInfo::host().hasFeature(asmjit::CpuFeatures::X86::kBMI2);
        stubs_.resolve = base + code.labelOffsetFromBase(resolve);
        stubs_.slow_access = base + code.labelOffsetFromBase(slow_access);
        stubs_.jcache = reinterpret_cast<uint64_t>(jcache_.get());
        stubs_.jcache_size = kJcacheSize;
    }

    std::unique_ptr<cpu::NativeCode> translate(Cpu& c, const CpuAccess::Block& b) {
        if (!stub_fn_) return nullptr;
        asmjit::CodeHolder code;
        if (code.init(rt_.environment()) != asmjit::kErrorOk) return nullptr;
        auto native = std::make_unique<X64Code>(*this);
        for (Link& l : native->links) l.owner = native.get();
        Translator t(c, hm_, stats_, b, *native, stubs_);
        asmjit::Label body;
        t.run(code, b.insns, body);
        Fn fn = nullptr;
        if (rt_.add(&fn, &code) != asmjit::kErrorOk) return nullptr;
        const size_t size = code.codeSize();
        auto* rx = reinterpret_cast<uint8_t*>(fn);
        native->set_code(fn, rx + code.labelOffsetFromBase(body), size);
        native->mode = b.mode;
        if (t.checked.isValid()) native->checked = rx + code.labelOffsetFromBase(t.checked);
        void* rx_base = nullptr;
        void* rw_base = nullptr;
        size_t alloc_size = 0;
        if (rt_.allocator()->query(rx, &rx_base, &rw_base, &alloc_size) == asmjit::kErrorOk &&
            rx_base == rx) {
            for (int k = 0; k < 4; ++k) {
                const auto& site = t.sites[k];
                if (!site.used) continue;  // (never for the dynamic exit, [2])
                const size_t rel = code.labelOffsetFromBase(site.after) - 4;
                native->direct[k] = {.rel_rx = rx + rel,
                                     .rel_rw = static_cast<uint8_t*>(rw_base) + rel,
                                     .tramp = rx + code.labelOffsetFromBase(site.tramp),
                                     .phys = site.phys,
                                     .cross = site.cross};
            }
        }
        ++stats_.blocks_translated;
        if (perf_map_)
            std::fprintf(perf_map_, "%" PRIxPTR " %zx vx86:%08x.%u@%04x:%08x\n",
                         reinterpret_cast<uintptr_t>(fn), size, b.phys, (b.mode & 1) ? 32u : 16u,
                         c.s.seg[cpu::CS].sel, uint32_t(c.s.eip));
        stats_.code_bytes += size;
        stats_.code_bytes_live += size;
        return native;
    }

    HandlerMap hm_;
    EngineOptions opt_;
    asmjit::JitRuntime rt_;
    cpu::EngineStats stats_;
    Stubs stubs_;
    void* stub_fn_ = nullptr;
    size_t stub_size_ = 0;
    Pending pending_;
    // The jump cache: links for dynamic exits whose own link holds another target, by a hash of
    // the target EIP (see emit_stubs). Linked like any Link, so invalidation unlinks them.
    static constexpr uint32_t kJcacheSize = 4096;
    std::unique_ptr<Link[]> jcache_ = std::make_unique<Link[]>(kJcacheSize);
    std::FILE* perf_map_ = nullptr;  // EngineOptions::perf_map, open for appending
};

X64Code::~X64Code() { engine_.dropped(*this); }
void X64Code::invalidated() { engine_.unlink_incoming(*this); }

}  // namespace

bool available() {
#if defined(__x86_64__)
    return true;
#else
    return false;
#endif
}

std::unique_ptr<Cpu::BlockEngine> make_x64_engine(Cpu& c, const EngineOptions& opt) {
    if (!available()) return nullptr;
    return std::make_unique<X64Engine>(c, opt);
}

bool set_engine(Cpu& c, cpu::Engine engine, const EngineOptions& opt) {
    if (engine == cpu::Engine::kInterp) {
        c.set_engine(nullptr);
        return true;
    }
    auto e = make_x64_engine(c, opt);
    if (!e) return false;
    if (engine == cpu::Engine::kDiff) e = make_diff_engine(c, std::move(e));
    c.set_engine(std::move(e));
    return true;
}

std::string format_stats(const Cpu& c) {
    const cpu::EngineStats* st = c.engine_stats();
    if (!st) return "engine interp\n";
    std::string out = c.engine() == cpu::Engine::kDiff ? format_diff_stats(c) : "engine jit\n";
    char line[96];
    auto put = [&](const char* name, uint64_t v) {
        std::snprintf(line, sizeof line, "jit.%-22s %llu\n", name, static_cast<unsigned long long>(v));
        out += line;
    };
    auto pct = [&](const char* name, uint64_t part, uint64_t whole) {
        std::snprintf(line, sizeof line, "jit.%-22s %.1f%%\n", name,
                      whole ? 100.0 * double(part) / double(whole) : 0.0);
        out += line;
    };
    put("blocks_translated", st->blocks_translated);
    put("insns_translated", st->insns_translated);
    pct("insns_inline", st->insns_inline, st->insns_translated);
    pct("insns_helper", st->insns_helper, st->insns_translated);
    put("flags_skipped", st->flags_skipped);
    put("flags_sunk", st->flags_sunk);
    put("page_reuses", st->page_reuses);
    put("flags_deferred", st->flags_deferred);
    put("flags_resolved", st->flags_resolved);
    put("side_joins", st->side_joins);
    put("joins_predicated", st->joins_predicated);
    put("slots_carried", st->slots_carried);
    put("code_bytes_total", st->code_bytes);
    put("code_bytes_live", st->code_bytes_live);
    put("links_made", st->links_made);
    put("links_direct", st->links_direct);
    put("blocks_dropped", st->blocks_dropped);
    put("flushes", st->flushes);
    const uint64_t runs = st->blocks_run_native + st->blocks_chained + st->blocks_direct +
                          st->blocks_looked_up + st->blocks_run_interp;
    put("block_runs", runs);
    pct("runs_from_run_loop", st->blocks_run_native, runs);
    pct("runs_via_link", st->blocks_chained, runs);
    pct("runs_via_direct_jump", st->blocks_direct, runs);
    pct("runs_via_lookup", st->blocks_looked_up, runs);
    pct("runs_interpreted", st->blocks_run_interp, runs);
    put("mem_slow_path", st->mem_slow);
    put("cpu_blocks_built", c.stats().blocks_built);
    put("cpu_blocks_invalidated", c.stats().blocks_invalidated);
    put("cpu_tlb_misses", c.stats().tlb_misses);
    return out;
}

namespace {
void disasm(std::string& out, cs_mode mode, const uint8_t* code, size_t size, uint64_t addr,
            const char* indent) {
    csh h;
    if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK) {
        out += indent;
        out += "(capstone unavailable)\n";
        return;
    }
    cs_insn* insn = nullptr;
    size_t n = cs_disasm(h, code, size, addr, 0, &insn);
    char line[256];
    size_t done = 0;
    for (size_t k = 0; k < n; ++k) {
        std::snprintf(line, sizeof line, "%s%08llx  %-8s %s\n", indent,
                      static_cast<unsigned long long>(insn[k].address), insn[k].mnemonic,
                      insn[k].op_str);
        out += line;
        done += insn[k].size;
    }
    if (done < size) {
        std::snprintf(line, sizeof line, "%s(%zu undecodable bytes)\n", indent, size - done);
        out += line;
    }
    if (insn) cs_free(insn, n);
    cs_close(&h);
}
}  // namespace

std::string disassemble_block(Cpu& c, uint32_t phys) {
    std::string out;
    char line[256];
    bool any = false;
    for (uint32_t mode = 0; mode < 16; ++mode) {  // (every combination of block_mode()'s bits)
        const CpuAccess::Block* b = CpuAccess::find_block(c, phys, mode);
        if (!b) continue;
        any = true;
        std::snprintf(line, sizeof line, "block phys %08x %s-bit%s: %zu insns, %u bytes%s%s\n", phys,
                      (mode & 1) ? "32" : "16",
                      (mode & 6) == 6 ? " flat" : (mode & 2) ? " flat-data" : (mode & 4) ? " flat-cs" : "", b->insns.size(), b->eip_span,
                      b->valid ? "" : " (invalid)", b->page2 != ~0u ? " (crosses a page)" : "");
        out += line;
        std::vector<uint8_t> bytes(b->eip_span);
        for (uint32_t k = 0; k < b->eip_span; ++k)
            bytes[k] = uint8_t(c.memory().read(phys + k, 1));
        out += "  guest:\n";
        disasm(out, (mode & 1) ? CS_MODE_32 : CS_MODE_16, bytes.data(), bytes.size(), phys, "    ");
        const auto* code = static_cast<const X64Code*>(b->native.get());
        if (!code || !code->fn()) {
            out += "  host: (not translated)\n";
            continue;
        }
        std::snprintf(line, sizeof line, "  host: %zu bytes at %p, chained entry +%td\n",
                      code->size(), reinterpret_cast<void*>(code->fn()),
                      static_cast<const char*>(code->entry()) -
                          reinterpret_cast<const char*>(code->fn()));
        out += line;
        for (int k : {0, 1, 3}) {
            const Link& l = code->links[k];
            if (!l.target) continue;
            std::snprintf(line, sizeof line, "  link %s -> phys %08x\n",
                          k == 0 ? "taken" : k == 1 ? "fall-through" : "side exit", l.phys);
            out += line;
        }
        disasm(out, CS_MODE_64, reinterpret_cast<const uint8_t*>(code->fn()), code->size(),
               reinterpret_cast<uint64_t>(code->fn()), "    ");
    }
    if (!any) {
        std::snprintf(line, sizeof line, "no decoded block at phys %08x\n", phys);
        out += line;
    }
    return out;
}

std::optional<cpu::Engine> parse_engine(std::string_view name) {
    if (name == "interp") return cpu::Engine::kInterp;
    if (name == "jit") return cpu::Engine::kJit;
    if (name == "diff") return cpu::Engine::kDiff;
    return std::nullopt;
}

}  // namespace vx86::jit
