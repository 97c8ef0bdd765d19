; clocktest: a boot sector that measures the guest's clocks against each other, for
; tests/boot/clock-test.sh. It reads the RTC (INT 1Ah AH=02h) and the BIOS tick count (AH=00h,
; PIT IRQ 0 at 18.2065 Hz), waits in HLT until kTicks ticks have passed, reads both again and
; prints on port 0xE9:
;   clocktest: ticks T0 T1 rtc HH:MM:SS HH:MM:SS
; then halts with interrupts off. Markers printed as they happen ("E0" at the first RTC
; seconds edge, "T1" when the ticks are counted, "E1" at the next RTC edge) let the host
; timestamp the run with its own clock.
bits 16
cpu 386
org 0x7C00

kTicks equ 1092               ; 60 s at 1193182 / 65536 Hz

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    ; Start on a tick edge, and read the RTC right after a seconds change so that both clocks
    ; are sampled at a known phase.
    call rtc_edge
    mov [rtc0], cx
    mov [rtc0 + 2], dh
    mov si, s_e0
    call print
    xor ah, ah
    int 0x1A
    mov [t0], dx
    mov [t0 + 2], cx
.wait:
    hlt
    xor ah, ah
    int 0x1A
    mov ax, dx
    sub ax, [t0]
    cmp ax, kTicks
    jb .wait
    mov [t1], dx
    mov [t1 + 2], cx
    mov si, s_t1
    call print
    call rtc_edge
    mov [rtc1], cx
    mov [rtc1 + 2], dh
    mov si, s_e1
    call print
    mov si, s_head
    call print
    mov ax, [t0]
    call hex16
    mov al, ' '
    call putc
    mov ax, [t1]
    call hex16
    mov si, s_rtc
    call print
    mov bx, rtc0
    call time
    mov al, ' '
    call putc
    mov bx, rtc1
    call time
    mov al, 10
    call putc
    cli
    hlt

; rtc_edge: waits until the RTC seconds change; returns CX/DH as INT 1Ah AH=02h does.
rtc_edge:
    mov ah, 0x02
    int 0x1A
    mov bl, dh
.l:
    mov ah, 0x02
    int 0x1A
    cmp dh, bl
    je .l
    ret

time:  ; BX -> {CL min, CH hour, DH sec} as saved
    mov al, [bx + 1]
    call bcd
    mov al, ':'
    call putc
    mov al, [bx]
    call bcd
    mov al, ':'
    call putc
    mov al, [bx + 2]
    call bcd
    ret

bcd:
    push ax
    shr al, 4
    add al, '0'
    call putc
    pop ax
    and al, 0x0F
    add al, '0'
    jmp putc

hex16:
    mov cx, 4
.h:
    rol ax, 4
    push ax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 7
.d:
    call putc
    pop ax
    loop .h
    ret

print:
    lodsb
    test al, al
    jz .r
    call putc
    jmp print
.r:
    ret

putc:
    push dx
    mov dx, 0xE9
    out dx, al
    pop dx
    ret

s_head: db "clocktest: ticks ", 0
s_e0:   db "E0", 10, 0
s_t1:   db "T1", 10, 0
s_e1:   db "E1", 10, 0
s_rtc:  db " rtc ", 0
t0:   dd 0
t1:   dd 0
rtc0: dd 0
rtc1: dd 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
