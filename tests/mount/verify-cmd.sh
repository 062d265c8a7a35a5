#!/usr/bin/env bash
# `discfs verify DEVICE`: every session against its recorded MD5 tag and every file
# against its recorded MD5; a flipped byte names the file and the session, exit 1.
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

mount_disc "$IMG"
head -c 3000000 /dev/urandom >"$MNT/first"
mkdir "$MNT/d"
echo small >"$MNT/d/small"
"$DISCFS" commit "$MNT" >/dev/null || fail "the first commit failed"
head -c 500000 /dev/urandom >"$MNT/second"
"$DISCFS" umount "$MNT" >/dev/null || fail "discfs umount failed"
wait "$PID" || fail "the daemon exited with an error"
PID=

"$DISCFS" verify "$IMG" >"$T/out" 2>"$T/err" || fail "discfs verify of a good image failed: $(cat "$T/out" "$T/err")"
[ ! -s "$T/err" ] || fail "discfs verify wrote to stderr: $(cat "$T/err")"
grep -q "^session 1: [0-9]* blocks match the session's MD5$" "$T/out" || fail "session 1: $(cat "$T/out")"
grep -q "^session 2: [0-9]* blocks match the session's MD5$" "$T/out" || fail "session 2: $(cat "$T/out")"
tail -1 "$T/out" | grep -qx "discfs: '$IMG': 2 sessions and 3 files (3500006 bytes) match their MD5s" ||
    fail "the summary: $(cat "$T/out")"
ok "discfs verify reads every session and each file once against their MD5s"

# one byte of 'second' (written by session 2) flipped
lba=$(xorriso -indev "$IMG" -find /second -exec report_lba -- 2>/dev/null |
    sed -n "s/^File data lba: *[0-9]* *, *\([0-9]*\) *,.*'\/second'$/\1/p")
[ -n "$lba" ] || fail "xorriso does not report where /second is"
python3 - "$IMG" $((lba * 2048 + 1000)) <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
PY
rc=0
"$DISCFS" verify "$IMG" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "discfs verify of a damaged image: exit $rc: $(cat "$T/out")"
grep -qx "BAD: '/second' (session 2): its data does not match the MD5 recorded for it" "$T/out" ||
    fail "the bad file is not named: $(cat "$T/out")"
grep -qx "BAD: session 2: its blocks do not match the MD5 it recorded" "$T/out" ||
    fail "the bad session is not named: $(cat "$T/out")"
grep -q "^session 1: [0-9]* blocks match" "$T/out" || fail "session 1 is not good any more: $(cat "$T/out")"
[ "$(grep -c "^BAD" "$T/out")" -eq 2 ] || fail "more named bad than the one file and its session: $(cat "$T/out")"
ok "discfs verify names the damaged file and its session and exits 1"

rc=0
"$DISCFS" verify >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "verify takes one DEVICE" "$T/err" || fail "discfs verify without DEVICE: exit $rc, $(cat "$T/err")"
rc=0
"$DISCFS" verify "$T/none.iso" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "no disc or image '$T/none.iso'" "$T/err" || fail "discfs verify of a missing image: exit $rc, $(cat "$T/err")"
[ ! -e "$T/none.iso" ] || fail "discfs verify created an image"
ok "discfs verify refuses a missing DEVICE and usage errors"
