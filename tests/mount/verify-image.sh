#!/usr/bin/env bash
# An image file whose new session does not read back (here: its volume descriptors
# at block 16 reach the file broken, DISCFS_TEST_SPOIL_HEAD) would be an image no
# reader can open, since every session of an image rewrites its first 64 KiB.  The
# commit fails with EIO, keeps the stage, and puts the old head back: the image
# shows its previous session at once, to a fresh mount and to xorriso; the next
# commit writes the changes.
. "$(dirname "$0")/lib.sh"

IMG=$T/disc.iso
mount_disc "$IMG"
echo one >"$MNT/one"
sync "$MNT" || fail "the first commit failed: $(tail -3 "$LOG")"
unmount_disc
DISCFS_TEST_SPOIL_HEAD=1 mount_disc "$IMG"
head -c 300000 /dev/urandom >"$T/src"
cp "$T/src" "$MNT/f"
if sync "$MNT" 2>"$T/err"; then fail "a session that does not read back was accepted"; fi
grep -q "Input/output error" "$T/err" || fail "sync failed, but not with EIO: $(cat "$T/err")"
grep -q "cannot be read back .*shows its previous session again" "$LOG" ||
    fail "the log does not say that the previous session is back: $(cat "$LOG")"
[ "$(grep -c '^discfs:' "$LOG")" -eq 1 ] || fail "the failure is told more than once: $(cat "$LOG")"
cmp "$T/src" "$MNT/f" || fail "the staged file reads wrong after the failed commit"
xorriso -indev "$IMG" -ls / >"$T/ls" 2>&1 || fail "xorriso cannot read the image: $(tail -3 "$T/ls")"
grep -q "'one'" "$T/ls" || fail "xorriso does not show the previous session: $(cat "$T/ls")"
ok "a session that does not read back fails the commit, and the image shows the one before"

kill_daemon
mount_disc "$IMG" -o cache="$T/fresh"
[ "$(cat "$MNT/one")" = one ] || fail "a fresh mount does not show the previous session"
[ ! -e "$MNT/f" ] || fail "a fresh mount shows the file of the bad session"
unmount_disc
mount_disc "$IMG"
grep -q "pending changes of an earlier mount were found" "$LOG" || fail "the stage was not found"
sync "$MNT" || fail "the commit after the bad session failed: $(tail -3 "$LOG")"
: >"$LOG"
unmount_disc
mount_disc "$IMG" -o cache="$T/fresh2"
cmp "$T/src" "$MNT/f" && [ "$(cat "$MNT/one")" = one ] || fail "the new session does not read back"
unmount_disc
ok "the stage survives, and the next commit writes it"
