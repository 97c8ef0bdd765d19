// f80: IEEE 754 double-extended (x87 80-bit) arithmetic in portable C++, bit-exact with a real
// x87 and identical on every host (no host long double, no host FPU state is ever touched).
//
// Design decisions:
// - A value is the x87 register image: a 64-bit significand with its explicit integer bit and
//   a 16-bit sign/exponent word. Every encoding the x87 can hold is representable, including
//   pseudo-denormals, unnormals, pseudo-NaNs and pseudo-infinities (the latter three are
//   "unsupported" on the 387+ and raise invalid; pseudo-denormals are accepted as operands).
// - Every operation takes an Env: rounding control, precision control (which rounds the
//   significand to 24/53/64 bits as the x87 does, keeping the 15-bit exponent range), and the
//   exception masks from the control word. It ORs the exceptions it detects into env.flags
//   (FSW bits 0-5, IE/DE/ZE/OE/UE/PE) and reports C1 (the "rounded up" bit, or the sign of an
//   invalid's stack fault is the caller's business) in env.c1.
// - Masked responses are computed here (QNaN indefinite, infinities, denormal results,
//   the overflow/underflow results of each rounding mode). When an exception is unmasked the
//   x87 either stores nothing (IE, ZE, DE on operands) or stores a result with the exponent
//   biased by 24576 (OE/UE to a register): env.unmasked_fault tells the caller that the
//   destination must not be written (unmasked IE/ZE/DE, and unmasked OE/UE of to_f32/to_f64).
//   For an unmasked OE/UE with a register destination unmasked_fault stays false and the
//   returned value is the biased result the register receives; the caller raises the trap
//   from env.flags & ~env.masks as for any pending unmasked exception.
// - Operations are free functions over values (no hidden state), so the interpreter, the JIT's
//   helpers and the tests share them.
#pragma once

#include <cstdint>

namespace vx86::cpu::fpu {

struct F80 {
    uint64_t sig = 0;  // significand with the explicit integer bit 63
    uint16_t se = 0;   // bit 15 sign, bits 0-14 biased exponent (bias 16383)

    bool sign() const { return se >> 15; }
    uint16_t exp() const { return se & 0x7FFF; }
    friend bool operator==(const F80&, const F80&) = default;
};

inline constexpr int kBias = 16383;

// FSW/FCW exception bits (the same positions in both words).
enum FpEx : uint16_t {
    kExInvalid = 1u << 0, kExDenormal = 1u << 1, kExZeroDiv = 1u << 2,
    kExOverflow = 1u << 3, kExUnderflow = 1u << 4, kExPrecision = 1u << 5,
    kExAll = 0x3F,
};
// FCW.RC
enum Rounding : uint8_t { kRoundNearest = 0, kRoundDown = 1, kRoundUp = 2, kRoundZero = 3 };
// FCW.PC (1 is reserved: the x87 f80 was verified against (AMD) rounds to 64 bits there, and so
// does f80; callers pass what FCW holds)
enum Precision : uint8_t { kPrec24 = 0, kPrec53 = 2, kPrec64 = 3 };

struct Env {
    uint8_t rc = kRoundNearest;
    uint8_t pc = kPrec64;
    uint16_t masks = kExAll;   // FCW bits 0-5: 1 = masked
    uint16_t flags = 0;        // exceptions raised by the operation(s), ORed in
    bool c1 = false;           // set when the returned result was rounded up in magnitude
    bool unmasked_fault = false;  // an unmasked exception that suppresses the store happened

    static Env from_fcw(uint16_t fcw) {
        Env e;
        e.masks = fcw & kExAll;
        e.pc = (fcw >> 8) & 3;
        e.rc = (fcw >> 10) & 3;
        return e;
    }
};

// ---- constants and classification ----
F80 f80_indefinite();              // the real indefinite: sign 1, exp 7FFF, sig C000000000000000
F80 f80_zero(bool sign);
F80 f80_inf(bool sign);
enum class Class : uint8_t { kZero, kDenormal, kPseudoDenormal, kNormal, kInf, kQNaN, kSNaN, kUnsupported };
Class classify(F80 a);
// FXAM's C3 C2 C0 code for a non-empty register (C1 = sign is the caller's).
uint8_t fxam_code(F80 a);  // bits: 0 = C0, 1 = C2, 2 = C3

// ---- arithmetic (results rounded by env.rc/env.pc) ----
F80 add(F80 a, F80 b, Env& env);
F80 sub(F80 a, F80 b, Env& env);
F80 mul(F80 a, F80 b, Env& env);
F80 div(F80 a, F80 b, Env& env);
F80 sqrt(F80 a, Env& env);
// FPREM (ieee = false, truncating quotient) and FPREM1 (ieee = true, round to nearest quotient):
// one partial-remainder step. `quot` gets the low three quotient bits (Q2 Q1 Q0), `c2` is set
// when the reduction is incomplete (exponent difference >= 64).
F80 prem(F80 a, F80 b, bool ieee, Env& env, uint8_t& quot, bool& c2);
F80 round_to_int(F80 a, Env& env);            // FRNDINT (by env.rc, ignores env.pc)
F80 scale(F80 a, F80 b, Env& env);            // FSCALE: a * 2^trunc(b)
// FXTRACT: exponent (as an F80 integer value) and significand (exponent 3FFF).
void xtract(F80 a, Env& env, F80& exponent, F80& significand);
F80 abs(F80 a);
F80 chs(F80 a);

// ---- compares ----
enum class Rel : uint8_t { kLess, kEqual, kGreater, kUnordered };
// quiet: FUCOM/FUCOMI (invalid only for SNaN and unsupported); otherwise FCOM/FCOMI/FTST
// (invalid for any NaN). Denormal operands raise DE.
Rel compare(F80 a, F80 b, bool quiet, Env& env);

// ---- conversions ----
F80 from_f32(uint32_t v, Env& env);  // FLD m32: SNaN -> QNaN with IE, denormal -> DE
F80 from_f64(uint64_t v, Env& env);
uint32_t to_f32(F80 a, Env& env);    // FST m32: rounded by env.rc, overflow/underflow rules
uint64_t to_f64(F80 a, Env& env);
F80 from_i64(int64_t v);             // exact (FILD)
// FIST/FISTP: rounded by env.rc (trunc = true: FISTTP's chop). Out of range or NaN: IE and the
// integer indefinite (the most negative value of the width `bits` = 16, 32 or 64).
int64_t to_int(F80 a, unsigned bits, bool trunc, Env& env);
F80 from_bcd(const uint8_t bcd[10]);  // FBLD (invalid digits give an undefined but fixed result)
void to_bcd(F80 a, Env& env, uint8_t out[10]);  // FBSTP (out of range / NaN: IE, BCD indefinite)

// ---- transcendentals (f80_trans.cpp) ----
// Each returns the x87's result for 80-bit precision to within 1 ulp; the partial-tangent
// and sin/cos family set `c2` (out of range |x| >= 2^63: operand unchanged, C2 = 1).
F80 fsin(F80 a, Env& env, bool& c2);
F80 fcos(F80 a, Env& env, bool& c2);
void fsincos(F80 a, Env& env, bool& c2, F80& sin_out, F80& cos_out);
F80 fptan(F80 a, Env& env, bool& c2);  // the 1.0 FPTAN pushes is the caller's
F80 fpatan(F80 y, F80 x, Env& env);    // atan(y/x) by quadrant
F80 f2xm1(F80 a, Env& env);
F80 fyl2x(F80 x, F80 y, Env& env);     // y * log2(x)
F80 fyl2xp1(F80 x, F80 y, Env& env);   // y * log2(x + 1)

// ---- constants for FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2 (rounded by env.rc as the
// 387+ does for the inexact ones) and FLDZ ----
enum class Const : uint8_t { kOne, kL2T, kL2E, kPi, kLg2, kLn2, kZero };
F80 load_const(Const k, uint8_t rc);

}  // namespace vx86::cpu::fpu
