; Benchmark guest (e): x87 throughput, one operation per build.
;
; Built once per operation with -DOP=add|mul|div|sqrt|fsin (x87-<op>.bin). The inner loop is
; eight units of the operation on the register stack plus the loop's DEC/JNZ; each unit is
; the operation and at most one cheap companion that keeps the value in range and varied:
;   add:  FADD ST(0), ST(1)                       (x += 0.5)
;   mul:  FMUL ST(0), ST(1); FMUL ST(0), ST(2)    (x * 0.999 then x * 1/0.999)
;   div:  FDIV ST(0), ST(1); FDIV ST(0), ST(2)    (same factors: x stays near its start)
;   sqrt: FSQRT; FADD ST(0), ST(1)                (x = sqrt(x) + 0.5: never a trivial operand)
;   fsin: FSIN; FADD ST(0), ST(1)                 (x = sin(x) + 0.5)
; so the guest's operations per second are instructions/s * 8/10 (add), * 16/18 (mul, div:
; sixteen of them among 18 instructions) or * 8/18 (sqrt, fsin, each with an FADD beside it).
; The result, rounded to an integer, is the checksum in EAX. Layout in layout.inc.
%include "layout.inc"

%ifndef OP
%define OP add
%endif

start:
    fninit
    fld dword [f_recip]     ; ST(2) = 1/0.999
    fld dword [f_factor]    ; ST(1) = 0.999 (mul, div) or 0.5 (add, sqrt, fsin)
%ifidn OP, add
    fstp st0
    fld dword [f_half]
%elifidn OP, sqrt
    fstp st0
    fld dword [f_half]
%elifidn OP, fsin
    fstp st0
    fld dword [f_half]
%endif
    fld1                    ; ST(0) = x
    mov ebp, [iters]
.outer:
    mov ecx, 1000
.inner:
%rep 8
%ifidn OP, add
    fadd st0, st1
%elifidn OP, mul
    fmul st0, st1
    fmul st0, st2
%elifidn OP, div
    fdiv st0, st1
    fdiv st0, st2
%elifidn OP, sqrt
    fsqrt
    fadd st0, st1
%elifidn OP, fsin
    fsin
    fadd st0, st1
%else
%error "OP must be add, mul, div, sqrt or fsin"
%endif
%endrep
    dec ecx
    jnz .inner
    dec ebp
    jnz .outer
    fistp dword [result]
    mov eax, [result]
    hlt

align 4
f_factor: dd 0.999
f_recip:  dd 1.001001001
f_half:   dd 0.5
result:   dd 0
