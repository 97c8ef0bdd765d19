; pm_debug.asm: the debug exception (#DB, vector 1) in protected mode: single step (EFLAGS.TF,
; DR6.BS), instruction breakpoints (fault: saved EIP = the instruction, DR6.B0),
; data write and read/write breakpoints (trap: saved EIP = the next instruction, DR6.B1/B2),
; and breakpoints that do not match. In pm_strict.asm because QEMU lacks them: INT1 (ICEBP, F1;
; QEMU -cpu pentium3 raises #UD) and general detect (DR7.GD, DR6.BD).
%include "pm.inc"

DR6_B0  equ 1 << 0
DR6_B1  equ 1 << 1
DR6_B2  equ 1 << 2
DR6_B3  equ 1 << 3
DR6_BD  equ 1 << 13
DR6_BS  equ 1 << 14
DR6_STATUS equ DR6_B0 | DR6_B1 | DR6_B2 | DR6_B3 | DR6_BD | DR6_BS
DR7_LE  equ 1 << 8
DR7_GD  equ 1 << 13

section .bss
watched:  resd 1
other:    resd 1

%macro CLEAR_DR6 0
    xor eax, eax
    mov dr6, eax
%endmacro

PM32
test_main:
    PRINT "# pm_debug: #DB from single step and breakpoints"

    ; single step: the trap comes after the instruction that follows the POPFD that set TF
    CLEAR_DR6
    EXPECT .ss_done
    pushfd
    or dword [esp], EFL_TF
    popfd
    mov eax, 0x1234                             ; no trap after popfd; this one runs, then #DB
.ss_after:
    mov eax, 0x5678
    DISARM
.ss_done:
    CHECK_EXC_AT VEC_DB, 0, .ss_after, "single step: #DB after the instruction following popfd"
    CHECK_EQ eax, 0x1234, "that instruction ran, the next one did not"
    CHECK_MASK [exc_eflags], EFL_TF, EFL_TF, "the saved EFLAGS has TF=1"
    mov eax, dr6
    CHECK_MASK eax, DR6_STATUS, DR6_BS, "DR6.BS=1 (and no B0-B3, BD)"

    ; instruction breakpoint in DR0
    CLEAR_DR6
    mov eax, .bp_target
    mov dr0, eax
    mov eax, DR7_LE | 1                         ; L0, R/W0=00 (execute), LEN0=00
    mov dr7, eax
    mov ebx, 0
    EXPECT .bp_done
    nop
.bp_target:
    mov ebx, 1
    DISARM
.bp_done:
    xor eax, eax
    mov dr7, eax
    CHECK_EXC_AT VEC_DB, 0, .bp_target, "DR0 execute breakpoint -> #DB, fault: EIP = the instruction"
    CHECK_EQ ebx, 0, "the instruction did not run"
    mov eax, dr6
    CHECK_MASK eax, DR6_STATUS, DR6_B0, "DR6.B0=1"

    ; data write breakpoint in DR1 (4 bytes)
    CLEAR_DR6
    mov dword [watched], 0
    mov eax, watched
    mov dr1, eax
    mov eax, DR7_LE | (1 << 2) | (0x1 << 20) | (0x3 << 22)  ; L1, R/W1=01 (write), LEN1=11
    mov dr7, eax
    EXPECT .nomatch
    mov eax, [watched]                          ; a read: no match for a write breakpoint
    mov dword [other], 5                        ; another address: no match
    mov byte [watched - 1], 5                   ; the byte before: no match
    DISARM
.nomatch:
    CHECK_NO_EXC "write breakpoint: reads and writes elsewhere do not trigger it"
    EXPECT .wr_done
    mov byte [watched + 2], 0x77                ; one byte inside the 4
.wr_after:
    nop
    DISARM
.wr_done:
    xor eax, eax
    mov dr7, eax
    CHECK_EXC_AT VEC_DB, 0, .wr_after, "DR1 write breakpoint -> #DB, trap: EIP after the write"
    CHECK_EQ [watched], 0x00770000, "the write was done before the trap"
    mov eax, dr6
    CHECK_MASK eax, DR6_STATUS, DR6_B1, "DR6.B1=1"

    ; data read/write breakpoint in DR2 (2 bytes)
    CLEAR_DR6
    mov eax, other
    mov dr2, eax
    mov eax, DR7_LE | (1 << 4) | (0x3 << 24) | (0x1 << 26) ; L2, R/W2=11 (read/write), LEN2=01
    mov dr7, eax
    EXPECT .rd_done
    mov eax, [other]
.rd_after:
    DISARM
.rd_done:
    xor ebx, ebx
    mov dr7, ebx
    CHECK_EXC_AT VEC_DB, 0, .rd_after, "DR2 read/write breakpoint: a read -> #DB, trap"
    CHECK_EQ eax, 5, "the read was done"
    mov eax, dr6
    CHECK_MASK eax, DR6_STATUS, DR6_B2, "DR6.B2=1"

    ; a breakpoint enabled in DR7 for DR3 but not matching, and a disabled matching one
    CLEAR_DR6
    mov eax, .dis_target
    mov dr3, eax
    mov eax, DR7_LE                             ; L3 clear: disabled
    mov dr7, eax
    EXPECT .dis_done
.dis_target:
    nop
    DISARM
.dis_done:
    xor eax, eax
    mov dr7, eax
    CHECK_NO_EXC "a breakpoint in DR3 with L3=G3=0 does not trigger"

    FINISH
