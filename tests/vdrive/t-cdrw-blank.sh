#!/bin/sh
# A written CD-RW is blanked (BLANK A1h) by xorriso -blank and is blank again.
. "$(dirname "$0")/lib.sh"
need xorriso

vd --media cdrw
echo one >"$T/f1"
xo "$T/w1" -write_type tao -map "$T/f1" /f1 -commit || fail "commit: $(cat "$T/w1")"
[ "$(status_of status)" = appendable ] || fail "not written"
xo "$T/b" -blank as_needed || fail "blank: $(cat "$T/b")"
grep -q '^[0-9]* a1 ' "$D/cdb.log" || fail "no BLANK sent"
grep -q "^Media status : is blank" "$T/b" || fail "xorriso: $(grep 'Media status' "$T/b")"
[ "$(status_of status)" = blank ] || fail "drive: $(status_of status)"
# a CD-R cannot be blanked
vd --name r --media cdr
xo "$T/w2" -write_type tao -map "$T/f1" /f1 -commit || fail "commit cd-r"
if xo "$T/b2" -blank as_needed; then
    fail "CD-R blanked"
fi
[ "$(status_of status)" = appendable ] || fail "CD-R changed"
echo "ok: CD-RW blanked, CD-R not"
