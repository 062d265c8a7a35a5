#!/usr/bin/env bash
# vdrive-write-error.sh MEDIA: a write error in the middle of a commit (vdrive-ctl
# fault write-error).  sync MOUNTPOINT fails with EIO and says so, the staged
# file stays in the mount and reads back, the mount stays usable; the retry
# appends after what the failed burn left on the write-once disc, and a remount
# reads the file from the disc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-write-error.sh MEDIA}

vd --media "$MEDIA"
mount_disc "mmc:$NODE"
stage_src 1000000
ctl fault write-error --after 100 >/dev/null
expect_sync_eio "the commit succeeded despite the write error"
grep -q "failed: cannot write a session to .*the changes stay staged" "$LOG" ||
    fail "the log does not say that the commit failed and the changes stay staged"
cmp "$T/src" "$MNT/f" || fail "the staged file changed after the failed commit"
echo more >"$MNT/g" || fail "the mount is not usable after the failed commit"
ok "$MEDIA: a write error fails the commit with EIO; the stage is intact, the mount usable"

# the failed burn moved the disc's next writable address: a crash now must still
# find the stage on the next mount (it is keyed by the newest session, which the
# failed burn did not change)
kill_daemon
mount_disc "mmc:$NODE"
cmp "$T/src" "$MNT/f" && [ "$(cat "$MNT/g")" = more ] ||
    fail "after a failed burn and a crash the staged changes are not back"
expect_stage_found "the replay was not reported"
ok "$MEDIA: after a failed burn and kill -9 the remount replays the stage"

ctl fault clear >/dev/null
sync "$MNT" || fail "the retry after the write error failed: $(tail -3 "$LOG")"
unmount_disc_noisy
starts=$(toc_starts)
[ "$(echo "$starts" | wc -w)" = 2 ] || fail "expected the broken session and the retry, found '$starts'"
mount_disc "mmc:$NODE"
cmp "$T/src" "$MNT/f" && [ "$(cat "$MNT/g")" = more ] || fail "the retried session does not read back"
unmount_disc
ok "$MEDIA: the retry appends after the broken session (sessions at $starts) and reads back"
