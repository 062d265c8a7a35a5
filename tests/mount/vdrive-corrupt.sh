#!/usr/bin/env bash
# vdrive-corrupt.sh MEDIA: the drive reports a good write, but one block reaches
# the disc altered (vdrive-ctl fault corrupt).  The commit reads the session back,
# finds the MD5 mismatch and fails with EIO; the staged data stays staged (also
# across kill -9 and a remount) and the next commit writes it again, correctly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-corrupt.sh MEDIA}

vd --media "$MEDIA"
mount_disc "mmc:$NODE"
stage_src 1000000
ctl fault corrupt --after 200 >/dev/null
expect_sync_eio "a session that does not read back was accepted"
grep -q "does not read back as written (MD5 mismatch)" "$LOG" || fail "the log does not name the mismatch"
cmp "$T/src" "$MNT/f" || fail "the file reads wrong after the failed verification"
ok "$MEDIA: a session that does not verify fails the commit with EIO; the file reads right"

kill_daemon
mount_disc "mmc:$NODE"
expect_stage_found "the stage was not found after the crash"
cmp "$T/src" "$MNT/f" || fail "after kill -9 the staged data is not back"
sync "$MNT" || fail "the commit after the bad session failed: $(tail -3 "$LOG")"
unmount_disc_noisy
mount_disc "mmc:$NODE"
cmp "$T/src" "$MNT/f" || fail "the file read from the disc differs"
unmount_disc
[ "$(echo "$(toc_starts)" | wc -w)" = 2 ] || fail "expected 2 sessions, the bad one and the good one: $(toc_starts)"
ok "$MEDIA: after kill -9 the stage is back and the next session is written correctly"
