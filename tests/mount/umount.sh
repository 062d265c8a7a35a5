#!/usr/bin/env bash
# `discfs umount MOUNTPOINT` commits first and unmounts only if that worked, so its
# exit status is the commit's result (plain umount returns before the daemon commits).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

mount_disc "$IMG"
echo data >"$MNT/f"
"$DISCFS" umount "$MNT" || fail "discfs umount failed"
! mountpoint -q "$MNT" || fail "still mounted after discfs umount"
[ "$(sessions "$IMG")" -eq 1 ] || fail "discfs umount returned before the session was written"
wait "$PID" || fail "the daemon exited with an error"
PID=
expect_quiet_log
ok "discfs umount writes the session before it returns, then unmounts"

# a commit that cannot be done: the image was changed by another program
mount_disc "$IMG"
echo more >"$MNT/g"
mkdir -p "$T/x" && echo x >"$T/x/x"
xorriso -dev "$IMG" -map "$T/x" /x -commit >/dev/null 2>&1 || fail "xorriso could not append"
if "$DISCFS" umount "$MNT" 2>"$T/err"; then fail "discfs umount succeeded although the commit failed"; fi
grep -q "stays mounted so that nothing is lost" "$T/err" || fail "no clear message: $(cat "$T/err")"
mountpoint -q "$MNT" || fail "unmounted although the commit failed"
[ "$(cat "$MNT/g")" = more ] || fail "the staged file is gone"
ok "when the commit fails, discfs umount says so, fails, and leaves the mount with its changes"
fusermount3 -u "$MNT"
wait "$PID" 2>/dev/null || true
PID=
