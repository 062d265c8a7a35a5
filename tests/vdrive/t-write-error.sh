#!/bin/sh
# An injected medium error (3/0C/00) at a given LBA makes the burn fail;
# the blocks before it are on the medium, nothing after it.
. "$(dirname "$0")/lib.sh"
need xorriso

vd --media cdr
truncate -s 2M "$T/big"
ctl fault write-error --after 40 >"$T/f"
grep -q "write-error at lba 40" "$T/f" || fail "fault: $(cat "$T/f")"
if xo "$T/w" -write_type tao -map "$T/big" /big -commit; then
    fail "burn with a write error succeeded"
fi
grep -q "\[3 0C 00\] Medium error" "$T/w" || fail "xorriso: $(grep -i error "$T/w")"
grep -q "CHECK 3/0C/00 injected write error at lba 40" "$D/cdb.log" || fail "log"
ctl show | grep -q "^track 1 0 40 " || fail "track: $(ctl show | grep track)"
[ ! -s "$D/faults" ] || ! grep -q write-error "$D/faults" || fail "fault not consumed"
echo "ok: write error at lba 40 reported"
