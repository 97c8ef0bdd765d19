; linuxboot.bin: vx86's option ROM for direct Linux boot through the firmware (-kernel without
; --fast-boot). The machine offers it to SeaBIOS as the fw_cfg file "genroms/linuxboot.bin" and
; puts it first in the boot order; SeaBIOS runs it as a boot device (its PnP BEV).
;
; What it does (QEMU's fw_cfg kernel keys, docs/specs/fw_cfg.rst; Linux boot protocol 2.02+):
; the machine has already laid everything out and filled in the setup header (loader type, heap
; end, command line pointer, initrd address and size), so the ROM only copies, with fw_cfg DMA,
;   setup  (keys 0x16 addr, 0x17 size, 0x18 data) to below 1 MiB,
;   kernel (keys 0x07 addr, 0x08 size, 0x11 data) to 1 MiB,
;   initrd (keys 0x0A addr, 0x0B size, 0x12 data) to the top of RAM, when there is one,
;   cmdline(keys 0x13 addr, 0x14 size, 0x15 data),
; and then enters the real-mode setup code as the protocol says: interrupts off, DS = ES = FS =
; GS = SS = the setup segment, SP just below the command line, CS:IP = (segment + 0x20):0.
; DMA works in real mode on physical addresses, so the ROM never switches modes. A DMA error
; (bad address) prints a message on COM1/port 0xE9 and returns to the BIOS, which tries the next
; boot device.
;
; The ROM's checksum byte (the last one) is filled in by the machine when it loads the file.

bits 16
org 0

FW_CFG_SEL  equ 0x510
FW_CFG_DATA equ 0x511
FW_CFG_DMA  equ 0x514
DMA_SELECT  equ 0x08
DMA_READ    equ 0x02

rom_start:
    db 0x55, 0xAA
    db (rom_end - rom_start) / 512      ; size in 512-byte blocks
    jmp near init                       ; init entry point (offset 3)
    times 0x18 - ($ - rom_start) db 0
    dw 0                                ; no PCI data structure
    dw pnp_header                       ; PnP expansion header

pnp_header:
    db '$PnP'
    db 1                                ; structure revision
    db 2                                ; length in 16-byte units
    dw 0                                ; next header: none
    db 0                                ; reserved
    db 0                                ; checksum (not checked by SeaBIOS)
    dd 0                                ; device identifier
    dw manufacturer                     ; manufacturer string
    dw product                          ; product name string
    db 0, 0, 0                          ; device type code
    db 0x14                             ; indicators: IPL device, may be shadowed
    dw 0                                ; boot connection vector: none
    dw 0                                ; disconnect vector: none
    dw boot                             ; bootstrap entry vector
    dw 0                                ; reserved
    dw 0                                ; static resource information vector

manufacturer: db 'vx86', 0
product:      db 'Linux direct boot (vx86 linuxboot)', 0
msg_error:    db 'linuxboot: fw_cfg DMA failed; kernel not loaded', 13, 10, 0

init:
    retf

; Reads the 32-bit little-endian fw_cfg item AX into EAX (port interface).
read_u32:
    mov dx, FW_CFG_SEL
    out dx, ax
    mov dx, FW_CFG_DATA
    mov cx, 4
.byte:
    in al, dx
    ror eax, 8
    loop .byte
    ret

; Reads fw_cfg item AX into physical address EDI, ECX bytes long, with one DMA transfer.
; The descriptor lives on the stack. Returns CF set on error.
dma_read:
    push ebp
    movzx ebx, ax
    shl ebx, 16
    or ebx, DMA_SELECT | DMA_READ
    sub sp, 16
    mov bp, sp
    bswap ebx
    mov [bp + 0], ebx                   ; be32 control
    bswap ecx
    mov [bp + 4], ecx                   ; be32 length
    mov dword [bp + 8], 0               ; be64 address, high half
    bswap edi
    mov [bp + 12], edi                  ; ... low half
    xor eax, eax
    mov ax, ss
    shl eax, 4
    movzx ebx, bp
    add eax, ebx                        ; physical address of the descriptor
    bswap eax
    mov ebx, eax
    xor eax, eax
    mov dx, FW_CFG_DMA
    out dx, eax                         ; high dword: 0
    mov eax, ebx
    add dx, 4
    out dx, eax                         ; low dword: starts the transfer
.wait:
    mov eax, [bp + 0]
    bswap eax
    test eax, ~1                        ; busy bits still set?
    jnz .wait
    add sp, 16
    pop ebp
    shr eax, 1                          ; CF = error bit
    ret

; Copies one piece: AX = its address key, SI = its size key, BX = its data key.
; Returns CF set on a DMA error.
load_piece:
    push bx
    call read_u32
    mov edi, eax                        ; destination
    mov ax, si
    call read_u32
    mov ecx, eax                        ; length
    pop ax                              ; data key
    test ecx, ecx
    jz .none
    jmp dma_read
.none:
    clc
    ret

%macro LOAD 3                           ; address key, size key, data key
    mov ax, %1
    mov si, %2
    mov bx, %3
    call load_piece
    jc failed
%endmacro

boot:
    cli
    cld
    push cs
    pop ds
    LOAD 0x16, 0x17, 0x18               ; setup
    LOAD 0x07, 0x08, 0x11               ; kernel
    LOAD 0x0A, 0x0B, 0x12               ; initrd
    LOAD 0x13, 0x14, 0x15               ; command line
    mov ax, 0x13
    call read_u32
    mov esi, eax                        ; command line address
    mov ax, 0x16
    call read_u32                       ; setup address
    sub esi, eax
    sub si, 16                          ; stack top just below the command line
    shr eax, 4
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov sp, si
    add ax, 0x20
    push ax
    push word 0
    retf                                ; into the setup code at (seg + 0x20):0

failed:
    mov si, msg_error
.next:
    lodsb
    test al, al
    jz .done
    mov dx, 0x3F8
    out dx, al
    mov dx, 0xE9
    out dx, al
    jmp .next
.done:
    sti
    retf                                ; back to the BIOS: next boot device

    db 0                                ; room for the checksum byte
    align 512, db 0
rom_end:
