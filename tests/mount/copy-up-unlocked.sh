#!/usr/bin/env bash
# A copy-up (the first write into a large on-disc file) does not stop the mount:
# while it runs (slowed down here by DISCFS_TEST_COPY_DELAY_MS, as a slow disc
# would), lookups, listings, reads of other files and even reads of the same file
# go on, and a second writer of the same file waits for the first copy instead
# of making its own.  The file ends up with both writes.  A truncate (O_TRUNC)
# copies only what it keeps.
. "$(dirname "$0")/lib.sh"

IMG=$T/c.iso
mkdir -p "$T/src"
head -c $((24 * 1048576)) /dev/urandom >"$T/src/big"
cp "$T/src/big" "$T/src/big2"
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

# a truncate copies only what it keeps: overwriting a large on-disc file (cp, O_TRUNC)
# reads none of it, truncate -s 1000 only 1000 bytes (with the slow disc, a copy of
# 24 MiB would take 12 s)
DISCFS_TEST_COPY_DELAY_MS=500 mount_disc "$IMG"
timeout 4 sh -c "echo replaced >'$MNT/big'" || fail "O_TRUNC of an on-disc file copied it first"
[ "$(cat "$MNT/big")" = replaced ] || fail "big does not hold what replaced it"
timeout 4 truncate -s 1000 "$MNT/big2" || fail "truncate -s 1000 of a 24 MiB on-disc file copied all of it"
cmp <(cat "$MNT/big2") <(head -c 1000 "$T/src/big") || fail "big2 after truncate -s 1000 is wrong"
timeout 4 truncate -s 100 "$MNT/small" || fail "a truncate up copied more than the file"
[ "$(head -c 6 "$MNT/small")" = small ] && [ "$(stat -c %s "$MNT/small")" = 100 ] ||
    fail "small after truncate -s 100 is wrong"
unmount_disc
rm -rf "$CACHE"
mount_disc "$IMG"
[ "$(cat "$MNT/big")" = replaced ] || fail "big after the commit is wrong"
cmp <(head -c 100 "$MNT/small") <({ echo small; head -c 94 /dev/zero; }) || fail "small after the commit is wrong"
cmp <(cat "$MNT/big2") <(head -c 1000 "$T/src/big") || fail "big2 after the commit is wrong"
unmount_disc
ok "a truncate of an on-disc file copies only what it keeps"
