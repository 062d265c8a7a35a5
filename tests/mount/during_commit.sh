#!/usr/bin/env bash
# While a session is being written, the mount stays readable (lookups, stat,
# readdir, reads of on-disc files go on) and changes wait until the commit is
# done, so that the session is one consistent tree (DESIGN.md, Commit).
. "$(dirname "$0")/lib.sh"
IMG=$T/disc.iso

# a slow drive: the write of a session lasts 6 s more than it takes, so that
# what the test does meanwhile happens during it on a loaded machine too
DISCFS_TEST_WRITE_DELAY_MS=6000 mount_disc "$IMG"
mkdir "$MNT/old"
echo "on the disc" >"$MNT/old/file"
for i in $(seq 40); do echo "$i" >"$MNT/old/w$i"; done
sync "$MNT"
dd if=/dev/urandom of="$MNT/big" bs=1M count=64 status=none
size0=$(stat -c %s "$IMG")
# the reads below go from inside old/: sync MOUNTPOINT holds the root's lock in the
# kernel, so a lookup in the root that its cache cannot answer (after another
# test's drop_caches) would wait for the commit (README)
cd "$MNT/old"
sync "$MNT" &
syncpid=$!
# wait until the session is being written (the image grows)
for _ in $(seq 400); do
    [ "$(stat -c %s "$IMG")" -gt "$size0" ] && break
    sleep 0.01
done
[ "$(stat -c %s "$IMG")" -gt "$size0" ] || fail "the commit did not start writing"
ls . >/dev/null && stat w7 >/dev/null && [ "$(cat file)" = "on the disc" ] ||
    fail "reading the mount failed during a commit"
kill -0 "$syncpid" 2>/dev/null || fail "the commit ended before the reads"
ok "lookups, stat, readdir and reads go on while a session is written"
# many changes waiting for the commit (writes: no directory lock in the kernel
# serializes them) do not starve lookups and reads
pids=()
for i in $(seq 40); do
    echo more >>"$MNT/old/w$i" &
    pids+=($!)
done
sleep 0.5 # they are waiting now
# (not in the root: sync MOUNTPOINT is an fsync of the root, for which the kernel
# holds the root's lock until the commit ends)
ls "$MNT/old" >/dev/null && stat "$MNT/old/file" >/dev/null && [ ! -e "$MNT/old/none$RANDOM" ] &&
    [ "$(cat "$MNT/old/file")" = "on the disc" ] || fail "reading the mount failed with changes waiting"
kill -0 "$syncpid" 2>/dev/null ||
    fail "the commit ended before the reads: lookups waited behind the waiting changes?"
ok "40 changes waiting for the commit leave lookups, stat and reads alone"
touch "$MNT/changed-during-commit"
wait "${pids[@]}" || fail "a change that waited for the commit failed"
wait "$syncpid" || fail "the commit failed"
cd "$T"
unmount_disc
[ "$(sessions "$IMG")" -eq 3 ] || fail "expected 3 sessions, found $(sessions "$IMG")"
# the session written meanwhile holds none of the changes made during it
mount_disc "$IMG" -o session=2
[ ! -e "$MNT/changed-during-commit" ] || fail "a change made during the commit is in its session"
[ "$(cat "$MNT/old/w7")" = 7 ] || fail "an append made during the commit is in its session"
unmount_disc
ok "a change waits until the commit is done: none is in the session written meanwhile"
xorriso -indev "$IMG" -find /changed-during-commit 2>/dev/null | grep -q changed-during-commit ||
    fail "the change made during the commit is not in the next session"
mount_disc "$IMG"
[ "$(cat "$MNT/old/w7")" = "$(printf '7\nmore')" ] || fail "the append made during the commit is lost"
unmount_disc
ok "the changes made during the commit went into the next session"
