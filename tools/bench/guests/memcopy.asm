; Benchmark guest (b): memory copy with ordinary MOV loads and stores.
;
; 32 KiB at DS:0x1000 is copied to ES:0 (ES=0x2000) sixteen bytes per iteration with 16-bit
; addressing, then walked back with 32-bit scaled addressing, byte loads and a read-modify-
; write, so the soft-TLB fast path, both address sizes and segment overrides are all on the
; hot path. Layout in layout.inc.
%include "layout.inc"

start:
    mov ax, 0x2000
    mov es, ax
    ; Source pattern.
    mov si, 0x1000
    mov eax, 0x01020304
    mov cx, 8192
.fill:
    mov [si], eax
    add eax, 0x04040404
    add si, 4
    loop .fill

    mov ebp, [iters]
.outer:
    xor si, si
    mov cx, 2048
.copy:
    mov eax, [si+0x1000]
    mov ebx, [si+0x1004]
    mov edx, [si+0x1008]
    mov edi, [si+0x100c]
    mov [es:si], eax
    mov [es:si+4], ebx
    mov [es:si+8], edx
    mov [es:si+12], edi
    add si, 16
    dec cx
    jnz .copy

    xor esi, esi
    mov ecx, 8192
.back:
    mov eax, [es:esi*4]
    mov [esi*4+0x1000], eax
    mov bl, [esi+0x1000]
    add [es:esi], bl
    inc esi
    dec ecx
    jnz .back

    dec ebp
    jnz .outer
    mov eax, [es:0x100]
    add eax, [0x2000]
    hlt
