#!/bin/sh
# Write-once is enforced by the drive: raw SG_IO WRITE(10) anywhere but the
# next writable address fails with 5/21/02 and changes nothing; at the NWA
# it succeeds. Reads of unrecorded blocks fail; an empty drive says 2/3A/00.
. "$(dirname "$0")/lib.sh"
need xorriso

vd --media cdr
echo one >"$T/f1"
xo "$T/w1" -write_type tao -map "$T/f1" /f1 -commit || fail "commit: $(cat "$T/w1")"
sum=$(md5sum <"$D/disc.data")
nwa=$(status_of nwa)
[ "$nwa" = 11702 ] || fail "nwa $nwa"
for lba in 0 100 11701 11703 20000; do
    if vd -- "$VDRIVE_CTL" sg write "$lba" 1 >"$T/sg"; then
        fail "out-of-order write at $lba accepted"
    fi
    grep -q "CHECK 5/21/02" "$T/sg" || fail "write at $lba: $(cat "$T/sg")"
done
[ "$(md5sum <"$D/disc.data")" = "$sum" ] || fail "medium data changed"
grep -q "write-once violation: lba 0 != nwa 11702" "$D/cdb.log" || fail "log note"
vd -- "$VDRIVE_CTL" sg write 11702 16 >"$T/sg" || fail "write at NWA: $(cat "$T/sg")"
[ "$(status_of nwa)" = 11718 ] || fail "nwa after raw write $(status_of nwa)"
vd -- "$VDRIVE_CTL" sg read 0 16 >"$T/sg" || fail "read: $(cat "$T/sg")"
if vd -- "$VDRIVE_CTL" sg read 5000 1 >"$T/sg"; then
    fail "read of unrecorded block accepted"
fi
grep -q "CHECK 5/21/00" "$T/sg" || fail "unrecorded read: $(cat "$T/sg")"
ctl eject
if vd -- "$VDRIVE_CTL" sg tur >"$T/sg"; then
    fail "empty drive ready"
fi
grep -q "CHECK 2/3A/00" "$T/sg" || fail "empty drive: $(cat "$T/sg")"
echo "ok: out-of-order writes rejected, in-order accepted"
