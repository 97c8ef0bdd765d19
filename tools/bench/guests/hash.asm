; Benchmark guest (d): hashing.
;
; FNV-1a (32-bit) over a 16 KiB buffer one byte at a time (MOVZX, XOR, IMUL), then a bitwise
; reflected CRC-32 (polynomial 0xEDB88320) over its first 1 KiB with a SHR/JNC/XOR inner loop,
; i.e. short loops with unpredictable branches. The buffer is filled once with an LCG.
; Layout in layout.inc.
%include "layout.inc"

%define PTR si
%define CNT cx
BUF equ 0x1000
%include "hash-loop.inc"
