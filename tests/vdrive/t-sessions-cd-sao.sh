#!/bin/sh
# Without -write_type, xorriso writes a blank CD-R in SAO (SEND CUE SHEET,
# writes from LBA -150); later sessions are TAO. SAO has no run-out blocks.
. "$(dirname "$0")/lib.sh"
need xorriso

vd --media cdr
for i in 1 2; do
    echo "session $i" >"$T/f$i"
    xo "$T/w$i" -map "$T/f$i" "/f$i" -commit || fail "commit $i: $(cat "$T/w$i")"
done
grep -q '^[0-9]* 5d ' "$D/cdb.log" || fail "no SEND CUE SHEET sent"
xo "$T/toc" -toc || fail "toc"
starts=$(toc_starts "$T/toc")
[ "$starts" = "0 11700" ] || fail "session starts '$starts'"
echo "ok: SAO then TAO at $starts"
