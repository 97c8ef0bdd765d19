// CpuAccess: the JIT's window on Cpu internals (Cpu befriends it). Generated code addresses Cpu
// members by their offset from the Cpu object, computed here from a live Cpu (Cpu is not
// standard layout, so offsetof is not available for it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu.h"

namespace vx86::jit {

struct CpuAccess {
    using Cpu = cpu::Cpu;
    using Block = Cpu::Block;
    using TlbEntry = Cpu::TlbEntry;
    using SegCheck = Cpu::SegCheck;
    static constexpr unsigned kTlbSize = Cpu::kTlbSize;

    static void execute_block(Cpu& c, Block& b, uint64_t limit) { c.execute_block(b, limit); }
    static bool is_scratch(const Cpu& c, const Block& b) { return &b == &c.scratch_; }
    static void set_current_block(Cpu& c, Block* b) { c.current_block_ = b; }

    static int32_t rel(const Cpu& c, const void* member) {
        return int32_t(reinterpret_cast<const char*>(member) - reinterpret_cast<const char*>(&c));
    }
    static int32_t off_stop(const Cpu& c) { return rel(c, &c.stop_); }
    static int32_t off_next_eip(const Cpu& c) { return rel(c, &c.next_eip); }
    static int32_t off_tlb_cur(const Cpu& c) { return rel(c, &c.tlb_cur_); }
    static int32_t off_segchk(const Cpu& c) { return rel(c, &c.segchk_[0]); }
    static int32_t off_ac_check(const Cpu& c) { return rel(c, &c.ac_check_); }
    static int32_t off_state(const Cpu& c) { return rel(c, &c.s); }
};

}  // namespace vx86::jit
