# judge.sh: the verdict on a guest test's output, shared by run-asm-test.sh (vx86), qemu-run.sh
# and bochs-run.sh (the oracles). Sourced; the caller defines `fail REASON` (prints and exits).
#
# judge_output FILE: returns only if no line of FILE starts with `not ok` and its last line is
# exactly PASS.
judge_output() {
    local nfail last
    nfail=$(grep -c '^not ok' "$1")
    [ "$nfail" -ne 0 ] && fail "$nfail check(s) printed 'not ok'"
    last=$(tail -n 1 "$1")
    [ "$last" != PASS ] && fail "the last line is '$last', not PASS"
    return 0
}
