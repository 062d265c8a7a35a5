#!/usr/bin/env bash
# A copy-up (the first write into a large on-disc file) does not stop the mount:
# while it runs (slowed down here by DISCFS_TEST_COPY_DELAY_MS, as a slow disc
# would), lookups, listings, reads of other files and even reads of the same file
# go on, and a second writer of the same file waits for the first copy instead
# of making its own.  The file ends up with both writes.
. "$(dirname "$0")/lib.sh"

IMG=$T/c.iso
mkdir -p "$T/src"
head -c $((24 * 1048576)) /dev/urandom >"$T/src/big"
echo small >"$T/src/small"
xorriso -outdev "$IMG" -map "$T/src" / -commit >/dev/null 2>&1 || fail "xorriso could not make $IMG"

DISCFS_TEST_COPY_DELAY_MS=250 mount_disc "$IMG" # about 6 s for 24 chunks of 1 MiB
export -n DISCFS_TEST_COPY_DELAY_MS
echo one >>"$MNT/big" &
w1=$!
sleep 0.5 # the copy-up is under way
echo two >>"$MNT/big" &
w2=$!
t0=$(date +%s%N)
[ "$(cat "$MNT/small")" = small ] || fail "small reads wrong during the copy-up"
ls -l "$MNT" >/dev/null || fail "ls failed during the copy-up"
stat "$MNT/small" >/dev/null || fail "stat failed during the copy-up"
head -c 1048576 "$MNT/big" | cmp - <(head -c 1048576 "$T/src/big") || fail "big reads wrong during its copy-up"
kill -0 $w1 2>/dev/null || fail "the copy-up ended before the other calls did (it did not run long enough)"
ms=$((($(date +%s%N) - t0) / 1000000))
wait $w1 || fail "the first append failed"
wait $w2 || fail "the second append failed"
ok "lookups, listings and reads went on during a copy-up ($ms ms, the copy-up ran on)"
{ cat "$T/src/big"; echo one; echo two; } >"$T/want1"
{ cat "$T/src/big"; echo two; echo one; } >"$T/want2"
cmp -s "$MNT/big" "$T/want1" || cmp -s "$MNT/big" "$T/want2" || fail "big does not hold the file and both appends"
[ "$(find "$CACHE" -path '*/data/*' -type f | wc -l)" = 1 ] || fail "more than one content file for one copy-up"
unmount_disc
rm -rf "$CACHE"
mount_disc "$IMG"
cmp -s "$MNT/big" "$T/want1" || cmp -s "$MNT/big" "$T/want2" || fail "big reads wrong after the commit"
unmount_disc
ok "two writers of one file during its copy-up: one copy, both appends, committed"
