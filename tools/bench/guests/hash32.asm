; Benchmark guest (d32): hash.asm's FNV-1a and bitwise CRC-32 as flat 32-bit protected-mode
; code, over a 16 KiB buffer at linear 0x20000.
%include "layout32.inc"

%define PTR esi
%define CNT ecx
BUF equ 0x20000
%include "hash-loop.inc"
