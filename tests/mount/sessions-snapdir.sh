#!/usr/bin/env bash
# A tree with an entry .sessions of its own is kept: -o snapdir=NAME shows the
# sessions under another name, -o snapdir=none (or snapdir=) not at all.
#  - a mount with the default: rsync of such a tree fails in .sessions (EROFS),
#    said once by the daemon, naming the option;
#  - with -o snapdir=.snap: rsync -aHAX of the tree works, is committed, and
#    MNT/.snap/1 is it;
#  - a fresh mount with an empty cache and the default name: the tree's .sessions
#    wins (said once, naming the option), rsync -aHAXc --dry-run -i prints nothing;
#  - a fresh mount with -o snapdir=.snap: the view works; with snapdir=none and
#    snapdir= there is none;
#  - a name with '/', '.' or '..' is refused (exit 2).
. "$(dirname "$0")/lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

SRC=$T/src
mkdir -p "$SRC/.sessions/1" "$SRC/d"
echo mine >"$SRC/.sessions/1/f"
echo top >"$SRC/.sessions/top"
echo d >"$SRC/d/f"
ln "$SRC/d/f" "$SRC/.sessions/linked"
setfattr -n user.k -v v "$SRC/.sessions" 2>/dev/null || true
DEV=$T/disc.iso
# compare DIR: DIR holds the source exactly (rsync -c prints nothing)
compare() {
    local out rc=0
    out=$(rsync -aHAXc --dry-run -i --delete "$SRC/" "$1/" 2>&1) || rc=$?
    [ $rc = 0 ] && [ -z "$out" ] || fail "$1 is not the source (rsync exit $rc):
$(head -20 <<<"$out")"
}

mount_disc "$DEV"
rsync -aHAX "$SRC/" "$MNT/" 2>"$T/err" && fail "rsync into a mount with .sessions worked"
grep -q "Read-only file system" "$T/err" || fail "rsync: $(cat "$T/err")"
[ "$(grep -c "where the sessions are shown read-only: to keep an entry '.sessions' in the tree, mount with -o snapdir=NAME" "$LOG")" = 1 ] ||
    fail "the refusal is not said once, naming the option: $(cat "$LOG")"
"$DISCFS" discard "$MNT" --yes >/dev/null 2>&1 || fail "discfs discard"
wait "$PID" || true
PID=
ok "the default name: rsync of a tree with .sessions fails with EROFS, said once with the option"

mount_disc "$DEV" -o snapdir=.snap
rsync -aHAX "$SRC/" "$MNT/" || fail "rsync into a mount with -o snapdir=.snap"
compare "$MNT"
sync "$MNT" || fail "sync"
compare "$MNT/.snap/1"
[ "$(cat "$MNT/.sessions/1/f")" = mine ] || fail "the tree's .sessions/1/f"
ls -a "$MNT" | grep -qx .snap && fail ".snap is listed in the root"
unmount_disc
ok "-o snapdir=.snap: rsync of the tree, its commit, MNT/.snap/1 is it"

rm -rf "$CACHE"
mount_disc "$DEV"
compare "$MNT"
[ "$(grep -c "has an entry '.sessions' of its own, which $MNT/.sessions shows: the sessions are not shown there; mount with -o snapdir=NAME" "$LOG")" = 1 ] ||
    fail "the tree's own .sessions is not said once: $(cat "$LOG")"
: >"$LOG"
unmount_disc
ok "a fresh mount with the default name: the tree's .sessions wins (said once), rsync -c is silent"

rm -rf "$CACHE"
mount_disc "$DEV" -o snapdir=.snap
compare "$MNT"
compare "$MNT/.snap/1"
[ "$(ls "$MNT/.snap")" = 1 ] || fail ".snap lists $(ls "$MNT/.snap")"
unmount_disc
for off in none ""; do
    mount_disc "$DEV" -o "snapdir=$off"
    compare "$MNT"
    [ ! -e "$MNT/.snap" ] || fail "snapdir=$off: .snap"
    [ "$(cat "$MNT/.sessions/top")" = top ] || fail "snapdir=$off: the tree's .sessions"
    unmount_disc
done
ok "a fresh mount with -o snapdir=.snap shows the sessions; snapdir=none and snapdir= none"

for bad in a/b . ..; do
    rc=0
    "$DISCFS" "$DEV" "$MNT" -o "snapdir=$bad" >"$T/out" 2>&1 || rc=$?
    [ $rc = 2 ] || fail "-o snapdir=$bad: exit $rc"
    grep -qF "discfs: -o snapdir='$bad' cannot name a directory" "$T/out" || fail "snapdir=$bad: $(cat "$T/out")"
    ! mountpoint -q "$MNT" || fail "-o snapdir=$bad mounted"
done
ok "-o snapdir= with '/', '.' or '..' is refused"
