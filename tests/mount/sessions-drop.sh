#!/usr/bin/env bash
# A session shown under .sessions is kept while the kernel holds any of its files,
# and goes when it holds none (fs/sessions.c): its memory with it.
#  - looking through a session of 20,000 files imports it (discfs status: 1 session
#    in memory) and grows the daemon; when the kernel lets go of its dentries
#    (drop_caches) it goes (0 in memory) and the daemon shrinks back (plain build:
#    ASan's allocator keeps freed memory by design);
#  - the next look imports it again: the same files, the same inode numbers;
#  - an open file of the session keeps it: read after drop_caches; closed, it goes;
#  - the unmount after all that is clean.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "only root can make the kernel drop its dentries (drop_caches)"
asan=0
ldd "$DISCFS" | grep -q libasan && asan=1

SRC=$T/src
mkdir -p "$SRC/d"
python3 - "$SRC/d" <<'PY'
import os, sys
for i in range(20000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "w") as f:
        f.write("file %d\n" % i)
PY
DEV=$T/disc.iso
xorriso -outdev "$DEV" -map "$SRC" / >/dev/null 2>&1 || fail "xorriso could not write $DEV"
mount_disc "$DEV"
echo two >"$MNT/two"
sync "$MNT"
[ "$(sessions "$DEV")" = 2 ] || fail "the second session was not written"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
in_memory() {
    "$DISCFS" status "$MNT" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions_in_memory"])'
}
drop() { sync; echo 2 >/proc/sys/vm/drop_caches; }
# let_go: the kernel drops its dentries until no session is in memory (10 s at most)
let_go() {
    for _ in $(seq 100); do
        drop
        [ "$(in_memory)" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

[ "$(in_memory)" = 0 ] || fail "a session is in memory before any was looked at"
r0=$(rss)
n=$(find "$MNT/.sessions/1" | wc -l)
[ "$n" = 20002 ] || fail "find .sessions/1 found $n entries, not 20002"
ino=$(stat -c %i "$MNT/.sessions/1/d/f12345")
[ "$(in_memory)" = 1 ] || fail "status: $(in_memory) sessions in memory after a look at one"
"$DISCFS" status "$MNT" | grep -q "^sessions    $MNT/.sessions: 1 session in memory" ||
    fail "status does not say that 1 session is in memory: $("$DISCFS" status "$MNT")"
r1=$(rss)
let_go || fail "session 1 stayed in memory after the kernel let go of it"
if [ $asan = 0 ]; then
    [ $((r1 - r0)) -ge 4096 ] || fail "looking at session 1 grew the daemon by $((r1 - r0)) KiB only"
    for _ in $(seq 50); do [ "$(rss)" -lt $((r0 + (r1 - r0) / 2)) ] && break; sleep 0.1; done
    [ "$(rss)" -lt $((r0 + (r1 - r0) / 2)) ] ||
        fail "the daemon kept $(($(rss) - r0)) of $((r1 - r0)) KiB after session 1 went"
fi
ok "session 1 goes when the kernel holds none of it (memory +$((r1 - r0)) KiB, then $(($(rss) - r0)))"

[ "$(find "$MNT/.sessions/1" | wc -l)" = 20002 ] || fail "session 1 is not shown again"
[ "$(stat -c %i "$MNT/.sessions/1/d/f12345")" = "$ino" ] || fail "session 1's inode numbers changed"
[ "$(cat "$MNT/.sessions/1/d/f12345")" = "file 12345" ] || fail "session 1's file reads wrong"
ok "the next look imports it again: the same files and inode numbers"

exec 3<"$MNT/.sessions/1/d/f00007"
drop
sleep 3
drop
[ "$(in_memory)" = 1 ] || fail "session 1 went while one of its files was open"
[ "$(cat <&3)" = "file 7" ] || fail "the open file of session 1 reads wrong after drop_caches"
exec 3<&-
let_go || fail "session 1 stayed after its open file was closed"
ok "an open file keeps its session; closed, the session goes"

[ "$(cat "$MNT/.sessions/2/two")" = two ] || fail "session 2 reads wrong"
[ "$(in_memory)" = 1 ] || fail "status: $(in_memory) sessions in memory after a look at session 2"
unmount_disc
ok "the unmount is clean"
