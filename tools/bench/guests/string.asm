; Benchmark guest (c): string instructions.
;
; Per iteration: REP MOVSD 32 KiB (DS:0x1000 -> ES:0, ES=0x2000), REP STOSD 16 KiB, REPE CMPSB
; over 16 KiB of equal bytes, REPNE SCASB over 16 KiB without a match, a LODSB/LOOP summing
; loop over 4 KiB, and 64 short REP MOVSB of 64 bytes (the memcpy of small strings). Bulk REP
; forms retire as few instructions while doing most of the work, so compare this guest's
; figures by time; MIPS here depends on how the interpreter counts REP iterations.
; Layout in layout.inc.
%include "layout.inc"

start:
    mov ax, 0x2000
    mov es, ax
    cld
    ; Source: 32 KiB of non-zero bytes (1..255 repeating), so REPNE SCASB for 0 never stops.
    mov si, 0x1000
    mov al, 1
    mov cx, 0x8000
.fill:
    mov [si], al
    inc si
    inc al
    jnz .nz
    inc al
.nz:
    loop .fill

    mov ebp, [iters]
    xor edx, edx
.outer:
    mov si, 0x1000
    xor di, di
    mov cx, 8192
    rep movsd                 ; ES:x = DS:0x1000+x for x < 0x8000

    xor di, di
    mov cx, 4096
    mov eax, 0x5a5a5a5a
    rep stosd                 ; ES:0..0x3FFF

    mov si, 0x5000
    mov di, 0x4000
    mov cx, 0x4000
    repe cmpsb                ; all equal: runs to CX=0

    mov di, 0x4000
    mov cx, 0x4000
    xor al, al
    repne scasb               ; no zero byte: runs to CX=0

    mov si, 0x1000
    mov cx, 4096
.lod:
    lodsb
    add dl, al
    adc dh, 0
    loop .lod

    mov bx, 64
.small:
    mov si, 0x1000
    mov di, 0x8000
    mov cx, 64
    rep movsb
    dec bx
    jnz .small

    dec ebp
    jnz .outer
    mov eax, edx
    add eax, [es:0x8010]
    hlt
