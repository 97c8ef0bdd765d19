; Benchmark guest (b32): memcopy.asm's copy and read-modify-write walk as flat 32-bit
; protected-mode code: 32 KiB from linear 0x20000 to 0x30000, then walked back.
%include "layout32.inc"

SRC equ 0x20000
DST equ 0x30000

start:
    mov esi, SRC
    mov eax, 0x01020304
    mov ecx, 8192
.fill:
    mov [esi], eax
    add eax, 0x04040404
    add esi, 4
    loop .fill

    mov ebp, [ITERS]
.outer:
    xor esi, esi
    mov ecx, 2048
.copy:
    mov eax, [esi+SRC]
    mov ebx, [esi+SRC+4]
    mov edx, [esi+SRC+8]
    mov edi, [esi+SRC+12]
    mov [esi+DST], eax
    mov [esi+DST+4], ebx
    mov [esi+DST+8], edx
    mov [esi+DST+12], edi
    add esi, 16
    dec ecx
    jnz .copy

    xor esi, esi
    mov ecx, 8192
.back:
    mov eax, [esi*4+DST]
    mov [esi*4+SRC], eax
    mov bl, [esi+SRC]
    add [esi+DST], bl
    inc esi
    dec ecx
    jnz .back

    dec ebp
    jnz .outer
    mov eax, [DST+0x100]
    add eax, [SRC+0x2000]
    hlt
