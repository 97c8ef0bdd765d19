; Benchmark guest (c32): calls and returns as compiled C code makes them, as flat 32-bit
; protected-mode code: direct calls into functions on other pages, a nested call (so one
; function returns to different sites), and an indirect call through a table of four. Every
; block ends in a call, a return or a jump to another page: the JIT's guarded exits.
%include "layout32.inc"

start:
    mov ebp, [ITERS]
    xor edi, edi
    mov esi, 1
.outer:
    mov ecx, 1000
.inner:
    mov eax, esi
    call f_mix
    add edi, eax
    mov eax, edi
    call f_small
    xor esi, eax
    mov ebx, ecx
    and ebx, 3
    call [table + ebx*4]
    add edi, eax
    dec ecx
    jnz .inner
    dec ebp
    jnz .outer
    mov eax, edi
    hlt

align 4096
f_mix:
    imul eax, eax, 0x9e3779b1
    mov edx, eax
    shr edx, 15
    xor eax, edx
    call f_small
    ret
f_small:
    lea eax, [eax + eax * 4 + 1]
    ret

align 4096
g0: lea eax, [esi + 1]
    ret
g1: mov eax, esi
    shl eax, 2
    ret
g2: mov eax, edi
    ror eax, 3
    ret
g3: xor eax, eax
    ret
table: dd g0, g1, g2, g3
