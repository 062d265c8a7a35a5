#!/usr/bin/env bash
# replay-old-mtime.sh: the mtime of a staged file that the cache's filesystem cannot
# hold (ext4: nothing before 1901-12-13 20:45:52; the content file carries a staged
# file's mtime) survives a kill -9: the journal's time is kept where the content
# file shows only that filesystem's form of it, and a write after the record still
# wins (its time is the content file's).
. "$(dirname "$0")/lib.sh"
DEV=$T/disc.iso
OLD='1750-03-03 20:23:23.700000000 +0000'
mount_disc "$DEV"
echo hello >"$MNT/a"          # on the disc, then copied up
echo hello >"$MNT/b"
ln "$MNT/b" "$MNT/b2"         # a hard-linked one, copied up through its other name
sync "$MNT" || fail "session 1"
truncate -s 1 "$MNT/a"
truncate -s 2 "$MNT/b2"
echo new >"$MNT/c"            # staged from the start
echo late >"$MNT/w"
for f in a b c w; do touch -m -d "$OLD" "$MNT/$f"; done
printf x >>"$MNT/w"            # a write after the record: its own time
late=$(stat -c %y "$MNT/w")
kill_daemon
mount_disc "$DEV"
for f in a b b2 c; do
    got=$(stat -c %y "$MNT/$f")
    [ "$got" = "$OLD" ] || fail "the mtime of $f after kill -9 and a remount: $got, not $OLD"
done
got=$(stat -c %y "$MNT/w")
[ "$got" = "$late" ] || fail "the mtime of a write after the record: $got, not $late"
sync "$MNT" || fail "session 2"
got=$(stat -c %y "$MNT/.sessions/2/b")
[ "$got" = "$OLD" ] || fail "the mtime of b in session 2: $got, not $OLD"
grep -q "pending changes of an earlier mount were found" "$LOG" || fail "no replay said"
fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
wait "$PID" || fail "discfs exited with $? after unmount"
PID=
[ -z "$(daemon_said | grep -v 'pending changes of an earlier mount were found')" ] ||
    fail "unexpected daemon output"
CACHE=$T/cache2
mount_disc "$DEV"
for f in a b b2 c; do
    got=$(stat -c %y "$MNT/$f")
    [ "$got" = "$OLD" ] || fail "the mtime of $f on a fresh mount: $got, not $OLD"
done
unmount_disc
ok "an mtime the cache's filesystem cannot hold survives a kill -9 of the daemon"
