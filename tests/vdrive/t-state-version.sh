#!/bin/sh
# State files are versioned: an unknown version is refused with a clear
# message, by vdrive-ctl and by the drive (no medium, message in the log).
. "$(dirname "$0")/lib.sh"

vd --media cdr
sed -i '1s/.*/vdrive-medium 99/' "$D/disc.medium"
if ctl status >"$T/out" 2>&1; then
    fail "version 99 accepted"
fi
grep -q "unknown vdrive-medium version 99 (this vdrive reads 1)" "$T/out" ||
    fail "message: $(cat "$T/out")"
if vd -- "$VDRIVE_CTL" sg tur >"$T/sg"; then
    fail "drive ready with an unreadable medium"
fi
grep -q "CHECK 2/3A/00" "$T/sg" || fail "tur: $(cat "$T/sg")"
grep -q "unknown vdrive-medium version 99" "$D/cdb.log" || fail "log lacks reason"
echo "ok: unknown state version refused"
