; hello.asm: vx86's default guest, a 64 KiB BIOS image that greets and halts.
;
; Design decisions:
; - The image is mapped at 0xF0000-0xFFFFF (and below 4 GiB); `org 0` with CS=0xF000 makes file
;   offsets and code offsets the same. The reset vector at 0xFFF0 far-jumps to `start`, as every
;   PC BIOS does, so the first instruction traced is the classic `ljmp 0xf000:...`.
; - Only 8086 instructions are used, so the same image runs under every -cpu model.
; - The greeting goes first to the Bochs/QEMU debug console (port 0xE9), then to COM1, the
;   UART programmed for 115200 8N1 and polled on LSR bit 5 (THR empty) before each byte, the
;   way firmware prints before interrupts exist. Whole lines one after the other, because both
;   usually end up on the same terminal; COM1 gets CR LF, the debug console a bare LF.
; - The guest ends with `cli; hlt`: with interrupts off nothing can wake the CPU, so vx86 stops
;   with exit code 0. The `jmp` after `hlt` covers an NMI.

bits 16
cpu 8086
org 0

COM1        equ 0x3F8
DEBUG_PORT  equ 0xE9

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000          ; stack in conventional RAM
    mov ax, cs
    mov ds, ax              ; the greeting lives in this ROM

    ; COM1: 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit, FIFOs on.
    mov dx, COM1 + 3
    mov al, 0x80            ; DLAB=1
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al              ; divisor low
    inc dx
    xor al, al
    out dx, al              ; divisor high
    mov dx, COM1 + 3
    mov al, 0x03            ; DLAB=0, 8N1
    out dx, al
    mov dx, COM1 + 2
    mov al, 0x07            ; enable and clear FIFOs
    out dx, al

    mov si, greeting        ; the whole line to the debug console first...
.debugcon:
    lodsb
    test al, al
    jz .serial
    out DEBUG_PORT, al
    jmp .debugcon
.serial:
    mov si, greeting        ; ...then to COM1, so the two never interleave on one terminal
.next:
    lodsb
    test al, al
    jz .done
    cmp al, 10
    jne .send
    mov al, 13              ; a serial terminal wants CR LF
    call serial_putc
    mov al, 10
.send:
    call serial_putc
    jmp .next
.done:
    cli
.halt:
    hlt
    jmp .halt

; Sends AL to COM1 once the transmitter holding register is empty. Keeps AL; clobbers DX.
serial_putc:
    push ax
    mov dx, COM1 + 5        ; LSR
.wait:
    in al, dx
    test al, 0x20           ; THR empty
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    ret

greeting:
    db "vx86: hello from the guest", 10, 0

    times 0xFFF0 - ($ - $$) db 0xFF
reset_vector:               ; 0xFFFF0: the CPU starts here (CS=0xF000, IP=0xFFF0)
    jmp 0xF000:start
    db "01/01/25"           ; BIOS date at 0xFFFF5, where software looks for it
    db 0
    db 0xFC                 ; model byte at 0xFFFFE: AT
    db 0
