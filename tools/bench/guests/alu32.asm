; Benchmark guest (a32): alu.asm's integer loop as flat 32-bit protected-mode code.
%include "layout32.inc"

start:
    mov ebp, [ITERS]
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
