#!/usr/bin/env bash
# `discfs discard MOUNTPOINT [--yes]` drops the staged changes and unmounts without
# writing a session; it asks on a terminal, needs --yes elsewhere, and drops
# nothing when the mount cannot be unmounted (busy).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

mount_disc "$IMG"
echo kept >"$MNT/kept"
"$DISCFS" commit "$MNT" >/dev/null || fail "the first commit failed"
echo dropped >"$MNT/new"
rm "$MNT/kept"

# not on a terminal and no --yes: refused, nothing changes
rc=0
"$DISCFS" discard "$MNT" </dev/null >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "add --yes if that is meant" "$T/err" ||
    fail "discard without --yes off a terminal: exit $rc, $(cat "$T/err")"
mountpoint -q "$MNT" && [ -e "$MNT/new" ] && [ ! -e "$MNT/kept" ] || fail "the refused discard changed the mount"

# on a terminal, answered no: nothing dropped
command -v script >/dev/null || skip "script (util-linux) is not installed"
echo n | script -qec "'$DISCFS' discard '$MNT'" /dev/null >"$T/tty" || fail "discard answered no failed: $(cat -v "$T/tty")"
grep -q "Drop the changes staged in '$MNT' (1 added, 0 changed, 1 removed, 2.0 KiB of content) and unmount it? \[y/N\]" "$T/tty" ||
    fail "the question does not say what is dropped: $(cat -v "$T/tty")"
mountpoint -q "$MNT" && [ -e "$MNT/new" ] || fail "discard answered no dropped something"

# busy: cannot be unmounted, nothing dropped, a later umount commits
exec 3<"$MNT/new"
rc=0
"$DISCFS" discard "$MNT" --yes >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "cannot be unmounted .*nothing was dropped" "$T/err" || fail "discard of a busy mount: exit $rc, $(cat "$T/err")"
exec 3<&-
mountpoint -q "$MNT" && [ -e "$MNT/new" ] || fail "the failed discard dropped something"
"$DISCFS" commit "$MNT" >"$T/out" 2>&1 || fail "a commit after a failed discard failed: $(cat "$T/out")"
[ "$(sessions "$IMG")" -eq 2 ] || fail "the commit after a failed discard wrote no session"
ok "discard asks, needs --yes off a terminal, and drops nothing when it cannot unmount"

# --yes: dropped, unmounted, no session, the stage gone
echo dropped2 >"$MNT/new2"
mkdir "$MNT/dir"
"$DISCFS" discard "$MNT" --yes >"$T/out" 2>"$T/err" || fail "discard --yes failed: $(cat "$T/err")"
grep -qx "discfs: the changes staged in '$MNT' were dropped and it was unmounted" "$T/out" || fail "discard: $(cat "$T/out")"
! mountpoint -q "$MNT" || fail "still mounted after discard"
kill -0 "$PID" 2>/dev/null && fail "discard returned before the daemon ended"
wait "$PID" || fail "the daemon exited with an error after discard"
PID=
[ "$(sessions "$IMG")" -eq 2 ] || fail "discard wrote a session"
grep -q "the changes staged for '$IMG' were discarded" "$LOG" || fail "the daemon did not say so: $(cat "$LOG")"
[ -z "$(find "$CACHE" -name journal -size +0c 2>/dev/null)" ] || fail "a stage with records is left: $(ls -R "$CACHE")"
mount_disc "$IMG"
[ -e "$MNT/new" ] && [ ! -e "$MNT/kept" ] && [ ! -e "$MNT/new2" ] && [ ! -e "$MNT/dir" ] || fail "the remount does not show the disc as committed: $(ls "$MNT")"
grep -q "pending changes" "$LOG" && fail "the remount found pending changes"
: >"$LOG"
unmount_disc
[ "$(sessions "$IMG")" -eq 2 ] || fail "the remount after discard committed something"
ok "discard --yes drops the staged changes, unmounts, writes nothing; the remount shows the disc"

# a commit running (a slow drive): discard refuses, drops nothing, and the
# commit writes what it holds
IMG=$T/slow.iso
DISCFS_TEST_WRITE_DELAY_MS=3000 mount_disc "$IMG"
echo during >"$MNT/during"
"$DISCFS" commit "$MNT" >"$T/commit.out" 2>&1 &
cpid=$!
for _ in $(seq 200); do
    "$DISCFS" status "$MNT" 2>/dev/null | grep -q "^commit      running" && break
    sleep 0.05
done
rc=0
"$DISCFS" discard "$MNT" --yes >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "a commit of '$MNT' runs or is asked for: nothing was dropped" "$T/err" ||
    fail "discard during a commit: exit $rc, $(cat "$T/err")"
kill -0 "$cpid" 2>/dev/null || fail "the commit ended before the discard: make the drive slower"
wait "$cpid" || fail "the commit failed: $(cat "$T/commit.out")"
mountpoint -q "$MNT" || fail "the refused discard unmounted"
[ "$(sessions "$IMG")" -eq 1 ] || fail "the commit did not write its session"
"$DISCFS" umount "$MNT" >/dev/null || fail "discfs umount after the refused discard failed"
wait "$PID" || fail "the daemon exited with an error"
PID=
ok "discard is refused while a commit runs, which writes its session"
