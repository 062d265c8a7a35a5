#!/bin/sh
# t-overwrite.sh TYPE: DVD+RW / BD-RE are overwriteable (random access);
# libisoburn emulates sessions at 32, 64, ... and rewrites LBA 0-31.
. "$(dirname "$0")/lib.sh"
need xorriso
type=${1:?medium type}

vd --media "$type"
for i in 1 2 3; do
    echo "session $i" >"$T/f$i"
    xo "$T/w$i" -map "$T/f$i" "/f$i" -commit || fail "commit $i: $(cat "$T/w$i")"
done
xo "$T/toc" -toc -ls / || fail "toc"
starts=$(toc_starts "$T/toc")
[ "$starts" = "32 64 96" ] || fail "$type: session starts '$starts'"
grep -q '^[0-9]* 2a 00 00 00 00 00 ' "$D/cdb.log" || fail "LBA 0 never rewritten"
grep -q "'f3'" "$T/toc" || fail "newest session lacks f3"
echo "ok: $type emulated sessions at $starts"
