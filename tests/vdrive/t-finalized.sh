#!/bin/sh
# t-finalized.sh TYPE: a session written with -close on finalizes the disc;
# a further commit is refused and not a single WRITE reaches the medium.
. "$(dirname "$0")/lib.sh"
need xorriso
type=${1:?medium type}

vd --media "$type"
echo one >"$T/f1"
xo "$T/w1" -close on -map "$T/f1" /f1 -commit || fail "commit 1: $(cat "$T/w1")"
[ "$(status_of finalized)" = 1 ] || fail "drive: not finalized"
xo "$T/toc" -toc || fail "toc"
grep -q "^Media status : is written , is closed" "$T/toc" ||
    fail "xorriso: $(grep 'Media status' "$T/toc")"
before=$(log_lines)
echo two >"$T/f2"
if xo "$T/w2" -map "$T/f2" /f2 -commit; then
    fail "commit onto a finalized disc succeeded"
fi
[ "$(writes_in_log "$before")" = 0 ] || fail "WRITE reached a finalized disc"
# a raw write at the old end is refused by the drive itself
end=$(ctl show | awk '$1 == "track" { e = $3 + $5 } END { print e }')
if vd -- "$VDRIVE_CTL" sg write "$end" 1 >"$T/sg"; then
    fail "raw write on finalized disc accepted"
fi
grep -q "CHECK 5/21/02" "$T/sg" || fail "raw write: $(cat "$T/sg")"
echo "ok: $type finalized, further writes refused"
