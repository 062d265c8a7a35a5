#!/usr/bin/env bash
# vdrive-miscount.sh MEDIA: a directory tree that libisofs 1.5.4 miscounts in every
# layout (long-links.py, see miscount.sh) fails the commit before anything reaches
# the disc: on write-once MEDIA no attempt may leave a track behind.  The stage is
# kept; once the links are removed the next commit writes one session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"
MEDIA=${1:?usage: vdrive-miscount.sh MEDIA}

vd --media "$MEDIA"
mount_disc "mmc:$NODE"
echo kept >"$MNT/kept"
python3 "$(dirname "$0")/long-links.py" "$MNT"
lines=$(log_lines)
expect_sync_eio "a tree that libisofs miscounts in every layout was committed"
[ "$(writes_after "$lines")" -eq 0 ] || fail "the failed commit wrote $(writes_after "$lines") times"
grep -q "in every layout tried" "$LOG" || fail "the log does not say why the commit failed"
ok "$MEDIA: a tree no layout can write reaches nothing of the disc"

rm "$MNT"/r*
sync "$MNT" || fail "the commit after removing the links failed: $(tail -3 "$LOG")"
unmount_disc_noisy
[ "$(toc_starts | wc -w)" -eq 1 ] || fail "the disc holds sessions at '$(toc_starts)', not one"
mount_disc "mmc:$NODE" -o cache="$T/empty-cache"
[ "$(cat "$MNT/kept")" = kept ] || fail "the staged file does not read back from a fresh mount"
[ -z "$(find "$MNT" -name 'r*')" ] || fail "a removed link is on the disc"
unmount_disc
ok "$MEDIA: the stage was kept, and the next commit wrote one session"

# the verify is the last line: were the tree written as libisofs miscounts it (no
# rehearsal), the drive pads the short track and reports a good write; the session
# read back has no MD5 tag and its file data is shifted: the commit must fail and
# keep the stage, and the next commit writes it again after the bad session
vd --media "$MEDIA"
DISCFS_TEST_NO_REHEARSAL=1 mount_disc "mmc:$NODE" -o cache="$T/cache3"
echo kept >"$MNT/kept"
python3 "$(dirname "$0")/long-links.py" "$MNT"
expect_sync_eio "a session that does not read back as written was accepted"
grep -q "has no MD5 tag a reader finds" "$LOG" || fail "the log does not say why the commit failed"
[ "$(cat "$MNT/kept")" = kept ] || fail "the staged file reads wrong after the failed verification"
rm "$MNT"/r*
kill_daemon
mount_disc "mmc:$NODE" -o cache="$T/cache3"
expect_stage_found "the stage was not found after the failed verification"
sync "$MNT" || fail "the commit after the bad session failed: $(tail -3 "$LOG")"
unmount_disc_noisy
mount_disc "mmc:$NODE" -o cache="$T/empty-cache3"
[ "$(cat "$MNT/kept")" = kept ] || fail "the file does not read back from a fresh mount"
unmount_disc
ok "$MEDIA: a session written shorter than computed fails the verify and is written again"
