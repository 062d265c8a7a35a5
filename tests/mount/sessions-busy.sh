#!/usr/bin/env bash
# A session in memory under MNT/.sessions (one of its files open) is there at once while a commit
# writes the next one, also while the first look at another session waits for
# that commit (it reads the disc's table of contents and tree, and the drive is
# the commit's).  The commit runs on a slow drive (DISCFS_TEST_WRITE_DELAY_MS:
# its write lasts 8 s more), asked for by `discfs commit` (which holds no lock of
# the kernel's).
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S"
for n in 1 2; do
    echo "$n" >"$S/f$n"
    xorriso -indev "$T/disc.iso" -outdev "$T/disc.iso" -map "$S" / -commit >/dev/null 2>&1 ||
        fail "xorriso: session $n"
done
DISCFS_TEST_WRITE_DELAY_MS=8000 mount_disc "$T/disc.iso"
[ "$(cat "$MNT/.sessions/1/f1")" = 1 ] || fail "session 1 is not shown"
# an open file keeps session 1 in memory (the kernel may forget the rest of it:
# drop_caches of another test; fs/sessions.c)
exec 3<"$MNT/.sessions/1/f1"
echo 3 >"$MNT/f3"
head -c 4M /dev/urandom >"$MNT/big" # the image grows when the session is written
size0=$(stat -c %s "$T/disc.iso")
start=$(date +%s%N)
"$DISCFS" commit "$MNT" >"$T/commit.out" 2>&1 &
commit=$!
for _ in $(seq 500); do # until the session is being written (the image grows)
    [ "$(stat -c %s "$T/disc.iso")" -gt "$size0" ] && break
    sleep 0.01
done
[ "$(stat -c %s "$T/disc.iso")" -gt "$size0" ] || fail "the commit did not start writing"
ls "$MNT/.sessions/2" >/dev/null 2>&1 & # its import waits for the commit
other=$!
sleep 1.5 # the kernel's entry of .sessions/1 is out of date now: it asks again
t0=$(date +%s%N)
ls "$MNT/.sessions/1" >"$T/ls1" || fail "ls of session 1 during the commit"
t1=$(date +%s%N)
grep -qx f1 "$T/ls1" || fail "session 1 lists $(cat "$T/ls1")"
# both still wait for the drive: the commit, and the import of session 2
kill -0 "$commit" 2>/dev/null && kill -0 "$other" 2>/dev/null ||
    fail "ls of session 1 returned only when the commit let the drive go ($(((t1 - t0) / 1000000)) ms)"
wait "$commit" || fail "the commit failed: $(cat "$T/commit.out")"
t2=$(date +%s%N)
wait "$other" || fail "ls of session 2 after the commit"
echo "ls of session 1: $(((t1 - t0) / 1000000)) ms, during a commit of $(((t2 - start) / 1000000)) ms"
ok "a session shown already is listed at once while a commit holds the drive"
[ "$(cat "$MNT/.sessions/3/f3")" = 3 ] || fail "session 3 is not shown"
exec 3<&-
unmount_disc
