#!/bin/sh
# t-capacity.sh TYPE: a small medium (CD: 20000 blocks, else 1000) takes a
# small session but not one larger than its free space; libburn learns the
# free space from READ TRACK INFORMATION and refuses before writing.
. "$(dirname "$0")/lib.sh"
need xorriso
type=${1:?medium type}

if [ "$type" = cdr ]; then
    cap=20000 # the first session costs 11400 blocks of gap
    truncate -s 48M "$T/big"
else
    cap=1000
    truncate -s 3M "$T/big"
fi
vd --media "$type" --capacity "$cap"
before=$(log_lines)
if xo "$T/w1" -map "$T/big" /big -commit; then
    fail "3 MB session fit on a 2 MB medium"
fi
[ "$(writes_in_log "$before")" = 0 ] || fail "WRITE sent for an oversized session"
grep -qi "free space\|exceed\|too large\|not enough" "$T/w1" ||
    fail "no space message: $(tail -5 "$T/w1")"
mkfile "$T/small" 100
xo "$T/w2" -map "$T/small" /small -commit || fail "small session: $(cat "$T/w2")"
[ "$(status_of sessions)" = 1 ] || fail "sessions $(status_of sessions)"
nwa=$(status_of nwa)
if [ "$nwa" = - ]; then
    # no room for the next session's gap: the disc is full
    [ "$(status_of status)" = full ] || fail "no nwa but $(status_of status)"
else
    # the drive itself refuses a write past the end
    if vd -- "$VDRIVE_CTL" sg write "$nwa" "$((cap - nwa + 1))" >"$T/sg"; then
        fail "raw write beyond capacity accepted"
    fi
    grep -q "CHECK 5/21/0" "$T/sg" || fail "raw write: $(cat "$T/sg")"
fi
echo "ok: $type capacity $cap enforced"
