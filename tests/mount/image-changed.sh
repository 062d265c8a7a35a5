#!/usr/bin/env bash
# image-changed.sh: another program (xorriso) appends a session to the image file
# while it is mounted.  The commit's identity check notices: sync fails with EIO,
# the log says why, and the image keeps exactly what xorriso wrote (without the
# check discfs would write its session over xorriso's).
. "$(dirname "$0")/lib.sh"

IMG=$T/disc.iso
echo a >"$T/a"
xorriso -outdev "$IMG" -map "$T/a" /a -commit >/dev/null 2>&1 || fail "xorriso could not make $IMG"
mount_disc "$IMG"
echo staged >"$MNT/b"
xorriso -dev "$IMG" -map "$T/a" /by-xorriso -commit >/dev/null 2>&1 ||
    fail "xorriso could not append to the mounted image"
before=$(md5sum <"$IMG")
if sync "$MNT" 2>"$T/err"; then fail "the commit over the changed image succeeded"; fi
grep -q "Input/output error" "$T/err" || fail "sync failed, but not with EIO: $(cat "$T/err")"
grep -q "the image '$IMG' was changed by another program since it was mounted" "$LOG" ||
    fail "the log does not say that the image changed"
[ "$(md5sum <"$IMG")" = "$before" ] || fail "discfs wrote to the changed image"
[ "$(cat "$MNT/b")" = staged ] || fail "the staged file is gone"
[ "$(sessions "$IMG")" = 2 ] || fail "xorriso's session is not the newest any more"
fusermount3 -u "$MNT"
wait "$PID" && fail "the commit on unmount over the changed image succeeded"
PID=
[ "$(md5sum <"$IMG")" = "$before" ] || fail "the unmount wrote to the changed image"
ok "an image changed by another program under the mount is not written over; sync fails with EIO"
