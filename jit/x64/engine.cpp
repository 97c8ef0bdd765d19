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
//   across instructions except what it will write back. Within a run of register-only inline
//   instructions the EIP/icount updates are deferred and written once ("sync") before anything
//   that can fault, call out or leave. So a handler or slow path that longjmps to the run loop
//   finds the interpreter's state for the faulting instruction; the generated frame is simply
//   abandoned (it has no unwind data and owns nothing; callee-saved registers are restored by
//   longjmp from setjmp's copy).
// - Memory operands use the soft TLB inline (segment limit compare against segchk_, alignment
//   check flag, tag compare, add addend). Any miss goes to a slow path that calls Cpu::read/write
//   in full, which repeats the checks and raises the fault or does the MMIO/SMC work. Stores to
//   code pages never hit the fast path (their write tags are cleared), so self-modifying code
//   always reaches code_page_written, which sets stop_; stop_ is tested after every instruction
//   that called out.
// - Lazy flags are computed with the interpreter's formulas (flags.h) into CpuState::lf.
#include <asmjit/x86.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
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
};
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
        probe({0x0F, 0x85}, K::kJcc, 0);
        probe({0xEB}, K::kJmpRel, 0);
        probe({0xE9}, K::kJmpRel, 0);
        probe({0xE8}, K::kCallRel, 0);
        probe({0xC3}, K::kRetNear, 0);
        probe({0xC2}, K::kRetNear, 0);
        probe({0x50}, K::kPushR, 0);
        probe({0x58}, K::kPopR, 0);
    }
    const Desc* find(cpu::Handler h) const {
        auto it = map_.find(h);
        if (it == map_.end() || !it->second.second) return nullptr;
        return &it->second.first;
    }

private:
    void add(cpu::Handler h, Desc d) {
        auto [it, fresh] = map_.try_emplace(h, d, true);
        if (!fresh && !(it->second.first == d)) it->second.second = false;  // ambiguous: helper
    }
    bool decode(std::initializer_list<uint8_t> bytes, bool c32, cpu::DecodedInsn& di) const {
        uint8_t buf[15] = {};
        unsigned n = 0;
        for (uint8_t b : bytes) buf[n++] = b;
        return dec_.decode(buf, sizeof buf, c32, di) == cpu::DecodeStatus::kOk;
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

    cpu::Decoder dec_;
    std::unordered_map<cpu::Handler, std::pair<Desc, bool>> map_;
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

template <class F>
uint64_t addr(F* f) { return reinterpret_cast<uint64_t>(reinterpret_cast<void*>(f)); }

class X64Code final : public cpu::NativeCode {
public:
    X64Code(asmjit::JitRuntime& rt, Fn fn) : rt_(rt), fn_(fn) {}
    ~X64Code() override { rt_.release(fn_); }
    Fn fn() const { return fn_; }

private:
    asmjit::JitRuntime& rt_;
    Fn fn_;
};

// Register roles in generated code: rbx = &cpu.s, r12 = &cpu, r13d = effective address,
// r14d = value to store / result, r15d = packed lazy-flag aux. All callee-saved, so they survive
// slow-path calls. eax/ecx/edx/esi/edi/r8-r11 are scratch.
const x86::Gp kS = x86::rbx, kC = x86::r12;

class Translator {
public:
    Translator(Cpu& c, const HandlerMap& hm, cpu::EngineStats& st, bool c32)
        : c_(c), hm_(hm), st_(st), c32_(c32), is8086_(c.traits().is_8086),
          push_sp_new_(c.traits().push_sp_new) {}

    bool run(asmjit::CodeHolder& code, const std::vector<DecodedInsn>& insns) {
        x86::Assembler a(&code);
        a_ = &a;
        exit_ = a.newLabel();
        a.push(x86::rbx);
        a.push(x86::r12);
        a.push(x86::r13);
        a.push(x86::r14);
        a.push(x86::r15);  // 5 pushes + return address: rsp is 16-byte aligned for calls
        a.mov(kC, x86::rdi);
        a.mov(kS, x86::rsi);
        for (size_t k = 0; k < insns.size(); ++k) {
            last_ = k + 1 == insns.size();
            const DecodedInsn& i = insns[k];
            ++st_.insns_translated;
            if (emit_inline(i)) ++st_.insns_inline;
            else {
                ++st_.insns_helper;
                emit_helper(i);
            }
        }
        sync();
        a.bind(exit_);
        a.pop(x86::r15);
        a.pop(x86::r14);
        a.pop(x86::r13);
        a.pop(x86::r12);
        a.pop(x86::rbx);
        a.ret();
        for (auto& f : cold_) f();
        return true;
    }

private:
    // ---- CpuState / Cpu addressing ----
    static x86::Mem gpr32(unsigned r) { return x86::dword_ptr(kS, int32_t(8 * r)); }
    static x86::Mem gpr64(unsigned r) { return x86::qword_ptr(kS, int32_t(8 * r)); }
    static x86::Mem gpr16(unsigned r) { return x86::word_ptr(kS, int32_t(8 * r)); }
    static x86::Mem gpr8(unsigned r) {
        return x86::byte_ptr(kS, int32_t(r < 4 ? 8 * r : 8 * (r - 4) + 1));
    }
    static x86::Mem st32(size_t off) { return x86::dword_ptr(kS, int32_t(off)); }
    static x86::Mem st64(size_t off) { return x86::qword_ptr(kS, int32_t(off)); }
    x86::Mem cpu8(int32_t off) const { return x86::byte_ptr(kC, off); }
    x86::Mem cpu32(int32_t off) const { return x86::dword_ptr(kC, off); }
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

    // Loads register `r` of `bits` zero-extended into `dst` (32-bit view).
    void load_reg(const x86::Gp& dst, unsigned r, int bits) {
        if (bits == 32) a_->mov(dst, gpr32(r));
        else if (bits == 16) a_->movzx(dst, gpr16(r));
        else a_->movzx(dst, gpr8(r));
    }
    // Stores `src` (32-bit view, upper bits of the 64-bit register zero for bits == 32) as
    // set_reg<bits> does: 32-bit writes clear the upper half of the 64-bit register.
    void store_reg(const x86::Gp& src32, unsigned r, int bits) {
        if (bits == 32) {
            a_->mov(src32, src32);  // zero-extend to 64
            a_->mov(gpr64(r), src32.r64());
        } else if (bits == 16) {
            a_->mov(gpr16(r), src32.r16());
        } else {
            a_->mov(gpr8(r), src32.r8());
        }
    }
    static uint32_t mask(int bits) { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }
    // Zero-extends the low `bits` of `r` in place.
    void zext(const x86::Gp& r, int bits) {
        if (bits == 16) a_->movzx(r, r.r16());
        else if (bits == 8) a_->movzx(r, r.r8());
    }

    // ---- EIP/icount bookkeeping ----
    void sync() { sync_with(pend_n_, pend_len_), pend_n_ = 0, pend_len_ = 0; }
    void sync_with(unsigned n, uint32_t len) {
        if (!n) return;
        a_->mov(x86::eax, st32(kEip));
        a_->add(x86::eax, len);
        if (!c32_) a_->and_(x86::eax, 0xFFFF);
        a_->mov(st64(kEip), x86::rax);
        a_->add(st64(kIcount), n);
    }
    void retire(const DecodedInsn& i) {
        ++pend_n_;
        pend_len_ += i.len;
    }
    // After an instruction that called out: leave the block when the call asked to.
    void check_stop() {
        if (last_) return;
        asmjit::Label out = a_->newLabel();
        a_->cmp(cpu8(CpuAccess::off_stop(c_)), 0);
        a_->jne(out);
        unsigned n = pend_n_;
        uint32_t len = pend_len_;
        cold_.push_back([this, out, n, len] {
            a_->bind(out);
            sync_with(n, len);
            a_->jmp(exit_);
        });
    }
    void call(uint64_t fn) {
        a_->mov(x86::rax, fn);
        a_->call(x86::rax);
    }

    // The interpreter's step, around a call of the handler.
    void emit_helper(const DecodedInsn& i) {
        sync();
        const int32_t next = CpuAccess::off_next_eip(c_);
        a_->mov(x86::eax, st32(kEip));
        a_->add(x86::eax, i.len);
        if (!c32_) a_->and_(x86::eax, 0xFFFF);
        a_->mov(cpu32(next), x86::eax);
        a_->mov(x86::rdi, kC);
        a_->mov(x86::rsi, reinterpret_cast<uint64_t>(&i));
        call(addr(i.fn));
        a_->mov(x86::eax, cpu32(next));
        a_->mov(st64(kEip), x86::rax);
        a_->add(st64(kIcount), 1);
        if (!last_) {
            a_->cmp(cpu8(CpuAccess::off_stop(c_)), 0);
            a_->jne(exit_);
        }
    }

    // ---- effective address and memory ----
    // ea(i) into r13d.
    void emit_ea(const DecodedInsn& i) {
        a_->mov(x86::r13d, i.disp);
        if (i.base != cpu::kRegNone) a_->add(x86::r13d, gpr32(i.base));
        if (i.index != cpu::kRegNone) {
            a_->mov(x86::eax, gpr32(i.index));
            if (i.scale) a_->shl(x86::eax, i.scale);
            a_->add(x86::r13d, x86::eax);
        }
        if (!(i.flags & cpu::kfAddr32)) a_->and_(x86::r13d, 0xFFFF);
    }
    // Inline segment check + TLB lookup for an access of `bits` at seg:r13d. Leaves the host
    // pointer in rax on the fast path, jumps to `slow` otherwise. `write` picks the tag.
    void emit_fast_lookup(unsigned seg, int bits, bool write, asmjit::Label slow) {
        auto& a = *a_;
        const int32_t chk = CpuAccess::off_segchk(c_) + int32_t(seg * sizeof(CpuAccess::SegCheck));
        const int32_t lo = chk + int32_t(write ? offsetof(CpuAccess::SegCheck, wlo)
                                               : offsetof(CpuAccess::SegCheck, rlo));
        const int32_t hi = chk + int32_t(write ? offsetof(CpuAccess::SegCheck, whi)
                                               : offsetof(CpuAccess::SegCheck, rhi));
        a.mov(x86::eax, x86::r13d);
        a.cmp(x86::eax, cpu32(lo));
        a.jb(slow);
        a.lea(x86::rcx, x86::ptr(x86::rax, bits / 8 - 1));
        a.mov(x86::edx, cpu32(hi));
        a.cmp(x86::rcx, x86::rdx);
        a.ja(slow);
        if (bits > 8) {
            a.cmp(cpu8(CpuAccess::off_ac_check(c_)), 0);
            a.jne(slow);
        }
        a.add(x86::eax, st32(seg_base(seg)));  // linear address (wraps at 4 GiB)
        a.mov(x86::ecx, x86::eax);
        a.shr(x86::ecx, 12);
        a.and_(x86::ecx, CpuAccess::kTlbSize - 1);
        static_assert(sizeof(CpuAccess::TlbEntry) == 32);
        a.shl(x86::ecx, 5);
        a.add(x86::rcx, x86::qword_ptr(kC, CpuAccess::off_tlb_cur(c_)));
        a.mov(x86::edx, x86::eax);
        a.and_(x86::edx, ~uint32_t(0xFFF));
        a.cmp(x86::edx, x86::dword_ptr(x86::rcx, int32_t(write ? offsetof(CpuAccess::TlbEntry, write_tag)
                                                              : offsetof(CpuAccess::TlbEntry, read_tag))));
        a.jne(slow);
        if (bits > 8) {
            a.mov(x86::edx, x86::eax);
            a.and_(x86::edx, 0xFFF);
            a.cmp(x86::edx, 4096 - bits / 8);
            a.ja(slow);
        }
        a.add(x86::rax, x86::qword_ptr(x86::rcx, int32_t(offsetof(CpuAccess::TlbEntry, addend))));
    }
    // read<bits>(seg, r13d) into eax (zero-extended).
    void emit_read(unsigned seg, int bits) {
        auto& a = *a_;
        if (is8086_) {
            a.mov(x86::rdi, kC);
            a.mov(x86::esi, seg);
            a.mov(x86::edx, x86::r13d);
            a.mov(x86::ecx, bits / 8);
            call(addr(slow_read));
            return;
        }
        asmjit::Label slow = a.newLabel(), done = a.newLabel();
        emit_fast_lookup(seg, bits, false, slow);
        if (bits == 32) a.mov(x86::eax, x86::dword_ptr(x86::rax));
        else if (bits == 16) a.movzx(x86::eax, x86::word_ptr(x86::rax));
        else a.movzx(x86::eax, x86::byte_ptr(x86::rax));
        a.bind(done);
        cold_.push_back([this, slow, done, seg, bits] {
            a_->bind(slow);
            a_->mov(x86::rdi, kC);
            a_->mov(x86::esi, seg);
            a_->mov(x86::edx, x86::r13d);
            a_->mov(x86::ecx, bits / 8);
            call(addr(slow_read));
            a_->jmp(done);
        });
    }
    // write<bits>(seg, r13d, r14d).
    void emit_write(unsigned seg, int bits) {
        auto& a = *a_;
        auto slow_call = [this, seg, bits] {
            a_->mov(x86::rdi, kC);
            a_->mov(x86::esi, seg);
            a_->mov(x86::edx, x86::r13d);
            a_->mov(x86::ecx, x86::r14d);
            a_->mov(x86::r8d, bits / 8);
            call(addr(slow_write));
        };
        if (is8086_) {
            slow_call();
            return;
        }
        asmjit::Label slow = a.newLabel(), done = a.newLabel();
        emit_fast_lookup(seg, bits, true, slow);
        if (bits == 32) a.mov(x86::dword_ptr(x86::rax), x86::r14d);
        else if (bits == 16) a.mov(x86::word_ptr(x86::rax), x86::r14w);
        else a.mov(x86::byte_ptr(x86::rax), x86::r14b);
        a.bind(done);
        cold_.push_back([this, slow, done, slow_call] {
            a_->bind(slow);
            slow_call();
            a_->jmp(done);
        });
    }

    // ---- ALU ----
    // a in eax, b in ecx (both zero-extended to `bits`): result to r14d, packed aux to r15d.
    void emit_alu(AluOp op, int bits) {
        auto& a = *a_;
        switch (op) {
            case kAdd: case kAdc:
                a.mov(x86::edx, x86::eax);
                a.add(x86::edx, x86::ecx);
                if (op == kAdc) {
                    a.mov(x86::esi, st32(kLfAux));
                    a.shr(x86::esi, 31);
                    a.add(x86::edx, x86::esi);
                }
                zext(x86::edx, bits);
                a.mov(x86::r14d, x86::edx);
                // cv = (a & b) | ((a | b) & ~r)
                a.mov(x86::esi, x86::eax);
                a.and_(x86::esi, x86::ecx);
                a.mov(x86::edi, x86::eax);
                a.or_(x86::edi, x86::ecx);
                a.not_(x86::edx);
                a.and_(x86::edi, x86::edx);
                a.or_(x86::esi, x86::edi);
                pack_aux(bits);
                return;
            case kSub: case kSbb: case kCmp:
                a.mov(x86::edx, x86::eax);
                a.sub(x86::edx, x86::ecx);
                if (op == kSbb) {
                    a.mov(x86::esi, st32(kLfAux));
                    a.shr(x86::esi, 31);
                    a.sub(x86::edx, x86::esi);
                }
                zext(x86::edx, bits);
                a.mov(x86::r14d, x86::edx);
                // bv = (~a & b) | ((~a | b) & r)
                a.mov(x86::esi, x86::eax);
                a.not_(x86::esi);
                a.mov(x86::edi, x86::esi);
                a.and_(x86::esi, x86::ecx);
                a.or_(x86::edi, x86::ecx);
                a.and_(x86::edi, x86::edx);
                a.or_(x86::esi, x86::edi);
                pack_aux(bits);
                return;
            case kAnd: case kTest:
                a.mov(x86::r14d, x86::eax);
                a.and_(x86::r14d, x86::ecx);
                a.xor_(x86::r15d, x86::r15d);
                return;
            case kOr:
                a.mov(x86::r14d, x86::eax);
                a.or_(x86::r14d, x86::ecx);
                a.xor_(x86::r15d, x86::r15d);
                return;
            case kXor:
                a.mov(x86::r14d, x86::eax);
                a.xor_(x86::r14d, x86::ecx);
                a.xor_(x86::r15d, x86::r15d);
                return;
        }
    }
    // pack_cv<bits>(esi) into r15d.
    void pack_aux(int bits) {
        auto& a = *a_;
        a.mov(x86::r15d, x86::esi);
        if (bits < 32) a.shl(x86::r15d, 32 - bits);
        a.and_(x86::r15d, 0xC0000000u);
        a.and_(x86::esi, 8);
        a.or_(x86::r15d, x86::esi);
    }
    // INC/DEC keep CF: aux = (aux & ~(CF|PO)) | cf_old << 31 | (cf_old ^ of_new) << 30.
    void keep_cf() {
        auto& a = *a_;
        a.mov(x86::esi, st32(kLfAux));
        a.shr(x86::esi, 31);
        a.mov(x86::edi, x86::r15d);
        a.shr(x86::edi, 1);
        a.xor_(x86::edi, x86::r15d);
        a.shr(x86::edi, 30);
        a.and_(x86::edi, 1);
        a.and_(x86::r15d, 0x3FFFFFFF);
        a.mov(x86::edx, x86::esi);
        a.shl(x86::edx, 31);
        a.or_(x86::r15d, x86::edx);
        a.xor_(x86::esi, x86::edi);
        a.shl(x86::esi, 30);
        a.or_(x86::r15d, x86::esi);
    }
    // s.lf = {sext(r14d), r15d}.
    void commit_flags(int bits) {
        auto& a = *a_;
        if (bits == 32) a.mov(x86::eax, x86::r14d);
        else if (bits == 16) a.movsx(x86::eax, x86::r14w);
        else a.movsx(x86::eax, x86::r14b);
        a.mov(st32(kLfRes), x86::eax);
        a.mov(st32(kLfAux), x86::r15d);
    }

    // eval_cond(s.lf, cc) into eax (0/1).
    void emit_cond(unsigned cc) {
        auto& a = *a_;
        a.mov(x86::edx, st32(kLfRes));
        a.mov(x86::ecx, st32(kLfAux));
        auto of = [&](const x86::Gp& d) {  // ((aux >> 31) ^ (aux >> 30)) & 1
            a.mov(d, x86::ecx);
            a.shr(d, 1);
            a.xor_(d, x86::ecx);
            a.shr(d, 30);
            a.and_(d, 1);
        };
        auto sf = [&](const x86::Gp& d) {  // ((res >> 31) ^ (aux >> 2)) & 1
            a.mov(d, x86::ecx);
            a.shr(d, 2);
            a.mov(x86::r8d, x86::edx);
            a.shr(x86::r8d, 31);
            a.xor_(d, x86::r8d);
            a.and_(d, 1);
        };
        auto zf = [&](const x86::Gp& d) {
            a.xor_(d, d);
            a.test(x86::edx, x86::edx);
            a.sete(d.r8());
        };
        switch (cc >> 1) {
            case 0: of(x86::eax); break;
            case 1: a.mov(x86::eax, x86::ecx); a.shr(x86::eax, 31); break;
            case 2: zf(x86::eax); break;
            case 3:
                zf(x86::eax);
                a.mov(x86::esi, x86::ecx);
                a.shr(x86::esi, 31);
                a.or_(x86::eax, x86::esi);
                break;
            case 4: sf(x86::eax); break;
            case 5:
                a.mov(x86::esi, x86::ecx);
                a.shr(x86::esi, 8);
                a.xor_(x86::esi, x86::edx);
                a.xor_(x86::eax, x86::eax);
                a.test(x86::esi.r8(), x86::esi.r8());
                a.setp(x86::al);  // host PF: even parity of the low byte
                break;
            case 6:
                sf(x86::eax);
                of(x86::esi);
                a.xor_(x86::eax, x86::esi);
                break;
            default:
                sf(x86::eax);
                of(x86::esi);
                a.xor_(x86::eax, x86::esi);
                zf(x86::edi);
                a.or_(x86::eax, x86::edi);
                break;
        }
        if (cc & 1) a.xor_(x86::eax, 1);
    }

    // eax = target & mask(bits); #GP(0) unless 8086 or within the CS limit. Faults with the
    // state of the instruction (pending retirements synced in the cold path).
    void near_jump_check(int bits) {
        auto& a = *a_;
        if (bits == 16) a.movzx(x86::eax, x86::ax);
        if (is8086_) return;
        asmjit::Label bad = a.newLabel();
        a.cmp(x86::eax, st32(seg_limit(cpu::CS)));
        a.ja(bad);
        unsigned n = pend_n_;
        uint32_t len = pend_len_;
        cold_.push_back([this, bad, n, len] {
            a_->bind(bad);
            sync_with(n, len);
            a_->mov(x86::rdi, kC);
            call(addr(fault_gp0));
        });
    }
    // eax = next_eip of this instruction (the pending run plus its own length).
    void next_eip_to_eax(const DecodedInsn& i) {
        a_->mov(x86::eax, st32(kEip));
        a_->add(x86::eax, pend_len_ + i.len);
        if (!c32_) a_->and_(x86::eax, 0xFFFF);
    }
    // Ends the block at EIP = eax, retiring the pending run and this instruction.
    void finish_branch(const x86::Gp& eip32) {
        a_->mov(st64(kEip), eip32.r64());
        a_->add(st64(kIcount), pend_n_ + 1);
        pend_n_ = 0;
        pend_len_ = 0;
        a_->jmp(exit_);
    }

    // ---- stack ----
    // sp() into eax.
    void load_sp() {
        auto& a = *a_;
        asmjit::Label big = a.newLabel();
        a.mov(x86::eax, gpr32(cpu::ESP));
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        a.movzx(x86::eax, x86::ax);
        a.bind(big);
    }
    // eax = eax masked like a stack offset (stack32 ? 32 : 16 bits).
    void mask_sp() {
        auto& a = *a_;
        asmjit::Label big = a.newLabel();
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        a.movzx(x86::eax, x86::ax);
        a.bind(big);
    }
    // set_sp(eax).
    void store_sp() {
        auto& a = *a_;
        asmjit::Label big = a.newLabel(), done = a.newLabel();
        a.test(x86::word_ptr(kS, int32_t(seg_attr(cpu::SS))), cpu::kAttrDB);
        a.jnz(big);
        a.mov(gpr16(cpu::ESP), x86::ax);
        a.jmp(done);
        a.bind(big);
        a.mov(x86::eax, x86::eax);
        a.mov(gpr64(cpu::ESP), x86::rax);
        a.bind(done);
    }
    // push<bits>(r14d): writes first, then ESP (a faulting write leaves ESP).
    void emit_push(int bits) {
        load_sp();
        a_->sub(x86::eax, bits / 8);
        mask_sp();
        a_->mov(x86::r13d, x86::eax);
        emit_write(cpu::SS, bits);
        a_->mov(x86::eax, x86::r13d);
        store_sp();
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
                if (dst_mem) {
                    sync();
                    emit_ea(i);
                    emit_read(i.seg, B);
                } else {
                    load_reg(x86::eax, dst_reg, B);
                }
                if (incdec) a.mov(x86::ecx, 1);
                else if (d->kind == Kind::kAluRmR) load_reg(x86::ecx, i.reg, B);
                else a.mov(x86::ecx, i.imm & mask(B));
                emit_alu(incdec ? (d->op ? kSub : kAdd) : op, B);
                if (incdec) keep_cf();
                if (writes) {
                    if (dst_mem) emit_write(i.seg, B);
                    else store_reg(x86::r14d, dst_reg, B);
                }
                commit_flags(B);
                retire(i);
                if (dst_mem) check_stop();
                return true;
            }
            case Kind::kAluRRm: {
                if (mem) {
                    sync();
                    emit_ea(i);
                    emit_read(i.seg, B);
                    a.mov(x86::ecx, x86::eax);
                } else {
                    load_reg(x86::ecx, i.rm, B);
                }
                load_reg(x86::eax, i.reg, B);
                emit_alu(op, B);
                if (op != kCmp && op != kTest) store_reg(x86::r14d, i.reg, B);
                commit_flags(B);
                retire(i);
                if (mem) check_stop();
                return true;
            }
            case Kind::kMovRmR: case Kind::kMovRmImm: case Kind::kMovMoffsAcc: {
                const unsigned src = d->kind == Kind::kMovMoffsAcc ? unsigned(cpu::EAX) : i.reg;
                const bool to_mem = mem || d->kind == Kind::kMovMoffsAcc;
                if (to_mem) {
                    sync();
                    emit_ea(i);
                }
                if (d->kind == Kind::kMovRmImm) a.mov(x86::r14d, i.imm & mask(B));
                else load_reg(x86::r14d, src, B);
                if (to_mem) emit_write(i.seg, B);
                else store_reg(x86::r14d, i.rm, B);
                retire(i);
                if (to_mem) check_stop();
                return true;
            }
            case Kind::kMovRRm: case Kind::kMovAccMoffs: {
                const unsigned dst = d->kind == Kind::kMovAccMoffs ? unsigned(cpu::EAX) : i.reg;
                const bool from_mem = mem || d->kind == Kind::kMovAccMoffs;
                if (from_mem) {
                    sync();
                    emit_ea(i);
                    emit_read(i.seg, B);
                } else {
                    load_reg(x86::eax, i.rm, B);
                }
                store_reg(x86::eax, dst, B);
                retire(i);
                if (from_mem) check_stop();
                return true;
            }
            case Kind::kMovRImm:
                a.mov(x86::eax, i.imm & mask(B));
                store_reg(x86::eax, i.reg, B);
                retire(i);
                return true;
            case Kind::kLea:
                if (!mem) return false;  // #UD: the handler raises it
                emit_ea(i);
                store_reg(x86::r13d, i.reg, B);
                retire(i);
                return true;
            case Kind::kJcc: case Kind::kJmpRel: {
                if (!last_) return false;
                next_eip_to_eax(i);
                asmjit::Label not_taken = a.newLabel();
                if (d->kind == Kind::kJcc) {
                    a.mov(x86::r14d, x86::eax);
                    emit_cond(i.opcode & 15);
                    a.test(x86::eax, x86::eax);
                    a.mov(x86::eax, x86::r14d);
                    a.jz(not_taken);
                }
                a.add(x86::eax, i.imm);
                near_jump_check(B);
                a.bind(not_taken);
                finish_branch(x86::eax);
                return true;
            }
            case Kind::kCallRel: {
                if (!last_) return false;
                sync();
                next_eip_to_eax(i);
                a.mov(x86::r14d, x86::eax);  // return address
                a.add(x86::eax, i.imm);
                near_jump_check(B);
                a.push(x86::rax);  // target (two pushes keep the stack aligned for calls)
                a.push(x86::rax);
                emit_push(B);
                a.pop(x86::rax);
                a.pop(x86::rax);
                finish_branch(x86::eax);
                return true;
            }
            case Kind::kRetNear: {
                if (!last_) return false;
                sync();
                load_sp();
                mask_sp();
                a.mov(x86::r13d, x86::eax);
                emit_read(cpu::SS, B);
                near_jump_check(B);
                a.mov(x86::r14d, x86::eax);
                load_sp();
                a.add(x86::eax, B / 8 + ((i.opcode & 1) ? 0 : (i.imm & 0xFFFF)));
                store_sp();
                finish_branch(x86::r14d);
                return true;
            }
            case Kind::kPushR:
                sync();
                load_reg(x86::r14d, i.reg, B);
                if (i.reg == cpu::ESP && push_sp_new_) {
                    a.sub(x86::r14d, B / 8);
                    zext(x86::r14d, B);
                }
                emit_push(B);
                retire(i);
                check_stop();
                return true;
            case Kind::kPopR:
                sync();
                load_sp();
                a.mov(x86::r13d, x86::eax);
                emit_read(cpu::SS, B);
                a.mov(x86::r14d, x86::eax);
                a.mov(x86::eax, x86::r13d);
                a.add(x86::eax, B / 8);
                store_sp();
                store_reg(x86::r14d, i.reg, B);
                retire(i);
                check_stop();
                return true;
        }
        return false;
    }

    Cpu& c_;
    const HandlerMap& hm_;
    cpu::EngineStats& st_;
    const bool c32_, is8086_, push_sp_new_;
    x86::Assembler* a_ = nullptr;
    asmjit::Label exit_;
    bool last_ = false;
    unsigned pend_n_ = 0;
    uint32_t pend_len_ = 0;
    std::vector<std::function<void()>> cold_;
};

class X64Engine final : public Cpu::BlockEngine {
public:
    explicit X64Engine(Cpu& c) : hm_(c.traits().model) {}

    void execute(Cpu& c, CpuAccess::Block& b, uint64_t limit) override {
        if (limit < b.insns.size() || CpuAccess::is_scratch(c, b)) {
            ++stats_.blocks_run_interp;
            CpuAccess::execute_block(c, b, limit);
            return;
        }
        if (!b.native) b.native = translate(c, b);
        if (!b.native) {
            ++stats_.blocks_run_interp;
            CpuAccess::execute_block(c, b, limit);
            return;
        }
        ++stats_.blocks_run_native;
        CpuAccess::set_current_block(c, &b);
        static_cast<X64Code&>(*b.native).fn()(&c, &c.s);
        CpuAccess::set_current_block(c, nullptr);
    }
    cpu::Engine kind() const override { return cpu::Engine::kJit; }
    const cpu::EngineStats& stats() const override { return stats_; }

private:
    std::unique_ptr<cpu::NativeCode> translate(Cpu& c, const CpuAccess::Block& b) {
        asmjit::CodeHolder code;
        if (code.init(rt_.environment()) != asmjit::kErrorOk) return nullptr;
        Translator t(c, hm_, stats_, b.mode & 1);
        t.run(code, b.insns);
        Fn fn = nullptr;
        if (rt_.add(&fn, &code) != asmjit::kErrorOk) return nullptr;
        ++stats_.blocks_translated;
        stats_.code_bytes += code.codeSize();
        return std::make_unique<X64Code>(rt_, fn);
    }

    HandlerMap hm_;
    asmjit::JitRuntime rt_;
    cpu::EngineStats stats_;
};

}  // namespace

bool available() {
#if defined(__x86_64__)
    return true;
#else
    return false;
#endif
}

std::unique_ptr<Cpu::BlockEngine> make_x64_engine(Cpu& c) {
    if (!available()) return nullptr;
    return std::make_unique<X64Engine>(c);
}

bool set_engine(Cpu& c, cpu::Engine engine) {
    if (engine == cpu::Engine::kInterp) {
        c.set_engine(nullptr);
        return true;
    }
    auto e = make_x64_engine(c);
    if (!e) return false;
    c.set_engine(std::move(e));
    return true;
}

std::optional<cpu::Engine> parse_engine(std::string_view name) {
    if (name == "interp") return cpu::Engine::kInterp;
    if (name == "jit") return cpu::Engine::kJit;
    return std::nullopt;
}

}  // namespace vx86::jit
