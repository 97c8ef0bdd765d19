; Benchmark guest (a): integer ALU loop.
;
; A dependent mix of ADD/SUB/XOR/shift/rotate/IMUL/LEA/TEST and a data-dependent Jcc, all on
; 32-bit registers from 16-bit real-mode code (nasm adds the 66h/67h prefixes), so it measures
; decode-once dispatch, operand-size prefixes and lazy-flag bookkeeping without memory traffic.

%include "layout.inc"

start:
    mov ebp, [iters]
    mov eax, 0x12345678
    mov ebx, 0x9abcdef0
    xor edi, edi
.outer:
    mov ecx, 1000
.inner:
    add eax, ebx
    xor ebx, eax
    mov edx, eax
    shl edx, 5
    shr ebx, 3
    imul eax, eax, 0x01000193
    lea esi, [eax+ebx*2+7]
    sub ebx, esi
    sar edx, 2
    add eax, edx
    test eax, 0x100
    jz .skip
    inc edi
.skip:
    rol ebx, 7
    dec ecx
    jnz .inner
    dec ebp
    jnz .outer
    add eax, edi
    hlt
