; Benchmark guest (d32): hash.asm's FNV-1a and bitwise CRC-32 as flat 32-bit protected-mode
; code, over a 16 KiB buffer at linear 0x20000.
%include "layout32.inc"

BUF equ 0x20000

start:
    mov esi, BUF
    mov eax, 12345
    mov ecx, 0x1000
.fill:
    imul eax, eax, 1103515245
    add eax, 12345
    mov [esi], eax
    add esi, 4
    loop .fill

    mov ebp, [ITERS]
    xor edi, edi
.outer:
    mov edx, 0x811c9dc5
    mov esi, BUF
    mov ecx, 0x4000
.fnv:
    movzx eax, byte [esi]
    xor edx, eax
    imul edx, edx, 0x01000193
    inc esi
    dec ecx
    jnz .fnv
    add edi, edx

    mov edx, 0xffffffff
    mov esi, BUF
    mov ecx, 1024
.crc_byte:
    movzx eax, byte [esi]
    xor edx, eax
    mov bl, 8
.crc_bit:
    shr edx, 1
    jnc .nox
    xor edx, 0xedb88320
.nox:
    dec bl
    jnz .crc_bit
    inc esi
    dec ecx
    jnz .crc_byte
    not edx
    xor edi, edx

    dec ebp
    jnz .outer
    mov eax, edi
    hlt
