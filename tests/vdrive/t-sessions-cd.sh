#!/bin/sh
# xorriso burns three sessions onto a virtual CD-R (TAO, as for appending)
# and -toc shows them where a drive puts them: 0, 11702, 18904.
. "$(dirname "$0")/lib.sh"
need xorriso

vd --media cdr --create-opt --disc-id --create-opt 0x12345678
for i in 1 2 3; do
    echo "session $i" >"$T/f$i"
    xo "$T/w$i" -write_type tao -map "$T/f$i" "/f$i" -commit ||
        fail "commit $i: $(cat "$T/w$i")"
done
xo "$T/toc" -toc -ls / || fail "toc: $(cat "$T/toc")"
starts=$(toc_starts "$T/toc")
[ "$starts" = "0 11702 18904" ] || fail "session starts '$starts'"
grep -q "^Media current: CD-R" "$T/toc" || fail "not a CD-R"
grep -q "^Media product: 97m26s66f/79m59s74f" "$T/toc" || fail "ATIP"
grep -q "^Media nwa *: 26106s" "$T/toc" || fail "nwa: $(grep nwa "$T/toc")"
grep -q "'f3'" "$T/toc" || fail "newest session lacks f3"
[ "$(status_of sessions)" = 3 ] || fail "vdrive says $(status_of sessions)"
echo "ok: CD-R sessions at $starts"
