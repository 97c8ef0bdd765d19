; pm_strict.asm: checks that QEMU's TCG does not make, validated on Bochs instead.
;
; The segment checks made on every memory access -- limits (expand-up, expand-down with B=0 and
; B=1, G=1 scaling), null selectors, read-only data, execute-only code, writes through CS, the
; stack segment (#SS(0)), the CS limit on a near jump, the 64 KiB limit in real mode -- plus
; rules QEMU skips: the EXT bit in the error code of an exception raised while delivering
; another, the accessed bit set when a far JMP loads CS, LTR rejecting a null selector, MOV CR0
; rejecting PG=1 with PE=0 and NW=1 with CD=0, MOV CR4 rejecting reserved bits, INT1 (ICEBP)
; raising #DB (QEMU -cpu pentium3 raises #UD), DR7.GD (general detect), P=1 in the error code
; of a reserved-bit page fault, #GP from MOV CR3 when a present PAE PDPTE sets reserved bits,
; the segment limit checked before paging.
;
; ORACLE NOTE: QEMU 7.2's TCG never checks segment limits or segment types on an access, and
; skips the rules above, so this file FAILS on QEMU by design (and may run off into the weeds
; there). It is validated on Bochs 2.7 (cpu p3_katmai), which follows the SDM here; see
; tests/asm/bochs-run.sh. Every check is what the SDM specifies.
%include "pm.inc"

SEL_UP       equ 0x40   ; data, base 0x20000, limit 0xFFF, B=0
SEL_DOWN16   equ 0x48   ; expand-down data, base 0x20000, limit 0xFFF, B=0: offsets 0x1000-0xFFFF
SEL_DOWN32   equ 0x50   ; expand-down data, base 0x20000, limit 0xFFFF, B=1: 0x10000-0xFFFFFFFF
SEL_RO       equ 0x58   ; read-only data, flat
SEL_XO       equ 0x60   ; execute-only code, flat, 32-bit
SEL_RCODE    equ 0x68   ; readable code, flat, 32-bit
SEL_STACK    equ 0x70   ; stack, base 0x20000, limit 0xFFF, B=1
SEL_STACKDN  equ 0x78   ; expand-down stack, base 0x20000, limit 0xFFF, B=1: 0x1000-0xFFFFFFFF
SEL_GRAN     equ 0x80   ; data, base 0x20000, G=1, limit field 0: effective limit 0xFFF
SEL_CODE_NA  equ 0x88   ; flat 32-bit code, accessed bit clear
SEL_CODE1M   equ 0x90   ; 32-bit code, base 0, limit 0xFFFFF bytes (G=0)
SEL_CODE_NP2 equ 0x98   ; flat code, not present
SEL_SEG_PG   equ 0xA0   ; data, base 0x400000, limit 0xFFF (paging section)

BASE         equ 0x20000

section .bss
rm_resume:   resw 1
rm_gp_count: resw 1
rm_ok_value: resd 1
rm_gp1:      resw 1
rm_gp2:      resw 1
saved_esp:   resd 1
bounds:      resd 2

PM32
test_main:
    PRINT "# pm_strict: segment checks on each access, #SS(0), real-mode limits, CR0/LTR rules"
    SET_GDT SEL_UP, BASE, 0xFFF, 0x0093
    SET_GDT SEL_DOWN16, BASE, 0xFFF, 0x0097
    SET_GDT SEL_DOWN32, BASE, 0xFFFF, 0x4097
    SET_GDT SEL_RO, 0, 0xFFFFF, 0xC091
    SET_GDT SEL_XO, 0, 0xFFFFF, 0xC099
    SET_GDT SEL_RCODE, 0, 0xFFFFF, 0xC09B
    SET_GDT SEL_STACK, BASE, 0xFFF, 0x4093
    SET_GDT SEL_STACKDN, BASE, 0xFFF, 0x4097
    SET_GDT SEL_GRAN, BASE, 0, 0x8093
    SET_GDT SEL_CODE_NA, 0, 0xFFFFF, 0xC09A
    SET_GDT SEL_CODE1M, 0, 0xFFFFF, 0x409B
    mov dword [BASE + 0xFFC], 0x11223344
    mov dword [BASE + 0x1000], 0x55667788
    mov dword [BASE + 0xFFFC], 0x99AABBCC
    mov dword [BASE + 0x10000], 0xDDEEFF00
    mov dword [BASE - 4], 0x0BADF00D        ; offset 0xFFFFFFFC of a base-0x20000 segment

    ; ---------------------------------------------------------------- expand-up
    PRINT "# expand-up data segment, limit 0xFFF"
    mov ax, SEL_UP
    mov es, ax
    NOFAULT "read dword at 0xFFC (last 4 bytes)", mov eax, [es:0xFFC]
    CHECK_EQ eax, 0x11223344, "the dword read at 0xFFC"
    FAULT VEC_GP, 0, "read dword at 0xFFD (crosses the limit) -> #GP(0)", mov eax, [es:0xFFD]
    mov ax, SEL_UP
    mov es, ax
    NOFAULT "read byte at 0xFFF", mov al, [es:0xFFF]
    FAULT VEC_GP, 0, "read byte at 0x1000 -> #GP(0)", mov al, [es:0x1000]
    mov ax, SEL_UP
    mov es, ax
    FAULT VEC_GP, 0, "read word at 0xFFF -> #GP(0)", mov ax, [es:0xFFF]
    mov ax, SEL_UP
    mov es, ax
    FAULT VEC_GP, 0, "write dword at 0xFFE -> #GP(0)", mov dword [es:0xFFE], 0xFFFFFFFF
    CHECK_EQ [BASE + 0xFFC], 0x11223344, "the faulting write stored nothing"
    mov ax, SEL_UP
    mov es, ax
    mov ebx, 0xFFFFFFFF
    FAULT VEC_GP, 0, "read byte at 0xFFFFFFFF -> #GP(0)", mov al, [es:ebx]
    mov ax, SEL_GRAN
    mov es, ax
    NOFAULT "G=1, limit field 0: byte at 0xFFF is inside", mov al, [es:0xFFF]
    FAULT VEC_GP, 0, "G=1, limit field 0: byte at 0x1000 -> #GP(0)", mov al, [es:0x1000]

    ; ---------------------------------------------------------------- expand-down
    PRINT "# expand-down, B=0: valid offsets 0x1000-0xFFFF"
    mov ax, SEL_DOWN16
    mov fs, ax
    NOFAULT "read dword at 0x1000 (lowest valid)", mov eax, [fs:0x1000]
    CHECK_EQ eax, 0x55667788, "the dword read at 0x1000"
    FAULT VEC_GP, 0, "read byte at 0xFFF (= limit) -> #GP(0)", mov al, [fs:0xFFF]
    FAULT VEC_GP, 0, "read byte at 0 -> #GP(0)", mov al, [fs:0]
    FAULT VEC_GP, 0, "read dword at 0xFFE (starts below) -> #GP(0)", mov eax, [fs:0xFFE]
    NOFAULT "read dword at 0xFFFC (top of 64 KiB)", mov eax, [fs:0xFFFC]
    CHECK_EQ eax, 0x99AABBCC, "the dword read at 0xFFFC"
    FAULT VEC_GP, 0, "read dword at 0xFFFD (past 0xFFFF) -> #GP(0)", mov eax, [fs:0xFFFD]
    FAULT VEC_GP, 0, "read byte at 0x10000 (past 0xFFFF) -> #GP(0)", mov al, [fs:0x10000]
    NOFAULT "write dword at 0x2000", mov dword [fs:0x2000], 0x600D600D
    CHECK_EQ [BASE + 0x2000], 0x600D600D, "the write landed at base + 0x2000"

    PRINT "# expand-down, B=1: valid offsets 0x10000-0xFFFFFFFF"
    mov ax, SEL_DOWN32
    mov gs, ax
    NOFAULT "read dword at 0x10000", mov eax, [gs:0x10000]
    CHECK_EQ eax, 0xDDEEFF00, "the dword read at 0x10000"
    FAULT VEC_GP, 0, "read byte at 0xFFFF (= limit) -> #GP(0)", mov al, [gs:0xFFFF]
    FAULT VEC_GP, 0, "read dword at 0xFFFE -> #GP(0)", mov eax, [gs:0xFFFE]
    mov ebx, 0xFFFFFFFC
    NOFAULT "read dword at 0xFFFFFFFC (wraps to linear 0x1FFFC)", mov eax, [gs:ebx]
    CHECK_EQ eax, 0x0BADF00D, "the dword read at 0xFFFFFFFC"
    mov ax, SEL_DATA32
    mov fs, ax
    mov gs, ax

    ; ---------------------------------------------------------------- types
    PRINT "# segment types on access"
    mov ax, SEL_RO
    mov es, ax
    NOFAULT "read through read-only data", mov eax, [es:BASE]
    FAULT VEC_GP, 0, "write through read-only data -> #GP(0)", mov dword [es:BASE], 0
    mov ax, SEL_RCODE
    mov es, ax
    NOFAULT "read through readable code in ES", mov eax, [es:BASE]
    FAULT VEC_GP, 0, "write through readable code in ES -> #GP(0)", mov [es:BASE], eax
    FAULT VEC_GP, 0, "write through CS -> #GP(0)", mov [cs:BASE], eax
    NOFAULT "read through CS (readable code)", mov eax, [cs:BASE]
    jmp SEL_XO:.in_xo
.in_xo:
    mov ebx, cs
    FAULT VEC_GP, 0, "read through CS = execute-only code -> #GP(0)", mov eax, [cs:BASE]
    CHECK_EQ ebx, SEL_XO, "that ran in the execute-only segment"
    CHECK_EQ [exc_cs], SEL_XO, "the fault's saved CS"

    PRINT "# null selectors"
    xor eax, eax
    mov es, ax
    FAULT VEC_GP, 0, "read through null ES -> #GP(0)", mov eax, [es:0x1000]
    mov ax, 3
    mov fs, ax
    FAULT VEC_GP, 0, "write through null FS (RPL3) -> #GP(0)", mov dword [fs:0x1000], 0
    xor eax, eax
    EXPECT .null_ds_done
    mov ds, ax
.null_ds_read:
    mov eax, [0x1000]
    DISARM
.null_ds_done:
    CHECK_EXC_AT VEC_GP, 0, .null_ds_read, "read through null DS -> #GP(0)"
    mov ax, SEL_DATA32
    mov fs, ax

    ; ---------------------------------------------------------------- stack segment
    PRINT "# stack segment limits -> #SS(0)"
; The recovery after a fault reloads the flat SS with the ESP of the EXPECT, so these arm it
; while SS is still flat, then switch to the test stack, and go back to the flat stack before
; checking.
%macro ON_STACK 4+      ; SS selector, ESP, description, instruction (must raise #SS(0))
    EXPECT %%resume
    mov ax, %1
    mov ss, ax
    mov esp, %2
%%insn:
    %4
    DISARM
%%resume:
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, STACK_TOP
    CHECK_EXC_AT VEC_SS, 0, %%insn, %3
%endmacro
    mov ebp, 0x1000
    ON_STACK SEL_STACK, 0x800, "SS limit 0xFFF: read [ebp=0x1000] -> #SS(0)", mov eax, [ebp]
    ON_STACK SEL_STACK, 0x800, "SS limit 0xFFF: read [ss:0xFFD] -> #SS(0)", mov eax, [ss:0xFFD]
    mov ebx, 0x1000
    ON_STACK SEL_STACK, 0x800, "SS limit 0xFFF: write [ss:ebx=0x1000] -> #SS(0)", mov [ss:ebx], eax
    mov ebp, 0x800
    ON_STACK SEL_STACKDN, 0x2000, "expand-down SS: read [ebp=0x800] (below the limit) -> #SS(0)", mov eax, [ebp]
    mov ax, SEL_STACK
    mov ss, ax
    mov esp, 0x800
    mov eax, [ss:0xFFC]
    mov ebx, eax
    mov ax, SEL_STACKDN
    mov ss, ax
    mov esp, 0x2000
    push dword 0x5A5A5A5A
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, STACK_TOP
    CHECK_EQ ebx, 0x11223344, "SS limit 0xFFF: read [ss:0xFFC] works"
    CHECK_EQ [BASE + 0x1FFC], 0x5A5A5A5A, "expand-down SS: a push at ESP=0x2000 lands at base + 0x1FFC"
    mov ax, SEL_STACK
    mov ss, ax
    mov esp, 0xFFE
    EXPECT_KEEP .pop_faulted
.pop:
    pop eax
    DISARM
.pop_faulted:
    mov ecx, esp                                ; still the faulting stack (keep mode)
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, STACK_TOP
    CHECK_EXC_AT VEC_SS, 0, .pop, "pop with ESP=0xFFE (reads past 0xFFF) -> #SS(0)"
    CHECK_EQ ecx, 0xFFE, "the faulting pop left ESP alone"

    ; ---------------------------------------------------------------- CS limit, accessed bit
    PRINT "# CS limit on a near jump; accessed bit on a CS load"
    jmp SEL_CODE1M:.in_1m
.in_1m:
    mov eax, 0x100000
    FAULT VEC_GP, 0, "CS limit 0xFFFFF: jmp eax=0x100000 -> #GP(0) at the jmp", jmp eax
    jmp SEL_CODE_NA:.code_na
.code_na:
    jmp SEL_CODE32:.code_na_back
.code_na_back:
    movzx eax, byte [GDT_BASE + SEL_CODE_NA + 5]
    CHECK_EQ eax, 0x9B, "jmp far sets the accessed bit of the code descriptor"
    xor eax, eax
    FAULT VEC_GP, 0, "ltr with a null selector -> #GP(0)", ltr ax

    PRINT "# the EXT bit of an exception raised while delivering another"
    SET_GDT SEL_CODE_NP2, 0, 0xFFFFF, 0xC01B
    SET_IDT VEC_UD, SEL_CODE32, 0, 0x0E00                   ; #UD gate not present
    FAULT VEC_NP, VEC_UD * 8 + 3, "#UD with a not-present gate -> #NP(6*8+2+EXT)", ud2
    RESTORE_IDT_GATE VEC_UD
    SET_IDT VEC_BR, SEL_CODE_NP2, 0, 0x8E00
    mov dword [bounds], 0
    mov dword [bounds + 4], 10
    mov eax, 11
    FAULT VEC_NP, SEL_CODE_NP2 + 1, "#BR through a gate to not-present code -> #NP(sel+EXT)", bound eax, [bounds]
    RESTORE_IDT_GATE VEC_BR
    SET_IDT VEC_UD, SEL_DATA32, 0, 0x8E00
    FAULT VEC_GP, SEL_DATA32 + 1, "#UD through a gate to a data segment -> #GP(sel+EXT)", ud2
    RESTORE_IDT_GATE VEC_UD

    PRINT "# INT1"
    TRAP VEC_DB, 0, "int1 (ICEBP, F1) -> #DB, trap: EIP after", db 0xF1

    PRINT "# DR7.GD: general detect"
    xor eax, eax
    mov dr6, eax
    mov eax, (1 << 13)
    mov dr7, eax
    EXPECT .gd_done
.gd_insn:
    mov eax, dr0
    DISARM
.gd_done:
    CHECK_EXC_AT VEC_DB, 0, .gd_insn, "DR7.GD=1: mov eax, dr0 -> #DB, fault"
    mov eax, dr6
    CHECK_MASK eax, (1 << 13), (1 << 13), "DR6.BD=1"
    mov eax, dr7
    CHECK_MASK eax, (1 << 13), 0, "the CPU cleared DR7.GD on the #DB"

    PRINT "# paging: a reserved-bit #PF has P=1 in its error code"
    mov edi, 0x100000
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [0x100000], 0 | 0x87                  ; 4 MiB identity page: PS, U, W, P
    mov dword [0x100004], (1 << 21) | 0x87          ; 0x400000: reserved bit 21 set
    mov eax, 0x100000
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    FAULT VEC_PF, 9, "read, 4 MiB PDE with reserved bit 21 -> #PF(P|RSVD)", mov eax, [0x400010]
    FAULT VEC_PF, 0xB, "write -> #PF(P|W|RSVD)", mov [0x400010], eax
    SET_GDT SEL_SEG_PG, 0x400000, 0xFFF, 0x0093
    mov ax, SEL_SEG_PG
    mov es, ax
    FAULT VEC_GP, 0, "segment limit is checked before paging: [es:0x1000] -> #GP(0), not #PF", mov eax, [es:0x1000]
    mov ax, SEL_SEG_PG
    mov es, ax
    FAULT VEC_PF, 9, "inside the limit the same page faults: [es:0xFFC] -> #PF(P|RSVD)", mov eax, [es:0xFFC]
    CHECK_EQ [exc_cr2], 0x400FFC, "CR2 = the linear address (base + offset)"
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax

    PRINT "# PAE: MOV CR3 checks the reserved bits of present PDPTEs"
    mov edi, 0x102000
    xor eax, eax
    mov ecx, 0x2000 / 4
    rep stosd
    mov dword [0x102000], 0x103000 | 1              ; PDPTE 0 -> PD
    mov dword [0x103000], 0x87                      ; 2 MiB identity page
    mov eax, cr4
    and eax, ~CR4_PSE
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, 0x102000
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    mov dword [0x102008], 0x103000 | 1 | 2          ; R/W is reserved in a PAE PDPTE
    mov eax, 0x102000
    FAULT VEC_GP, 0, "PDPTE 1 with bit 1 set -> mov cr3 #GP(0)", mov cr3, eax
    mov dword [0x102008], 0x103000 | 1 | 0x100      ; bit 8
    mov eax, 0x102000
    FAULT VEC_GP, 0, "PDPTE 1 with bit 8 set -> mov cr3 #GP(0)", mov cr3, eax
    mov dword [0x102008], 0x103000 | 2              ; not present: not checked
    mov eax, 0x102000
    NOFAULT "a not-present PDPTE's reserved bits are not checked", mov cr3, eax
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    mov eax, cr4
    and eax, ~CR4_PAE
    mov cr4, eax

    PRINT "# MOV CR0 consistency checks"
    mov ebx, cr0
    mov eax, ebx
    and eax, ~CR0_CD
    or eax, CR0_NW
    FAULT VEC_GP, 0, "mov cr0 with NW=1, CD=0 -> #GP(0)", mov cr0, eax
    mov eax, cr0
    CHECK_EQ eax, ebx, "CR0 unchanged"
    mov eax, ebx
    and eax, ~CR0_PE
    or eax, CR0_PG
    FAULT VEC_GP, 0, "mov cr0 with PG=1, PE=0 -> #GP(0)", mov cr0, eax
    mov eax, cr0
    CHECK_EQ eax, ebx, "CR0 unchanged"
    mov ebx, cr4
    mov eax, ebx
    or eax, 1 << 31
    FAULT VEC_GP, 0, "mov cr4 with reserved bit 31 -> #GP(0)", mov cr4, eax
    mov eax, cr4
    CHECK_EQ eax, ebx, "CR4 unchanged"

    ; ---------------------------------------------------------------- real mode
    PRINT "# real mode: the 64 KiB limit (interrupt 13 through the IVT)"
    mov word [13 * 4], rm_gp_handler
    mov word [13 * 4 + 2], 0xF000
    mov word [rm_gp_count], 0
    mov dword [0xFFFC], 0x0FF1CE00
    mov [saved_esp], esp
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    jmp SEL_CODE16:rm_part
rm_back:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [saved_esp]
    lidt [idt_ptr]
    CHECK_EQ [rm_ok_value], 0x0FF1CE00, "real mode: dword at 0xFFFC read normally"
    movzx eax, word [rm_gp1]
    CHECK_EQ eax, 1, "real mode: dword at 0x10000 (32-bit offset) -> interrupt 13"
    movzx eax, word [rm_gp2]
    CHECK_EQ eax, 2, "real mode: word at 0xFFFF (wraps past the limit) -> interrupt 13"
    FINISH

RM16
rm_part:
    mov eax, cr0
    and al, ~CR0_PE
    mov cr0, eax
    jmp 0xF000:.real
.real:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    lidt [cs:.ivt]
    mov eax, [0xFFFC]
    mov [rm_ok_value], eax
    mov word [rm_resume], .after1
    mov eax, [dword 0x10000]
.after1:
    mov ax, [rm_gp_count]
    mov [rm_gp1], ax
    mov word [rm_resume], .after2
    mov ax, [0xFFFF]
.after2:
    mov ax, [rm_gp_count]
    mov [rm_gp2], ax
    mov eax, cr0
    or al, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:rm_back
.ivt:
    dw 0x3FF
    dd 0

; Real-mode interrupt 13: count it and resume at [rm_resume].
rm_gp_handler:
    inc word [rm_gp_count]
    push bp
    mov bp, sp
    push ax
    mov ax, [rm_resume]
    mov [bp + 2], ax                            ; the saved IP
    pop ax
    pop bp
    iret
