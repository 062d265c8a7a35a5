#!/usr/bin/env bash
# vdrive-verify.sh MEDIA: verify as a reader would (issue 8, defect 5).  The drive
# reports a good write, but the new session's volume descriptor reaches the disc
# altered, so a reader finds an older session newest.  The commit must see that
# (not check the session that happens to load), fail with EIO and keep the stage,
# also across kill -9; a fresh mount with an empty cache shows the older session,
# not garbage; the next commit writes the changes after everything.  On
# overwriteable MEDIA (DVD+RW, BD-RE: sessions emulated by rewriting the first 64
# KiB) the bad session's head would leave a disc no reader opens: the commit puts
# the old head back, so the disc shows its previous session at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-verify.sh MEDIA}
case "$MEDIA" in dvd+rw | bd-re) emulated=1 ;; *) emulated= ;; esac

disc_with_a "$MEDIA"
mount_disc "mmc:$NODE"
stage_src 300000
ctl fault corrupt --after 16 >/dev/null # block 16 of the session: its volume descriptor
expect_sync_eio "a session that a reader cannot find was accepted"
if [ -n "$emulated" ]; then
    grep -q "cannot be read back .*shows its previous session again" "$LOG" ||
        fail "the log does not say that the previous session is back"
else
    grep -q "is not the newest one a reader finds" "$LOG" || fail "the log does not say why"
fi
[ "$(grep -c '^discfs:' "$LOG")" -eq 1 ] || fail "the failure is told more than once"
cmp "$T/src" "$MNT/f" || fail "the staged file reads wrong after the failed verification"
ok "$MEDIA: a session whose volume descriptor does not read back fails the commit"

kill_daemon
mount_disc "mmc:$NODE"
expect_stage_found "the stage was not found after kill -9"
cmp "$T/src" "$MNT/f" || fail "after kill -9 the staged file is not back"
[ "$(cat "$MNT/a")" = a ] || fail "the older session is not shown"
kill_daemon
mount_disc "mmc:$NODE" -o cache="$T/empty-cache"
[ "$(cat "$MNT/a")" = a ] || fail "a fresh mount does not show the older session"
[ ! -e "$MNT/f" ] || fail "a fresh mount shows the file of the bad session"
[ -n "$emulated" ] || grep -q "cannot be read .*showing session 1 of 2" "$LOG" ||
    fail "the fresh mount does not say why"
: >"$LOG"
unmount_disc
ok "$MEDIA: the stage survives kill -9; a fresh mount shows the last good session"

mount_disc "mmc:$NODE"
sync "$MNT" || fail "the commit after the bad session failed: $(tail -3 "$LOG")"
unmount_disc_noisy
mount_disc "mmc:$NODE" -o cache="$T/empty-cache2"
cmp "$T/src" "$MNT/f" && [ "$(cat "$MNT/a")" = a ] || fail "the new session does not read back"
: >"$LOG"
unmount_disc
ok "$MEDIA: the next commit writes the changes after the bad session (sessions at $(toc_starts))"
