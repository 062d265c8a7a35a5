#!/usr/bin/env bash
# vdrive-close.sh: -o close on a blank virtual CD-R.  The commit finalizes the
# disc (xorriso -toc: "is closed"), the mount turns read-only (EROFS) and says
# so; a remount is read-only and reads the files back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdrive.sh"

vd --media cdr
mount_disc "mmc:$NODE" -o close
echo closed >"$MNT/f"
sync "$MNT" || fail "the commit with -o close failed"
[ "$(status_of finalized)" = 1 ] || fail "the disc is not finalized after a commit with -o close"
grep -q "the commit closed the disc" "$LOG" || fail "the log does not say that the disc is closed"
if echo x 2>"$T/err" >"$MNT/g"; then fail "a write after the closing commit succeeded"; fi
grep -q "Read-only file system" "$T/err" || fail "the write failed, but not with EROFS: $(cat "$T/err")"
unmount_disc_noisy --with-log "discfs failed"
xo "$T/toc" -toc || fail "xorriso -toc failed"
grep -q "is closed" "$T/toc" || fail "xorriso does not see a closed disc: $(cat "$T/toc")"
ok "-o close: the commit finalizes the CD-R, the mount turns read-only"

mount_disc "mmc:$NODE"
grep -q "mounted read-only" "$LOG" || fail "the remount does not say it is read-only"
[ "$(cat "$MNT/f")" = closed ] || fail "the file does not read back from the closed disc"
unmount_disc_noisy --with-log "discfs failed"
ok "the closed disc remounts read-only with its files"
