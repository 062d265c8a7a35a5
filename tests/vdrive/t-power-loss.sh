#!/bin/sh
# t-power-loss.sh TYPE: the writer dies mid-track (injected power loss);
# the disc keeps an open, damaged session. xorriso reports "next track is
# damaged", -close_damaged closes it, and a new session can follow.
. "$(dirname "$0")/lib.sh"
need xorriso
type=${1:?medium type}

vd --media "$type"
echo one >"$T/f1"
xo "$T/w1" -write_type tao -map "$T/f1" /f1 -commit || fail "commit 1: $(cat "$T/w1")"
mkfile "$T/big" 2048
ctl fault power-loss --after 100 >/dev/null
if xo "$T/w2" -write_type tao -map "$T/big" /big -commit; then
    fail "commit 2 survived the power loss"
fi
[ "$(status_of damaged)" = 1 ] || fail "drive: track not damaged"
[ "$(status_of open_session)" = 1 ] || fail "drive: session not open"
xo "$T/toc" -toc || true
grep -q "next track is damaged" "$T/toc" || fail "xorriso: $(grep -i 'status' "$T/toc")"
grep -q "Damaged, not closed and not writable" "$T/toc" || fail "no libburn damage warning"

xo "$T/close" -close_damaged as_needed || fail "close_damaged: $(cat "$T/close")"
[ "$(status_of damaged)" = 0 ] || fail "still damaged"
[ "$(status_of sessions)" = 2 ] || fail "sessions $(status_of sessions)"
echo three >"$T/f3"
xo "$T/w3" -write_type tao -map "$T/f3" /f3 -commit || fail "commit 3: $(cat "$T/w3")"
xo "$T/toc2" -toc -ls / || fail "toc 2"
set -- $(toc_starts "$T/toc2")
[ $# -eq 3 ] || fail "expected 3 sessions, got: $*"
grep -q "'f3'" "$T/toc2" || fail "f3 missing"
echo "ok: $type damaged session closed, sessions at $*"
