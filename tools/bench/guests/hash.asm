; Benchmark guest (d): hashing.
;
; FNV-1a (32-bit) over a 16 KiB buffer one byte at a time (MOVZX, XOR, IMUL), then a bitwise
; reflected CRC-32 (polynomial 0xEDB88320) over its first 1 KiB with a SHR/JNC/XOR inner loop,
; i.e. short loops with unpredictable branches. The buffer is filled once with an LCG.
; Layout in layout.inc.
%include "layout.inc"

start:
    mov si, 0x1000
    mov eax, 12345
    mov cx, 0x1000
.fill:
    imul eax, eax, 1103515245
    add eax, 12345
    mov [si], eax
    add si, 4
    loop .fill

    mov ebp, [iters]
    xor edi, edi
.outer:
    ; FNV-1a over DS:0x1000..0x4FFF.
    mov edx, 0x811c9dc5
    mov si, 0x1000
    mov cx, 0x4000
.fnv:
    movzx eax, byte [si]
    xor edx, eax
    imul edx, edx, 0x01000193
    inc si
    dec cx
    jnz .fnv
    add edi, edx

    ; CRC-32 over DS:0x1000..0x13FF.
    mov edx, 0xffffffff
    mov si, 0x1000
    mov cx, 1024
.crc_byte:
    movzx eax, byte [si]
    xor edx, eax
    mov bl, 8
.crc_bit:
    shr edx, 1
    jnc .nox
    xor edx, 0xedb88320
.nox:
    dec bl
    jnz .crc_bit
    inc si
    dec cx
    jnz .crc_byte
    not edx
    xor edi, edx

    dec ebp
    jnz .outer
    mov eax, edi
    hlt
