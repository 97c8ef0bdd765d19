; boottest: a boot program that checks the BIOS services a PC operating system's loader uses,
; started by the firmware from a floppy, a hard disk (as an MBR) or an El Torito CD (no-emulation
; boot). It reports through the debug console at port 0xE9, one line per check, in the format of
; tests/asm/judge.sh ("ok - ..." / "not ok - ..."; the last line is PASS or FAIL), and mirrors
; its headline on the screen through INT 10h, where --screen-dump can see it.
;
; Design decisions:
; - One flat image of kSectors 512-byte sectors. The firmware loads only the first sector from a
;   floppy or disk; that sector loads the rest with INT 13h AH=02h (CHS), which is itself the
;   first INT 13h check. From a CD, the boot catalog asks the firmware to load all of it, so the
;   signature at the start of the second sector is already there and the CHS load is skipped.
; - The host test builds the media (tests/boot/mkmedia.py): floppy and disk images carry, in
;   every sector from LBA kPatternFirst on, the text "VX86 LBA n" at offset 0 (n in decimal);
;   the CD's sector 16 is the ISO primary volume descriptor ("\x01CD001"). Reads are checked
;   against those, writes are read back (and the host test checks that they reached the image).
; - Memory size checks compare the firmware's answers with each other (E820 against E801 and
;   AH=88h), and the RTC date/time is printed so that the host test can compare it with the
;   -rtc base it passed.
bits 16
cpu 686
org 0x7C00

kSectors      equ 16          ; size of this program in 512-byte sectors
kPatternFirst equ 40          ; first LBA carrying the "VX86 LBA n" pattern (floppy/disk)
kWriteLba     equ 60          ; LBA the write check writes (floppy/disk)
kBuf          equ 0x3000      ; sector buffer (0000:3000, 2 KiB)
kBuf2         equ 0x4000      ; second buffer
kE820Buf      equ 0x5000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    mov [boot_drive], dl
    ; Loaded already (CD)?
    cmp dword [stage2_sig], 'VX2!'
    je .loaded
    mov byte [chs_loaded], 1
    mov ax, 0x0200 + (kSectors - 1)   ; AH=02 read, AL=sectors
    mov cx, 0x0002                    ; cylinder 0, sector 2
    xor dh, dh                        ; head 0
    mov dl, [boot_drive]
    mov bx, 0x7E00
    int 0x13
    jc .load_failed
    cmp dword [stage2_sig], 'VX2!'
    jne .load_failed
.loaded:
    jmp stage2
.load_failed:
    mov si, msg_load_failed
    call print
    mov si, msg_fail
    call print
    cli
    hlt

; print: DS:SI zero-terminated string to port 0xE9.
print:
    push ax
    push dx
    mov dx, 0xE9
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop dx
    pop ax
    ret

msg_load_failed: db "not ok - INT 13h AH=02h loads the rest of the program", 10, 0
msg_fail:        db "FAIL", 10, 0
boot_drive:      db 0
chs_loaded:      db 0

    times 446 - ($ - $$) db 0
    ; A partition table whose one entry is marked bootable, so firmware that looks for one is
    ; satisfied; it covers the whole disk and is not used by this program.
    db 0x80, 0, 1, 0, 0x0B, 0xFE, 0xFF, 0xFF
    dd 1, 8191
    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---------------------------------------------------------------------------------------------
stage2_sig: db 'VX2!'

stage2:
    mov si, s_banner
    call print
    call screen_banner
    call check_chs_load
    call check_video
    call check_drive_params
    call check_ext_present
    call check_ext_read
    call check_write
    call check_e820
    call check_e801_88
    call check_a20
    call check_keyboard
    call check_rtc
    call check_ticks
    ; Verdict.
    cmp word [failures], 0
    jne .fail
    mov si, s_pass
    call print
    mov si, s_screen_pass
    call tty
    jmp .end
.fail:
    mov si, s_fail
    call print
    mov si, s_screen_fail
    call tty
.end:
    cli
    hlt
    jmp .end

; ---- reporting ----
; ok_if_nc / result: CF clear -> "ok - " msg, set -> "not ok - " msg. SI = message.
result:
    jc .bad
    push si
    mov si, s_ok
    call print
    pop si
    call print
    mov si, s_nl
    call print
    ret
.bad:
    inc word [failures]
    push si
    mov si, s_notok
    call print
    pop si
    call print
    mov si, s_nl
    call print
    ret

; print_hex16: AX in hex to port 0xE9.
print_hex16:
    push ax
    push cx
    push dx
    mov cx, 4
.l:
    rol ax, 4
    push ax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 7
.d:
    mov dx, 0xE9
    out dx, al
    pop ax
    loop .l
    pop dx
    pop cx
    pop ax
    ret

; print_bcd8: AL as two BCD digits.
print_bcd8:
    push ax
    push dx
    mov dx, 0xE9
    push ax
    shr al, 4
    add al, '0'
    out dx, al
    pop ax
    and al, 0x0F
    add al, '0'
    out dx, al
    pop dx
    pop ax
    ret

putc:  ; AL to port 0xE9
    push dx
    mov dx, 0xE9
    out dx, al
    pop dx
    ret

; tty: DS:SI string to the screen with INT 10h AH=0Eh.
tty:
    push ax
    push bx
.n:
    lodsb
    test al, al
    jz .d
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .n
.d:
    pop bx
    pop ax
    ret

screen_banner:
    mov si, s_screen_banner
    call tty
    ret

; ---- checks ----
check_chs_load:
    cmp byte [chs_loaded], 0
    je .cd
    clc
    mov si, s_chs_load
    jmp result
.cd:
    mov si, s_cd_loaded
    call print
    ret

; INT 10h: mode 3, 80 columns; the cursor follows teletype output.
check_video:
    mov ah, 0x0F
    int 0x10
    and al, 0x7F
    cmp al, 3
    jne .bad
    cmp ah, 80
    jne .bad
    mov si, s_crlf
    call tty
    mov ah, 0x03
    xor bh, bh
    int 0x10
    cmp dl, 0                 ; column 0 after CR LF
    jne .bad
    mov [cur_row], dh
    mov si, s_ab
    call tty
    mov ah, 0x03
    xor bh, bh
    int 0x10
    cmp dl, 2
    jne .bad
    cmp dh, [cur_row]
    jne .bad
    mov si, s_crlf
    call tty
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_video
    jmp result

; INT 13h AH=08h: floppy geometry of a 1.44 MB disk, or a plausible hard-disk geometry.
check_drive_params:
    mov dl, [boot_drive]
    cmp dl, 0xE0
    jae .skip_cd
    mov ah, 0x08
    xor di, di
    mov es, di
    int 0x13
    push 0
    pop es
    jc .bad
    cmp byte [boot_drive], 0x80
    jae .hd
    cmp bl, 4                 ; 1.44 MB
    jne .bad
    cmp ch, 79
    jne .bad
    cmp dh, 1
    jne .bad
    and cl, 0x3F
    cmp cl, 18
    jne .bad
    clc
    jmp .r
.hd:
    and cl, 0x3F
    jz .bad
    cmp dl, 1                 ; number of hard disks
    jb .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_params
    jmp result
.skip_cd:
    mov si, s_params_cd
    call print
    ret

; INT 13h AH=41h: the EDD extensions are present.
check_ext_present:
    cmp byte [boot_drive], 0x80
    jb floppy_no_edd
    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, [boot_drive]
    int 0x13
    jc .bad
    cmp bx, 0xAA55
    jne .bad
    test cl, 1                ; fixed disk access subset (42h-44h, 47h, 48h)
    jz .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_ext
    jmp result

; SeaBIOS offers the EDD functions on hard disks and CDs only (AH=41h fails on a floppy, as on
; QEMU), so a floppy boot checks the CHS interface alone.
floppy_no_edd:
    mov si, s_no_edd
    call print
.ret:
    ret

; ext_io: AH = 42h/43h, EAX high ignored; [dap_*] set. Returns CF.
ext_io:
    mov si, dap
    mov dl, [boot_drive]
    int 0x13
    ret

; INT 13h AH=42h: an LBA read of a known sector.
check_ext_read:
    cmp byte [boot_drive], 0x80
    jb floppy_no_edd.ret
    mov word [dap_count], 1
    mov word [dap_off], kBuf
    mov word [dap_seg], 0
    cmp byte [boot_drive], 0xE0
    jae .cd
    mov dword [dap_lba], kPatternFirst + 7
    mov ah, 0x42
    call ext_io
    jc .bad
    mov si, kBuf
    mov di, s_lba47
    mov cx, 11
    repe cmpsb
    jne .bad
    clc
    jmp .r
.cd:
    mov dword [dap_lba], 16    ; the primary volume descriptor (2048-byte sectors)
    mov ah, 0x42
    call ext_io
    jc .bad
    cmp dword [kBuf], 0x30444301   ; 01 'C' 'D' '0'
    jne .bad
    cmp word [kBuf + 4], 0x3130    ; '0' '1'
    jne .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_extread
    jmp result

; INT 13h AH=43h then AH=42h and AH=02h: a written sector reads back through both interfaces.
; On a CD the write must fail (read-only medium).
check_write:
    ; Fill the buffer: "VX86 WRITE " then bytes i & 0xFF.
    mov di, kBuf
    xor cx, cx
.fill:
    mov al, cl
    mov [di], al
    inc di
    inc cx
    cmp cx, 512
    jb .fill
    mov si, s_written
    mov di, kBuf
    mov cx, 11
    rep movsb
    ; LBA -> CHS with the geometry from AH=08h (not on a CD).
    cmp byte [boot_drive], 0xE0
    jae .write
    mov ah, 0x08
    mov dl, [boot_drive]
    xor di, di
    int 0x13
    push 0
    pop es
    jc .bad
    and cx, 0x3F              ; sectors per track (fine for cylinder 0)
    mov [spt], cx
    inc dh
    mov [heads], dh
    ; sector = lba % spt + 1, head = (lba / spt) % heads, cylinder = lba / spt / heads
    mov ax, kWriteLba
    xor dx, dx
    div word [spt]
    inc dx
    mov [chs_s], dl
    xor dx, dx
    movzx bx, byte [heads]
    div bx
    mov [chs_h], dl
    mov [chs_c], al           ; < 256 here
.write:
    cmp byte [boot_drive], 0x80
    jb .chs_write
    mov word [dap_count], 1
    mov word [dap_off], kBuf
    mov dword [dap_lba], kWriteLba
    mov ax, 0x4300
    call ext_io
    setc bl
    cmp byte [boot_drive], 0xE0
    jae .cd
    test bl, bl
    jnz .bad
    ; Read back with AH=42h.
    mov word [dap_off], kBuf2
    mov ah, 0x42
    call ext_io
    jc .bad
    mov si, kBuf
    mov di, kBuf2
    mov cx, 512
    repe cmpsb
    jne .bad
    jmp .chs_read
.chs_write:
    mov ax, 0x0301
    mov ch, [chs_c]
    mov cl, [chs_s]
    mov dh, [chs_h]
    mov dl, [boot_drive]
    mov bx, kBuf
    int 0x13
    jc .bad
.chs_read:
    mov di, kBuf2
    mov cx, 512
    xor al, al
    rep stosb
    mov ax, 0x0201
    mov ch, [chs_c]
    mov cl, [chs_s]
    mov dh, [chs_h]
    mov dl, [boot_drive]
    mov bx, kBuf2
    int 0x13
    jc .bad
    mov si, kBuf
    mov di, kBuf2
    mov cx, 512
    repe cmpsb
    jne .bad
    clc
    jmp .r
.cd:
    cmp bl, 1                 ; a write to the CD must fail: CF = (bl == 0)
    jmp .r
.bad:
    stc
.r:
    mov si, s_write
    jmp result

; INT 15h E820: a well-formed map with low RAM at 0 and RAM from 1 MiB.
check_e820:
    xor ebx, ebx
    mov word [e820_n], 0
    mov dword [ram_top], 0
    mov byte [low_ok], 0
.next:
    mov eax, 0xE820
    mov edx, 0x534D4150
    mov ecx, 20
    mov di, kE820Buf
    int 0x15
    jc .end
    cmp eax, 0x534D4150
    jne .bad
    inc word [e820_n]
    cmp dword [kE820Buf + 16], 1       ; usable RAM?
    jne .cont
    cmp dword [kE820Buf + 4], 0        ; below 4 GiB
    jne .cont
    mov eax, [kE820Buf]
    test eax, eax
    jnz .not_low
    cmp dword [kE820Buf + 8], 0x9F000  ; at least 636 KiB of low RAM
    jb .cont
    mov byte [low_ok], 1
    jmp .cont
.not_low:
    cmp eax, 0x100000
    jne .cont
    mov eax, [kE820Buf + 8]
    add eax, 0x100000
    mov [ram_top], eax
.cont:
    test ebx, ebx
    jnz .next
.end:
    cmp word [e820_n], 2
    jb .bad
    cmp byte [low_ok], 1
    jne .bad
    cmp dword [ram_top], 0x200000
    jb .bad
    mov si, s_e820_top
    call print
    mov eax, [ram_top]
    shr eax, 16
    call print_hex16
    mov ax, [ram_top]
    call print_hex16
    mov si, s_nl
    call print
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_e820
    jmp result

; INT 15h E801 and AH=88h agree with the E820 map's RAM above 1 MiB.
check_e801_88:
    mov ax, 0xE801
    int 0x15
    jc .bad
    ; CX/DX are the configured sizes, AX/BX the same or zero on some BIOSes: use AX/BX unless 0.
    test ax, ax
    jnz .have
    mov ax, cx
    mov bx, dx
.have:
    ; top = 1 MiB + AX KiB, and if BX: 16 MiB + BX * 64 KiB
    movzx eax, ax
    shl eax, 10
    add eax, 0x100000
    test bx, bx
    jz .cmp
    movzx eax, bx
    shl eax, 16
    add eax, 0x1000000
.cmp:
    cmp eax, [ram_top]
    jne .bad
    ; AH=88h: KiB above 1 MiB, at most 63 MiB's worth.
    mov ah, 0x88
    int 0x15
    jc .bad
    movzx eax, ax
    shl eax, 10
    add eax, 0x100000
    mov edx, [ram_top]
    cmp edx, 0x4000000
    jbe .c88
    mov edx, 0x3FF0000
.c88:
    cmp eax, edx
    jne .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_e801
    jmp result

; a20_wraps: CF=1 when the A20 line is off (0:0500 and FFFF:0510 are the same byte).
a20_wraps:
    push ds
    push es
    xor ax, ax
    mov ds, ax
    mov ax, 0xFFFF
    mov es, ax
    mov al, [0x500]
    push ax
    mov byte [0x500], 0x5A
    mov byte [es:0x510], 0xA5
    cmp byte [0x500], 0xA5
    pop ax
    mov [0x500], al
    pop es
    pop ds
    je .wraps
    clc
    ret
.wraps:
    stc
    ret

; INT 15h AX=2400h-2403h: the A20 gate services switch and report the gate.
check_a20:
    mov ax, 0x2403
    int 0x15
    jc .bad
    mov ax, 0x2400            ; disable
    int 0x15
    jc .bad
    call a20_wraps
    jnc .bad
    mov ax, 0x2402
    int 0x15
    jc .bad
    cmp al, 0
    jne .bad
    mov ax, 0x2401            ; enable
    int 0x15
    jc .bad
    call a20_wraps
    jc .bad
    mov ax, 0x2402
    int 0x15
    jc .bad
    cmp al, 1
    jne .bad
    clc
    jmp .r
.bad:
    mov ax, 0x2401
    int 0x15
    stc
.r:
    mov si, s_a20
    jmp result

; INT 16h: a keystroke stored with AH=05h is seen by AH=01h and read by AH=00h.
check_keyboard:
.drain:
    mov ah, 0x01
    int 0x16
    jz .empty
    mov ah, 0x00
    int 0x16
    jmp .drain
.empty:
    mov ah, 0x05
    mov cx, 0x1E61            ; 'a'
    int 0x16
    cmp al, 0
    jne .bad
    mov ah, 0x01
    int 0x16
    jz .bad
    cmp ax, 0x1E61
    jne .bad
    mov ah, 0x00
    int 0x16
    cmp ax, 0x1E61
    jne .bad
    mov ah, 0x01
    int 0x16
    jnz .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_kbd
    jmp result

; INT 1Ah AH=02h/04h: the RTC's time and date, printed for the host test to compare.
check_rtc:
    mov ah, 0x04
    int 0x1A
    jc .bad
    mov [rtc_date], cx
    mov [rtc_date + 2], dx
    mov ah, 0x02
    int 0x1A
    jc .bad
    mov [rtc_time], cx
    mov [rtc_time + 2], dh
    ; "rtc: YYYY-MM-DD HH:MM:SS"
    mov si, s_rtc
    call print
    mov al, [rtc_date + 1]
    call print_bcd8
    mov al, [rtc_date]
    call print_bcd8
    mov al, '-'
    call putc
    mov al, [rtc_date + 3]
    call print_bcd8
    mov al, '-'
    call putc
    mov al, [rtc_date + 2]
    call print_bcd8
    mov al, ' '
    call putc
    mov al, [rtc_time + 1]
    call print_bcd8
    mov al, ':'
    call putc
    mov al, [rtc_time]
    call print_bcd8
    mov al, ':'
    call putc
    mov al, [rtc_time + 2]
    call print_bcd8
    mov si, s_nl
    call print
    ; Sanity: month 01-12 in BCD, hour < 24.
    mov al, [rtc_date + 3]
    cmp al, 0x01
    jb .bad
    cmp al, 0x12
    ja .bad
    cmp byte [rtc_time + 1], 0x23
    ja .bad
    clc
    jmp .r
.bad:
    stc
.r:
    mov si, s_rtcok
    jmp result

; INT 1Ah AH=00h: the tick count advances while the CPU waits in HLT (PIT IRQ 0 at 18.2 Hz).
check_ticks:
    mov ah, 0x00
    int 0x1A
    mov [tick0], dx
    mov [tick0 + 2], cx
    mov cx, 2000              ; at most 2000 interrupts of any kind
.wait:
    sti
    hlt
    push cx
    mov ah, 0x00
    int 0x1A
    mov ax, dx
    pop cx
    sub ax, [tick0]
    cmp ax, 3
    jae .ok
    loop .wait
    stc
    jmp .r
.ok:
    clc
.r:
    mov si, s_ticks
    jmp result

; ---- data ----
s_banner:        db "# vx86 boottest", 10, 0
s_screen_banner: db "vx86 boottest running", 13, 10, 0
s_screen_pass:   db "vx86 boottest: PASS", 13, 10, 0
s_screen_fail:   db "vx86 boottest: FAIL", 13, 10, 0
s_pass:          db "PASS", 10, 0
s_fail:          db "FAIL", 10, 0
s_ok:            db "ok - ", 0
s_notok:         db "not ok - ", 0
s_nl:            db 10, 0
s_crlf:          db 13, 10, 0
s_ab:            db "ab", 0
s_chs_load:      db "INT 13h AH=02h (CHS) loads the rest of the program", 0
s_cd_loaded:     db "# loaded whole by El Torito (no CHS load)", 10, 0
s_video:         db "INT 10h: mode 3 with 80 columns; teletype output moves the cursor", 0
s_params:        db "INT 13h AH=08h reports the drive geometry", 0
s_params_cd:     db "# INT 13h AH=08h not checked on a CD", 10, 0
s_ext:           db "INT 13h AH=41h reports the EDD extensions", 0
s_extread:       db "INT 13h AH=42h reads a known sector by LBA", 0
s_write:         db "INT 13h AH=43h (floppy: AH=03h) writes a sector that AH=42h and AH=02h read back (CD: refused)", 0
s_no_edd:        db "# INT 13h EDD (AH=41h/42h) not checked on a floppy", 10, 0
s_e820:          db "INT 15h E820 lists low RAM and RAM from 1 MiB", 0
s_e820_top:      db "# E820 RAM from 1 MiB ends at 0x", 0
s_e801:          db "INT 15h E801 and AH=88h agree with E820", 0
s_a20:           db "INT 15h AX=240xh switch and report the A20 gate", 0
s_kbd:           db "INT 16h AH=05h/01h/00h store, peek and read a keystroke", 0
s_rtc:           db "rtc: ", 0
s_rtcok:         db "INT 1Ah AH=02h/04h read the RTC time and date", 0
s_ticks:         db "INT 1Ah AH=00h ticks advance while waiting in HLT", 0
s_lba47:         db "VX86 LBA 47"
s_written:       db "VX86 WRITE "

align 4
dap:       db 16, 0
dap_count: dw 1
dap_off:   dw 0
dap_seg:   dw 0
dap_lba:   dq 0

failures:  dw 0
cur_row:   db 0
spt:       dw 0
heads:     db 0
chs_c:     db 0
chs_h:     db 0
chs_s:     db 0
e820_n:    dw 0
low_ok:    db 0
align 4
ram_top:   dd 0
rtc_date:  dd 0
rtc_time:  dd 0
tick0:     dd 0

    times kSectors * 512 - ($ - $$) db 0
