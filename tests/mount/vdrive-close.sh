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

# discfs commit --close on a disc mounted without -o close: that one session closes
# the disc, with a closing phase; the commit before it did not
ctl create second dvd-r >/dev/null
ctl load second
mount_disc "mmc:$NODE"
echo first >"$MNT/a"
"$DISCFS" commit "$MNT" >"$T/out" 2>&1 || fail "discfs commit failed: $(cat "$T/out")"
[ "$(status_of finalized)" = 0 ] || fail "a plain discfs commit finalized the disc"
echo last >"$MNT/b"
"$DISCFS" commit "$MNT" --close >"$T/out" 2>&1 || fail "discfs commit --close failed: $(cat "$T/out")"
grep -q "^closing$" "$T/out" || fail "discfs commit --close showed no closing phase: $(cat "$T/out")"
grep -q "^discfs: session 2 written to 'mmc:$NODE' and verified" "$T/out" || fail "discfs commit --close: $(cat "$T/out")"
[ "$(status_of finalized)" = 1 ] || fail "the disc is not finalized after discfs commit --close"
"$DISCFS" status "$MNT" --json >"$T/status.json"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); sys.exit(not (v["state"] == "closed" and v["readonly"] and v["sessions"] == 2))' "$T/status.json" ||
    fail "status after --close: $(cat "$T/status.json")"
if echo x 2>/dev/null >"$MNT/c"; then fail "a write after discfs commit --close succeeded"; fi
unmount_disc_noisy --with-log "discfs failed"
ok "discfs commit --close finalizes a DVD-R with that session, showing a closing phase"
