#!/usr/bin/env bash
# vdrive-power-loss.sh MEDIA: the drive loses power in the middle of a commit
# (vdrive-ctl fault power-loss: the track is left damaged, discfs is killed).
# The next mount closes the damaged track (as xorriso -close_damaged does), says
# so, finds the broken session unreadable and shows the last good one instead,
# and a new session can be appended after all of them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-power-loss.sh MEDIA}

disc_with_a "$MEDIA"
mount_disc "mmc:$NODE"
stage_src 1000000
ctl fault power-loss --after 100 >/dev/null
if sync "$MNT" 2>/dev/null; then fail "the commit survived the power loss"; fi
wait "$PID" 2>/dev/null && fail "discfs was not killed by the power loss"
PID=
fusermount3 -u "$MNT" || fail "cannot unmount the dead mount"
[ "$(status_of damaged)" = 1 ] || fail "the power loss did not leave a damaged track"
# listing the sessions only reads: the damaged track stays as it is, nothing written
n=$(log_lines)
out=$("${DISCFS_PREFIX[@]}" "$DISCFS" sessions "mmc:$NODE" 2>&1) || fail "discfs sessions: $out"
[ "$(status_of damaged)" = 1 ] && [ "$(writes_after "$n")" = 0 ] ||
    fail "discfs sessions changed the medium (damaged $(status_of damaged), $(writes_after "$n") writes)"

mount_disc "mmc:$NODE"
grep -q "closed the track that an interrupted write left damaged" "$LOG" ||
    fail "the mount does not say that it closed the damaged track"
[ "$(status_of damaged)" = 0 ] || fail "the damaged track is still open"
grep -q "the newest session of .* cannot be read .*showing session 1 of 2" "$LOG" ||
    fail "the mount does not say that it shows the older session"
[ "$(cat "$MNT/a")" = a ] || fail "the last good session is not shown"
# the stage is keyed by the session shown, not by the broken one (issue 8, defect 6b)
expect_stage_found "the stage was not found"
cmp "$T/src" "$MNT/f" || fail "the staged file is not back after the power loss"
echo more >"$MNT/g" || fail "cannot write after the damaged track was closed"
sync "$MNT" || fail "the commit after the power loss failed: $(cat "$LOG")"
unmount_disc_noisy --with-log
mount_disc "mmc:$NODE"
cmp "$T/src" "$MNT/f" && [ "$(cat "$MNT/a")" = a ] && [ "$(cat "$MNT/g")" = more ] ||
    fail "the new session does not read back"
unmount_disc
ok "$MEDIA: after a power loss the damaged track is closed at mount and a session follows" \
    "(sessions at $(toc_starts))"
