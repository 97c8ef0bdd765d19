// 128-bit unsigned helpers shared by the x87 arithmetic (f80.cpp) and the transcendentals
// (f80_trans.cpp): the type, a leading-zero count and a sticky right shift. Internal to cpu/fpu.
#pragma once

#include <bit>
#include <cstdint>

namespace vx86::cpu::fpu::detail {

__extension__ typedef unsigned __int128 U128;

inline int clz128(U128 v) {
    uint64_t hi = static_cast<uint64_t>(v >> 64);
    if (hi) return std::countl_zero(hi);
    return 64 + std::countl_zero(static_cast<uint64_t>(v));
}

// Right shift keeping a sticky bit (bit 0 set) for everything shifted out.
inline U128 shift_right_jam(U128 v, int64_t n) {
    if (n <= 0) return v;
    if (n >= 128) return v != 0 ? 1 : 0;
    U128 lost = v & ((U128(1) << n) - 1);
    return (v >> n) | (lost != 0 ? 1 : 0);
}

}  // namespace vx86::cpu::fpu::detail
